//! A delivered event's envelope: its fields read from a v2 or v1 body, the
//! payload left for the handler's type to decode.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{WebhookError, malformed, malformed_json};

/// A delivered event: the envelope's fields and the event itself.
///
/// Holds no verification token, and its `Debug` names the payload's keys
/// without their values: a payload can carry a secret (the `app_ticket`
/// event's ticket) or a user's message, neither of which belongs in logs.
#[derive(Clone, PartialEq)]
pub struct EventEnvelope<K = String> {
    /// `"2.0"` for v2 events, `"1.0"` for v1 `event_callback`s.
    pub schema: String,
    /// The event's unique id (v2 `header.event_id`, v1 `uuid`).
    pub event_id: String,
    /// The event type (v2 `header.event_type`, v1 `event.type`), e.g.
    /// `im.message.receive_v1`.
    pub event_type: K,
    /// When the event happened (v2: milliseconds, v1: `ts`, seconds), as
    /// sent.
    pub create_time: Option<String>,
    /// The app the event is for.
    pub app_id: Option<String>,
    /// The tenant the event comes from.
    pub tenant_key: Option<String>,
    /// The event's payload (`event`), not yet decoded.
    pub event: Value,
}

impl<K: fmt::Debug> fmt::Debug for EventEnvelope<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .event
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("EventEnvelope")
            .field("schema", &self.schema)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("create_time", &self.create_time)
            .field("app_id", &self.app_id)
            .field("tenant_key", &self.tenant_key)
            .field("event_keys", &keys)
            .finish()
    }
}

impl<K> EventEnvelope<K> {
    /// Decodes the payload into the event type's struct.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, WebhookError> {
        T::deserialize(&self.event).map_err(WebhookError::Decode)
    }
}

/// A decrypted request body, before the token check.
pub(super) enum Request {
    Challenge { challenge: String, token: Option<String> },
    Event(RawEvent),
}

pub(super) struct RawEvent {
    schema: String,
    pub(super) event_id: String,
    pub(super) event_type: String,
    token: Option<String>,
    create_time: Option<String>,
    app_id: Option<String>,
    tenant_key: Option<String>,
    event: Value,
}

impl RawEvent {
    pub(super) fn into_envelope<K: for<'a> From<&'a str>>(self) -> EventEnvelope<K> {
        EventEnvelope {
            schema: self.schema,
            event_type: K::from(self.event_type.as_str()),
            event_id: self.event_id,
            create_time: self.create_time,
            app_id: self.app_id,
            tenant_key: self.tenant_key,
            event: self.event,
        }
    }
}

/// Decodes a plain (not encrypted) event body, v2 `{schema, header, event}`
/// or v1 `{uuid, token, ts, type: "event_callback", event}`, as the long
/// connection carries them. Checks no token: the long connection is
/// authenticated by its handshake.
pub fn parse_event(body: &[u8]) -> Result<EventEnvelope, WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed_json("the event is not JSON", e))?;
    let Value::Object(object) = value else {
        return Err(malformed("the event is not a JSON object"));
    };
    match Request::parse(object)? {
        Request::Event(raw) => Ok(raw.into_envelope()),
        Request::Challenge { .. } => Err(malformed("a url_verification challenge is not an event")),
    }
}

impl Request {
    pub(super) fn token(&self) -> Option<&str> {
        match self {
            Self::Challenge { token, .. } => token.as_deref(),
            Self::Event(raw) => raw.token.as_deref(),
        }
    }

    pub(super) fn parse(mut body: Map<String, Value>) -> Result<Self, WebhookError> {
        let kind = body.get("type").and_then(Value::as_str);
        if kind == Some("url_verification") {
            return Ok(Self::Challenge {
                challenge: required_str(&body, "challenge")?,
                token: optional_str(&body, "token"),
            });
        }
        if let Some(schema) = body.get("schema").and_then(Value::as_str) {
            let schema = schema.to_owned();
            let Some(Value::Object(header)) = body.get("header") else {
                return Err(malformed(format!("a schema {schema} event without a header object")));
            };
            return Ok(Self::Event(RawEvent {
                event_id: required_str(header, "event_id")?,
                event_type: required_str(header, "event_type")?,
                token: optional_str(header, "token"),
                create_time: optional_str(header, "create_time"),
                app_id: optional_str(header, "app_id"),
                tenant_key: optional_str(header, "tenant_key"),
                event: body.remove("event").unwrap_or(Value::Null),
                schema,
            }));
        }
        if kind == Some("event_callback") {
            let Some(Value::Object(event)) = body.get("event") else {
                return Err(malformed("an event_callback without an event object"));
            };
            return Ok(Self::Event(RawEvent {
                schema: "1.0".to_owned(),
                event_id: required_str(&body, "uuid")?,
                event_type: required_str(event, "type")?,
                token: optional_str(&body, "token"),
                create_time: optional_str(&body, "ts"),
                app_id: optional_str(event, "app_id"),
                tenant_key: optional_str(event, "tenant_key"),
                event: body.remove("event").unwrap_or(Value::Null),
            }));
        }
        Err(malformed(
            "neither a url_verification challenge, a schema 2.0 event nor a v1 event_callback",
        ))
    }
}

/// A string field (numbers are taken as their text), or `None`.
fn optional_str(object: &Map<String, Value>, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required_str(object: &Map<String, Value>, field: &str) -> Result<String, WebhookError> {
    optional_str(object, field)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(format!("no `{field}` string")))
}

/// How an event reached the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Channel {
    /// An HTTP request to the app's request URL.
    Webhook,
    /// A frame on the long connection (WebSocket).
    LongConnection,
}
