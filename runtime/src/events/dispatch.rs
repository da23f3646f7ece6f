//! The handler registry both channels deliver to: typed handlers per event
//! type, callback handlers whose answer goes back to the platform, a
//! fallback for everything else, and deduplication in two phases through a
//! [`DedupStore`] (claim, then commit or release), with a deadline on every
//! handler.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::claims::{Claims, InFlight, InFlightMap, Settled, lock};
use super::dedup::{BoxFuture, Claim, DedupStore};
use super::envelope::{Channel, EventEnvelope};
use super::report::{DeliveryFailure, OnError, UndecodableBody};

/// What a handler may fail with. A failed event is answered with an error
/// (HTTP 500 on the webhook, ack code 500 on the long connection) and
/// released from the dedup store, so that the platform's retry is handled.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The event type whose events are also deduplicated by `message_id`, as its
/// page advises: the same message may come with two event ids.
pub const MESSAGE_RECEIVE_EVENT: &str = "im.message.receive_v1";

/// How long a handler may run unless configured: 60 s. Past it the
/// delivery counts as failed (answered 500, keys released).
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a delivery's claim lives unless configured: 30 s, renewed every
/// third of it while the handler runs. A process that dies mid-handler
/// blocks the event's redelivery for at most this long.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(30);

/// How long a handled event is remembered unless configured: 24 h.
pub const DEFAULT_COMMIT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The shortest commit TTL accepted: 8 h, above the platform's retry window
/// (retries after 15 s, 5 min, 1 h and 6 h: about 7.2 h in all).
pub const MIN_COMMIT_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// How long a copy of an event that this process is handling waits for the
/// first delivery's outcome unless configured: 2 s. Then it is answered
/// "not yet" ([`Outcome::InProgress`]).
pub const DEFAULT_COPY_WAIT: Duration = Duration::from_secs(2);

/// What a handler learns besides the event body: the envelope's header, the
/// channel, and a stable key for making its effects idempotent.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EventContext {
    /// `"2.0"` for v2 events, `"1.0"` for v1 `event_callback`s.
    pub schema: String,
    /// The event's unique id (v2 `header.event_id`, v1 `uuid`).
    pub event_id: String,
    /// The event type, e.g. `im.message.receive_v1`.
    pub event_type: String,
    /// When the event happened, as sent.
    pub create_time: Option<String>,
    /// The app the event is for.
    pub app_id: Option<String>,
    /// The tenant the event comes from.
    pub tenant_key: Option<String>,
    /// The message's id, for [`im.message.receive_v1`](MESSAGE_RECEIVE_EVENT).
    pub message_id: Option<String>,
    /// How the event arrived.
    pub channel: Channel,
}

impl EventContext {
    /// A key that is the same for every delivery of this event, and of its
    /// message under another event id: pass it as the `uuid` of the reply
    /// the handler sends (`ReplyRequest::uuid`), so that a handler run twice
    /// (delivery is at least once) replies once. A UUID-shaped hash of the
    /// message id (or the event id), 36 characters.
    pub fn idempotency_key(&self) -> String {
        self.idempotency_key_for("")
    }

    /// Like [`idempotency_key`](Self::idempotency_key), one per `purpose`,
    /// for a handler with several effects (a reply and a reaction, say).
    pub fn idempotency_key_for(&self, purpose: &str) -> String {
        let id = match &self.message_id {
            Some(message_id) => format!("message:{message_id}"),
            None => format!("event:{}", self.event_id),
        };
        let digest = Sha256::new()
            .chain_update(b"feishu-runtime delivery\0")
            .chain_update(id.as_bytes())
            .chain_update(b"\0")
            .chain_update(purpose.as_bytes())
            .finalize();
        let mut text = String::with_capacity(36);
        for (i, byte) in digest[..16].iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                text.push('-');
            }
            text.push_str(&format!("{byte:02x}"));
        }
        text
    }
}

/// Why a handler could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// A handler for this event type is already registered.
    #[error("a handler for the event type {0} is already registered")]
    Duplicate(String),
    /// A fallback is already registered.
    #[error("a fallback handler is already registered")]
    DuplicateFallback,
}

