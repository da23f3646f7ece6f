//! User access tokens: the OAuth authorisation URL, the code exchange, and
//! refreshes with single-use refresh tokens, kept in a pluggable store.
//!
//! Decisions:
//! - Only the v2 OAuth endpoint (`POST /open-apis/authen/v2/oauth/token`)
//!   is used, on Feishu and Lark alike. The older v1 OIDC endpoints
//!   (`/open-apis/authen/v1/oidc/access_token` and `…/refresh_access_token`)
//!   need an app_access_token and answer in another shape; an app that
//!   still gets its tokens there can call them as ordinary operations and
//!   hand the result to [`UserAuth::store_token`](super::UserAuth::store_token).
//! - A refresh token works once. The client reads the newest one from the
//!   store under a per-user lock (one refresh in flight per user key, in
//!   this client) and spends it in the store *before* sending it: a
//!   [compare-and-swap](UserTokenStore::compare_and_swap) replaces the
//!   tokens it read with a spent mark (no refresh token, `refresh_expires_at`
//!   the moment it was spent) only if they are still the ones stored. So it
//!   is sent once, even by processes sharing a store that compares and swaps
//!   atomically (the Redis store does). If the answer is lost, the old
//!   access token is used until it expires and the user then has to
//!   authorise again: sending the spent token again could not work.
//! - The loser of that race, and anyone who reads a spent mark, waits for
//!   the refresh in flight (polling the store, for at most the call
//!   timeout after the mark was set) and uses the winner's new tokens. It
//!   never removes them: every removal is a compare-and-remove of what it
//!   read. A mark older than that is a refresh whose answer was lost.
//! - A refused refresh (expired or used refresh token, revoked consent)
//!   forgets the user's tokens and fails with
//!   [`AuthError::ReauthorizationRequired`] — unless the store meanwhile
//!   holds newer tokens, which another process sharing it fetched. A
//!   rate-limited one keeps the refresh token for later.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use http::header::HeaderValue;
use serde::Deserialize;
use tracing::Instrument;

use futures_core::future::BoxFuture;

use super::token::{Fetcher, bearer, refresh_margin};
use crate::clock::{server_lifetime, system_after};
use crate::error::{AuthError, Error};
use crate::secret::Secret;
use crate::transport::envelope::http_error;

/// The v2 OAuth token endpoint (code exchange and refresh).
pub(crate) const OAUTH_TOKEN_PATH: &str = "/open-apis/authen/v2/oauth/token";

/// One user's tokens. `Debug` hides both tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserToken {
    /// The user_access_token.
    pub access_token: Secret,
    /// The single-use refresh token; `None` once spent, or when the app
    /// lacks the `offline_access` scope.
    pub refresh_token: Option<Secret>,
    /// When the access token was issued.
    pub issued_at: SystemTime,
    /// When the access token stops working.
    pub expires_at: SystemTime,
    /// When the refresh token stops working, if known. Without a refresh
    /// token it marks the tokens as spent by a refresh in flight, at that
    /// moment ([`UserToken::spent_at`]): leave it `None` then.
    pub refresh_expires_at: Option<SystemTime>,
    /// The scopes granted, space-separated, as the platform reported them.
    pub scope: Option<String>,
}

impl UserToken {
    /// Whether the token is inside its last tenth of life (capped at five
    /// minutes, as for the app's own tokens) or past it.
    pub fn refresh_due(&self, now: SystemTime) -> bool {
        let lifetime = self.expires_at.duration_since(self.issued_at).unwrap_or_default();
        now + refresh_margin(lifetime) >= self.expires_at
    }

    fn usable_refresh_token(&self, now: SystemTime) -> Option<&Secret> {
        self.refresh_token.as_ref().filter(|_| self.refresh_expires_at.is_none_or(|at| now < at))
    }

    /// When a refresh spent the refresh token, if these tokens are the spent
    /// mark it left (see the module docs): no refresh token, and a
    /// `refresh_expires_at`, which is then the moment it was spent.
    pub fn spent_at(&self) -> Option<SystemTime> {
        self.refresh_token.is_none().then_some(self.refresh_expires_at).flatten()
    }

    /// The spent mark of these tokens, spent at `now`.
    fn spent(&self, now: SystemTime) -> UserToken {
        UserToken { refresh_token: None, refresh_expires_at: Some(now), ..self.clone() }
    }
}

/// Keeps user tokens under the caller's key for each user (an open_id, a
/// session id, anything stable).
pub trait UserTokenStore: Send + Sync {
    /// The tokens stored for `user_key`.
    fn get<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<Option<UserToken>, Error>>;

