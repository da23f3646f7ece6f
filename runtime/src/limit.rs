//! The client-side rate limiter: a burst waits its turn instead of failing.
//!
//! Each key (an endpoint, or a message receiver) keeps a sliding-window log
//! of the start times it has handed out. Feishu counts requests in sliding
//! windows too, so a log, unlike a token bucket, can never let through more
//! than `limit` requests in any window of `period`: a token bucket refills
//! while it is being drained, and would admit up to twice the limit in the
//! first window.
//!
//! Slots are reserved at call time and waited for afterwards, so callers
//! are served in the order they arrived and no lock is held while sleeping.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::request::RateLimit;

/// What a fleet-wide limiter counts a request under: the documented
/// limits of one API, for one app and one tenant.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct LimitKey<'a> {
    /// The app.
    pub app_id: &'a str,
    /// The tenant (a marketplace app's `tenant_key`); `None` for a
    /// self-built app's one tenant.
    pub tenant_key: Option<&'a str>,
    /// The operation (or the path, for calls generated code did not name).
    pub endpoint: &'a str,
    /// The message receiver, for per-receiver limits.
    pub receiver: Option<&'a str>,
    /// The documented limits.
    pub limit: RateLimit,
}

impl<'a> LimitKey<'a> {
    /// The key of `endpoint` (an operation's name, as `im.v1.pin.list`) of
    /// the app `app_id`, for its one tenant, without receiver or documented
    /// limits: what a program outside the client passes to
    /// [`SharedLimiter::pause`] to hold an API back for the whole fleet (as
    /// a 429 does), or to a limiter of its own in its tests.
    pub fn new(app_id: &'a str, endpoint: &'a str) -> Self {
        LimitKey { app_id, tenant_key: None, endpoint, receiver: None, limit: RateLimit::default() }
    }
}

/// A rate limiter shared by every process of an app (the `redis` feature
/// has one), set with
/// [`ClientBuilder::shared_limiter`](crate::ClientBuilder::shared_limiter):
/// the platform counts per API × app × tenant, whichever process sends.
///
/// When it fails, the client waits for its in-process limiter instead, as
/// it does without one.
pub trait SharedLimiter: Send + Sync {
    /// Reserves the earliest start that keeps the fleet within every limit
    /// of `key` (and after any pause of `key`), and resolves to how long to
    /// wait until then.
    fn reserve<'a>(
        &'a self,
        key: &'a LimitKey<'a>,
    ) -> crate::auth::BoxFuture<'a, Result<Duration, crate::error::Error>>;

    /// The platform refused a request of `key` for its rate: every process
    /// holds back requests of `key` for `pause` (`x-ogw-ratelimit-reset`).
    fn pause<'a>(
        &'a self,
        key: &'a LimitKey<'a>,
        pause: Duration,
    ) -> crate::auth::BoxFuture<'a, Result<(), crate::error::Error>>;
}

/// The client's [`SharedLimiter`], if one was set; `Debug` says only
/// whether.
#[derive(Clone, Default)]
pub(crate) struct SharedSlot(pub(crate) Option<std::sync::Arc<dyn SharedLimiter>>);

impl std::fmt::Debug for SharedSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "SharedLimiter" } else { "None" })
    }
}

/// Requests arrive at the server later than they leave here, by a latency
/// that varies; windows are widened by this much so that two requests
/// `period` apart here stay at least `period` apart there.
const MARGIN: Duration = Duration::from_millis(30);

/// A sliding-window log of reserved start times.
#[derive(Debug)]
struct Window {
    limit: usize,
    period: Duration,
    starts: VecDeque<Instant>,
}

impl Window {
    fn new(limit: u32, period: Duration) -> Self {
        Self { limit: limit.max(1) as usize, period: period + MARGIN, starts: VecDeque::new() }
    }

    /// The earliest time at or after `at` when one more request fits.
    fn earliest(&self, at: Instant) -> Instant {
        if self.starts.len() < self.limit {
            return at;
        }
        // The log is sorted: the request `limit` places back must have left
        // the window.
        let blocking = self.starts[self.starts.len() - self.limit];
        at.max(blocking + self.period)
    }

    /// Forgets starts that left the window before `now`: they constrain no
    /// request from now on, and a high limit would otherwise keep a whole
    /// window of them. (Pruned by the clock, not by the latest reservation,
    /// which can lie in the future while earlier slots are still open.)
    fn prune(&mut self, now: Instant) {
        while self.starts.front().is_some_and(|t| *t + self.period <= now) {
            self.starts.pop_front();
        }
    }