/// A handler that ran longer than its timeout; the delivery counts as
/// failed.
#[derive(Debug, thiserror::Error)]
#[error("the handler ran longer than its timeout of {timeout:?} and was stopped")]
pub struct HandlerTimeout {
    /// The configured [`DispatcherBuilder::handler_timeout`](super::DispatcherBuilder::handler_timeout).
    pub timeout: Duration,
}

/// What became of a delivered event.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// A handler (or the fallback) ran and succeeded; `response` is a
    /// callback handler's answer, to send back to the platform.
    Handled {
        /// The callback's JSON answer (card callbacks), or `None`.
        response: Option<Value>,
    },
    /// The event (or its message) was handled before; nothing ran. When this
    /// copy arrived while the first delivery was still being handled in
    /// this process, it waited for it, and `response` is that delivery's
    /// callback answer.
    Duplicate {
        /// The first delivery's callback answer, when this copy waited for it.
        response: Option<Value>,
    },
    /// The event (or its message) is being handled, here or by another
    /// process sharing the store: answered "not yet" (503), so that the
    /// platform pushes it again later and learns the outcome then.
    InProgress,
    /// Acknowledged without running a handler: no handler matched and no
    /// fallback is registered, or the body does not decode into the
    /// handler's type (a warning names the type and size, never the
    /// content). Pushing it again would not help.
    Unhandled,
    /// The handler failed, panicked or timed out ([`HandlerTimeout`]).
    Failed(HandlerError),
}

impl Outcome {
    /// The status to answer with: 500 when the handler failed, 503 when the
    /// event is in progress, 200 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::Failed(_) => 500,
            Self::InProgress => 503,
            _ => 200,
        }
    }

    /// The callback's answer, if any.
    pub fn response(&self) -> Option<&Value> {
        match self {
            Self::Handled { response } | Self::Duplicate { response } => response.as_ref(),
            _ => None,
        }
    }
}

/// How an erased handler ended badly.
pub(super) enum Failure {
    /// The body does not decode into the handler's type.
    Undecodable { bytes: usize },
    /// The handler failed or panicked.
    Handler(HandlerError),
}

impl From<HandlerError> for Failure {
    fn from(error: HandlerError) -> Self {
        Self::Handler(error)
    }
}

pub(super) type Erased = Arc<
    dyn Fn(EventContext, Value) -> BoxFuture<'static, Result<Option<Value>, Failure>> + Send + Sync,
>;

/// The dispatcher's timing settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timing {
    pub(super) handler_timeout: Duration,
    pub(super) lease: Duration,
    pub(super) commit_ttl: Duration,
    pub(super) copy_wait: Duration,
}

/// Hands delivered events to their handlers; see the [module docs](super).
/// Cheap to clone: clones share the handlers and the store.
#[derive(Clone)]
pub struct Dispatcher {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) handlers: BTreeMap<String, Erased>,
    pub(super) fallback: Option<Erased>,
    pub(super) store: Arc<dyn DedupStore>,
    pub(super) timing: Timing,
    pub(super) on_error: Option<OnError>,
    /// The events being handled in this process, by event key, for copies
    /// to wait on.
    pub(super) in_flight: InFlightMap,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("event_types", &self.inner.handlers.keys().collect::<Vec<_>>())
            .field("fallback", &self.inner.fallback.is_some())
            .field("timing", &self.inner.timing)
            .finish_non_exhaustive()
    }
}
impl Dispatcher {
    /// Whether a handler (not the fallback) is registered for `event_type`.
    pub fn handles(&self, event_type: &str) -> bool {
        self.inner.handlers.contains_key(event_type)
    }

