//! The record of handled events on Redis, shared by a fleet: a delivery
//! claims its keys with a lease it renews while the handler runs, then
//! commits them (for longer than the platform retries) or releases them,
//! so that an event is handled once by the fleet and never lost to a
//! process that died mid-handler.
//!
//! The operations of one process are sent in batches: whatever claims,
//! renewals, commits and releases are waiting when the previous batch comes
//! back go together in one script call (one round trip, one command for
//! Redis to run), in the order they were asked for.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::Script;
use tokio::sync::{mpsc, oneshot};

use super::shared::Shared;
use crate::events::{BoxFuture, Claim, DedupStore, StoreError};

/// The most operations one script call carries.
const MAX_BATCH: usize = 256;

/// Runs a batch of operations, in order, each on its own key
/// (`KEYS[i]`) with three arguments (`ARGV[3i-2..3i]`): what to do, the
/// claim's value (`claim:OWNER`) and a span in milliseconds.
///
/// - `c` claims: `SET NX PX lease`, else tells a commit from a live claim
///   (1 acquired, 2 committed, 3 held);
/// - `r` renews a claim that is still the owner's (`PEXPIRE`; 1, else 0);
/// - `x` releases a claim that is still the owner's, never another's, never
///   a commit (`DEL`; 1, else 0);
/// - `d` commits: `SET done PX ttl`, whoever holds the key (1).
const BATCH: &str = r"
local out = {}
for i = 1, #KEYS do
  local op, value, ms = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  local key = KEYS[i]
  if op == 'c' then
    if redis.call('SET', key, value, 'NX', 'PX', ms) then
      out[i] = 1
    elseif redis.call('GET', key) == 'done' then
      out[i] = 2
    else
      out[i] = 3
    end
  elseif op == 'd' then
    redis.call('SET', key, 'done', 'PX', ms)
    out[i] = 1
  elseif redis.call('GET', key) == value then
    if op == 'r' then
      out[i] = redis.call('PEXPIRE', key, ms)
    else
      out[i] = redis.call('DEL', key)
    end
  else
    out[i] = 0
  end
end
return out
";

/// A [`DedupStore`] on Redis, from
/// [`RedisStores::dedup_store`](super::RedisStores::dedup_store), for
/// [`DispatcherBuilder::dedup_store`](crate::events::DispatcherBuilder::dedup_store).
///
/// Keys are `PREFIX:APP:dedup:` followed by the dispatcher's key
/// (`event:<event_id>`, or `message:<message_id>` for messages); a claim
/// holds `claim:<owner>` for its lease (the dispatcher's, 30 s by default,
/// so that a dead holder's claim is taken over within a minute), a commit
/// `done` for its TTL (the dispatcher's, 24 h by default, longer than the
/// platform's 7.2 h of retries).
///
/// The process's claims, renewals, commits and releases travel in batches:
/// one script call carries every operation asked for while the previous
/// call was out, run by Redis in the order they were asked for. An event
/// waits for one round trip per key to claim it (the dispatcher claims an
/// event's keys one after the other); its commit is queued before its ack
/// leaves and is not waited for (see the dispatcher's `Claims::commit`), and
/// under load many events share each round trip. Keys of one batch must
/// live on one Redis node: a single server (or a primary with replicas),
/// not Redis Cluster.
///
/// While Redis cannot be reached it answers as for a first delivery
/// ([`Claim::Acquired`]; renewals, commits and releases succeed without
/// effect): a duplicate beats a loss. The outage is logged once by
/// [`RedisStores`](super::RedisStores), not per event.
pub struct RedisDedup {
    shared: Arc<Shared>,
    /// `PREFIX:APP:dedup:`.
    key_prefix: String,
    script: Arc<Script>,
    /// The queue of the task that sends the batches, started on first use
    /// (and again if the runtime it ran on has shut down).
    queue: Mutex<Option<mpsc::UnboundedSender<Op>>>,
}

/// One operation waiting for its batch.
struct Op {
    /// `c`, `r`, `x` or `d` (see [`BATCH`]).
    code: &'static str,
    key: String,
    value: String,
    millis: u64,
    /// Redis's answer, or nothing if the batch failed.
    reply: oneshot::Sender<Option<i64>>,
}

impl fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDedup").field("key_prefix", &self.key_prefix).finish()
    }
}

impl RedisDedup {
    pub(super) fn new(shared: Arc<Shared>, app_id: &str) -> Self {
        let key_prefix = shared.key(app_id, "dedup:");
        RedisDedup {
            shared,
            key_prefix,
            script: Arc::new(Script::new(BATCH)),
            queue: Mutex::new(None),
        }
    }

    /// Queues one operation on `key`; its answer, or `None` when Redis could
    /// not be reached.
    async fn run(&self, code: &'static str, key: &str, owner: &str, span: Duration) -> Option<i64> {
        let (reply, answer) = oneshot::channel();
        let op = Op {
            code,
            key: format!("{}{key}", self.key_prefix),
            value: if owner.is_empty() { String::new() } else { claimed_by(owner) },
            millis: millis(span),
            reply,
        };
        {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let unsent = match queue.as_ref() {
                Some(tx) => tx.send(op).err().map(|unsent| unsent.0),
                None => Some(op),
            };
            if let Some(op) = unsent {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(send_batches(Arc::clone(&self.shared), Arc::clone(&self.script), rx));
                // The receiver lives in the task just started: cannot fail.
                let _ = tx.send(op);
                *queue = Some(tx);
            }
        }
        answer.await.ok().flatten()
    }
}

/// Sends the queued operations, one batch at a time, until every handle of
/// the store is gone.
async fn send_batches(
    shared: Arc<Shared>,
    script: Arc<Script>,
    mut queue: mpsc::UnboundedReceiver<Op>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut invocation = script.prepare_invoke();
        for op in &batch {
            invocation.key(&op.key).arg(op.code).arg(&op.value).arg(op.millis);
        }
        let result: redis::RedisResult<Vec<i64>> =
            invocation.invoke_async(&mut shared.conn()).await;
        shared.note(&result);
        let answers = result.ok().filter(|answers| answers.len() == batch.len());
        for (i, op) in batch.drain(..).enumerate() {
            // The asker may have gone (a cancelled delivery): nothing to do.
            let _ = op.reply.send(answers.as_ref().map(|answers| answers[i]));
        }
    }
}

fn claimed_by(owner: &str) -> String {
    format!("claim:{owner}")
}

fn millis(span: Duration) -> u64 {
    span.as_millis().clamp(1, u128::from(u64::MAX)) as u64
}

impl DedupStore for RedisDedup {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            Ok(match self.run("c", key, owner, lease).await {
                Some(2) => Claim::Committed,
                Some(3) => Claim::Held,
                // Acquired, or Redis unreachable: a first delivery.
                _ => Claim::Acquired,
            })
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            // Unreachable: nothing to renew, and nobody else can claim.
            Ok(self.run("r", key, owner, lease).await.is_none_or(|renewed| renewed == 1))
        })
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        _owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.run("d", key, "", ttl).await;
            Ok(())
        })
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // Unreachable: the claim lapses with its lease.
            self.run("x", key, owner, Duration::ZERO).await;
            Ok(())
        })
    }
}
