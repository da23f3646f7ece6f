//! The handler registry both channels deliver to: typed handlers per event
//! type, callback handlers whose answer goes back to the platform, a
//! fallback for everything else, and deduplication in two phases through a
//! [`DedupStore`] (claim, then commit or release), with a deadline on every
//! handler.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::body::EventBody;
use super::dedup::{BoxFuture, Claim, DedupStore, InMemoryDedup};
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
    /// The configured [`DispatcherBuilder::handler_timeout`].
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
enum Failure {
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

type Erased = Arc<
    dyn Fn(EventContext, Value) -> BoxFuture<'static, Result<Option<Value>, Failure>> + Send + Sync,
>;

/// The dispatcher's timing settings.
#[derive(Clone, Copy, Debug)]
struct Timing {
    handler_timeout: Duration,
    lease: Duration,
    commit_ttl: Duration,
    copy_wait: Duration,
}

/// Collects handlers; [`build`](Self::build) makes the [`Dispatcher`].
pub struct DispatcherBuilder {
    handlers: BTreeMap<String, Erased>,
    fallback: Option<Erased>,
    store: Arc<dyn DedupStore>,
    timing: Timing,
    on_error: Option<OnError>,
}

impl fmt::Debug for DispatcherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatcherBuilder")
            .field("event_types", &self.handlers.keys().collect::<Vec<_>>())
            .field("timing", &self.timing)
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
            Box::pin(async move { Ok(handler(ctx, event).await.map(|()| None)?) })
        }));
        Ok(self)
    }

    /// Deduplicates with `store` instead of an [`InMemoryDedup`], e.g. one
    /// shared between processes.
    pub fn dedup_store(&mut self, store: Arc<dyn DedupStore>) -> &mut Self {
        self.store = store;
        self
    }

    /// How long a handler may run (default [`DEFAULT_HANDLER_TIMEOUT`]);
    /// then it is stopped, and the delivery counts as failed
    /// ([`HandlerTimeout`]: answered 500, keys released).
    pub fn handler_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timing.handler_timeout = timeout;
        self
    }

    /// How long a delivery's claim lives (default [`DEFAULT_CLAIM_LEASE`],
    /// at least 1 s); it is renewed every third of it while the handler runs.
    pub fn claim_lease(&mut self, lease: Duration) -> &mut Self {
        self.timing.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// How long a handled event is remembered (default
    /// [`DEFAULT_COMMIT_TTL`]); anything below [`MIN_COMMIT_TTL`] is raised
    /// to it, since a shorter memory would run the platform's late retries
    /// again.
    pub fn commit_ttl(&mut self, ttl: Duration) -> &mut Self {
        self.timing.commit_ttl = ttl.max(MIN_COMMIT_TTL);
        self
    }

    /// How long a copy of an event this process is handling waits for the
    /// first delivery's outcome (default [`DEFAULT_COPY_WAIT`]) before it is
    /// answered "not yet" ([`Outcome::InProgress`]).
    pub fn copy_wait(&mut self, wait: Duration) -> &mut Self {
        self.timing.copy_wait = wait;
        self
    }

    /// Calls `hook` for every delivery that fails (its handler's error, a
    /// panic, a [timeout](Self::handler_timeout)) and every body that does
    /// not decode into its handler's type, after the dispatcher's own log
    /// line: a program without a tracing subscriber sees its failures here.
    /// It runs on the delivery's task: keep it short (count, send to a
    /// channel). A second call replaces the first hook.
    ///
    /// ```
    /// # use feishu_runtime::events::Dispatcher;
    /// let mut builder = Dispatcher::builder();
    /// builder.on_error(|failure| {
    ///     eprintln!("{} {} failed: {}", failure.event_type, failure.event_id, failure.error)
    /// });
    /// ```
    pub fn on_error<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&DeliveryFailure<'_>) + Send + Sync + 'static,
    {
        self.on_error = Some(OnError(Arc::new(hook)));
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
                timing: self.timing,
                on_error: self.on_error.clone(),
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
                    let body = decode::<T>(event)?;
                    Ok(answer(handler(ctx, body).await?)?)
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

/// Decodes an event body. serde's message is dropped: it quotes the
/// payload (a user's text), which belongs in no log and no answer; the
/// size is kept instead.
fn decode<T: EventBody>(event: Value) -> Result<T, Failure> {
    T::deserialize(&event).map_err(|_| Failure::Undecodable {
        bytes: serde_json::to_vec(&event).map_or(0, |v| v.len()),
    })
}

/// Hands delivered events to their handlers; see the [module docs](super).
/// Cheap to clone: clones share the handlers and the store.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    handlers: BTreeMap<String, Erased>,
    fallback: Option<Erased>,
    store: Arc<dyn DedupStore>,
    timing: Timing,
    on_error: Option<OnError>,
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
    NotYet,
}

/// An event being handled: removed from the in-flight map when dropped
/// (settled or not: a copy waiting on an abandoned delivery is answered
/// "not yet").
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

/// The keys one delivery claimed. Committed or released explicitly; dropped
/// unsettled (the delivery was cancelled: a client that hung up, a
/// long-connection handler abandoned after the shutdown grace), it releases
/// them in a task of its own, so that the platform's next push runs the
/// handler. Without a runtime to spawn on, the claims lapse with their lease.
struct Claims {
    store: Arc<dyn DedupStore>,
    owner: String,
    keys: Vec<String>,
}

impl Claims {
    async fn commit(mut self, ttl: Duration) {
        let keys = std::mem::take(&mut self.keys);
        let committed = on_every_key(&keys, |key| self.store.commit(key, &self.owner, ttl)).await;
        for (key, committed) in keys.iter().zip(committed) {
            if let Err(error) = committed {
                tracing::warn!(%key, %error, "the dedup store could not commit a handled event; a redelivery may run it again");
            }
        }
    }

    async fn release(mut self) {
        let keys = std::mem::take(&mut self.keys);
        release(&*self.store, &self.owner, &keys).await;
    }

    /// Renews every claim each third of `lease`; never ends.
    async fn renew(&self, lease: Duration) {
        let mut tick = tokio::time::interval(lease / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let renewed =
                on_every_key(&self.keys, |key| self.store.renew(key, &self.owner, lease)).await;
            for (key, renewed) in self.keys.iter().zip(renewed) {
                match renewed {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%key, "a delivery lost its claim while its handler ran; another delivery may run it too")
                    }
                    Err(error) => {
                        tracing::warn!(%key, %error, "the dedup store could not renew a claim")
                    }
                }
            }
        }
    }
}

