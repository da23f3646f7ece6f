//! Fetching and caching the app's own access tokens.
//!
//! Refresh policy: a token is replaced once less than a tenth of its
//! lifetime, capped at five minutes, remains. For the usual two-hour token
//! that is five minutes before expiry, which leaves room for clock skew and
//! slow requests; the cap keeps short-lived tokens (and tests) useful. The
//! platform hands out a new token once the old one is inside its last 30
//! minutes, so a refresh five minutes before expiry gets a fresh one.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::Config;
use crate::envelope::{RawResponse, http_error};
use crate::error::Error;
use crate::secret::Secret;

const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Which self-issued token a cache holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Tenant,
    App,
}

impl TokenKind {
    fn path(self) -> &'static str {
        match self {
            TokenKind::Tenant => "/open-apis/auth/v3/tenant_access_token/internal",
            TokenKind::App => "/open-apis/auth/v3/app_access_token/internal",
        }
    }

    fn name(self) -> &'static str {
        match self {
            TokenKind::Tenant => "tenant_access_token",
            TokenKind::App => "app_access_token",
        }
    }
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// One token, cached. The mutex is held across the fetch, so concurrent
/// callers that find the token stale wait for the one refresh in flight
/// instead of each starting their own.
pub(crate) struct TokenCache {
    kind: TokenKind,
    slot: Mutex<Option<Cached>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = match self.slot.try_lock() {
            Ok(slot) => {
                if slot.is_some() {
                    "cached"
                } else {
                    "empty"
                }
            }
            Err(_) => "refreshing",
        };
        f.debug_struct("TokenCache")
            .field("kind", &self.kind.name())
            .field("state", &cached)
            .finish()
    }
}

/// What the client needs to fetch a token; borrowed from the client.
pub(crate) struct Fetcher<'a> {
    pub http: &'a reqwest::Client,
    pub base_url: &'a str,
    pub config: &'a Config,
}

impl TokenCache {
    pub(crate) fn new(kind: TokenKind) -> Self {
        Self {
            kind,
            slot: Mutex::new(None),
        }
    }

    /// The cached token, or a freshly fetched one if it is missing or due.
    pub(crate) async fn get(&self, fetcher: Fetcher<'_>) -> Result<Secret, Error> {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let fetched_at = Instant::now();
        let (token, lifetime) = self.fetch(fetcher).await?;
        *slot = Some(Cached {
            token: token.clone(),
            refresh_at: fetched_at + lifetime - refresh_margin(lifetime),
        });
        Ok(token)
    }

    /// Drops the cached token.
    pub(crate) async fn invalidate(&self) {
        *self.slot.lock().await = None;
    }

    /// Drops the cached token only if it is `rejected`: when many requests
    /// fail with the same stale token, the first one's refresh must not be
    /// thrown away by the others.
    pub(crate) async fn invalidate_if(&self, rejected: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == rejected) {
            *slot = None;
        }
    }

    async fn fetch(&self, f: Fetcher<'_>) -> Result<(Secret, Duration), Error> {
        let span = tracing::debug_span!(
            "feishu.token",
            kind = self.kind.name(),
            log_id = tracing::field::Empty
        );
        async {
            let body = serde_json::json!({
                "app_id": f.config.app_id,
                "app_secret": f.config.app_secret.expose(),
            });
            let response = f
                .http
                .post(format!("{}{}", f.base_url, self.kind.path()))
                .timeout(f.config.timeout)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/json; charset=utf-8",
                )
                .body(serde_json::to_vec(&body).expect("a JSON object of strings serialises"))
                .send()
                .await
                .map_err(crate::client::transport_error)?;
            let raw = crate::client::read_response(response).await?;
            if let Some(id) = &raw.log_id {
                span.record("log_id", id.as_str());
            }
            let result = self.parse(raw);
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

    fn parse(&self, raw: RawResponse) -> Result<(Secret, Duration), Error> {
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
                    message: format!("the {} response is not the expected JSON", self.kind.name()),
                    log_id: raw.log_id,
                });
            }
            return Err(http_error(&raw));
        };
        let token = match self.kind {
            TokenKind::Tenant => resp.tenant_access_token,
            TokenKind::App => resp.app_access_token,
        };
        match (resp.code, token, resp.expire) {
            (0, Some(token), Some(expire)) if (200..300).contains(&raw.status) => Ok((
                Secret::new(token),
                Duration::from_secs(expire.max(0) as u64),
            )),
            (0, _, _) if !(200..300).contains(&raw.status) => Err(http_error(&raw)),
            (0, _, _) => Err(Error::Decode {
                message: format!(
                    "the {} response lacks the token or `expire`",
                    self.kind.name()
                ),
                log_id: raw.log_id,
            }),
            (code, _, _) => Err(Error::Token {
                http_status: raw.status,
                code,
                msg: resp.msg,
                log_id: raw.log_id,
            }),
        }
    }
}

/// How long before expiry a token of this lifetime is replaced.
fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(MAX_REFRESH_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_a_tenth_capped_at_five_minutes() {
        assert_eq!(
            refresh_margin(Duration::from_secs(7200)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(1)),
            Duration::from_millis(100)
        );
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }
}
