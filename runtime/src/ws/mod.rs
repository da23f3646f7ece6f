//! Receiving events over the long connection (WebSocket) the official SDKs
//! use, so that a bot needs no public URL (feature `ws`).
//!
//! The long connection comes from the app's [`Client`]:
//! [`Client::long_connection`] takes the [`Dispatcher`] and gives a builder
//! of connection options only. [`LongConnection::start`] asks the platform
//! where to connect (`POST {base}/callback/ws/endpoint`) and opens the
//! socket through the client's transport: its base URL, credentials,
//! timeout, proxy (the socket tunnels through an HTTP proxy with `CONNECT`,
//! as the HTTPS calls do) and TLS feature. It then hands every event and
//! card callback to the same [`Dispatcher`] the webhook uses, until
//! [`LongConnection::shutdown`] or a fatal error. A refused bootstrap is the
//! runtime's [`Error`](crate::Error) (`Error::Api`, with the platform's code and log id)
//! inside [`WsError::Bootstrap`]; bootstrap and connect errors name the
//! host. The socket URL must be `wss://` when the base URL is `https`.
//!
//! ```no_run
//! use feishu_runtime::Client;
//! use feishu_runtime::events::Dispatcher;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new("cli_xxx", "app-secret")?;
//! let connection = client.long_connection(Dispatcher::builder().build()).build()?;
//! let stopper = connection.clone();
//! tokio::spawn(async move {
//!     // A bot would wait for Ctrl-C here (`tokio::signal::ctrl_c`).
//!     tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
//!     stopper.shutdown().await;
//! });
//! connection.start().await?;
//! # Ok(())
//! # }
//! ```
//!
//! How it behaves, where the official SDKs differ or say nothing:
//!
//! - **Liveness.** Any frame counts as a sign of life. With no frame for
//!   [`LongConnectionBuilder::liveness_timeout`] (default 3 × the ping interval;
//!   the platform answers every ping) the socket is taken for dead — a
//!   half-dead socket after sleep or a NAT timeout — and the client
//!   reconnects.
//! - **Acks.** A handler's first step (up to its first `.await` that has
//!   to wait) runs on the connection's task; if it then has to wait, the
//!   rest runs in a task of its own, so a slow handler never holds up the
//!   others. A handler that finishes at once (one that queues the event for
//!   later work, say) so costs no task and no thread switch; one that
//!   computes for long before its first wait delays the reading of the next
//!   frames: move such work to `tokio::task::spawn_blocking`. A handler that
//!   panics is taken as failed (ack 500, released for the next push). Its ack (`biz_rt` = the handler's milliseconds,
//!   code 200, or 500 when the handler failed) is sent when it finishes,
//!   however late. If that is after the platform's 3-second window, the
//!   platform pushes the event again; the copy does not run the handler
//!   again but waits for the first run, up to the dispatcher's
//!   [`copy_wait`](crate::events::DispatcherBuilder::copy_wait), and is
//!   acked the same way (200 with its card answer, or 500 if it failed), or
//!   500 ("not yet") when the first is still running then; a copy arriving
//!   after the first run ended is acked 200 at once from the dedup store.
//!   A handler runs for at most the dispatcher's
//!   [`handler_timeout`](crate::events::DispatcherBuilder::handler_timeout)
//!   (then it counts as failed), so a stuck handler cannot hold a handler
//!   permit for good. If the socket the event came on is gone by then, its
//!   ack is dropped (a debug line says so) and the platform's next push is
//!   answered as above.
//! - **Unknown event types** go to the fallback, or nowhere, and are acked
//!   200 so that the platform does not push them again. So is a payload that
//!   does not parse as an event (logged as an error): pushing it again
//!   would not help.
//! - **Reconnect.** After a lost connection, or a retryable failure to
//!   connect, the first wait is random below ReconnectNonce, later ones
//!   ReconnectInterval; each attempt runs the whole bootstrap. With
//!   ReconnectCount ≥ 0 the client gives up after that many failed attempts
//!   in a row ([`WsError::GaveUp`]). The builder's values win over the
//!   platform's (meant for tests).
//! - **At most [`LongConnectionBuilder::max_handlers`] handlers run at once**
//!   (default [`DEFAULT_MAX_HANDLERS`]), counting those left from a lost
//!   connection. At the cap the client reads nothing more from the socket,
//!   so a platform (or a hostile server) pushing faster than handlers
//!   finish is slowed down through TCP instead of growing memory; pings and
//!   acks still go out, and the liveness timeout is paused meanwhile.
//! - **Shutdown** stops reading, lets running handlers finish and send
//!   their acks (for up to [`LongConnectionBuilder::shutdown_grace`]), sends a
//!   Close and reads on (discarding frames, which the platform pushes again)
//!   until the platform closes too, for up to 2 s. That last read matters:
//!   a socket dropped with unread bytes is reset, and a reset makes the
//!   platform's kernel discard what it has not read yet — our last acks.
//!   An event whose handler outlives the grace is abandoned unacked (its
//!   dedup claims released, so that the next push runs it); one
//!   whose connection was lost before shutdown has its ack dropped (see
//!   Acks); the platform pushes both again. A `start` whose future is
//!   dropped (its task aborted, or panicking) counts as stopped too: its
//!   handlers are abandoned, the status says so, and `shutdown` returns.