    /// Stores `token` for `user_key`, replacing what was there.
    fn put<'a>(&'a self, user_key: &'a str, token: UserToken) -> BoxFuture<'a, Result<(), Error>>;

    /// Forgets `user_key`'s tokens.
    fn remove<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Replaces `user_key`'s tokens with `new` (removes them, for `None`)
    /// only if the stored ones still equal `current`; resolves to whether it
    /// did. A refresh spends its refresh token through this, so that two
    /// processes never both send it.
    ///
    /// The default reads, compares and writes in three steps, which is
    /// atomic only for a store with one writer at a time: a store shared
    /// between processes should override it with one atomic operation (the
    /// Redis store runs a Lua script).
    fn compare_and_swap<'a>(
        &'a self,
        user_key: &'a str,
        current: &'a UserToken,
        new: Option<UserToken>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            if self.get(user_key).await?.as_ref() != Some(current) {
                return Ok(false);
            }
            match new {
                Some(token) => self.put(user_key, token).await?,
                None => self.remove(user_key).await?,
            }
            Ok(true)
        })
    }
}

/// The default [`UserTokenStore`]: a map in memory, holding every user
/// until [`UserAuth::forget`](super::UserAuth::forget) or a refused refresh removes them.
#[derive(Default)]
pub struct MemoryUserTokenStore {
    tokens: Mutex<HashMap<String, UserToken>>,
}

impl MemoryUserTokenStore {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserToken>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryUserTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryUserTokenStore").field("users", &self.map().len()).finish()
    }
}

impl UserTokenStore for MemoryUserTokenStore {
    fn get<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<Option<UserToken>, Error>> {
        let token = self.map().get(user_key).cloned();
        Box::pin(async move { Ok(token) })
    }

    fn put<'a>(&'a self, user_key: &'a str, token: UserToken) -> BoxFuture<'a, Result<(), Error>> {
        self.map().insert(user_key.to_owned(), token);
        Box::pin(async { Ok(()) })
    }

    fn remove<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.map().remove(user_key);
        Box::pin(async { Ok(()) })
    }

    fn compare_and_swap<'a>(
        &'a self,
        user_key: &'a str,
        current: &'a UserToken,
        new: Option<UserToken>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let mut map = self.map();
        let swapped = map.get(user_key) == Some(current);
        if swapped {
            match new {
                Some(token) => map.insert(user_key.to_owned(), token),
                None => map.remove(user_key),
            };
        }
        Box::pin(std::future::ready(Ok(swapped)))
    }
}

/// How often a refresh spending a token that keeps changing under it reads
/// the store again before it gives up.
const MAX_REFRESH_ROUNDS: usize = 8;

/// How often a refresh waiting for another one's answer reads the store.
const REFRESH_POLL: Duration = Duration::from_millis(50);

/// Beyond the call timeout, how long a spent mark is waited for: the
/// winner's answer still has to be written to the store.
const REFRESH_SLACK: Duration = Duration::from_secs(2);

/// What waiting for another refresh found.
enum Waited {
    /// The store holds something else now (or nothing).
    Changed(Option<UserToken>),
    /// The mark outlived the refresh that set it: its answer was lost.
    Stale,
}

/// The store and the per-user refresh locks of one client.
pub(crate) struct Users {
    pub(crate) store: Arc<dyn UserTokenStore>,
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

/// How the OAuth endpoint failed.
pub(crate) enum OAuthFailure {
    /// The request never left: safe to send again.
    NotSent(Error),
    /// The platform refused it.
    Refused { http_status: u16, code: i64, msg: String, log_id: Option<String> },
    /// It was sent, and the answer is unknown.
    Lost(Error),
}

impl Users {
    pub(crate) fn new(store: Arc<dyn UserTokenStore>) -> Self {
        Users { store, locks: Mutex::default() }
    }

