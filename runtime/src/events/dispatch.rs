//! The handler registry both transports deliver to: typed handlers per event
//! type, callback handlers whose answer goes back to the platform, a
//! fallback for everything else, and deduplication through an
//! [`AsyncDedupStore`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use super::dedup::{AsyncDedupStore, BoxFuture, InMemoryDedup};
use super::{EventBody, EventEnvelope};

/// What a handler may fail with. A failed event is answered with an error
/// (HTTP 500 on the webhook, ack code 500 on the long connection) and
/// released from the dedup store, so that the platform's retry is handled.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The event type whose events are also deduplicated by `message_id`, as its
/// page advises: the same message may come with two event ids.
pub const MESSAGE_RECEIVE_EVENT: &str = "im.message.receive_v1";

/// How an event reached the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// An HTTP request to the app's request URL.
    Webhook,
    /// A frame on the long connection (WebSocket).
    LongConnection,
}

/// What a handler learns besides the event body: the envelope's header and
/// the transport.
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
    /// How the event arrived.
    pub transport: Transport,
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
    /// The event (or its message) was seen before; nothing ran. When this
    /// copy arrived while the first delivery was still being handled in
    /// this process, it waited for it, and `response` is that delivery's
    /// callback answer.
    Duplicate {
        /// The first delivery's callback answer, when this copy waited for it.
        response: Option<Value>,
    },
    /// No handler matched and no fallback is registered; acknowledged so
    /// that the platform does not push it again.
    Unhandled,
    /// The handler failed, or the body did not decode into its type.
    Failed(HandlerError),
}

impl Outcome {
    /// The status to answer with: 200 unless the handler failed (500).
    pub fn status(&self) -> u16 {
        match self {
            Self::Failed(_) => 500,
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

type Erased = Arc<
    dyn Fn(EventContext, Value) -> BoxFuture<'static, Result<Option<Value>, HandlerError>>
        + Send
        + Sync,
>;

/// Collects handlers; [`build`](Self::build) makes the [`Dispatcher`].
pub struct DispatcherBuilder {
    handlers: BTreeMap<String, Erased>,
    fallback: Option<Erased>,
    store: Arc<dyn AsyncDedupStore>,
}

impl fmt::Debug for DispatcherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatcherBuilder")
            .field("event_types", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl DispatcherBuilder {
    /// Handles events of type `T::EVENT_TYPE`: their `event` object is
    /// decoded into `T` and given to `handler`.
    ///
    /// ```
    /// # use feishu_runtime::events::{Dispatcher, EventBody};
    /// #[derive(serde::Deserialize)]
    /// struct ChatDisbanded { chat_id: String }
    /// impl EventBody for ChatDisbanded { const EVENT_TYPE: &'static str = "im.chat.disbanded_v1"; }
    ///
    /// let mut builder = Dispatcher::builder();
    /// builder.on(|_ctx, ev: ChatDisbanded| async move { println!("{} is gone", ev.chat_id); Ok(()) }).unwrap();
    /// assert!(builder.on(|_ctx, _ev: ChatDisbanded| async { Ok(()) }).is_err());
    /// let dispatcher = builder.build();
    /// ```
    pub fn on<T, F, Fut>(&mut self, handler: F) -> Result<&mut Self, RegisterError>
    where
        T: EventBody,
        F: Fn(EventContext, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        // An event's acknowledgement carries no answer.
        self.insert_typed(handler, |()| Ok(None))
    }

    /// Handles callbacks of type `T::EVENT_TYPE` (such as
    /// [`CardActionTrigger`](super::CardActionTrigger) or
    /// [`UrlPreviewGet`](super::UrlPreviewGet)): the handler's answer is
    /// serialised and sent back to the platform — the webhook's response
    /// body, or the `data` of the long connection's ack.
    pub fn on_callback<T, R, F, Fut>(&mut self, handler: F) -> Result<&mut Self, RegisterError>
    where
        T: EventBody,
        R: Serialize + Send + 'static,
        F: Fn(EventContext, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
    {
        self.insert_typed(handler, |response: R| Ok(Some(serde_json::to_value(response)?)))
    }

    /// Handles every event no other handler takes, with its `event` object
    /// undecoded. Without a fallback such events are acknowledged and
    /// dropped (a debug log line says so).
    pub fn fallback<F, Fut>(&mut self, handler: F) -> Result<&mut Self, RegisterError>
    where
        F: Fn(EventContext, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        if self.fallback.is_some() {
            return Err(RegisterError::DuplicateFallback);
        }
        let handler = Arc::new(handler);
        self.fallback = Some(Arc::new(move |ctx, event| {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler(ctx, event).await.map(|()| None) })
        }));
        Ok(self)
    }

    /// Deduplicates with `store` instead of an [`InMemoryDedup`], e.g. one
    /// shared between processes.
    pub fn dedup_store(&mut self, store: Arc<dyn AsyncDedupStore>) -> &mut Self {
        self.store = store;
        self
    }

    /// The dispatcher, with the handlers registered so far.
    pub fn build(&mut self) -> Dispatcher {
        let store = std::mem::replace(&mut self.store, Arc::new(InMemoryDedup::default()));
        Dispatcher {
            inner: Arc::new(Inner {
                handlers: std::mem::take(&mut self.handlers),
                fallback: self.fallback.take(),
                store,
                in_flight: Mutex::default(),
            }),
        }
    }

    /// Registers `handler` for `T::EVENT_TYPE`: each event is decoded into
    /// `T`, and what the handler returns becomes the answer through `answer`.
    fn insert_typed<T, R, F, Fut>(
        &mut self,
        handler: F,
        answer: fn(R) -> Result<Option<Value>, HandlerError>,
    ) -> Result<&mut Self, RegisterError>
    where
        T: EventBody,
        R: Send + 'static,
        F: Fn(EventContext, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.insert(
            T::EVENT_TYPE,
            Arc::new(move |ctx, event| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let body = decode::<T>(&ctx, event)?;
                    answer(handler(ctx, body).await?)
                })
            }),
        )
    }

