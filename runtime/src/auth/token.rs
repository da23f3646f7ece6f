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
use std::sync::{Arc, Mutex as StdMutex, PoisonError, RwLock};

use http::header::{CONTENT_TYPE, HeaderValue};
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;

use crate::clock::{after, server_lifetime};
use crate::config::Config;
use crate::error::{ConfigError, Error};
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
    /// When a refresh is due (a failed early refresh moves it on).
    refresh_at: Instant,
    /// When the token stops working: until then it serves, whatever its
    /// refreshes do.
    expires_at: Instant,
}

/// The outcome of a refresh, shared by every caller that waited for it.
type Outcome = Result<Cached, Arc<Error>>;

/// What the cache holds for a caller at one moment.
enum State {
    /// A token that is not due for refresh.
    Fresh(Cached),
    /// A token due for refresh that still works.
    Due(Cached),
    /// No token that works.
    Missing,
}

/// One token, cached. Callers read it under a short lock that is never held
/// across an await; a refresh takes a second, async lock held across the
/// fetch, so concurrent callers that need a token wait for the one refresh
/// in flight instead of each starting their own, and all get its outcome,
/// a failure included (during an outage of the token endpoint, k queued
/// callers would otherwise each wait for their own failed fetch in turn).
///
/// A token due for refresh keeps serving until it really expires: the
/// caller that finds it due refreshes it, callers meanwhile use the old one
/// without waiting, and a failed early refresh is only logged (the next try
/// comes after half the time left, at least a second later).
pub(crate) struct TokenCache {
    kind: TokenKind,
    current: RwLock<Option<Cached>>,
    refresh: Mutex<()>,
    /// How many refreshes have ended, and the last one's outcome.
    last: StdMutex<(u64, Option<Outcome>)>,
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
        ConfigError::new("the access token", "must hold only characters a header can carry")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl TokenCache {
    pub(crate) fn new(kind: TokenKind) -> Self {
        Self {
            kind,
            current: RwLock::new(None),
            refresh: Mutex::new(()),
            last: StdMutex::new((0, None)),
        }
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
        // Read before the state: a refresh that ends after this point is
        // one this caller waited for.
        let seen = self.ended();
        match self.state() {
            State::Fresh(cached) => Ok(pick(&cached)),
            State::Due(old) => {
                // A refresh in flight: the old token serves meanwhile.
                let Ok(_one_at_a_time) = self.refresh.try_lock() else {
                    return Ok(pick(&old));
                };
                match self.state() {
                    State::Fresh(cached) => return Ok(pick(&cached)),
                    State::Due(_) => {}
                    State::Missing => {
                        return self.refresh_missing(seen, fetch).await.map(|c| pick(&c));
                    }
                }
                match self.run(fetch).await {
                    Ok(cached) => Ok(pick(&cached)),
                    Err(e) => {
                        let left = old.expires_at.saturating_duration_since(Instant::now());
                        tracing::warn!(
                            kind = self.kind.name(),
                            error = %e,
                            expires_in_secs = left.as_secs(),
                            "an early refresh of the access token failed; the cached token serves until it expires"
                        );
                        self.retry_later(&old.header);
                        Ok(pick(&old))
                    }
                }
            }
            State::Missing => {
                let _one_at_a_time = self.refresh.lock().await;
                self.refresh_missing(seen, fetch).await.map(|c| pick(&c))
            }
        }
    }

    /// Under the refresh lock, for a caller that found no working token
    /// when it had seen `seen` refreshes end: the outcome of a refresh that
    /// ended while it waited, or a new one.
    async fn refresh_missing<F: Future<Output = Result<(Secret, Duration), Error>>>(
        &self,
        seen: u64,
        fetch: impl FnOnce() -> F,
    ) -> Result<Cached, Error> {
        if let State::Fresh(cached) | State::Due(cached) = self.state() {
            return Ok(cached);
        }
        {
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if last.0 != seen
                && let Some(outcome) = &last.1
            {
                return outcome.clone().map_err(|e| e.copy_for_waiter());
            }
        }
        self.run(fetch).await
    }

    /// Fetches a token and records the outcome; runs under the refresh lock.
    async fn run<F: Future<Output = Result<(Secret, Duration), Error>>>(
        &self,
        fetch: impl FnOnce() -> F,
    ) -> Result<Cached, Error> {
        let fetched_at = Instant::now();
        let result = match fetch().await {
            Ok((token, lifetime)) => bearer(&token).map(|header| Cached {
                header,
                token,
                refresh_at: after(fetched_at, lifetime - refresh_margin(lifetime)),
                expires_at: after(fetched_at, lifetime),
            }),
            Err(e) => Err(e),
        };
        if let Ok(cached) = &result {
            *self.write() = Some(cached.clone());
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(cached) => {
                *last = (last.0 + 1, Some(Ok(cached.clone())));
                Ok(cached)
            }
            Err(e) => {
                let copy = e.copy_for_waiter();
                *last = (last.0 + 1, Some(Err(Arc::new(e))));
                Err(copy)
            }
        }
    }

    /// How many refreshes have ended.
    fn ended(&self) -> u64 {
        self.last.lock().unwrap_or_else(PoisonError::into_inner).0
    }

    fn state(&self) -> State {
        let now = Instant::now();
        let slot = self.current.read().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some(c) if now < c.refresh_at => State::Fresh(c.clone()),
            Some(c) if now < c.expires_at => State::Due(c.clone()),
            _ => State::Missing,
        }
    }

