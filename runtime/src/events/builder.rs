//! Registering handlers: [`DispatcherBuilder`] collects typed handlers,
//! callbacks, a fallback, the dedup store, timings and the error hook, and
//! builds the [`Dispatcher`].

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::body::EventBody;
use super::dedup::{DedupStore, InMemoryDedup};
use super::dispatch::{
    DEFAULT_CLAIM_LEASE, DEFAULT_COMMIT_TTL, DEFAULT_COPY_WAIT, DEFAULT_HANDLER_TIMEOUT,
    Dispatcher, Erased, EventContext, Failure, HandlerError, Inner, MIN_COMMIT_TTL, RegisterError,
    Timing,
};
use super::report::{DeliveryFailure, OnError};

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
    /// ([`HandlerTimeout`](super::HandlerTimeout): answered 500, keys released).
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
    /// answered "not yet" ([`Outcome::InProgress`](super::Outcome::InProgress)).
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
}