    /// The lock that lets one refresh per user key run at a time. Entries
    /// of users nobody is refreshing are dropped as the map grows.
    fn lock_for(&self, user_key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lock) = locks.get(user_key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() >= 1024 {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(user_key.to_owned(), Arc::downgrade(&lock));
        lock
    }

    /// The `Authorization` header for `user_key`, refreshed if due.
    pub(crate) async fn header(
        &self,
        f: Fetcher<'_>,
        user_key: &str,
    ) -> Result<HeaderValue, Error> {
        bearer(&self.access_token(f, user_key).await?)
    }

    pub(crate) async fn access_token(
        &self,
        f: Fetcher<'_>,
        user_key: &str,
    ) -> Result<Secret, Error> {
        if let Some(token) = self.store.get(user_key).await?
            && !token.refresh_due(SystemTime::now())
        {
            return Ok(token.access_token);
        }
        let lock = self.lock_for(user_key);
        let _one_refresh = lock.lock().await;
        // The refresh this call waited for may have left a fresh token.
        let Some(token) = self.store.get(user_key).await? else {
            return Err(AuthError::UserNotAuthorized { user_key: user_key.to_owned() }.into());
        };
        if !token.refresh_due(SystemTime::now()) {
            return Ok(token.access_token);
        }
        Ok(self.refresh(f, user_key, token).await?.access_token)
    }

    /// Refreshes `token` (see the module docs); runs under the user's lock.
    async fn refresh(
        &self,
        f: Fetcher<'_>,
        user_key: &str,
        mut token: UserToken,
    ) -> Result<UserToken, Error> {
        let reauthorize = |code, reason: String| -> Error {
            let user_key = user_key.to_owned();
            AuthError::ReauthorizationRequired { user_key, code, reason, source: None }.into()
        };
        // Each round reads what another process changed; a store that keeps
        // changing under every read is given up on.
        for _ in 0..MAX_REFRESH_ROUNDS {
            let now = SystemTime::now();
            if !token.refresh_due(now) {
                return Ok(token);
            }
            if let Some(spent_at) = token.spent_at() {
                match self.await_refresh(f, user_key, &token, spent_at).await? {
                    Waited::Changed(Some(newer)) => {
                        token = newer;
                        continue;
                    }
                    Waited::Changed(None) => {
                        return Err(
                            AuthError::UserNotAuthorized { user_key: user_key.to_owned() }.into()
                        );
                    }
                    Waited::Stale if SystemTime::now() < token.expires_at => return Ok(token),
                    Waited::Stale => {
                        self.store.compare_and_swap(user_key, &token, None).await?;
                        return Err(reauthorize(
                            None,
                            "the access token expired, and the refresh that spent its refresh \
                             token never stored an answer"
                                .into(),
                        ));
                    }
                }
            }
            let Some(refresh_token) = token.usable_refresh_token(now).cloned() else {
                if now < token.expires_at {
                    return Ok(token);
                }
                self.store.compare_and_swap(user_key, &token, None).await?;
                return Err(reauthorize(
                    None,
                    "the access token expired and no unspent, unexpired refresh token is kept"
                        .into(),
                ));
            };
            let spent = token.spent(now);
            if !self.store.compare_and_swap(user_key, &token, Some(spent.clone())).await? {
                // Another process changed the tokens since they were read:
                // its refresh (or new authorisation) wins; read it.
                match self.store.get(user_key).await? {
                    Some(current) => {
                        token = current;
                        continue;
                    }
                    None => {
                        return Err(
                            AuthError::UserNotAuthorized { user_key: user_key.to_owned() }.into()
                        );
                    }
                }
            }
            return self.send_refresh(f, user_key, token, spent, refresh_token).await;
        }
        // No error caused this: the store kept changing.
        Err(AuthError::Store {
            reason: format!(
                "the tokens of user key {user_key:?} changed under each of \
                 {MAX_REFRESH_ROUNDS} refresh attempts"
            ),
            source: None,
        }
        .into())
    }

    /// Sends the refresh whose refresh token was just spent (`token` is what
    /// was stored, `spent` the mark that replaced it).
    async fn send_refresh(
        &self,
        f: Fetcher<'_>,
        user_key: &str,
        token: UserToken,
        spent: UserToken,
        refresh_token: Secret,
    ) -> Result<UserToken, Error> {
        let now = SystemTime::now();
        let reauthorize = |code, reason: String| -> Error {
            let user_key = user_key.to_owned();
            AuthError::ReauthorizationRequired { user_key, code, reason, source: None }.into()
        };
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "client_id": f.config.app_id,
            "client_secret": f.config.app_secret.expose(),
            "refresh_token": refresh_token.expose(),
        });
        match oauth_token(f, body).await {
            Ok(fresh) => {
                // The only unspent refresh token of the chain now: kept
                // whatever the store holds.
                self.store.put(user_key, fresh.clone()).await?;
                tracing::debug!("user access token refreshed");
                Ok(fresh)
            }
            Err(OAuthFailure::NotSent(e)) => {
                self.store.compare_and_swap(user_key, &spent, Some(token)).await?;
                Err(e)
            }
            Err(OAuthFailure::Refused { http_status, code, msg, log_id })
                if crate::error::rate_limited(http_status, Some(code)) =>
            {
                // Rate limited (the verdict's "retry after a delay"):
                // refused before it was looked at, so the refresh token is
                // still good.
                self.store.compare_and_swap(user_key, &spent, Some(token)).await?;
                Err(Error::Token { http_status, code, msg, log_id })
            }
            Err(OAuthFailure::Refused { code, msg, .. }) => {
                // Another process sharing the store may have refreshed
                // meanwhile (and spent this refresh token): its tokens win.
                if let Some(current) = self.store.get(user_key).await?
                    && current.access_token != spent.access_token
                    && !current.refresh_due(SystemTime::now())
                {
                    return Ok(current);
                }
                // A compare-and-remove: tokens another process stored since
                // the read above are its refresh's (or a new
                // authorisation's), and win.
                if !self.store.compare_and_swap(user_key, &spent, None).await?
                    && let Some(current) = self.store.get(user_key).await?
                    && current.access_token != spent.access_token
                    && SystemTime::now() < current.expires_at
                {
                    return Ok(current);
                }
                tracing::warn!(
                    code,
                    "the platform refused the refresh token; the user has to authorise again"
                );
                Err(reauthorize(
                    Some(code),
                    format!("the platform refused the refresh token: {msg}"),
                ))
            }
            Err(OAuthFailure::Lost(e)) => {
                tracing::warn!(error = %e, "the answer to a refresh was lost; its refresh token may be spent");
                // No longer a refresh in flight: nobody waits for it.
                let lost = UserToken { refresh_expires_at: None, ..spent.clone() };
                self.store.compare_and_swap(user_key, &spent, Some(lost.clone())).await?;
                if now < lost.expires_at {
                    return Ok(lost);
                }
                self.store.compare_and_swap(user_key, &lost, None).await?;
                Err(AuthError::ReauthorizationRequired {
                    user_key: user_key.to_owned(),
                    code: None,
                    reason:
                        "the answer to the refresh was lost and a refresh token works only once"
                            .into(),
                    source: Some(Arc::new(e)),
                }
                .into())
            }
        }
    }