    /// After a failed early refresh of the token `header`: the next try
    /// after half the time it has left (at least a second), so that an
    /// outage of the token endpoint costs a few tries, not one per call.
    fn retry_later(&self, header: &HeaderValue) {
        let now = Instant::now();
        let mut slot = self.write();
        if let Some(c) = slot.as_mut().filter(|c| c.header == header) {
            let wait =
                (c.expires_at.saturating_duration_since(now) / 2).max(Duration::from_secs(1));
            c.refresh_at = after(now, wait).min(c.expires_at);
        }
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
                source: None,
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
            Ok((Secret::new(token), server_lifetime(expire.max(0) as u64)))
        }
        (0, _, _) if !(200..300).contains(&raw.status) => Err(http_error(&raw)),
        (0, _, _) => Err(Error::Decode {
            message: format!("the {} response lacks the token or `expire`", kind.name()),
            log_id: raw.log_id,
            source: None,
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

    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fetch that takes `took` (of paused time), counts itself in
    /// `calls` and answers `answer`.
    async fn fetch_after(
        calls: &AtomicUsize,
        took: Duration,
        answer: Result<(&str, u64), Error>,
    ) -> Result<(Secret, Duration), Error> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(took).await;
        answer.map(|(token, secs)| (Secret::new(token), Duration::from_secs(secs)))
    }

    const FETCH_TIME: Duration = Duration::from_secs(30);

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_is_handed_to_every_waiter() {
        let cache = TokenCache::new(TokenKind::Tenant);
        let calls = AtomicUsize::new(0);
        let start = Instant::now();
        let get = || cache.get_with(|| fetch_after(&calls, FETCH_TIME, Err(Error::Timeout)));

        let (a, b, c) = tokio::join!(get(), get(), get());

        // One fetch, one failure for all three, after one fetch's time (not
        // three fetches in turn, the last caller waiting 90 s).
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for outcome in [a, b, c] {
            assert!(matches!(outcome, Err(Error::Timeout)), "{outcome:?}");
        }
        assert_eq!(start.elapsed(), FETCH_TIME);

        // A caller that comes after the outcome tries again.
        let late = cache.get_with(|| fetch_after(&calls, Duration::ZERO, Ok(("t-2", 100)))).await;
        assert_eq!(late.unwrap().expose(), "t-2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_failure_keeps_its_fields() {
        let cache = TokenCache::new(TokenKind::Tenant);
        let calls = AtomicUsize::new(0);
        let refused = || Error::Token {
            http_status: 400,
            code: 10003,
            msg: "invalid param".into(),
            log_id: Some("L9".into()),
        };
        let get = || cache.get_with(|| fetch_after(&calls, FETCH_TIME, Err(refused())));
        let (a, b) = tokio::join!(get(), get());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for e in [a.unwrap_err(), b.unwrap_err()] {
            assert_eq!(
                (e.code(), e.log_id(), e.http_status()),
                (Some(10003), Some("L9"), Some(400))
            );
            assert_eq!(e.to_string(), refused().to_string());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_old_token_serves_until_it_really_expires() {
        let cache = TokenCache::new(TokenKind::Tenant);
        let calls = AtomicUsize::new(0);
        let down = || fetch_after(&calls, Duration::from_secs(2), Err(Error::Timeout));
        let start = Instant::now();
        let first = cache.get_with(|| fetch_after(&calls, Duration::ZERO, Ok(("t-1", 100))));
        assert_eq!(first.await.unwrap().expose(), "t-1");

        // 100 s of life: due after 90 s. The early refresh at 91 s fails
        // (at 93 s), and the caller still gets the old token, which works
        // until 100 s.
        tokio::time::sleep_until(start + Duration::from_secs(91)).await;
        assert_eq!(cache.get_with(down).await.unwrap().expose(), "t-1");
        assert_eq!(start.elapsed(), Duration::from_secs(93));
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        // The next try waits for half the time left (3.5 s): meanwhile no
        // fetch, the old token.
        tokio::time::sleep_until(start + Duration::from_secs(96)).await;
        assert_eq!(cache.get_with(down).await.unwrap().expose(), "t-1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        // Past its expiry (100 s) the old token is gone: the failure is the
        // caller's.
        tokio::time::sleep_until(start + Duration::from_secs(100)).await;
        assert!(matches!(cache.get_with(down).await, Err(Error::Timeout)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn callers_do_not_wait_for_an_early_refresh() {
        let cache = TokenCache::new(TokenKind::Tenant);
        let calls = AtomicUsize::new(0);
        let start = Instant::now();
        let first = cache.get_with(|| fetch_after(&calls, Duration::ZERO, Ok(("t-1", 100))));
        assert_eq!(first.await.unwrap().expose(), "t-1");
        tokio::time::sleep(Duration::from_secs(91)).await;

        // One caller refreshes (30 s); the other gets the old token at once.
        let refresher = async {
            let token = cache.get_with(|| fetch_after(&calls, FETCH_TIME, Ok(("t-2", 100)))).await;
            (token.unwrap(), start.elapsed())
        };
        let other = async {
            tokio::task::yield_now().await;
            let token = cache.get_with(|| fetch_after(&calls, FETCH_TIME, Ok(("t-3", 100)))).await;
            (token.unwrap(), start.elapsed())
        };
        let ((new, new_at), (old, old_at)) = tokio::join!(refresher, other);
        assert_eq!((new.expose(), new_at), ("t-2", Duration::from_secs(121)));
        assert_eq!((old.expose(), old_at), ("t-1", Duration::from_secs(91)));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn margin_is_a_tenth_capped_at_five_minutes() {
        assert_eq!(refresh_margin(Duration::from_secs(7200)), Duration::from_secs(300));
        assert_eq!(refresh_margin(Duration::from_secs(600)), Duration::from_secs(60));
        assert_eq!(refresh_margin(Duration::from_secs(1)), Duration::from_millis(100));
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }
}