    fn reserve(&mut self, at: Instant) {
        // Reservations are non-decreasing because every one is at least the
        // previous `earliest`; insertion keeps order if pauses broke that.
        if self.starts.back().is_none_or(|last| *last <= at) {
            self.starts.push_back(at);
        } else {
            let pos = self.starts.partition_point(|t| *t <= at);
            self.starts.insert(pos, at);
        }
        while self.starts.len() > self.limit {
            self.starts.pop_front();
        }
    }
}

/// The state of one key: its windows and a pause the server imposed.
#[derive(Debug, Default)]
struct Lane {
    windows: Vec<Window>,
    paused_until: Option<Instant>,
}

impl Lane {
    /// Whether the lane still constrains a request starting at `now`.
    fn busy_at(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|u| u > now)
            || self.windows.iter().any(|w| w.starts.back().is_some_and(|t| *t + w.period > now))
    }
}

/// Above this many lanes, idle ones are dropped.
const MAX_IDLE_LANES: usize = 4096;

/// FNV-1a. Keys are endpoint names and the ids of the app's own receivers,
/// not input an attacker chooses, so SipHash's flooding resistance buys
/// nothing here, and it was the larger part of the limiter's cost per call.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type LaneMap = HashMap<String, Lane, BuildHasherDefault<Fnv>>;

/// The lanes of endpoints and of receivers, apart so that looking one up
/// needs no composed key (and no allocation) on every call.
#[derive(Debug, Default)]
struct Lanes {
    endpoints: LaneMap,
    receivers: LaneMap,
}

/// The lane of `key`, created empty if missing.
fn lane<'m>(map: &'m mut LaneMap, key: &str) -> &'m mut Lane {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), Lane::default());
    }
    map.get_mut(key).expect("the lane was inserted above")
}

/// Drops the idle lanes of a map that has grown past [`MAX_IDLE_LANES`]:
/// one lane per receiver would otherwise grow without end.
fn forget_idle(map: &mut LaneMap, now: Instant) {
    if map.len() > MAX_IDLE_LANES {
        map.retain(|_, lane| lane.busy_at(now));
    }
}

/// Rate limits by key, shared by all clones of a client.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    lanes: Mutex<Lanes>,
}

/// What [`Limiter::acquire`] waits for.
pub(crate) struct Keys<'a> {
    pub endpoint: Option<&'a str>,
    pub receiver: Option<&'a str>,
    pub limit: RateLimit,
}

