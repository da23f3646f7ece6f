//! Remembering which events are being handled and which were handled: the
//! one [`DedupStore`] trait the [`Dispatcher`](super::Dispatcher) uses, in
//! two phases (claim with a lease, then commit or release), and
//! [`InMemoryDedup`], the store of one process.
//!
//! Two phases, because one ("set if absent" plus "forget on failure") cannot
//! tell "handled" from "being handled": a process killed mid-handler leaves
//! its keys behind, and with a store shared between processes every later
//! push of the event, on whichever instance, was answered "duplicate" and
//! the event was lost. A claim instead lives only as long as its lease,
//! which its holder renews while the handler runs; only a commit is
//! remembered for long.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// A boxed future, as the stores' methods return (futures-core's).
pub use futures_core::future::BoxFuture;

/// Why a store could not answer (a connection lost, a timeout): the
/// implementation's own error.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// What a [`DedupStore::claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key was free and is now the caller's, for the lease: run the
    /// handler.
    Acquired,
    /// Another owner holds a live claim: the event is being handled
    /// elsewhere. The dispatcher answers "not yet" (a non-200 status), so
    /// that the platform pushes it again later.
    Held,
    /// The key was committed: the event was handled. The dispatcher
    /// answers 200 and runs nothing.
    Committed,
}

/// Where the dispatcher records deliveries, by key (`event:<event_id>`,
/// and `message:<message_id>` for `im.message.receive_v1`), in two phases.
///
/// Each delivery has its own `owner` token (random, unique per delivery).
/// The dispatcher [`claim`](Self::claim)s every key of an event for a short
/// lease, [`renew`](Self::renew)s the lease while the handler runs, and then
/// [`commit`](Self::commit)s the keys (the handler succeeded, or the event
/// can never be handled) or [`release`](Self::release)s them (it failed,
/// timed out or was cancelled), so that the platform's next push runs it.
/// A process that dies mid-handler leaves claims that lapse with their lease.
///
/// Implement it over a store shared between processes (Redis, a database)
/// when several instances receive the same app's events; [`InMemoryDedup`]
/// serves one process. With Redis, where the value is `claim:<owner>` or
/// `done`:
///
/// - `claim`: `SET key claim:<owner> NX PX <lease>`; if that fails, `GET key`
///   tells [`Claim::Committed`] (`done`) from [`Claim::Held`];
/// - `renew`: a script that runs `PEXPIRE key <lease>` if `GET key` is
///   `claim:<owner>`;
/// - `commit`: `SET key done PX <ttl>`;
/// - `release`: a script that runs `DEL key` if `GET key` is `claim:<owner>`.
///
/// When the store fails (`Err`), the dispatcher runs the handler anyway and
/// logs a warning: an event handled twice is better than one never handled.
pub trait DedupStore: Send + Sync {
    /// Claims `key` for `owner` for `lease`, unless another owner's claim is
    /// live ([`Claim::Held`]) or the key was committed ([`Claim::Committed`]).
    /// A lapsed claim is free.
    fn claim<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Extends `owner`'s claim of `key` to `lease` from now. `Ok(false)`
    /// when `owner` no longer holds it (the lease lapsed, and maybe another
    /// owner claimed it): the dispatcher logs that and lets the handler
    /// finish.
    fn renew<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Remembers `key` as handled for `ttl` (the dispatcher's is longer than
    /// the platform's retry window of about 7.2 hours), whoever holds it
    /// now: the handler did finish. `owner` is the committing delivery's.
    fn commit<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Drops `owner`'s claim of `key`, if `owner` still holds it: never
    /// another owner's claim, never a commit.
    fn release<'a>(&'a self, key: &'a str, owner: &'a str)
    -> BoxFuture<'a, Result<(), StoreError>>;
}

/// How many keys [`InMemoryDedup`] keeps at most by default.
pub const DEFAULT_DEDUP_CAPACITY: usize = 100_000;

/// A [`DedupStore`] in this process's memory. Keys lapse with their lease
/// or TTL; at most a number of them are kept, the oldest going first.
/// Time is tokio's clock, so tests with paused time see leases lapse.
pub struct InMemoryDedup {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Claimed(Arc<str>),
    Committed,
}

struct Entry {
    state: State,
    until: Instant,
    /// The sequence number of its entry in `order`.
    seq: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Arc<str>, Entry>,
    /// Keys in the order recorded; an entry whose sequence number no longer
    /// matches `entries` is stale and skipped.
    order: VecDeque<(u64, Arc<str>)>,
    next_seq: u64,
}

impl InMemoryDedup {
    /// A store keeping at most `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::new(Inner::default()) }
    }

    /// How many keys are kept now (claimed or committed, lapsed or not).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys claimed and not lapsed at `now`, sorted: for tests that
    /// check no claim outlives its lease.
    pub fn live_claims(&self, now: Instant) -> Vec<String> {
        let inner = self.lock();
        let mut keys: Vec<String> = inner
            .entries
            .iter()
            .filter(|(_, e)| matches!(e.state, State::Claimed(_)) && e.until > now)
            .map(|(k, _)| k.to_string())
            .collect();
        keys.sort();
        keys
    }

    /// Whether `key` is committed and not lapsed at `now`.
    pub fn is_committed(&self, key: &str, now: Instant) -> bool {
        self.lock().entries.get(key).is_some_and(|e| e.state == State::Committed && e.until > now)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent even if a holder panicked.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn claim_now(&self, key: &str, owner: &str, lease: Duration, now: Instant) -> Claim {
        let mut inner = self.lock();
        if let Some(entry) = inner.entries.get(key)
            && entry.until > now
        {
            return match entry.state {
                State::Committed => Claim::Committed,
                State::Claimed(_) => Claim::Held,
            };
        }
        inner.put(key, State::Claimed(Arc::from(owner)), deadline(now, lease));
        while inner.entries.len() > self.capacity {
            inner.pop_oldest();
        }
        // Replaced entries leave stale ones in `order`; keep them bounded.
        if inner.order.len() > 2 * self.capacity {
            inner.compact();
        }
        Claim::Acquired
    }
}

