//! The long connection's settings: the defaults and limits of its builder,
//! and the values one connection runs with.

use std::time::Duration;

use super::bootstrap::ServerSettings;

/// How long an incomplete fragmented message is kept unless configured.
pub const DEFAULT_FRAGMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for running handlers unless configured.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How many handlers may run at once unless configured.
pub const DEFAULT_MAX_HANDLERS: usize = 64;
/// The largest [`LongConnectionBuilder::max_handlers`](super::LongConnectionBuilder::max_handlers) accepted.
pub const MAX_HANDLERS_LIMIT: usize = 65_536;
/// The largest WebSocket message accepted.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// What one long connection runs with (the builder's choices).
#[derive(Clone, Debug)]
pub(super) struct Settings {
    pub(super) fragment_timeout: Duration,
    pub(super) shutdown_grace: Duration,
    pub(super) max_handlers: usize,
    pub(super) ping_interval: Option<Duration>,
    pub(super) liveness_timeout: Option<Duration>,
    pub(super) reconnect_interval: Option<Duration>,
    pub(super) reconnect_nonce: Option<Duration>,
    pub(super) reconnect_count: Option<i64>,
}

impl Settings {
    pub(super) fn ping_interval(&self, server: &ServerSettings) -> Duration {
        self.ping_interval.unwrap_or(Duration::from_secs(server.ping_interval.max(1)))
    }

    pub(super) fn liveness_timeout(&self, ping: Duration) -> Duration {
        self.liveness_timeout.unwrap_or(ping.saturating_mul(3))
    }
}
