//! Shared state on Redis for a fleet of processes of one app (feature
//! `redis`): the stores the client and the event dispatcher take, so that
//! several processes share the app_ticket, the user tokens, the tenant and
//! app tokens and the rate limits.
//!
//! [`RedisStores::connect`] opens one connection (a `redis` crate
//! `ConnectionManager`, multiplexed and reconnecting) and hands out:
//!
//! | store | trait | when Redis cannot be reached |
//! | --- | --- | --- |
//! | [`RedisAppTicketStore`] | [`AppTicketStore`](crate::auth::AppTicketStore) | fails with [`AuthError::Store`](crate::AuthError::Store) |
//! | [`RedisUserTokenStore`] | [`UserTokenStore`](crate::auth::UserTokenStore) (atomic compare-and-swap) | fails with [`AuthError::Store`](crate::AuthError::Store) |
//! | [`RedisTokenCache`] | [`SharedTokenCache`](crate::auth::SharedTokenCache) | the client fetches its own token |
//! | [`RedisLimiter`] | [`SharedLimiter`](crate::SharedLimiter) | the client waits for its in-process limiter |
//! | `RedisDedup` (feature `events`) | `events::DedupStore` (claim, renew, commit, release) | answers "first delivery": a duplicate beats a loss |
//!
//! [`ClientBuilder::redis_stores`](crate::ClientBuilder::redis_stores) sets all
//! four on a client.
//!
//! An outage is logged once (a WARN naming Redis and what degrades), not
//! once per call, and its end once (an INFO). The connection comes back by
//! itself: nothing needs restarting.
//!
//! Keys start with a prefix (`feishu` unless [`RedisStores::prefix`] says
//! otherwise), then the app id. What is kept, and for how long:
//!
//! - `PREFIX:APP:app_ticket`: the newest ticket, without expiry (a refused
//!   one is removed);
//! - `PREFIX:APP:user_token:USER_KEY`: one user's tokens as JSON, until
//!   removed;
//! - `PREFIX:APP:token:…:DIGEST`: a tenant or app token until it expires,
//!   keyed by a SHA-256 digest of the app secret (never the secret);
//! - `PREFIX:APP:rate:…`: the start times of the last requests of one
//!   API × tenant, for one limit window;
//! - `PREFIX:APP:dedup:KEY`: an event's claim (`claim:OWNER`, for its
//!   lease) or its commit (`done`, for the dispatcher's TTL).
//!
//! Tokens and tickets are kept in clear text, like in any store: protect the
//! Redis (a password in the URL, a private network).

mod app_ticket;
#[cfg(feature = "events")]
mod dedup;
mod limiter;
mod shared;
mod token_cache;
mod user_token;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use app_ticket::RedisAppTicketStore;
#[cfg(feature = "events")]
pub use dedup::RedisDedup;
pub use limiter::RedisLimiter;
pub use token_cache::RedisTokenCache;
pub use user_token::RedisUserTokenStore;

use shared::Shared;

use crate::builder::ClientBuilder;

/// The key prefix unless [`RedisStores::prefix`] sets another.
pub const DEFAULT_PREFIX: &str = "feishu";

/// How long opening a connection may take: a Redis that does not accept
/// one within it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one command may take before it counts as failed. A store
/// that waits longer than this holds up every call and event.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why [`RedisStores::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a Redis URL (`redis://[:PASSWORD@]HOST[:PORT][/DB]`,
    /// or `rediss://` for TLS), or asks for TLS in a build without a TLS
    /// feature.
    /// The URL is not repeated, since it may hold a password.
    #[error("the Redis URL {rule}{}", source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Url {
        /// The rule the URL breaks.
        rule: &'static str,
        /// The `redis` crate's error, when it refused the URL.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Redis did not answer: the `redis` crate's error.
    #[error("could not connect to Redis: {0}")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23 item 6: both failures keep the `redis` crate's error.
    #[tokio::test]
    async fn connect_errors_keep_the_redis_error() {
        let is_redis = |e: &ConnectError| {
            let mut chain =
                std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source());
            chain.any(|e| e.is::<redis::RedisError>())
        };
        let bad = RedisStores::connect("redis://:pw@host:notaport").await.unwrap_err();
        assert!(matches!(bad, ConnectError::Url { .. }) && is_redis(&bad), "{bad:?}");
        assert!(!bad.to_string().contains("pw"), "{bad}");
        // Port 1 on the loopback: nothing listens there.
        let down = RedisStores::connect("redis://127.0.0.1:1").await.unwrap_err();
        assert!(matches!(down, ConnectError::Unreachable(_)) && is_redis(&down), "{down:?}");
    }
}

