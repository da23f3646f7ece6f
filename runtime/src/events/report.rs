//! Failures a bot can see without a tracing subscriber:
//! [`DispatcherBuilder::on_error`](super::DispatcherBuilder::on_error) is called for every delivery that fails
//! (the handler's error, a panic, a timeout) and every body that does not
//! decode into its handler's type.
//!
//! The dispatcher also logs each one with `tracing`, but a program that
//! installed no subscriber sees nothing, and the platform only retries: the
//! hook is where such a program counts, alerts or prints.

use std::fmt;
use std::sync::Arc;

use super::envelope::Channel;

/// A delivery that did not end in a handled event, as
/// [`DispatcherBuilder::on_error`](super::DispatcherBuilder::on_error) sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct DeliveryFailure<'a> {
    /// The event's id.
    pub event_id: &'a str,
    /// The event's type, e.g. `im.message.receive_v1`.
    pub event_type: &'a str,
    /// How the event arrived.
    pub channel: Channel,
    /// What went wrong: the handler's error, a
    /// [`HandlerTimeout`](super::HandlerTimeout), a panic's message, or an
    /// [`UndecodableBody`].
    pub error: &'a (dyn std::error::Error + Send + Sync),
}

/// An event body that does not decode into its handler's type. The event
/// is acknowledged as not handled (retrying would not help); the body is
/// not quoted, since it holds user text.
#[derive(Debug, thiserror::Error)]
#[error("the event body ({bytes} bytes) does not decode into its handler's type")]
pub struct UndecodableBody {
    /// The body's size.
    pub bytes: usize,
}

/// The hook, shared by the dispatcher's clones.
#[derive(Clone)]
pub(super) struct OnError(pub(super) Arc<dyn Fn(&DeliveryFailure<'_>) + Send + Sync>);

impl fmt::Debug for OnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnError")
    }
}
