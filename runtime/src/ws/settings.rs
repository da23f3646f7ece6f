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

/// The longest ping interval taken from the platform (its pong's
/// `PingInterval`, 120 s as a rule): a larger value, or an absurd one, is
/// read as this, so that a dead socket is still noticed within minutes.
pub(super) const MAX_SERVER_PING_INTERVAL: Duration = Duration::from_secs(600);

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
        self.ping_interval.unwrap_or(Duration::from_secs(
            server.ping_interval.clamp(1, MAX_SERVER_PING_INTERVAL.as_secs()),
        ))
    }

    pub(super) fn liveness_timeout(&self, ping: Duration) -> Duration {
        self.liveness_timeout.unwrap_or(ping.saturating_mul(3))
    }
}

impl Default for Settings {
    /// The defaults, and the platform's word for everything it tells.
    fn default() -> Self {
        Self {
            fragment_timeout: DEFAULT_FRAGMENT_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_handlers: DEFAULT_MAX_HANDLERS,
            ping_interval: None,
            liveness_timeout: None,
            reconnect_interval: None,
            reconnect_nonce: None,
            reconnect_count: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platforms_ping_interval_is_clamped() {
        let settings = Settings::default();
        let pong = |secs| ServerSettings { ping_interval: secs, ..ServerSettings::default() };
        assert_eq!(settings.ping_interval(&pong(120)), Duration::from_secs(120));
        assert_eq!(settings.ping_interval(&pong(0)), Duration::from_secs(1));
        assert_eq!(settings.ping_interval(&pong(u64::MAX)), MAX_SERVER_PING_INTERVAL);
        // And the liveness deadline, three pings, fits the clock.
        let liveness = settings.liveness_timeout(settings.ping_interval(&pong(u64::MAX)));
        assert_eq!(liveness, Duration::from_secs(1800));
    }
}
