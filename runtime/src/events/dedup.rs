//! Remembering which events were already delivered: the synchronous
//! [`DedupStore`] the webhook has always taken, and the asynchronous
//! [`AsyncDedupStore`] the [`Dispatcher`](super::Dispatcher) uses, so that a
//! store shared between processes (Redis and the like) never blocks a
//! runtime thread. Every `DedupStore` is an `AsyncDedupStore` too.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Remembers event ids, so that an event Feishu delivers again (it retries
/// when a handler does not answer 200 within 3 seconds, for hours) is
/// handled once.
///
/// Implement it over a shared store (Redis, a database) when several
/// processes receive the same app's events; [`InMemoryDedup`] serves one
/// process.
pub trait DedupStore: Send + Sync {
    /// Records `event_id` and returns `true` the first time it is seen,
    /// `false` after that.
    fn first_delivery(&self, event_id: &str) -> bool;

    /// Forgets `event_id`, so that its next delivery counts as the first:
    /// for a handler that failed after the event was recorded and wants
    /// Feishu's retry to be handled. Does nothing unless implemented.
    fn forget(&self, event_id: &str) {
        let _ = event_id;
    }
}

/// A boxed future, as [`AsyncDedupStore`]'s methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Remembers keys (`event:<event_id>`, `message:<message_id>`) without
/// blocking: what the [`Dispatcher`](super::Dispatcher) deduplicates with.
///
/// Implement it over a store shared between instances when several
/// processes receive the same app's events; every [`DedupStore`] (such as
/// [`InMemoryDedup`], the default) already is one. An implementation that
/// cannot reach its store should answer `true` from [`remember`](Self::remember):
/// an event handled twice is better than one never handled.
pub trait AsyncDedupStore: Send + Sync {
    /// Records `key` and resolves to `true` the first time it is seen,
    /// `false` after that.
    fn remember<'a>(&'a self, key: &'a str) -> BoxFuture<'a, bool>;

    /// Forgets `key`, so that its next delivery counts as the first: the
    /// dispatcher calls it when a handler failed, so that the platform's
    /// retry is handled.
    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ()>;
}

impl<T: DedupStore + ?Sized> AsyncDedupStore for T {
    fn remember<'a>(&'a self, key: &'a str) -> BoxFuture<'a, bool> {
        let first = self.first_delivery(key);
        Box::pin(std::future::ready(first))
    }

    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ()> {
        self.forget(key);
        Box::pin(std::future::ready(()))
    }
}

/// The default time [`InMemoryDedup`] remembers an id: 24 hours, longer than
/// Feishu keeps retrying.
pub const DEFAULT_DEDUP_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The default number of ids [`InMemoryDedup`] remembers at most.
pub const DEFAULT_DEDUP_CAPACITY: usize = 100_000;

/// A [`DedupStore`] in this process's memory: ids are remembered for a time
/// to live, and at most a number of them, the oldest going first.
pub struct InMemoryDedup {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Id → (when recorded, sequence number of its entry in `order`).
    seen: HashMap<Arc<str>, (Instant, u64)>,
    /// Entries in the order recorded; an entry whose sequence number no
    /// longer matches `seen` is stale and skipped.
    order: VecDeque<(u64, Arc<str>)>,
    next_seq: u64,
}