mod bootstrap;
mod connection;
mod error;
mod fragments;
pub mod frame;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::events::Dispatcher;

pub use bootstrap::{
    CODE_AUTH_FAILED, CODE_EXCEED_CONN_LIMIT, CODE_FORBIDDEN, CODE_INTERNAL_ERROR,
    CODE_SYSTEM_BUSY, ENDPOINT_PATH, HANDSHAKE_AUTH_ERRCODE, HANDSHAKE_MSG, HANDSHAKE_STATUS,
    ServerSettings, SocketUrl, bootstrap_code_is_retryable, handshake_is_retryable, redact,
};
pub use error::{SocketUrlError, WsError};
pub use fragments::{
    FragmentError, MAX_FRAGMENTS, MAX_PENDING_BYTES, MAX_PENDING_MESSAGES, Reassembly,
};
use settings::Settings;
pub use settings::{
    DEFAULT_FRAGMENT_TIMEOUT, DEFAULT_MAX_HANDLERS, DEFAULT_SHUTDOWN_GRACE, MAX_HANDLERS_LIMIT,
    MAX_MESSAGE_BYTES,
};

/// Where the client is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// [`LongConnection::start`] has not been called.
    Idle,
    /// Asking for an endpoint and connecting.
    Connecting,
    /// Connected and receiving.
    Connected {
        /// The connection's `device_id`.
        device_id: String,
    },
    /// Waiting before reconnect attempt `attempt`.
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// How long the wait is.
        wait: Duration,
        /// Why: the lost connection or the failed attempt, naming the
        /// host ([`WsError`]'s message), so that a program without a
        /// tracing subscriber can show it.
        error: String,
    },
    /// Stopped: after [`LongConnection::shutdown`] (`error` is `None`) or a
    /// fatal error.
    Disconnected {
        /// The fatal error's message.
        error: Option<String>,
    },
}

impl Client {
    /// The long connection of this client's app, handing events to
    /// `dispatcher`: a builder of connection options (see the
    /// [module docs](crate::ws)). The connection uses this client's base URL,
    /// credentials, timeout, proxy and TLS.
    pub fn long_connection(&self, dispatcher: Dispatcher) -> LongConnectionBuilder {
        LongConnectionBuilder { client: self.clone(), dispatcher, settings: Settings::default() }
    }
}

/// The options of a [`LongConnection`]; see [`Client::long_connection`].
#[derive(Debug)]
pub struct LongConnectionBuilder {
    client: Client,
    dispatcher: Dispatcher,
    settings: Settings,
}

impl LongConnectionBuilder {
    /// How long an incomplete fragmented message is kept (default 10 s).
    pub fn fragment_timeout(mut self, timeout: Duration) -> Self {
        self.settings.fragment_timeout = timeout;
        self
    }