    /// Deduplicates `envelope` and runs its handler.
    ///
    /// The keys `event:<event_id>` and, for
    /// [`im.message.receive_v1`](MESSAGE_RECEIVE_EVENT), `message:<message_id>`
    /// are claimed in the [`DedupStore`] before the handler runs, and the
    /// claims renewed while it runs. When it succeeds they are committed, and
    /// later copies are [`Outcome::Duplicate`]s. When it fails, panics, runs
    /// past the [handler timeout](super::DispatcherBuilder::handler_timeout) or is
    /// cancelled (this future dropped), they are released, so that the
    /// platform's next push runs it. A copy that finds a key claimed by
    /// another delivery is [`Outcome::InProgress`] ("not yet"); one that
    /// arrives while this process handles the event waits for the outcome
    /// (up to the [copy wait](super::DispatcherBuilder::copy_wait)) and ends the
    /// same way, with the same callback answer.
    ///
    /// So delivery is **at least once**: a handler may run twice when a
    /// process dies after its effect and before the commit, or a claim lapses
    /// (a store unreachable, a handler that outlives a lease it could not
    /// renew). Make effects idempotent with [`EventContext::idempotency_key`].
    pub async fn dispatch(&self, envelope: EventEnvelope, channel: Channel) -> Outcome {
        let keys = dedup_keys(&envelope);
        let joined = {
            let mut in_flight = lock(&self.inner.in_flight);
            match in_flight.get(&keys[0]) {
                Some(rx) => Err(rx.clone()),
                None => {
                    let (tx, rx) = watch::channel(None);
                    in_flight.insert(keys[0].clone(), rx);
                    Ok(InFlight { map: &self.inner.in_flight, key: keys[0].clone(), tx })
                }
            }
        };
        let guard = match joined {
            Ok(guard) => guard,
            Err(rx) => return self.wait_for_first(rx, &envelope).await,
        };
        let (claims, claimed) = self.claim(&keys, &envelope).await;
        if let Some(outcome) = claimed {
            guard.settle(match &outcome {
                Outcome::InProgress => Settled::NotYet,
                _ => Settled::Done(None),
            });
            return outcome;
        }
        let message_id = (envelope.event_type == MESSAGE_RECEIVE_EVENT)
            .then(|| message_id(&envelope.event).map(str::to_owned))
            .flatten();
        let ctx = EventContext {
            schema: envelope.schema,
            event_id: envelope.event_id,
            event_type: envelope.event_type,
            create_time: envelope.create_time,
            app_id: envelope.app_id,
            tenant_key: envelope.tenant_key,
            message_id,
            channel,
        };
        let handler = self.inner.handlers.get(&ctx.event_type).or(self.inner.fallback.as_ref());
        let Some(handler) = handler else {
            tracing::debug!(event_id = %ctx.event_id, event_type = %ctx.event_type, "no handler for the event type; acknowledged");
            claims.commit(self.inner.timing.commit_ttl).await;
            guard.settle(Settled::Done(None));
            return Outcome::Unhandled;
        };
        let (event_id, event_type, channel) =
            (ctx.event_id.clone(), ctx.event_type.clone(), ctx.channel);
        let report = |error: &(dyn std::error::Error + Send + Sync)| {
            if let Some(OnError(hook)) = &self.inner.on_error {
                hook(&DeliveryFailure {
                    event_id: &event_id,
                    event_type: &event_type,
                    channel,
                    error,
                });
            }
        };
        let timing = self.inner.timing;
        let run =
            tokio::time::timeout(timing.handler_timeout, catch_panic(handler(ctx, envelope.event)));
        let ended = tokio::select! {
            ended = run => ended,
            () = claims.renew(timing.lease) => unreachable!("renewing never ends"),
        };
        let error: HandlerError = match ended {
            Ok(Ok(response)) => {
                claims.commit(timing.commit_ttl).await;
                guard.settle(Settled::Done(response.clone()));
                return Outcome::Handled { response };
            }
            Ok(Err(Failure::Undecodable { bytes })) => {
                tracing::warn!(%event_id, %event_type, bytes, "the event body does not decode into its handler's type; acknowledged as not handled");
                report(&UndecodableBody { bytes });
                claims.commit(timing.commit_ttl).await;
                guard.settle(Settled::Done(None));
                return Outcome::Unhandled;
            }
            Ok(Err(Failure::Handler(error))) => error,
            Err(_) => Box::new(HandlerTimeout { timeout: timing.handler_timeout }),
        };
        tracing::warn!(%event_id, %event_type, %error, "event handler failed; the event may be delivered again");
        report(error.as_ref());
        claims.release().await;
        guard.settle(Settled::Failed(error.to_string()));
        Outcome::Failed(error)
    }