impl Limiter {
    /// Waits until the request may start under every limit that applies.
    pub(crate) async fn acquire(&self, keys: &Keys<'_>) {
        let now = Instant::now();
        let start = self.reserve(keys, now);
        // A timer fires on tokio's next millisecond tick at the earliest:
        // sleeping when nothing is due would add that to every call.
        if start > now {
            tokio::time::sleep_until(start).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves the earliest start that fits every lane and returns it.
    fn reserve(&self, keys: &Keys<'_>, now: Instant) -> Instant {
        let mut guard = self.lock();
        let lanes = &mut *guard;
        forget_idle(&mut lanes.endpoints, now);
        forget_idle(&mut lanes.receivers, now);
        let endpoint = keys.endpoint.map(|endpoint| {
            let lane = lane(&mut lanes.endpoints, endpoint);
            if lane.windows.is_empty() {
                if let Some(n) = keys.limit.per_second {
                    lane.windows.push(Window::new(n, Duration::from_secs(1)));
                }
                if let Some(n) = keys.limit.per_minute {
                    lane.windows.push(Window::new(n, Duration::from_secs(60)));
                }
            }
            lane
        });
        let receiver = match (keys.receiver, keys.limit.per_receiver_per_second) {
            (Some(receiver), Some(n)) => {
                let lane = lane(&mut lanes.receivers, receiver);
                if lane.windows.is_empty() {
                    lane.windows.push(Window::new(n, Duration::from_secs(1)));
                }
                Some(lane)
            }
            _ => None,
        };
        let mut touched = [endpoint, receiver];
        for lane in touched.iter_mut().flatten() {
            lane.windows.iter_mut().for_each(|w| w.prune(now));
        }
        // The start must fit all lanes at once; moving it later for one lane
        // never makes it fit another less, so a few rounds settle it.
        let mut start = now;
        loop {
            let mut next = start;
            for lane in touched.iter().flatten() {
                if let Some(until) = lane.paused_until {
                    next = next.max(until);
                }
                for window in &lane.windows {
                    next = next.max(window.earliest(next));
                }
            }
            if next == start {
                break;
            }
            start = next;
        }
        for lane in touched.iter_mut().flatten() {
            for window in &mut lane.windows {
                window.reserve(start);
            }
        }
        start
    }

    /// The server said a limit was hit: hold back every request to these
    /// keys until `until`, not just the one that was refused.
    pub(crate) fn pause(&self, keys: &Keys<'_>, until: Instant) {
        let mut guard = self.lock();
        let lanes = &mut *guard;
        let pause = |lane: &mut Lane| {
            lane.paused_until = Some(lane.paused_until.map_or(until, |u| u.max(until)));
        };
        if let Some(endpoint) = keys.endpoint {
            pause(lane(&mut lanes.endpoints, endpoint));
        }
        if let Some(receiver) = keys.receiver {
            pause(lane(&mut lanes.receivers, receiver));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<'a>(endpoint: &'a str, receiver: Option<&'a str>, limit: RateLimit) -> Keys<'a> {
        Keys { endpoint: Some(endpoint), receiver, limit }
    }

    /// The most starts that fall in any window of `period` (closed on the
    /// left, open on the right).
    fn max_in_window(starts: &[Instant], period: Duration) -> usize {
        let mut best = 0;
        for (i, a) in starts.iter().enumerate() {
            let n = starts[i..].iter().filter(|b| **b < *a + period).count();
            best = best.max(n);
        }
        best
    }

    #[test]
    fn never_more_than_the_limit_in_any_window() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let limit = RateLimit::new(Some(50), Some(1000));
        let starts: Vec<Instant> = (0..300)
            .map(|_| limiter.reserve(&keys("im.v1.message.reply", None, limit), now))
            .collect();
        assert_eq!(max_in_window(&starts, Duration::from_secs(1)), 50);
        // A burst of 50 goes at once, then one window later the next 50.
        assert_eq!(starts[49], now);
        assert_eq!(starts[50], now + Duration::from_secs(1) + MARGIN);
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_minute_window_binds_after_the_second_one() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let limit = RateLimit::new(Some(50), Some(100));
        let starts: Vec<Instant> =
            (0..201).map(|_| limiter.reserve(&keys("e", None, limit), now)).collect();
        assert_eq!(max_in_window(&starts, Duration::from_secs(60)), 100);
        assert_eq!(starts[100], now + Duration::from_secs(60) + MARGIN);
    }

    #[test]
    fn receivers_are_limited_separately_and_together_with_the_endpoint() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let limit = RateLimit::new(Some(50), None).per_receiver(5);
        let a: Vec<Instant> =
            (0..10).map(|_| limiter.reserve(&keys("e", Some("oc_a"), limit), now)).collect();
        let b: Vec<Instant> =
            (0..5).map(|_| limiter.reserve(&keys("e", Some("oc_b"), limit), now)).collect();
        assert_eq!(a[4], now);
        assert_eq!(a[5], now + Duration::from_secs(1) + MARGIN);
        // Another receiver is not held back by the first one's queue.
        assert!(b.iter().all(|t| *t == now));
    }

    #[test]
    fn the_log_keeps_only_the_window() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let limit = RateLimit::new(Some(1000), None);
        for i in 0..10 {
            limiter.reserve(&keys("e", None, limit), now + Duration::from_secs(2 * i));
        }
        let lanes = limiter.lock();
        assert_eq!(lanes.endpoints["e"].windows[0].starts.len(), 1);
    }

    #[test]
    fn endpoints_without_documented_limits_are_not_held() {
        let limiter = Limiter::default();
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(limiter.reserve(&keys("e", Some("r"), RateLimit::default()), now), now);
        }
    }

    #[test]
    fn a_pause_holds_every_later_request_of_the_key() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let k = keys("e", None, RateLimit::default());
        limiter.pause(&k, now + Duration::from_secs(2));
        assert_eq!(limiter.reserve(&k, now), now + Duration::from_secs(2));
        // Other endpoints go on.
        assert_eq!(limiter.reserve(&keys("other", None, RateLimit::default()), now), now);
        // A shorter pause does not shorten a longer one.
        limiter.pause(&k, now + Duration::from_secs(1));
        assert_eq!(limiter.reserve(&k, now), now + Duration::from_secs(2));
    }
}