    fn insert(&mut self, event_type: &str, handler: Erased) -> Result<&mut Self, RegisterError> {
        if self.handlers.contains_key(event_type) {
            return Err(RegisterError::Duplicate(event_type.to_owned()));
        }
        self.handlers.insert(event_type.to_owned(), handler);
        Ok(self)
    }
}

fn decode<T: EventBody>(ctx: &EventContext, event: Value) -> Result<T, HandlerError> {
    T::deserialize(event).map_err(|e| {
        format!("event {} ({}) does not decode into its type: {e}", ctx.event_id, ctx.event_type)
            .into()
    })
}

/// Hands delivered events to their handlers, once each; see the
/// [module docs](super). Cheap to clone: clones share the handlers and the
/// store.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    handlers: BTreeMap<String, Erased>,
    fallback: Option<Erased>,
    store: Arc<dyn AsyncDedupStore>,
    /// The events being handled in this process, by event key, for copies
    /// to wait on.
    in_flight: InFlightMap,
}

type InFlightMap = Mutex<HashMap<String, watch::Receiver<Option<Settled>>>>;

/// How a delivery ended, as copies that waited for it learn it.
#[derive(Clone)]
enum Settled {
    Done(Option<Value>),
    Failed(String),
}

/// An event being handled: removed from the in-flight map when dropped
/// (settled or not: a copy waiting on an abandoned delivery fails).
struct InFlight<'a> {
    map: &'a InFlightMap,
    key: String,
    tx: watch::Sender<Option<Settled>>,
}

