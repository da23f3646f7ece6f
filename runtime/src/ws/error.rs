//! Why the long connection stopped or could not connect.

use crate::error::{Cause, Error};

/// Why the long connection stopped, or could not connect. Each error that
/// comes from a host names it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The bootstrap request failed: `source` is the runtime's [`Error`],
    /// [`Error::Api`] (with the platform's code and log id) when the platform
    /// refused the long connection (wrong credentials: code 514; more than
    /// 50 connections: 1000040350), or a transport error, timeout or HTTP
    /// status.
    #[error("the long connection's bootstrap at {host} failed: {source}")]
    Bootstrap {
        /// The base URL's host.
        host: String,
        /// What went wrong.
        #[source]
        source: Error,
    },
    /// The bootstrap handed out a socket URL the client refuses: not
    /// `ws://` or `wss://`, or `ws://` for an `https` base URL.
    #[error("the bootstrap at {host} handed out an unusable socket URL: {source}")]
    SocketUrl {
        /// The base URL's host.
        host: String,
        /// What is wrong with it.
        #[source]
        source: SocketUrlError,
    },
    /// The WebSocket handshake was refused.
    #[error(
        "the WebSocket handshake with {host} was refused with HTTP {http_status} (Handshake-Status {status:?}, Handshake-Autherrcode {auth_code:?}): {msg}"
    )]
    Handshake {
        /// The socket's `host:port`.
        host: String,
        /// The HTTP status of the refusal.
        http_status: u16,
        /// `Handshake-Status`.
        status: Option<i64>,
        /// `Handshake-Autherrcode`.
        auth_code: Option<i64>,
        /// `Handshake-Msg`.
        msg: String,
    },
    /// Connecting to the socket failed (network, proxy, TLS, the WebSocket
    /// handshake, the client's timeout).
    #[error("could not connect to {host}: {source}")]
    Connect {
        /// The socket's `host:port`.
        host: String,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An established connection was lost (closed, unreadable, or silent
    /// past the liveness timeout); only ever the last failure of
    /// [`GaveUp`](Self::GaveUp).
    #[error("the connection to {host} was lost: {reason}{}", Cause(.source))]
    Lost {
        /// The socket's `host:port`.
        host: String,
        /// How it was lost.
        reason: String,
        /// The socket's error, when one ended it (a read or write that
        /// failed); not for a close, a silence or a clean end.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// ReconnectCount attempts in a row failed.
    #[error("gave up after {attempts} reconnect attempts; the last failure: {last}")]
    GaveUp {
        /// How many attempts were made.
        attempts: u32,
        /// What went wrong last.
        #[source]
        last: Box<WsError>,
    },
    /// [`LongConnection::start`](super::LongConnection::start) is already running.
    #[error("the long connection is already running")]
    AlreadyRunning,
    /// A builder setting is out of range.
    #[error("invalid long-connection setting {name}: {rule}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// The value and the rule it breaks.
        rule: String,
    },
}

/// Why a socket URL is refused ([`SocketUrl::new`](super::SocketUrl::new)).
#[derive(Debug, thiserror::Error)]
#[error("{reason}{}", Cause(.source))]
#[non_exhaustive]
pub struct SocketUrlError {
    /// What is wrong with it (the URL shown redacted).
    pub reason: String,
    /// The URL parser's error, when the URL does not parse.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}
