//! The record of handled events on Redis, shared by a fleet: a delivery
//! claims its keys with a lease it renews while the handler runs, then
//! commits them (for longer than the platform retries) or releases them,
//! so that an event is handled once by the fleet and never lost to a
//! process that died mid-handler.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::Script;

use super::shared::Shared;
use crate::events::{BoxFuture, Claim, DedupStore, StoreError};

/// The value of a committed key.
const DONE: &str = "done";

/// Claims a key: `SET NX PX`, else tells a commit from a live claim. One
/// script, so one round trip.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 'acquired'
end
if redis.call('GET', KEYS[1]) == 'done' then
  return 'committed'
end
return 'held'
";

/// Extends a claim, if it is still the owner's.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// Drops a claim, if it is still the owner's: never another's, never a
/// commit.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
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
/// platform's 7.2 h of retries). One round trip per claim, renewal, commit
/// or release.
///
/// While Redis cannot be reached it answers as for a first delivery
/// ([`Claim::Acquired`]; renewals, commits and releases succeed without
/// effect): a duplicate beats a loss. The outage is logged once by
/// [`RedisStores`](super::RedisStores), not per event.
pub struct RedisDedup {
    shared: Arc<Shared>,
    /// `PREFIX:APP:dedup:`.
    key_prefix: String,
    claim: Script,
    renew: Script,
    release: Script,
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
            claim: Script::new(CLAIM),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// Runs one of the owner's scripts on `key` (with the lease, when it
    /// takes one), and notes an outage or a recovery.
    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        key: &str,
        owner: &str,
        lease: Option<Duration>,
    ) -> redis::RedisResult<T> {
        let mut invocation = script.key(self.key(key));
        invocation.arg(claimed_by(owner));
        if let Some(lease) = lease {
            invocation.arg(millis(lease));
        }
        let result = invocation.invoke_async(&mut self.shared.conn()).await;
        self.shared.note(&result);
        result
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
            let result: redis::RedisResult<String> =
                self.run(&self.claim, key, owner, Some(lease)).await;
            Ok(match result.as_deref() {
                Ok("committed") => Claim::Committed,
                Ok("held") => Claim::Held,
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
            let result: redis::RedisResult<i64> =
                self.run(&self.renew, key, owner, Some(lease)).await;
            // Unreachable: nothing to renew, and nobody else can claim.
            Ok(result.map_or(true, |renewed| renewed == 1))
        })
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        _owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let result: redis::RedisResult<()> = redis::cmd("SET")
                .arg(self.key(key))
                .arg(DONE)
                .arg("PX")
                .arg(millis(ttl))
                .query_async(&mut self.shared.conn())
                .await;
            self.shared.note(&result);
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
            let _: redis::RedisResult<i64> = self.run(&self.release, key, owner, None).await;
            Ok(())
        })
    }
}