    /// How long [`LongConnection::shutdown`] waits for running handlers
    /// (default 30 s); those still running then are abandoned.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.settings.shutdown_grace = grace;
        self
    }

    /// How many event handlers may run at once (default
    /// [`DEFAULT_MAX_HANDLERS`]); at the cap no more frames are read until
    /// one finishes (see the [module docs](self)). [`build`](Self::build)
    /// refuses 0 and anything above [`MAX_HANDLERS_LIMIT`].
    pub fn max_handlers(mut self, max: usize) -> Self {
        self.settings.max_handlers = max;
        self
    }

    /// Pings this often, whatever the platform says.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.settings.ping_interval = Some(interval.max(Duration::from_millis(1)));
        self
    }

    /// Takes the socket for dead after this long without a frame (default
    /// 3 × the ping interval).
    pub fn liveness_timeout(mut self, timeout: Duration) -> Self {
        self.settings.liveness_timeout = Some(timeout);
        self
    }

    /// Waits this long between reconnect attempts after the first,
    /// whatever the platform says.
    pub fn reconnect_interval(mut self, interval: Duration) -> Self {
        self.settings.reconnect_interval = Some(interval);
        self
    }

    /// Waits a random time below this before the first reconnect attempt,
    /// whatever the platform says.
    pub fn reconnect_nonce(mut self, nonce: Duration) -> Self {
        self.settings.reconnect_nonce = Some(nonce);
        self
    }

    /// Gives up after this many failed attempts in a row (-1: never),
    /// whatever the platform says.
    pub fn reconnect_count(mut self, count: i64) -> Self {
        self.settings.reconnect_count = Some(count);
        self
    }

    /// The long connection, not yet started.
    pub fn build(self) -> Result<LongConnection, WsError> {
        let max = self.settings.max_handlers;
        if !(1..=MAX_HANDLERS_LIMIT).contains(&max) {
            return Err(WsError::InvalidSetting {
                name: "max_handlers",
                rule: format!("{max} is not between 1 and {MAX_HANDLERS_LIMIT}"),
            });
        }
        let (status, _) = watch::channel(Status::Idle);
        let (stop, _) = watch::channel(false);
        let (running, _) = watch::channel(false);
        Ok(LongConnection {
            inner: Arc::new(Inner {
                client: self.client,
                settings: self.settings,
                dispatcher: self.dispatcher,
                status,
                stop,
                running,
            }),
        })
    }
}

/// The long connection; see the [module docs](self). Cheap to clone: clones
/// are the same connection (one may [`start`](Self::start), another
/// [`shutdown`](Self::shutdown)).
#[derive(Clone, Debug)]
pub struct LongConnection {
    inner: Arc<Inner>,
}

/// Marks the connection stopped however [`LongConnection::start`] ends:
/// by returning, or by being dropped mid-way (its task aborted, or
/// panicking: tokio drops a task's future after a panic). Without it a
/// `shutdown` would wait for ever, and every later `start` would be
/// [`WsError::AlreadyRunning`].
struct Running<'a> {
    inner: &'a Inner,
    /// Whether `start` returned (and set the status itself).
    finished: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.inner.status.send_replace(Status::Disconnected {
                error: Some(
                    "the long connection stopped without finishing: its task was cancelled or \
                     panicked"
                        .to_owned(),
                ),
            });
        }
        // Ready for another start; a shutdown racing with this one is not lost.
        self.inner.stop.send_replace(false);
        self.inner.running.send_replace(false);
    }
}

#[derive(Debug)]
struct Inner {
    client: Client,
    settings: Settings,
    dispatcher: Dispatcher,
    status: watch::Sender<Status>,
    stop: watch::Sender<bool>,
    /// Whether [`LongConnection::start`] runs; what
    /// [`LongConnection::shutdown`] waits on.
    running: watch::Sender<bool>,
}