/// The Redis stores of a fleet, over one shared connection. Cloning is
/// cheap; clones share the connection.
#[derive(Clone)]
pub struct RedisStores {
    shared: Arc<Shared>,
}

impl fmt::Debug for RedisStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStores")
            .field("prefix", &self.shared.prefix)
            .field("reachable", &!self.shared.down.load(Ordering::Relaxed))
            .finish()
    }
}

impl RedisStores {
    /// Connects to the Redis at `url` (`redis://HOST:PORT`, with
    /// `redis://:PASSWORD@HOST:PORT/DB` for a password and a database).
    /// Fails if Redis does not answer now; later outages are survived (see
    /// the [module docs](self)).
    ///
    /// `rediss://HOST:PORT` speaks TLS, over the library of the runtime's
    /// TLS feature. The server's certificate must name `HOST` and chain to
    /// a root the system trusts: with `rustls-ring` or `rustls-aws-lc`, the
    /// system's certificate store (`SSL_CERT_FILE` or `SSL_CERT_DIR` replace
    /// it, for a private CA); with `native-tls`, OpenSSL's. Verification
    /// cannot be turned off (a URL with a fragment, such as the `redis`
    /// crate's `#insecure`, is refused), and client certificates are not
    /// supported.
    pub async fn connect(url: &str) -> Result<RedisStores, ConnectError> {
        // The `redis` crate reads `#insecure` as "skip the certificate
        // checks" (and with native-tls honours it): refused, whatever the
        // TLS library, so that a URL cannot quietly turn them off.
        if url.contains('#') {
            return Err(ConnectError::Url {
                rule: "must not have a fragment (`#...`, such as `#insecure`)",
                source: None,
            });
        }
        // The `redis` crate's rustls reads the process's crypto provider,
        // which another crate's features can make ambiguous (a panic).
        crate::transport::install_tls_provider();
        let client = redis::Client::open(url).map_err(|e| ConnectError::Url {
            rule: "must be redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://…",
            source: Some(Box::new(e)),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            // One attempt per command while Redis is down: each command
            // fails fast and its store degrades, and the next one tries
            // again.
            .set_number_of_retries(0);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| ConnectError::Unreachable(Box::new(e)))?;
        Ok(RedisStores {
            shared: Arc::new(Shared {
                conn,
                prefix: DEFAULT_PREFIX.to_owned(),
                down: AtomicBool::new(false),
            }),
        })
    }

    /// Starts every key with `prefix` instead of [`DEFAULT_PREFIX`]: for
    /// deployments that share a Redis but must not share state.
    pub fn prefix(self, prefix: impl Into<String>) -> RedisStores {
        let shared = &self.shared;
        RedisStores {
            shared: Arc::new(Shared {
                conn: shared.conn.clone(),
                prefix: prefix.into(),
                down: AtomicBool::new(shared.down.load(Ordering::Relaxed)),
            }),
        }
    }

    /// The app_ticket store of the marketplace app `app_id`.
    pub fn app_ticket_store(&self, app_id: &str) -> Arc<RedisAppTicketStore> {
        Arc::new(RedisAppTicketStore::new(self.shared.clone(), app_id))
    }

    /// The user-token store of the app `app_id`.
    pub fn user_token_store(&self, app_id: &str) -> Arc<RedisUserTokenStore> {
        Arc::new(RedisUserTokenStore::new(self.shared.clone(), app_id))
    }

    /// The shared tenant/app token cache (keyed by app and secret digest).
    pub fn token_cache(&self) -> Arc<RedisTokenCache> {
        Arc::new(RedisTokenCache::new(self.shared.clone()))
    }

    /// The fleet's rate limiter (keyed by app, tenant and API).
    pub fn limiter(&self) -> Arc<RedisLimiter> {
        Arc::new(RedisLimiter::new(self.shared.clone()))
    }

    /// The event dedup store of the app `app_id`, for
    /// [`DispatcherBuilder::dedup_store`](crate::events::DispatcherBuilder::dedup_store).
    #[cfg(feature = "events")]
    pub fn dedup_store(&self, app_id: &str) -> Arc<RedisDedup> {
        Arc::new(RedisDedup::new(self.shared.clone(), app_id))
    }
}

impl<C> ClientBuilder<C> {
    /// Keeps the app_ticket, the user tokens, the tenant and app tokens and
    /// the rate limits in `stores`, shared with every process of the app
    /// that uses the same Redis (see [`crate::redis`]).
    pub fn redis_stores(self, stores: &RedisStores) -> Self {
        let app_id = self.app_id().to_owned();
        self.app_ticket_store(stores.app_ticket_store(&app_id))
            .user_token_store(stores.user_token_store(&app_id))
            .shared_token_cache(stores.token_cache())
            .shared_limiter(stores.limiter())
    }
}