async fn release(store: &dyn DedupStore, owner: &str, keys: &[String]) {
    let released = on_every_key(keys, |key| store.release(key, owner)).await;
    for (key, released) in keys.iter().zip(released) {
        if let Err(error) = released {
            tracing::warn!(%key, %error, "the dedup store could not release a claim; it lapses with its lease");
        }
    }
}

/// Runs `op` on every key at once (an event has one or two), so that a
/// store that batches its commands (Redis) sends them in one round trip;
/// the answers in the order of the keys. For commits, renewals and
/// releases, which no other delivery can take from the owner midway.
async fn on_every_key<'a, T>(
    keys: &'a [String],
    op: impl Fn(&'a str) -> BoxFuture<'a, T>,
) -> Vec<T> {
    match keys {
        [first, second] => {
            let (first, second) = tokio::join!(op(first), op(second));
            vec![first, second]
        }
        _ => {
            let mut answers = Vec::with_capacity(keys.len());
            for key in keys {
                answers.push(op(key).await);
            }
            answers
        }
    }
}

impl Drop for Claims {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        let (store, owner) = (Arc::clone(&self.store), std::mem::take(&mut self.owner));
        tracing::debug!(?keys, "a delivery ended unfinished; its claims are released");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { release(&*store, &owner, &keys).await });
        }
    }
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
    /// An empty registry deduplicating in memory.
    pub fn builder() -> DispatcherBuilder {
        DispatcherBuilder {
            handlers: BTreeMap::new(),
            fallback: None,
            store: Arc::new(InMemoryDedup::default()),
            timing: Timing {
                handler_timeout: DEFAULT_HANDLER_TIMEOUT,
                lease: DEFAULT_CLAIM_LEASE,
                commit_ttl: DEFAULT_COMMIT_TTL,
                copy_wait: DEFAULT_COPY_WAIT,
            },
            on_error: None,
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
    /// are claimed in the [`DedupStore`] before the handler runs, and the
    /// claims renewed while it runs. When it succeeds they are committed, and
    /// later copies are [`Outcome::Duplicate`]s. When it fails, panics, runs
    /// past the [handler timeout](DispatcherBuilder::handler_timeout) or is
    /// cancelled (this future dropped), they are released, so that the
    /// platform's next push runs it. A copy that finds a key claimed by
    /// another delivery is [`Outcome::InProgress`] ("not yet"); one that
    /// arrives while this process handles the event waits for the outcome
    /// (up to the [copy wait](DispatcherBuilder::copy_wait)) and ends the
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

impl Claims {
    fn none(store: &Arc<dyn DedupStore>) -> Self {
        Self { store: Arc::clone(store), owner: String::new(), keys: Vec::new() }
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
