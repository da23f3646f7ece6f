//! Fetching and caching the app's own access tokens.
//!
//! Refresh policy: a token is replaced once less than a tenth of its
//! lifetime, capped at five minutes, remains. For the usual two-hour token
//! that is five minutes before expiry, which leaves room for clock skew and
//! slow requests; the cap keeps short-lived tokens (and tests) useful. The
//! platform hands out a new token once the old one is inside its last 30
//! minutes, so a refresh five minutes before expiry gets a fresh one.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use serde::Deserialize;
use std::sync::{PoisonError, RwLock};

use http::header::{CONTENT_TYPE, HeaderValue};
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::Config;
use crate::error::Error;
use crate::secret::Secret;
use crate::transport::RawResponse;
use crate::transport::envelope::http_error;
use crate::transport::{BaseUri, Failure, Http, JSON, RequestBody};

const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Which self-issued token a cache holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A self-built app's tenant token.
    Tenant,
    /// A self-built app's app token.
    App,
    /// A marketplace app's app token, fetched with the app_ticket.
    MarketplaceApp,
    /// A marketplace app's token for one tenant, fetched with the app token.
    MarketplaceTenant,
}

impl TokenKind {
    pub(crate) fn path(self) -> &'static str {
        match self {
            TokenKind::Tenant => "/open-apis/auth/v3/tenant_access_token/internal",
            TokenKind::App => "/open-apis/auth/v3/app_access_token/internal",
            TokenKind::MarketplaceApp => "/open-apis/auth/v3/app_access_token",
            TokenKind::MarketplaceTenant => "/open-apis/auth/v3/tenant_access_token",
        }
    }

    /// The response field that carries the token, which also names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokenKind::Tenant | TokenKind::MarketplaceTenant => "tenant_access_token",
            TokenKind::App | TokenKind::MarketplaceApp => "app_access_token",
        }
    }
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    /// `Bearer <token>`, marked sensitive, built once per token: building
    /// it on every call was a measurable part of a call's cost.
    header: HeaderValue,
    refresh_at: Instant,
}

/// One token, cached. Callers read it under a short lock that is never held
/// across an await; a refresh takes a second, async lock held across the
/// fetch, so concurrent callers that find the token stale wait for the one
/// refresh in flight instead of each starting their own.
pub(crate) struct TokenCache {
    kind: TokenKind,
    current: RwLock<Option<Cached>>,
    refresh: Mutex<()>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.current.try_read() {
            Ok(slot) if slot.is_some() => "cached",
            Ok(_) => "empty",
            Err(_) => "busy",
        };
        f.debug_struct("TokenCache")
            .field("kind", &self.kind.name())
            .field("state", &state)
            .finish()
    }
}

/// What the client needs to fetch a token; borrowed from the client.
#[derive(Clone, Copy)]
pub(crate) struct Fetcher<'a> {
    pub http: &'a Http,
    pub base: &'a BaseUri,
    pub config: &'a Config,
}

impl Fetcher<'_> {
    /// A POST of `body` as JSON to the platform's `path`, answered within
    /// the call timeout: how every token endpoint (tenant, app,
    /// marketplace, OAuth) and the app_ticket resend are asked. An error
    /// says whether the request may have reached the server.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<RawResponse, Failure> {
        let uri = self.base.join(path, &[]).map_err(|e| (e, false))?;
        let body = serde_json::to_vec(body).expect("a JSON object of strings serialises");
        let mut request =
            self.http.request(http::Method::POST, uri, RequestBody::Full(Some(body.into())));
        request.headers_mut().insert(CONTENT_TYPE, JSON);
        self.http.exchange(request, self.config.timeout).await
    }
}