    /// Claims every key; `Some(outcome)` when the event must not run here.
    ///
    /// One key after the other, in the same order everywhere (the event's,
    /// then the message's): claimed at once, two deliveries of one event
    /// could each win one key, and both would answer "not yet".
    async fn claim(&self, keys: &[String], envelope: &EventEnvelope) -> (Claims, Option<Outcome>) {
        let store = &self.inner.store;
        let mut claims = Claims {
            store: Arc::clone(store),
            owner: crate::new_idempotency_key(),
            keys: Vec::with_capacity(keys.len()),
        };
        for key in keys {
            match store.claim(key, &claims.owner, self.inner.timing.lease).await {
                Ok(Claim::Acquired) => claims.keys.push(key.clone()),
                Ok(Claim::Committed) => {
                    // The event, or its message under another event id, was
                    // handled: so is this event, for good.
                    tracing::debug!(event_id = %envelope.event_id, event_type = %envelope.event_type, %key, "duplicate event ignored");
                    claims.commit(self.inner.timing.commit_ttl).await;
                    return (Claims::none(store), Some(Outcome::Duplicate { response: None }));
                }
                Ok(Claim::Held) => {
                    tracing::debug!(event_id = %envelope.event_id, event_type = %envelope.event_type, %key, "the event is being handled elsewhere; answered not yet");
                    claims.release().await;
                    return (Claims::none(store), Some(Outcome::InProgress));
                }
                Err(error) => {
                    tracing::warn!(event_id = %envelope.event_id, %key, %error, "the dedup store failed; the event is handled without this key");
                }
            }
        }
        (claims, None)
    }

    /// A copy of an event being handled in this process: waits for the
    /// first delivery's outcome, up to the copy wait.
    async fn wait_for_first(
        &self,
        mut rx: watch::Receiver<Option<Settled>>,
        envelope: &EventEnvelope,
    ) -> Outcome {
        tracing::debug!(event_id = %envelope.event_id, event_type = %envelope.event_type, "a copy of an event being handled waits for it");
        let wait = rx.wait_for(Option::is_some);
        let settled = match tokio::time::timeout(self.inner.timing.copy_wait, wait).await {
            Ok(Ok(settled)) => settled.clone(),
            // Abandoned, or still running after the wait.
            Ok(Err(_)) | Err(_) => None,
        };
        match settled {
            Some(Settled::Done(response)) => Outcome::Duplicate { response },
            Some(Settled::Failed(error)) => Outcome::Failed(error.into()),
            Some(Settled::NotYet) | None => Outcome::InProgress,
        }
    }
}

/// Runs a handler's future, turning a panic into a [`HandlerError`]: a
/// panicking handler's event is then answered and released like a failed
/// one, so the platform's next push runs the handler again. Left to unwind,
/// the panic would skip the release, and the event would wait for its
/// claims to lapse.
async fn catch_panic(
    mut handler: BoxFuture<'static, Result<Option<Value>, Failure>>,
) -> Result<Option<Value>, Failure> {
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned());
                std::task::Poll::Ready(Err(Failure::Handler(
                    format!(
                        "the handler panicked: {}",
                        message.as_deref().unwrap_or("(no message)")
                    )
                    .into(),
                )))
            }
        }
    })
    .await
}

/// The message id of an `im.message.receive_v1` body.
fn message_id(event: &Value) -> Option<&str> {
    event.pointer("/message/message_id").and_then(Value::as_str).filter(|id| !id.is_empty())
}

/// The keys an event is deduplicated by.
fn dedup_keys(envelope: &EventEnvelope) -> Vec<String> {
    let mut keys = vec![format!("event:{}", envelope.event_id)];
    if envelope.event_type == MESSAGE_RECEIVE_EVENT
        && let Some(id) = message_id(&envelope.event)
    {
        keys.push(format!("message:{id}"));
    }
    keys
}
