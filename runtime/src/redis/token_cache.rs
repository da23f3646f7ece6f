//! The tenant and app tokens on Redis, shared by a fleet: each token is
//! fetched by one process (the one that takes a short lock) while the others
//! wait for it, and read by all.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redis::Script;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::shared::{Shared, millis};
use crate::auth::{BoxFuture, SharedTokenCache, TokenKey};
use crate::error::Error;
use crate::secret::Secret;

/// How long the process fetching a token holds the fleet's lock: others
/// wait this long at most for a fetcher that died. Longer than one token
/// request takes.
const FETCH_LEASE: Duration = Duration::from_secs(15);

/// How often a process waiting for another's fetch looks again.
const POLL: Duration = Duration::from_millis(25);

/// Deletes a key only if it holds `ARGV[1]`.
const DELETE_IF: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Deletes a cached token only if it is still the refused one.
const EVICT_IF: &str = r"
local kept = redis.call('GET', KEYS[1])
if kept and cjson.decode(kept).token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// A cached token: when it expires, and when a process should fetch a new
/// one.
#[derive(Serialize, Deserialize)]
struct Cached {
    token: String,
    expires_at_ms: u64,
    refresh_at_ms: u64,
}

/// A [`SharedTokenCache`] on Redis, from
/// [`RedisStores::token_cache`](super::RedisStores::token_cache).
///
/// A token is kept under its app, tenant and a SHA-256 digest of the app
/// secret, so a client with another secret never reads it. While Redis
/// cannot be reached, each process fetches its own tokens, as without a
/// shared cache.
pub struct RedisTokenCache {
    shared: Arc<Shared>,
    delete_if: Script,
    evict_if: Script,
}

impl fmt::Debug for RedisTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenCache").field("prefix", &self.shared.prefix).finish()
    }
}

/// What one round of looking at the cache found.
enum Look {
    Fresh(Secret, Duration),
    /// This process holds the lock (with this owner id) and fetches.
    Fetch(String),
    /// Another process is fetching.
    Wait,
}

impl RedisTokenCache {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        RedisTokenCache {
            shared,
            delete_if: Script::new(DELETE_IF),
            evict_if: Script::new(EVICT_IF),
        }
    }

    fn key(&self, key: &TokenKey<'_>) -> String {
        // The digest names the secret without revealing it; 16 bytes keep
        // keys short and collisions out of reach.
        let digest = Sha256::new()
            .chain_update(b"feishu-token-cache\0")
            .chain_update(key.app_id.as_bytes())
            .chain_update(b"\0")
            .chain_update(key.app_secret.expose().as_bytes())
            .finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let kind = if key.marketplace { "marketplace" } else { "self_built" };
        let tenant = key.tenant_key.unwrap_or("-");
        self.shared.key(key.app_id, &format!("token:{}:{kind}:{tenant}:{hex}", key.token_type))
    }

    /// One look: a fresh token, or the lock, or neither.
    async fn look(&self, key: &str, lock: &str) -> redis::RedisResult<Look> {
        if let Some(fresh) = self.fresh(key).await? {
            return Ok(fresh);
        }
        let owner = crate::retry::new_idempotency_key();
        let taken: Option<String> = redis::cmd("SET")
            .arg(lock)
            .arg(&owner)
            .arg("NX")
            .arg("PX")
            .arg(FETCH_LEASE.as_millis() as u64)
            .query_async(&mut self.shared.conn())
            .await?;
        if taken.is_none() {
            return Ok(Look::Wait);
        }
        // Between the read above and the lock, another process may have
        // fetched, kept the token and let go of the lock: read again under
        // the lock, or the fleet would fetch twice.
        if let Some(fresh) = self.fresh(key).await? {
            self.unlock(lock, &owner).await?;
            return Ok(fresh);
        }
        Ok(Look::Fetch(owner))
    }

    /// The kept token, if it is not yet due for refresh.
    async fn fresh(&self, key: &str) -> redis::RedisResult<Option<Look>> {
        let kept: Option<String> =
            redis::cmd("GET").arg(key).query_async(&mut self.shared.conn()).await?;
        let now = millis(SystemTime::now());
        Ok(kept
            .and_then(|text| serde_json::from_str::<Cached>(&text).ok())
            .filter(|cached| now < cached.refresh_at_ms)
            .map(|cached| {
                let left = Duration::from_millis(cached.expires_at_ms.saturating_sub(now));
                Look::Fresh(Secret::new(cached.token), left)
            }))
    }

    /// Keeps a fetched token and lets go of the lock.
    async fn keep(
        &self,
        key: &str,
        lock: &str,
        owner: &str,
        token: &Secret,
        lifetime: Duration,
    ) -> redis::RedisResult<()> {
        let now = SystemTime::now();
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        let refresh_at =
            expires_at.checked_sub(crate::auth::refresh_margin(lifetime)).unwrap_or(now);
        let cached = Cached {
            token: token.expose().to_owned(),
            expires_at_ms: millis(expires_at),
            refresh_at_ms: millis(refresh_at),
        };
        let text = serde_json::to_string(&cached).expect("strings and numbers serialise");
        let mut conn = self.shared.conn();
        if !lifetime.is_zero() {
            let _: () = redis::cmd("SET")
                .arg(key)
                .arg(text)
                .arg("PX")
                .arg(lifetime.as_millis().clamp(1, u128::from(u64::MAX)) as u64)
                .query_async(&mut conn)
                .await?;
        }
        self.unlock(lock, owner).await
    }

    async fn unlock(&self, lock: &str, owner: &str) -> redis::RedisResult<()> {
        let _: i64 =
            self.delete_if.key(lock).arg(owner).invoke_async(&mut self.shared.conn()).await?;
        Ok(())
    }
}

impl SharedTokenCache for RedisTokenCache {
    fn get_or_fetch<'a>(
        &'a self,
        key: TokenKey<'a>,
        fetch: BoxFuture<'a, Result<(Secret, Duration), Error>>,
    ) -> BoxFuture<'a, Result<(Secret, Duration), Error>> {
        Box::pin(async move {
            let key = self.key(&key);
            let lock = format!("{key}:fetching");
            loop {
                let look = self.look(&key, &lock).await;
                self.shared.note(&look);
                match look {
                    Ok(Look::Fresh(token, left)) => return Ok((token, left)),
                    Ok(Look::Wait) => tokio::time::sleep(POLL).await,
                    Ok(Look::Fetch(owner)) => {
                        let fetched = fetch.await;
                        let kept = match &fetched {
                            Ok((token, lifetime)) => {
                                self.keep(&key, &lock, &owner, token, *lifetime).await
                            }
                            Err(_) => self.unlock(&lock, &owner).await,
                        };
                        self.shared.note(&kept);
                        return fetched;
                    }
                    // Unreachable: the token endpoint still is.
                    Err(_) => return fetch.await,
                }
            }
        })
    }

    fn evict<'a>(&'a self, key: TokenKey<'a>, token: &'a Secret) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let result: redis::RedisResult<i64> = self
                .evict_if
                .key(self.key(&key))
                .arg(token.expose())
                .invoke_async(&mut self.shared.conn())
                .await;
            self.shared.note(&result);
        })
    }
}
