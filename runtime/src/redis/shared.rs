//! What the stores of one `RedisStores` share: the connection, the key
//! prefix and the outage log; and the conversions every store uses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

use crate::auth::AuthError;
use crate::error::Error;

/// What every store of one [`RedisStores`](super::RedisStores) holds.
pub(crate) struct Shared {
    pub(super) conn: ConnectionManager,
    pub(crate) prefix: String,
    /// Whether the last command failed: the outage is logged when it starts
    /// and when it ends, not per command.
    pub(super) down: AtomicBool,
}

impl Shared {
    /// A connection handle (cheap: the manager is multiplexed).
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Notes the outcome of a command: the first failure after a success is
    /// logged as an outage (with what degrades), the first success after a
    /// failure as its end.
    pub(crate) fn note<T>(&self, result: &redis::RedisResult<T>) {
        match result {
            Ok(_) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis is reachable again: the shared stores are back in use");
                }
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "Redis is unreachable: until it is back, the rate limiter counts per \
                         process, tokens are fetched per process, event dedup lets every delivery \
                         through, and the app_ticket and user-token stores fail"
                    );
                }
            }
        }
    }

    /// A key under the prefix.
    pub(crate) fn key(&self, app_id: &str, rest: &str) -> String {
        format!("{}:{app_id}:{rest}", self.prefix)
    }
}

/// A failed command as the token stores report it: typed, and never
/// holding a token (Redis errors name commands and addresses, not values).
pub(crate) fn store_error(e: &redis::RedisError) -> Error {
    AuthError::store("Redis", e.clone()).into()
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis().min(u128::from(u64::MAX)) as u64)
}

/// The moment `ms` milliseconds after the Unix epoch.
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH.checked_add(Duration::from_millis(ms)).unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23 item 6: a token store's Redis failure keeps Redis's error
    /// as its source, through the runtime's `Error` and a copy of it.
    #[test]
    fn a_store_error_keeps_the_redis_error() {
        let redis = redis::RedisError::from((redis::ErrorKind::Io, "connection refused"));
        let error = store_error(&redis);
        assert!(matches!(&error, Error::Auth(AuthError::Store { .. })), "{error:?}");
        let copy = match &error {
            Error::Auth(e) => e.clone(),
            _ => unreachable!(),
        };
        for error in [&error as &dyn std::error::Error, &copy] {
            let mut chain = std::iter::successors(Some(error), |e| e.source());
            let found = chain.find_map(|e| e.downcast_ref::<redis::RedisError>());
            assert_eq!(found.map(redis::RedisError::kind), Some(redis::ErrorKind::Io));
        }
        assert!(error.to_string().contains("connection refused"), "{error}");
    }
}
