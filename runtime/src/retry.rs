//! When a failed attempt is sent again, and after how long.
//!
//! Whether a failure may be retried at all is the error's one
//! [`Verdict`](crate::Verdict) ([`Error::retry_verdict`]); this module holds
//! the bounds ([`RetryPolicy`]) and the rule for requests the server may
//! already have acted on.
//!
//! The rule that matters most: a request the server may already have acted
//! on is repeated only if repeating it is harmless. Rejections the server
//! makes before acting (rate limits, a refused token, a connection that was
//! never opened) are always safe to retry. Time-outs, dropped connections and
//! 5xx answers are ambiguous — the message may have been stored and only the
//! answer lost — so they are retried only for requests that are idempotent:
//! reads, and writes that carry an idempotency key (`uuid`), which the
//! platform uses to store a message at most once.

use std::time::Duration;

use crate::error::Error;
pub use crate::random::new_idempotency_key;

/// How failed calls are retried. The defaults suit a bot: a handful of
/// attempts within a few seconds, and waits for rate limits as long as the
/// server asks, within a minute.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all for transport errors and 5xx, the first included;
    /// 1 turns retries off.
    pub max_attempts: u32,
    /// The first backoff; each later one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest backoff between two attempts.
    pub max_backoff: Duration,
    /// How many rate-limit refusals (99991400, 230020, HTTP 429) one call
    /// waits out before giving up. These are counted apart from
    /// `max_attempts` because waiting them out is the expected way through a
    /// burst, not a sign of failure; `max_rate_limit_wait` is the bound that
    /// usually binds. A backlog of calls to an endpoint whose limits the
    /// docs do not give meets the limit again after every pause, so one call
    /// can be refused a dozen times before its turn comes.
    pub max_rate_limit_retries: u32,
    /// The longest a call waits in all for rate limits before it gives up.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_rate_limit_retries: 50,
            max_rate_limit_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Sets [`max_attempts`](Self::max_attempts).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`initial_backoff`](Self::initial_backoff).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets [`max_backoff`](Self::max_backoff).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets [`max_rate_limit_retries`](Self::max_rate_limit_retries).
    pub fn max_rate_limit_retries(mut self, retries: u32) -> Self {
        self.max_rate_limit_retries = retries;
        self
    }

    /// Sets [`max_rate_limit_wait`](Self::max_rate_limit_wait).
    pub fn max_rate_limit_wait(mut self, wait: Duration) -> Self {
        self.max_rate_limit_wait = wait;
        self
    }

    /// A policy that never retries (the one retry after a refused token
    /// still happens).
    pub fn none() -> Self {
        Self { max_attempts: 1, max_rate_limit_retries: 0, ..Self::default() }
    }

    /// The wait before attempt `retry + 1` (`retry` ≥ 1): exponential, with
    /// "equal jitter" — half fixed, half random — so that clients failing
    /// together do not retry together, yet every wait keeps a floor.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exp.min(self.max_backoff);
        let half = capped / 2;
        half + half.mul_f64(crate::random::unit())
    }
}

/// Whether the server may have acted on a request that failed with
/// `error` (which says to retry now): it left this process (`sent`) and
/// nothing says it was refused before being acted on. Such a request is
/// sent again only if repeating it is harmless.
pub(crate) fn may_have_acted(error: &Error, sent: bool) -> bool {
    sent && match error {
        // A connection that could not be opened carried nothing.
        Error::Transport(e) => !e.is_connect(),
        Error::Timeout | Error::Api(_) | Error::Http { .. } => true,
        // Token fetches fail before the call is sent; nothing else is
        // retried now.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, TransportError};
    use std::collections::HashSet;

    fn api(http_status: u16, code: i64) -> Error {
        ApiError { http_status, code, msg: String::new(), log_id: None, body: None }.into()
    }

    #[test]
    fn only_answers_lost_after_sending_may_have_been_acted_on() {
        let http = |status| Error::Http { status, log_id: None, body: String::new() };
        assert!(may_have_acted(&http(502), true));
        assert!(may_have_acted(&api(500, 1), true));
        assert!(may_have_acted(&Error::Timeout, true));
        assert!(may_have_acted(&Error::Transport(TransportError::other("reset")), true));
        assert!(!may_have_acted(&Error::Timeout, false));
        assert!(!may_have_acted(&Error::Transport(TransportError::new(true, "refused")), true));
        let token = Error::Token { http_status: 503, code: 0, msg: String::new(), log_id: None };
        assert!(!may_have_acted(&token, true));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let p = RetryPolicy::default();
        for retry in 1..=10 {
            let full = p.initial_backoff.saturating_mul(1 << (retry - 1)).min(p.max_backoff);
            for _ in 0..50 {
                let d = p.backoff(retry);
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?} vs {full:?}");
            }
        }
        // The jitter really varies.
        let waits: HashSet<Duration> = (0..20).map(|_| p.backoff(3)).collect();
        assert!(waits.len() > 10, "{waits:?}");
    }
}
