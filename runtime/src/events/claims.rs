//! What one delivery holds while it runs: its place among the events this
//! process is handling (so that a copy waits for it), and its claims in the
//! dedup store, committed, released, or released when dropped unsettled.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::dedup::{BoxFuture, DedupStore};

pub(super) type InFlightMap = Mutex<HashMap<String, watch::Receiver<Option<Settled>>>>;

/// How a delivery ended, as copies that waited for it learn it.
#[derive(Clone)]
pub(super) enum Settled {
    Done(Option<Value>),
    Failed(String),
    NotYet,
}

/// An event being handled: removed from the in-flight map when dropped
/// (settled or not: a copy waiting on an abandoned delivery is answered
/// "not yet").
pub(super) struct InFlight<'a> {
    pub(super) map: &'a InFlightMap,
    pub(super) key: String,
    pub(super) tx: watch::Sender<Option<Settled>>,
}

impl InFlight<'_> {
    pub(super) fn settle(&self, settled: Settled) {
        self.tx.send_replace(Some(settled));
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(self.map).remove(&self.key);
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The map stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The keys one delivery claimed. Committed or released explicitly; dropped
/// unsettled (the delivery was cancelled: a client that hung up, a
/// long-connection handler abandoned after the shutdown grace), it releases
/// them in a task of its own, so that the platform's next push runs the
/// handler. Without a runtime to spawn on, the claims lapse with their lease.
pub(super) struct Claims {
    pub(super) store: Arc<dyn DedupStore>,
    pub(super) owner: String,
    pub(super) keys: Vec<String>,
}

impl Claims {
    /// Commits every key. A store that answers at once (the in-memory one)
    /// has committed when this returns; one that has to wait (Redis, whose
    /// commit is queued for its next round trip) finishes in a task of its
    /// own, so that the delivery's answer (the ack) does not wait a round
    /// trip for it. Until the commit lands, the keys hold the live claim:
    /// a copy meeting it in another process is answered "not yet" and
    /// comes again, never runs twice. (In this process a copy waits for
    /// the delivery's outcome instead.)
    pub(super) async fn commit(mut self, ttl: Duration) {
        let keys = std::mem::take(&mut self.keys);
        let (store, owner) = (Arc::clone(&self.store), std::mem::take(&mut self.owner));
        let mut commit = Box::pin(async move {
            let committed = on_every_key(&keys, |key| store.commit(key, &owner, ttl)).await;
            for (key, committed) in keys.iter().zip(committed) {
                if let Err(error) = committed {
                    tracing::warn!(%key, %error, "the dedup store could not commit a handled event; a redelivery may run it again");
                }
            }
        });
        // The first poll hands the commit to the store (queues it, for
        // Redis), in this task, before the ack can leave.
        let first = std::future::poll_fn(|cx| Poll::Ready(commit.as_mut().poll(cx))).await;
        if first.is_pending() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(commit)),
                Err(_) => commit.await,
            }
        }
    }

    pub(super) async fn release(mut self) {
        let keys = std::mem::take(&mut self.keys);
        release(&*self.store, &self.owner, &keys).await;
    }

    /// Renews every claim each third of `lease`; never ends.
    pub(super) async fn renew(&self, lease: Duration) {
        let mut tick = tokio::time::interval(lease / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let renewed =
                on_every_key(&self.keys, |key| self.store.renew(key, &self.owner, lease)).await;
            for (key, renewed) in self.keys.iter().zip(renewed) {
                match renewed {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%key, "a delivery lost its claim while its handler ran; another delivery may run it too")
                    }
                    Err(error) => {
                        tracing::warn!(%key, %error, "the dedup store could not renew a claim")
                    }
                }
            }
        }
    }
}

async fn release(store: &dyn DedupStore, owner: &str, keys: &[String]) {
    let released = on_every_key(keys, |key| store.release(key, owner)).await;
    for (key, released) in keys.iter().zip(released) {
        if let Err(error) = released {
            tracing::warn!(%key, %error, "the dedup store could not release a claim; it lapses with its lease");
        }
    }
}

/// Runs `op` on every key at once (an event has one or two), so that a
/// store that batches its commands (Redis) sends them in one round trip;
/// the answers in the order of the keys. For commits, renewals and
/// releases, which no other delivery can take from the owner midway.
async fn on_every_key<'a, T>(
    keys: &'a [String],
    op: impl Fn(&'a str) -> BoxFuture<'a, T>,
) -> Vec<T> {
    match keys {
        [first, second] => {
            let (first, second) = tokio::join!(op(first), op(second));
            vec![first, second]
        }
        _ => {
            let mut answers = Vec::with_capacity(keys.len());
            for key in keys {
                answers.push(op(key).await);
            }
            answers
        }
    }
}

impl Drop for Claims {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        let (store, owner) = (Arc::clone(&self.store), std::mem::take(&mut self.owner));
        tracing::debug!(?keys, "a delivery ended unfinished; its claims are released");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { release(&*store, &owner, &keys).await });
        }
    }
}

impl Claims {
    pub(super) fn none(store: &Arc<dyn DedupStore>) -> Self {
        Self { store: Arc::clone(store), owner: String::new(), keys: Vec::new() }
    }
}