impl InFlight<'_> {
    fn settle(&self, settled: Settled) {
        self.tx.send_replace(Some(settled));
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(self.map).remove(&self.key);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The map stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("event_types", &self.inner.handlers.keys().collect::<Vec<_>>())
            .field("fallback", &self.inner.fallback.is_some())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// An empty registry deduplicating in memory.
    pub fn builder() -> DispatcherBuilder {
        DispatcherBuilder {
            handlers: BTreeMap::new(),
            fallback: None,
            store: Arc::new(InMemoryDedup::default()),
        }
    }

    /// Whether a handler (not the fallback) is registered for `event_type`.
    pub fn handles(&self, event_type: &str) -> bool {
        self.inner.handlers.contains_key(event_type)
    }

    /// Deduplicates `envelope` and runs its handler.
    ///
    /// The keys `event:<event_id>` and, for
    /// [`im.message.receive_v1`](MESSAGE_RECEIVE_EVENT), `message:<message_id>`
    /// are remembered before the handler runs; when the handler fails (returns
    /// an error or panics) they are released again. A copy of an event that arrives while the event
    /// is still being handled in this process (the platform pushes again
    /// when an ack is late) waits for it and ends the same way: a
    /// [`Outcome::Duplicate`] with its callback answer, or a failure.
    pub async fn dispatch(&self, envelope: EventEnvelope, transport: Transport) -> Outcome {
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
            Err(mut rx) => {
                tracing::debug!(event_id = %envelope.event_id, event_type = %envelope.event_type, "a copy of an event being handled waits for it");
                let settled = rx.wait_for(Option::is_some).await.ok().and_then(|s| s.clone());
                return match settled {
                    Some(Settled::Done(response)) => Outcome::Duplicate { response },
                    Some(Settled::Failed(error)) => Outcome::Failed(error.into()),
                    None => Outcome::Failed("the first delivery of the event was abandoned".into()),
                };
            }
        };
        for key in &keys {
            if !self.inner.store.remember(key).await {
                // An event key recorded just now stays recorded: its message
                // was handled, so the event is a duplicate for good.
                tracing::debug!(event_id = %envelope.event_id, event_type = %envelope.event_type, key = %key, "duplicate event ignored");
                guard.settle(Settled::Done(None));
                return Outcome::Duplicate { response: None };
            }
        }
        let ctx = EventContext {
            schema: envelope.schema,
            event_id: envelope.event_id,
            event_type: envelope.event_type,
            create_time: envelope.create_time,
            app_id: envelope.app_id,
            tenant_key: envelope.tenant_key,
            transport,
        };
        let handler = self.inner.handlers.get(&ctx.event_type).or(self.inner.fallback.as_ref());
        let Some(handler) = handler else {
            tracing::debug!(event_id = %ctx.event_id, event_type = %ctx.event_type, "no handler for the event type; acknowledged");
            guard.settle(Settled::Done(None));
            return Outcome::Unhandled;
        };
        let (event_id, event_type) = (ctx.event_id.clone(), ctx.event_type.clone());
        match catch_panic(handler(ctx, envelope.event)).await {
            Ok(response) => {
                guard.settle(Settled::Done(response.clone()));
                Outcome::Handled { response }
            }
            Err(error) => {
                tracing::warn!(event_id = %event_id, event_type = %event_type, error = %error, "event handler failed; the event may be delivered again");
                for key in &keys {
                    self.inner.store.release(key).await;
                }
                guard.settle(Settled::Failed(error.to_string()));
                Outcome::Failed(error)
            }
        }
    }
}

/// Runs a handler's future, turning a panic into a [`HandlerError`]: a
/// panicking handler's event is then answered and released like a failed
/// one, so the platform's next push runs the handler again. Left to unwind,
/// the panic would leave the event's keys remembered, and that push would
/// be taken for a duplicate of an event that was never handled.
async fn catch_panic(
    mut handler: BoxFuture<'static, Result<Option<Value>, HandlerError>>,
) -> Result<Option<Value>, HandlerError> {
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned());
                std::task::Poll::Ready(Err(format!(
                    "the handler panicked: {}",
                    message.as_deref().unwrap_or("(no message)")
                )
                .into()))
            }
        }
    })
    .await
}

/// The keys an event is deduplicated by.
fn dedup_keys(envelope: &EventEnvelope) -> Vec<String> {
    let mut keys = vec![format!("event:{}", envelope.event_id)];
    if envelope.event_type == MESSAGE_RECEIVE_EVENT
        && let Some(id) = envelope.event.pointer("/message/message_id").and_then(Value::as_str)
        && !id.is_empty()
    {
        keys.push(format!("message:{id}"));
    }
    keys
}