    /// Waits for the refresh that left the spent mark `mark` (in this or
    /// another process) to store its answer: polls the store until what it
    /// holds changes, or until the call timeout has passed since the mark
    /// was set (then the refresh's answer was lost).
    async fn await_refresh(
        &self,
        f: Fetcher<'_>,
        user_key: &str,
        mark: &UserToken,
        spent_at: SystemTime,
    ) -> Result<Waited, Error> {
        let deadline = system_after(spent_at, f.config.timeout.saturating_add(REFRESH_SLACK));
        loop {
            let now = SystemTime::now();
            let Ok(left) = deadline.duration_since(now) else {
                return Ok(Waited::Stale);
            };
            let current = self.store.get(user_key).await?;
            if current.as_ref() != Some(mark) {
                return Ok(Waited::Changed(current));
            }
            tokio::time::sleep(left.min(REFRESH_POLL)).await;
        }
    }

    /// After the platform refused `header` for `user_key`: marks that access
    /// token expired, so that the next use refreshes it. Says whether
    /// sending again may help.
    pub(crate) async fn expire_if(&self, user_key: &str, header: &HeaderValue) -> bool {
        let lock = self.lock_for(user_key);
        let _one_refresh = lock.lock().await;
        match self.store.get(user_key).await {
            Ok(Some(token)) if bearer(&token.access_token).is_ok_and(|h| h == header) => {
                let expired = UserToken { expires_at: SystemTime::now(), ..token.clone() };
                // A refresh elsewhere may have replaced it meanwhile: then
                // sending again with the new token may help too.
                self.store.compare_and_swap(user_key, &token, Some(expired)).await.is_ok()
            }
            // Replaced meanwhile by a refresh: send again with the new one.
            Ok(Some(_)) => true,
            _ => false,
        }
    }
}

/// Posts to the v2 token endpoint and reads the tokens from the answer.
pub(crate) async fn oauth_token(
    f: Fetcher<'_>,
    body: serde_json::Value,
) -> Result<UserToken, OAuthFailure> {
    let grant = body.get("grant_type").and_then(|g| g.as_str()).unwrap_or_default().to_owned();
    let span =
        tracing::debug_span!("feishu.user_token", grant = %grant, log_id = tracing::field::Empty);
    oauth_token_in(f, body, &span).instrument(span.clone()).await
}

