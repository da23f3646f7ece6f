//! When a failed attempt is sent again, and after how long.
//!
//! The rule that matters most: a request the server may already have acted
//! on is repeated only if repeating it is harmless. Rejections the server
//! makes before acting (rate limits, a refused token, a connection that was
//! never opened) are always safe to retry. Time-outs, dropped connections and
//! 5xx answers are ambiguous — the message may have been stored and only the
//! answer lost — so they are retried only for requests that are idempotent:
//! reads, and writes that carry an idempotency key (`uuid`), which the
//! platform uses to store a message at most once.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{Error, codes};

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
        half + half.mul_f64(random_unit())
    }
}

/// What a failed attempt means for the next one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Do not retry.
    Fail,
    /// The server refused before acting: always safe to send again.
    Rejected,
    /// The server refused for a rate limit; wait, then send again.
    RateLimited,
    /// The server may have acted: send again only if idempotent.
    Ambiguous,
}

/// Classifies a failed attempt. `sent` is whether the request left this
/// process (failures fetching the token happen before).
pub(crate) fn classify(error: &Error, sent: bool) -> Verdict {
    let status_5xx = |s: u16| s >= 500;
    match error {
        Error::Api(e) if matches!(e.code, codes::RATE_LIMITED | codes::IM_RATE_LIMITED) => {
            Verdict::RateLimited
        }
        Error::Api(e) if e.http_status == 429 => Verdict::RateLimited,
        Error::Http { status: 429, .. } => Verdict::RateLimited,
        Error::Api(e) if status_5xx(e.http_status) => ambiguous(sent),
        Error::Http { status, .. } if status_5xx(*status) => ambiguous(sent),
        Error::Token { http_status, .. } if *http_status == 429 || status_5xx(*http_status) => {
            Verdict::Rejected
        }
        Error::Transport(e) if e.is_connect() => Verdict::Rejected,
        Error::Transport(_) | Error::Timeout => ambiguous(sent),
        _ => Verdict::Fail,
    }
}

fn ambiguous(sent: bool) -> Verdict {
    if sent { Verdict::Ambiguous } else { Verdict::Rejected }
}

/// A random number in [0, 1) for jitter. Not cryptographic: seeded by the
/// standard library's per-process random hasher keys.
pub(crate) fn random_unit() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// 64 random-looking bits: SplitMix64 over a per-thread state that the
/// std hasher's random keys seed. Its output is a bijection of the state,
/// so a thread never repeats a value; threads start at random points.
/// (Hashing a counter with fresh keys on every call, as before, cost more
/// than the rest of an idempotency key.)
pub(crate) fn random_u64() -> u64 {
    static THREADS: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = RandomState::new().build_hasher();
            h.write_u64(THREADS.fetch_add(1, Ordering::Relaxed));
            h.finish()
        });
    }
    STATE.with(|state| {
        let x = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(x);
        let z = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A fresh version-4 UUID in its usual text form, the shape Feishu's
/// examples give for `uuid` idempotency keys (36 characters; the fields
/// allow 50).
pub fn new_idempotency_key() -> String {
    let hi = random_u64();
    let lo = random_u64();
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    // Written digit by digit: `format!` per byte cost a few percent of a
    // whole call.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use std::collections::HashSet;

    fn api(http_status: u16, code: i64) -> Error {
        ApiError { http_status, code, msg: String::new(), log_id: None, body: None }.into()
    }

    #[test]
    fn rate_limits_and_rejections_are_always_retried() {
        assert_eq!(classify(&api(400, codes::RATE_LIMITED), true), Verdict::RateLimited);
        assert_eq!(classify(&api(400, codes::IM_RATE_LIMITED), true), Verdict::RateLimited);
        assert_eq!(classify(&api(429, 1), true), Verdict::RateLimited);
        let token = Error::Token { http_status: 503, code: 0, msg: String::new(), log_id: None };
        assert_eq!(classify(&token, false), Verdict::Rejected);
    }

    #[test]
    fn answers_lost_after_sending_are_ambiguous() {
        let http = |status| Error::Http { status, log_id: None, body: String::new() };
        assert_eq!(classify(&http(502), true), Verdict::Ambiguous);
        assert_eq!(classify(&api(500, 1), true), Verdict::Ambiguous);
        assert_eq!(classify(&Error::Timeout, true), Verdict::Ambiguous);
        assert_eq!(classify(&Error::Timeout, false), Verdict::Rejected);
    }

    #[test]
    fn client_errors_are_final() {
        assert_eq!(classify(&api(400, 230001), true), Verdict::Fail);
        assert_eq!(classify(&api(200, 1), true), Verdict::Fail);
        let http = Error::Http { status: 404, log_id: None, body: String::new() };
        assert_eq!(classify(&http, true), Verdict::Fail);
        assert_eq!(classify(&Error::Config(String::new()), false), Verdict::Fail);
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

    #[test]
    fn idempotency_keys_are_uuid_v4_and_distinct() {
        let keys: HashSet<String> = (0..10_000).map(|_| new_idempotency_key()).collect();
        assert_eq!(keys.len(), 10_000);
        for k in keys.iter().take(100) {
            assert_eq!(k.len(), 36);
            assert!(k.chars().all(|c| matches!(c, '-' | '0'..='9' | 'a'..='f')), "{k}");
            let parts: Vec<&str> = k.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
            assert!(parts[2].starts_with('4'), "{k}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{k}");
        }
    }

    #[test]
    fn threads_draw_distinct_keys() {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..5_000).map(|_| new_idempotency_key()).collect::<Vec<_>>())
            })
            .collect();
        let keys: HashSet<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        assert_eq!(keys.len(), 20_000);
    }

    #[test]
    fn random_unit_is_in_range_and_spread() {
        let xs: Vec<f64> = (0..10_000).map(|_| random_unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let low = xs.iter().filter(|x| **x < 0.5).count();
        assert!((4_000..6_000).contains(&low), "{low}");
    }
}
