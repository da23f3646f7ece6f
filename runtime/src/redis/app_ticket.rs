//! The app_ticket of a marketplace app on Redis: whichever process receives
//! the platform's push, every process reads it, and it outlives restarts of
//! the processes.

use std::fmt;
use std::sync::Arc;

use redis::Script;

use super::shared::{Shared, store_error};
use crate::auth::{AppTicketStore, BoxFuture};
use crate::error::Error;
use crate::secret::Secret;

/// Deletes the ticket only if it is still the refused one.
const REMOVE_IF: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// An [`AppTicketStore`] on Redis, from
/// [`RedisStores::app_ticket_store`](super::RedisStores::app_ticket_store).
/// Fails with [`AuthError::Store`](crate::AuthError::Store) while Redis
/// cannot be reached.
pub struct RedisAppTicketStore {
    shared: Arc<Shared>,
    key: String,
    remove_if: Script,
}

impl RedisAppTicketStore {
    pub(super) fn new(shared: Arc<Shared>, app_id: &str) -> Self {
        let key = shared.key(app_id, "app_ticket");
        RedisAppTicketStore { shared, key, remove_if: Script::new(REMOVE_IF) }
    }
}

impl fmt::Debug for RedisAppTicketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAppTicketStore").field("key", &self.key).finish()
    }
}

impl AppTicketStore for RedisAppTicketStore {
    fn get(&self) -> BoxFuture<'_, Result<Option<Secret>, Error>> {
        Box::pin(async move {
            let result: redis::RedisResult<Option<String>> =
                redis::cmd("GET").arg(&self.key).query_async(&mut self.shared.conn()).await;
            self.shared.note(&result);
            Ok(result.map_err(|e| store_error(&e))?.map(Secret::new))
        })
    }

    fn set(&self, ticket: Secret) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let result: redis::RedisResult<()> = redis::cmd("SET")
                .arg(&self.key)
                .arg(ticket.expose())
                .query_async(&mut self.shared.conn())
                .await;
            self.shared.note(&result);
            result.map_err(|e| store_error(&e))
        })
    }

    fn remove<'a>(&'a self, ticket: &'a Secret) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let result: redis::RedisResult<i64> = self
                .remove_if
                .key(&self.key)
                .arg(ticket.expose())
                .invoke_async(&mut self.shared.conn())
                .await;
            self.shared.note(&result);
            result.map(drop).map_err(|e| store_error(&e))
        })
    }
}