/// `now + span`, or far in the future when that overflows.
fn deadline(now: Instant, span: Duration) -> Instant {
    crate::clock::after(now, span)
}

impl Inner {
    fn put(&mut self, key: &str, state: State, until: Instant) {
        let key: Arc<str> = Arc::from(key);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert(Arc::clone(&key), Entry { state, until, seq });
        self.order.push_back((seq, key));
    }

    fn held_by(&self, key: &str, owner: &str, now: Instant) -> bool {
        self.entries.get(key).is_some_and(|e| {
            e.until > now && matches!(&e.state, State::Claimed(o) if &**o == owner)
        })
    }

    /// Drops every stale entry from `order`.
    fn compact(&mut self) {
        let entries = &self.entries;
        self.order.retain(|(seq, key)| entries.get(key).is_some_and(|e| e.seq == *seq));
    }

    /// Removes the oldest live entry.
    fn pop_oldest(&mut self) {
        while let Some((seq, key)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|e| e.seq == seq) {
                self.entries.remove(&key);
                return;
            }
        }
    }
}

impl Default for InMemoryDedup {
    /// Keeps at most [`DEFAULT_DEDUP_CAPACITY`] keys.
    fn default() -> Self {
        Self::new(DEFAULT_DEDUP_CAPACITY)
    }
}

impl DedupStore for InMemoryDedup {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        let claim = self.claim_now(key, owner, lease, Instant::now());
        Box::pin(std::future::ready(Ok(claim)))
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = Instant::now();
        let mut inner = self.lock();
        let held = inner.held_by(key, owner, now);
        if held && let Some(entry) = inner.entries.get_mut(key) {
            entry.until = deadline(now, lease);
        }
        Box::pin(std::future::ready(Ok(held)))
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        _owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.put(key, State::Committed, deadline(now, ttl));
        if inner.order.len() > 2 * self.capacity {
            inner.compact();
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut inner = self.lock();
        if inner.held_by(key, owner, Instant::now()) {
            inner.entries.remove(key);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

impl fmt::Debug for InMemoryDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryDedup")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(30);
    const TTL: Duration = Duration::from_secs(24 * 3600);

    fn claim(store: &InMemoryDedup, key: &str, owner: &str, now: Instant) -> Claim {
        store.claim_now(key, owner, LEASE, now)
    }

    #[tokio::test(start_paused = true)]
    async fn a_claim_lapses_with_its_lease_unless_renewed() {
        let store = InMemoryDedup::default();
        let t0 = Instant::now();
        assert_eq!(claim(&store, "k", "a", t0), Claim::Acquired);
        assert_eq!(claim(&store, "k", "b", t0), Claim::Held);
        tokio::time::advance(LEASE - Duration::from_secs(1)).await;
        assert!(store.renew("k", "a", LEASE).await.unwrap());
        assert!(!store.renew("k", "b", LEASE).await.unwrap(), "b holds nothing");
        tokio::time::advance(LEASE - Duration::from_secs(1)).await;
        assert_eq!(claim(&store, "k", "b", Instant::now()), Claim::Held, "renewed");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(store.live_claims(Instant::now()), Vec::<String>::new());
        assert_eq!(claim(&store, "k", "b", Instant::now()), Claim::Acquired, "lapsed");
        assert!(!store.renew("k", "a", LEASE).await.unwrap(), "a lost it");
    }

    #[tokio::test(start_paused = true)]
    async fn release_drops_only_the_owners_claim_and_never_a_commit() {
        let store = InMemoryDedup::default();
        let now = Instant::now();
        assert_eq!(claim(&store, "k", "a", now), Claim::Acquired);
        store.release("k", "b").await.unwrap();
        assert_eq!(claim(&store, "k", "c", now), Claim::Held);
        store.release("k", "a").await.unwrap();
        assert_eq!(claim(&store, "k", "c", now), Claim::Acquired);
        store.commit("k", "c", TTL).await.unwrap();
        store.release("k", "c").await.unwrap();
        assert_eq!(claim(&store, "k", "d", now), Claim::Committed);
        assert!(store.is_committed("k", now));
        tokio::time::advance(TTL).await;
        assert_eq!(claim(&store, "k", "d", Instant::now()), Claim::Acquired, "the TTL passed");
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let store = InMemoryDedup::new(3);
        let t = Instant::now();
        for key in ["a", "b", "c", "d"] {
            assert_eq!(claim(&store, key, "o", t), Claim::Acquired);
        }
        assert_eq!(store.len(), 3);
        assert_eq!(claim(&store, "a", "o", t), Claim::Acquired, "a was evicted");
        assert_eq!(claim(&store, "d", "x", t), Claim::Held);
    }

    #[tokio::test]
    async fn stale_entries_stay_bounded() {
        let store = InMemoryDedup::new(4);
        let t = Instant::now();
        assert_eq!(claim(&store, "keep", "o", t), Claim::Acquired);
        for i in 0..100 {
            let key = format!("e{}", i % 3);
            assert_eq!(claim(&store, &key, "o", t), Claim::Acquired);
            store.release(&key, "o").await.unwrap();
        }
        assert!(store.lock().order.len() <= 9);
        assert_eq!(claim(&store, "keep", "x", t), Claim::Held);
    }
}