async fn oauth_token_in(
    f: Fetcher<'_>,
    body: serde_json::Value,
    span: &tracing::Span,
) -> Result<UserToken, OAuthFailure> {
    let sent_at = SystemTime::now();
    let raw = f
        .post_json(OAUTH_TOKEN_PATH, &body)
        .await
        .map_err(|(e, sent)| if sent { OAuthFailure::Lost(e) } else { OAuthFailure::NotSent(e) })?;
    if let Some(id) = &raw.log_id {
        span.record("log_id", id.as_str());
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        code: i64,
        #[serde(default)]
        msg: Option<String>,
        #[serde(default)]
        error_description: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
        refresh_token: Option<String>,
        refresh_token_expires_in: Option<u64>,
        scope: Option<String>,
    }
    let ok_status = (200..300).contains(&raw.status);
    let answer = match serde_json::from_slice::<Answer>(&raw.body) {
        Ok(answer) => answer,
        Err(_) if !ok_status && (raw.status == 429 || raw.status < 500) => {
            return Err(OAuthFailure::Refused {
                http_status: raw.status,
                code: 0,
                msg: format!("HTTP {}", raw.status),
                log_id: raw.log_id,
            });
        }
        Err(_) if !ok_status => return Err(OAuthFailure::Lost(http_error(&raw))),
        Err(_) => {
            return Err(OAuthFailure::Lost(Error::Decode {
                message: "the OAuth token answer is not the expected JSON".into(),
                log_id: raw.log_id,
                source: None,
            }));
        }
    };
    if answer.code != 0 || !ok_status {
        let msg = answer.error_description.or(answer.msg).unwrap_or_default();
        if raw.status >= 500 {
            return Err(OAuthFailure::Lost(Error::Token {
                http_status: raw.status,
                code: answer.code,
                msg,
                log_id: raw.log_id,
            }));
        }
        return Err(OAuthFailure::Refused {
            http_status: raw.status,
            code: answer.code,
            msg,
            log_id: raw.log_id,
        });
    }
    let (Some(access), Some(expires_in)) = (answer.access_token, answer.expires_in) else {
        return Err(OAuthFailure::Lost(Error::Decode {
            message: "the OAuth token answer lacks access_token or expires_in".into(),
            log_id: raw.log_id,
            source: None,
        }));
    };
    tracing::debug!(expire_secs = expires_in, "fetched user access token");
    let refresh_token = answer.refresh_token.filter(|t| !t.is_empty()).map(Secret::new);
    Ok(UserToken {
        access_token: Secret::new(access),
        // Without a refresh token, a refresh expiry would read as a spent
        // mark (`UserToken::spent_at`).
        refresh_expires_at: refresh_token.as_ref().and(
            answer
                .refresh_token_expires_in
                .map(|secs| system_after(sent_at, server_lifetime(secs))),
        ),
        refresh_token,
        issued_at: sent_at,
        expires_at: system_after(sent_at, server_lifetime(expires_in)),
        scope: answer.scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(lifetime: u64, refresh_expires_in: Option<u64>) -> UserToken {
        let issued_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        UserToken {
            access_token: Secret::new("u"),
            refresh_token: Some(Secret::new("r")),
            issued_at,
            expires_at: issued_at + Duration::from_secs(lifetime),
            refresh_expires_at: refresh_expires_in
                .map(|secs| issued_at + Duration::from_secs(secs)),
            scope: None,
        }
    }

    #[test]
    fn a_token_is_due_in_its_last_tenth_capped_at_five_minutes() {
        let t = token(7200, None);
        let at = |secs| t.issued_at + Duration::from_secs(secs);
        assert!(!t.refresh_due(at(6899)));
        assert!(t.refresh_due(at(6900)));
        let short = token(100, None);
        assert!(!short.refresh_due(short.issued_at + Duration::from_secs(89)));
        assert!(short.refresh_due(short.issued_at + Duration::from_secs(90)));
        // A store that holds nonsense (expiry before issue) gets a due token.
        let odd = UserToken { expires_at: t.issued_at - Duration::from_secs(1), ..t.clone() };
        assert!(odd.refresh_due(t.issued_at));
    }

    #[test]
    fn an_expired_refresh_token_is_not_offered() {
        let t = token(7200, Some(3600));
        assert!(t.usable_refresh_token(t.issued_at + Duration::from_secs(3599)).is_some());
        assert!(t.usable_refresh_token(t.issued_at + Duration::from_secs(3600)).is_none());
        assert!(
            token(7200, None)
                .usable_refresh_token(t.issued_at + Duration::from_secs(1 << 30))
                .is_some()
        );
    }
}
