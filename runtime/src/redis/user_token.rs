//! User tokens on Redis, with the atomic compare-and-swap that lets one
//! process of a fleet spend a single-use refresh token and every other
//! process read the result (see [`crate::auth::UserAuth`]'s refresh rules).

use std::fmt;
use std::sync::Arc;

use redis::Script;
use serde::{Deserialize, Serialize};

use super::shared::{Shared, from_millis, millis, store_error};
use crate::auth::{AuthError, BoxFuture, UserToken, UserTokenStore};
use crate::error::Error;
use crate::secret::Secret;

/// Replaces (or, with an empty new value, deletes) the tokens only if they
/// are still the ones the caller read, byte for byte.
const COMPARE_AND_SWAP: &str = r"
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
";

/// One user's tokens as stored: JSON with times in milliseconds since the
/// epoch. The same tokens always give the same bytes, which the
/// compare-and-swap compares.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    refresh_token: Option<String>,
    issued_at_ms: u64,
    expires_at_ms: u64,
    refresh_expires_at_ms: Option<u64>,
    scope: Option<String>,
}

fn encode(token: &UserToken) -> String {
    let stored = Stored {
        access_token: token.access_token.expose().to_owned(),
        refresh_token: token.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        issued_at_ms: millis(token.issued_at),
        expires_at_ms: millis(token.expires_at),
        refresh_expires_at_ms: token.refresh_expires_at.map(millis),
        scope: token.scope.clone(),
    };
    serde_json::to_string(&stored).expect("strings and numbers serialise")
}

fn decode(text: &str) -> Result<UserToken, Error> {
    // serde's message could quote a token: it is not passed on.
    let stored: Stored = serde_json::from_str(text).map_err(|_| AuthError::Store {
        reason: "a user token kept in Redis is not the JSON this store writes".into(),
        source: None,
    })?;
    Ok(UserToken {
        access_token: Secret::new(stored.access_token),
        refresh_token: stored.refresh_token.map(Secret::new),
        issued_at: from_millis(stored.issued_at_ms),
        expires_at: from_millis(stored.expires_at_ms),
        refresh_expires_at: stored.refresh_expires_at_ms.map(from_millis),
        scope: stored.scope,
    })
}

/// A [`UserTokenStore`] on Redis, from
/// [`RedisStores::user_token_store`](super::RedisStores::user_token_store).
/// Its compare-and-swap is one Lua script, atomic for every process. Fails
/// with [`AuthError::Store`] while Redis cannot be reached.
///
/// Times are kept to the millisecond.
pub struct RedisUserTokenStore {
    shared: Arc<Shared>,
    /// `PREFIX:APP:user_token:`, followed by the user key.
    key_prefix: String,
    compare_and_swap: Script,
}

impl RedisUserTokenStore {
    pub(super) fn new(shared: Arc<Shared>, app_id: &str) -> Self {
        let key_prefix = shared.key(app_id, "user_token:");
        RedisUserTokenStore { shared, key_prefix, compare_and_swap: Script::new(COMPARE_AND_SWAP) }
    }

    fn key(&self, user_key: &str) -> String {
        format!("{}{user_key}", self.key_prefix)
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, Error> {
        let result = cmd.query_async(&mut self.shared.conn()).await;
        self.shared.note(&result);
        result.map_err(|e| store_error(&e))
    }
}

impl fmt::Debug for RedisUserTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisUserTokenStore").field("key_prefix", &self.key_prefix).finish()
    }
}

impl UserTokenStore for RedisUserTokenStore {
    fn get<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<Option<UserToken>, Error>> {
        Box::pin(async move {
            let text: Option<String> = self.run(redis::cmd("GET").arg(self.key(user_key))).await?;
            text.as_deref().map(decode).transpose()
        })
    }

    fn put<'a>(&'a self, user_key: &'a str, token: UserToken) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.run(redis::cmd("SET").arg(self.key(user_key)).arg(encode(&token))).await
        })
    }

    fn remove<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let _: i64 = self.run(redis::cmd("DEL").arg(self.key(user_key))).await?;
            Ok(())
        })
    }

    fn compare_and_swap<'a>(
        &'a self,
        user_key: &'a str,
        current: &'a UserToken,
        new: Option<UserToken>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let result: redis::RedisResult<i64> = self
                .compare_and_swap
                .key(self.key(user_key))
                .arg(encode(current))
                .arg(new.as_ref().map(encode).unwrap_or_default())
                .invoke_async(&mut self.shared.conn())
                .await;
            self.shared.note(&result);
            Ok(result.map_err(|e| store_error(&e))? == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    #[test]
    fn tokens_read_back_encode_to_the_same_bytes() {
        let now = SystemTime::now();
        let token = UserToken {
            access_token: Secret::new("u-1"),
            refresh_token: Some(Secret::new("ur-1")),
            issued_at: now,
            expires_at: now + Duration::from_nanos(7_200_000_000_123),
            refresh_expires_at: None,
            scope: Some("offline_access".into()),
        };
        let text = encode(&token);
        let back = decode(&text).unwrap();
        assert_eq!(encode(&back), text, "what is read compares equal to what is stored");
        assert_eq!(back.access_token, token.access_token);
        assert_eq!(millis(back.expires_at), millis(token.expires_at));
    }

    #[test]
    fn a_damaged_value_is_a_typed_error_without_its_content() {
        let err = decode(r#"{"access_token":"u-secret"#).unwrap_err();
        assert!(matches!(err, Error::Auth(AuthError::Store { .. })), "{err:?}");
        assert!(!err.to_string().contains("u-secret"), "{err}");
    }
}
