//! Points in time a duration later, without overflow: the one place that
//! adds a duration from a server or a setting to a clock reading.
//!
//! `instant + duration` panics ("overflow when adding duration to
//! instant") when the sum does not fit the clock, and `Duration::MAX` is a
//! natural way to say "no limit" (`.timeout(Duration::MAX)`,
//! `shutdown_grace(Duration::MAX)`), as is an absurd number from a server a
//! bug. Every such sum goes through [`after`] or [`system_after`], which
//! fall back to a far future; values a server hands out are clamped to a
//! sane range first ([`MAX_SERVER_LIFETIME`]).

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// Far enough ahead to mean "never" (a hundred years), near enough that
/// adding it to a clock reading of today cannot overflow.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The longest lifetime a server value (a token's `expire`, OAuth's
/// `expires_in` and `refresh_token_expires_in`) is taken at: a year and a
/// day. Feishu's tokens live two hours and refresh tokens up to a year;
/// anything longer is a bug, and is read as this.
pub(crate) const MAX_SERVER_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// A lifetime of `secs` seconds from a server, clamped to
/// [`MAX_SERVER_LIFETIME`].
pub(crate) fn server_lifetime(secs: u64) -> Duration {
    Duration::from_secs(secs).min(MAX_SERVER_LIFETIME)
}

/// `at + span`, or [`FAR_FUTURE`] from `at` if that overflows.
pub(crate) fn after(at: Instant, span: Duration) -> Instant {
    at.checked_add(span).or_else(|| at.checked_add(FAR_FUTURE)).unwrap_or(at)
}

/// `at + span` on the wall clock, or [`FAR_FUTURE`] from `at` if that
/// overflows.
pub(crate) fn system_after(at: SystemTime, span: Duration) -> SystemTime {
    at.checked_add(span).or_else(|| at.checked_add(FAR_FUTURE)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_past_the_clock_is_the_far_future() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), now + FAR_FUTURE);
        assert_eq!(after(now, Duration::from_secs(5)), now + Duration::from_secs(5));
        let wall = SystemTime::now();
        assert_eq!(system_after(wall, Duration::MAX), wall + FAR_FUTURE);
        assert_eq!(server_lifetime(u64::MAX), MAX_SERVER_LIFETIME);
        assert_eq!(server_lifetime(7200), Duration::from_secs(7200));
    }
}