/// The `Authorization` value for `token`, kept out of debug output.
pub(crate) fn bearer(token: &Secret) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose())).map_err(|_| {
        // Never the token itself: it would end up in logs.
        Error::Config("an access token holds characters a header cannot carry".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl TokenCache {
    pub(crate) fn new(kind: TokenKind) -> Self {
        Self { kind, current: RwLock::new(None), refresh: Mutex::new(()) }
    }

    /// Which token it holds.
    pub(crate) fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The cached token, or one from `fetch` if it is missing or due;
    /// `fetch` runs only in the one refresh in flight.
    pub(crate) async fn get_with<F: Future<Output = Result<(Secret, Duration), Error>>>(
        &self,
        fetch: impl FnOnce() -> F,
    ) -> Result<Secret, Error> {
        self.read(fetch, |c| c.token.clone()).await
    }

    /// Like [`TokenCache::get_with`], as the header a request carries.
    pub(crate) async fn header_with<F: Future<Output = Result<(Secret, Duration), Error>>>(
        &self,
        fetch: impl FnOnce() -> F,
    ) -> Result<HeaderValue, Error> {
        self.read(fetch, |c| c.header.clone()).await
    }

    async fn read<R, F: Future<Output = Result<(Secret, Duration), Error>>>(
        &self,
        fetch: impl FnOnce() -> F,
        pick: fn(&Cached) -> R,
    ) -> Result<R, Error> {
        match self.fresh(pick) {
            Some(value) => Ok(value),
            None => self.refresh(fetch).await.map(|c| pick(&c)),
        }
    }

    fn fresh<R>(&self, read: impl FnOnce(&Cached) -> R) -> Option<R> {
        let slot = self.current.read().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().filter(|c| Instant::now() < c.refresh_at).map(read)
    }

    async fn refresh<F: Future<Output = Result<(Secret, Duration), Error>>>(
        &self,
        fetch: impl FnOnce() -> F,
    ) -> Result<Cached, Error> {
        let _one_at_a_time = self.refresh.lock().await;
        // The refresh this call waited for may have left a fresh token.
        if let Some(cached) = self.fresh(Cached::clone) {
            return Ok(cached);
        }
        let fetched_at = Instant::now();
        let (token, lifetime) = fetch().await?;
        let cached = Cached {
            header: bearer(&token)?,
            token,
            refresh_at: fetched_at + lifetime - refresh_margin(lifetime),
        };
        *self.write() = Some(cached.clone());
        Ok(cached)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Cached>> {
        self.current.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the cached token.
    pub(crate) fn invalidate(&self) {
        *self.write() = None;
    }

    /// Drops the cached token only if it is the `rejected` one: when many
    /// requests fail with the same stale token, the first one's refresh
    /// must not be thrown away by the others.
    pub(crate) fn invalidate_if(&self, rejected: &HeaderValue) {
        let mut slot = self.write();
        if slot.as_ref().is_some_and(|c| c.header == rejected) {
            *slot = None;
        }
    }
}

/// The body of a self-built app's token request.
pub(crate) fn internal_body(config: &Config) -> serde_json::Value {
    serde_json::json!({ "app_id": config.app_id, "app_secret": config.app_secret.expose() })
}

/// Posts a token request of `kind` with `body` and reads the token and its
/// lifetime from the answer.
pub(crate) async fn fetch(
    f: Fetcher<'_>,
    kind: TokenKind,
    body: serde_json::Value,
) -> Result<(Secret, Duration), Error> {
    let span =
        tracing::debug_span!("feishu.token", kind = kind.name(), log_id = tracing::field::Empty);
    async {
        let raw = f.post_json(kind.path(), &body).await.map_err(|(e, _)| e)?;
        if let Some(id) = &raw.log_id {
            span.record("log_id", id.as_str());
        }
        let result = parse(kind, raw);
        match &result {
            Ok((_, lifetime)) => {
                tracing::debug!(expire_secs = lifetime.as_secs(), "fetched access token")
            }
            Err(e) => tracing::warn!(error = %e, "fetching access token failed"),
        }
        result
    }
    .instrument(span.clone())
    .await
}

fn parse(kind: TokenKind, raw: RawResponse) -> Result<(Secret, Duration), Error> {
    #[derive(Deserialize)]
    struct TokenResponse {
        code: i64,
        #[serde(default)]
        msg: String,
        tenant_access_token: Option<String>,
        app_access_token: Option<String>,
        expire: Option<i64>,
    }
    let Ok(resp) = serde_json::from_slice::<TokenResponse>(&raw.body) else {
        if (200..300).contains(&raw.status) {
            return Err(Error::Decode {
                message: format!("the {} response is not the expected JSON", kind.name()),
                log_id: raw.log_id,
            });
        }
        return Err(http_error(&raw));
    };
    let token = match kind {
        TokenKind::Tenant | TokenKind::MarketplaceTenant => resp.tenant_access_token,
        TokenKind::App | TokenKind::MarketplaceApp => resp.app_access_token,
    };
    match (resp.code, token, resp.expire) {
        (0, Some(token), Some(expire)) if (200..300).contains(&raw.status) => {
            Ok((Secret::new(token), Duration::from_secs(expire.max(0) as u64)))
        }
        (0, _, _) if !(200..300).contains(&raw.status) => Err(http_error(&raw)),
        (0, _, _) => Err(Error::Decode {
            message: format!("the {} response lacks the token or `expire`", kind.name()),
            log_id: raw.log_id,
        }),
        (code, _, _) => {
            Err(Error::Token { http_status: raw.status, code, msg: resp.msg, log_id: raw.log_id })
        }
    }
}

/// How long before expiry a token of this lifetime is replaced.
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(MAX_REFRESH_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_a_tenth_capped_at_five_minutes() {
        assert_eq!(refresh_margin(Duration::from_secs(7200)), Duration::from_secs(300));
        assert_eq!(refresh_margin(Duration::from_secs(600)), Duration::from_secs(60));
        assert_eq!(refresh_margin(Duration::from_secs(1)), Duration::from_millis(100));
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }
}
