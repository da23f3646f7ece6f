//! The contract between the dispatcher and the generated event types.

/// An event body with a documented event type, such as the generated
/// `feishu::im::events::MessageReceiveV1`. The dispatcher decodes an event's
/// `event` object into it when the envelope's event type is `EVENT_TYPE`.
pub trait EventBody: serde::de::DeserializeOwned + Send + Sync + 'static {
    /// The documented event type, e.g. `im.message.receive_v1`.
    const EVENT_TYPE: &'static str;
}