impl LongConnection {
    /// The status now and its changes.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.inner.status.subscribe()
    }

    /// Connects and receives until [`shutdown`](Self::shutdown) (then
    /// `Ok`) or a fatal error: a fatal bootstrap code or handshake refusal,
    /// or ReconnectCount failed attempts in a row.
    ///
    /// A [`shutdown`](Self::shutdown) that came before makes it return at
    /// once.
    pub async fn start(&self) -> Result<(), WsError> {
        let started =
            self.inner.running.send_if_modified(|running| !std::mem::replace(running, true));
        if !started {
            return Err(WsError::AlreadyRunning);
        }
        let mut running = Running { inner: &self.inner, finished: false };
        self.inner.status.send_replace(Status::Connecting);
        let mut stop = self.inner.stop.subscribe();
        // Handlers outlive the connection they came on, and so does the cap:
        // handlers left from a lost connection still hold memory.
        let mut handlers = connection::Handlers {
            tasks: JoinSet::new(),
            permits: Arc::new(tokio::sync::Semaphore::new(self.inner.settings.max_handlers)),
        };
        let result = self.run(&mut stop, &mut handlers).await;
        connection::drain(&mut handlers.tasks, self.inner.settings.shutdown_grace).await;
        self.inner.status.send_replace(Status::Disconnected {
            error: result.as_ref().err().map(ToString::to_string),
        });
        running.finished = true;
        drop(running);
        result
    }

    /// Stops a running [`start`](Self::start) gracefully and waits until
    /// it has returned: no more frames are read, running handlers finish
    /// and their acks are sent, the socket is closed. When not running, the
    /// next `start` returns at once.
    pub async fn shutdown(&self) {
        let mut running = self.inner.running.subscribe();
        self.inner.stop.send_replace(true);
        let _ = running.wait_for(|r| !*r).await;
    }

    async fn run(
        &self,
        stop: &mut watch::Receiver<bool>,
        handlers: &mut connection::Handlers,
    ) -> Result<(), WsError> {
        let settings = &self.inner.settings;
        let mut server = ServerSettings::default();
        let mut failures: u32 = 0;
        loop {
            self.inner.status.send_replace(Status::Connecting);
            let last = match connection::connect(&self.inner.client, stop).await {
                None => return Ok(()),
                Some(Ok((socket, endpoint))) => {
                    failures = 0;
                    server = endpoint.config;
                    tracing::info!(url = %endpoint, "long connection established");
                    self.inner
                        .status
                        .send_replace(Status::Connected { device_id: endpoint.device_id.clone() });
                    match connection::run(
                        socket,
                        &endpoint,
                        settings,
                        &self.inner.dispatcher,
                        &mut server,
                        handlers,
                        stop,
                    )
                    .await
                    {
                        connection::End::Shutdown => return Ok(()),
                        connection::End::Lost(reason, source) => {
                            let source = source.map(|e| Box::new(e) as _);
                            let lost = WsError::Lost { host: endpoint.host(), reason, source };
                            tracing::warn!(error = %lost, "long connection lost; reconnecting");
                            lost
                        }
                    }
                }
                Some(Err(error)) if !error.is_retryable() => {
                    tracing::error!(%error, "long connection refused; not retrying");
                    return Err(error);
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "could not connect; retrying");
                    error
                }
            };
            failures += 1;
            let count = settings.reconnect_count.unwrap_or(server.reconnect_count);
            if count >= 0 && i64::from(failures) > count {
                return Err(WsError::GaveUp { attempts: failures - 1, last: Box::new(last) });
            }
            let wait = if failures == 1 {
                let nonce =
                    settings.reconnect_nonce.unwrap_or(Duration::from_secs(server.reconnect_nonce));
                random_below(nonce)
            } else {
                settings
                    .reconnect_interval
                    .unwrap_or(Duration::from_secs(server.reconnect_interval))
            };
            self.inner.status.send_replace(Status::Reconnecting {
                attempt: failures,
                wait,
                error: last.to_string(),
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = connection::stopped(stop) => return Ok(()),
            }
        }
    }
}

/// A random duration in `[0, max)`; zero for zero.
fn random_below(max: Duration) -> Duration {
    let nanos = max.as_nanos();
    if nanos == 0 {
        return Duration::ZERO;
    }
    let pick = u128::from(crate::random::u64()) % nanos;
    Duration::from_nanos(u64::try_from(pick).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_waits_stay_below_the_nonce() {
        assert_eq!(random_below(Duration::ZERO), Duration::ZERO);
        let max = Duration::from_millis(30);
        let picks: Vec<Duration> = (0..200).map(|_| random_below(max)).collect();
        assert!(picks.iter().all(|p| *p < max));
        assert!(picks.iter().any(|p| *p != picks[0]), "the waits vary");
    }

    #[test]
    fn max_handlers_out_of_range_is_refused_by_name() {
        let client = Client::new("cli_x", "secret").unwrap();
        let builder = || client.long_connection(Dispatcher::builder().build());
        for max in [0, MAX_HANDLERS_LIMIT + 1] {
            let error = builder().max_handlers(max).build().unwrap_err();
            assert!(
                matches!(error, WsError::InvalidSetting { name: "max_handlers", .. }),
                "{error:?}"
            );
            assert!(error.to_string().contains(&format!("max_handlers: {max} is not")), "{error}");
        }
        assert!(builder().max_handlers(1).build().is_ok());
        assert!(builder().max_handlers(MAX_HANDLERS_LIMIT).build().is_ok());
    }
}