impl InMemoryDedup {
    /// A store remembering ids for `ttl`, and at most `capacity` of them
    /// (at least 1).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(1), inner: Mutex::new(Inner::default()) }
    }

    /// [`DedupStore::first_delivery`] at a given moment, for tests.
    pub fn first_delivery_at(&self, event_id: &str, now: Instant) -> bool {
        let mut inner = self.lock();
        inner.expire(now, self.ttl);
        if let Some(&(at, _)) = inner.seen.get(event_id)
            && now.saturating_duration_since(at) < self.ttl
        {
            return false;
        }
        inner.record(event_id, now);
        while inner.seen.len() > self.capacity {
            inner.pop_oldest();
        }
        // Forgotten ids leave stale entries behind; keep them bounded too.
        if inner.order.len() > 2 * self.capacity {
            inner.compact();
        }
        true
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent even if a holder panicked.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn record(&mut self, event_id: &str, now: Instant) {
        let id: Arc<str> = Arc::from(event_id);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.seen.insert(Arc::clone(&id), (now, seq));
        self.order.push_back((seq, id));
    }

    /// Drops entries from the front while they are expired or stale.
    fn expire(&mut self, now: Instant, ttl: Duration) {
        while let Some((seq, id)) = self.order.front() {
            match self.seen.get(id) {
                Some(&(at, current)) if current == *seq => {
                    if now.saturating_duration_since(at) < ttl {
                        break;
                    }
                    self.seen.remove(id);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Drops every stale entry from `order`.
    fn compact(&mut self) {
        let seen = &self.seen;
        self.order.retain(|(seq, id)| seen.get(id).is_some_and(|&(_, current)| current == *seq));
    }

    /// Removes the oldest live entry.
    fn pop_oldest(&mut self) {
        while let Some((seq, id)) = self.order.pop_front() {
            if self.seen.get(&id).is_some_and(|&(_, current)| current == seq) {
                self.seen.remove(&id);
                return;
            }
        }
    }
}

impl Default for InMemoryDedup {
    /// Remembers [`DEFAULT_DEDUP_CAPACITY`] ids for [`DEFAULT_DEDUP_TTL`].
    fn default() -> Self {
        Self::new(DEFAULT_DEDUP_TTL, DEFAULT_DEDUP_CAPACITY)
    }
}

impl DedupStore for InMemoryDedup {
    fn first_delivery(&self, event_id: &str) -> bool {
        self.first_delivery_at(event_id, Instant::now())
    }

    fn forget(&self, event_id: &str) {
        let mut inner = self.lock();
        inner.seen.remove(event_id);
        // Its entry in `order` is now stale; drop it if it is at the front.
        inner.expire(Instant::now(), self.ttl);
    }
}

impl fmt::Debug for InMemoryDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryDedup")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_delivery_is_refused_until_the_ttl_passes() {
        let store = InMemoryDedup::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        assert!(store.first_delivery_at("a", t0));
        assert!(!store.first_delivery_at("a", t0 + Duration::from_secs(59)));
        assert!(store.first_delivery_at("b", t0));
        assert!(store.first_delivery_at("a", t0 + Duration::from_secs(60)));
        assert!(!store.first_delivery_at("a", t0 + Duration::from_secs(61)));
        // "b" expired with the purge at 60s; "a" was recorded again.
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let store = InMemoryDedup::new(Duration::from_secs(60), 3);
        let t = Instant::now();
        for id in ["a", "b", "c", "d"] {
            assert!(store.first_delivery_at(id, t));
        }
        assert_eq!(store.len(), 3);
        assert!(store.first_delivery_at("a", t), "a was evicted");
        assert!(!store.first_delivery_at("c", t));
        assert!(!store.first_delivery_at("d", t));
        assert!(store.first_delivery_at("b", t), "b was evicted by a");
    }

    #[test]
    fn forget_allows_a_redelivery() {
        let store = InMemoryDedup::default();
        assert!(store.first_delivery("x"));
        assert!(!store.first_delivery("x"));
        store.forget("x");
        assert!(store.is_empty());
        assert!(store.first_delivery("x"));
        assert!(!store.first_delivery("x"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn stale_entries_stay_bounded() {
        let store = InMemoryDedup::new(Duration::from_secs(60), 4);
        assert!(store.first_delivery("keep"));
        for i in 0..100 {
            let id = format!("e{}", i % 3);
            store.first_delivery(&id);
            store.forget(&id);
        }
        assert!(store.lock().order.len() <= 9);
        assert!(!store.first_delivery("keep"));
    }
}
