//! The client: turns an [`ApiRequest`] into an HTTP call and its answer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::auth::{
    AppTicketStore, AppType, AuthSettings, AuthState, Fetcher, Session, UsedToken, UserAuth,
};
use crate::config::Config;
use crate::download::{Download, parse_download};
use crate::error::{ConfigError, Error, FileError, Verdict};
use crate::limit::{Keys, LimitKey, Limiter, SharedLimiter};
use crate::outcome::Response;
use crate::request::{ApiRequest, Body, is_sensitive_header};
use crate::retry;
use crate::secret::Secret;
use crate::transport::envelope::{ApiResponse, parse_data, parse_envelope};
use crate::transport::{BaseUri, Http, JSON, RawResponse, RequestBody};
use crate::validate::{ValidationError, rules};

/// The Feishu API client. Cloning is cheap and clones share the token cache
/// and connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Settings, base URL, HTTP client, token caches: shared with the
    /// client's [`UserAuth`] handles.
    session: Arc<Session>,
    limiter: Limiter,
    /// The fleet's limiter, asked before `limiter` when set.
    shared_limiter: Option<Arc<dyn SharedLimiter>>,
}

/// A refused token is evicted and the call retried once with a fresh one; a
/// fresh token refused too means something else is wrong (the app disabled,
/// say), and repeating would not help.
const MAX_TOKEN_REFUSALS: u32 = 1;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.session.config)
            .field("auth", &self.inner.session.tokens)
            .finish_non_exhaustive()
    }
}

/// Reads a response into whatever the caller keeps (see [`Client::call_with`]).
type Interpret<'a> = &'a mut (dyn FnMut(RawResponse) -> Result<(), Error> + Send);

impl Client {
    pub(crate) fn from_parts(
        config: Config,
        base: BaseUri,
        http: Http,
        auth: AuthSettings,
        shared_limiter: Option<Arc<dyn SharedLimiter>>,
    ) -> Self {
        let session = Session { config, base, http, tokens: AuthState::new(auth) };
        Self {
            inner: Arc::new(Inner {
                session: Arc::new(session),
                limiter: Limiter::default(),
                shared_limiter,
            }),
        }
    }

    /// The client's settings.
    pub fn config(&self) -> &Config {
        &self.inner.session.config
    }

    /// The HTTP transport, for the long connection's bootstrap and socket.
    #[cfg(feature = "ws")]
    pub(crate) fn http(&self) -> &Http {
        &self.inner.session.http
    }

    /// The current tenant_access_token, fetched if missing or due. A
    /// marketplace app has one per tenant: see
    /// [`Client::tenant_access_token_for`].
    pub async fn tenant_access_token(&self) -> Result<Secret, Error> {
        self.tokens().tenant_token(self.fetcher(), None).await
    }

    /// The current app_access_token, fetched if missing or due.
    pub async fn app_access_token(&self) -> Result<Secret, Error> {
        self.tokens().app_token(self.fetcher()).await
    }

    /// Forgets the cached tenant and app tokens (of every tenant); the next
    /// call fetches anew.
    pub async fn invalidate_token(&self) {
        self.tokens().invalidate();
    }

    /// Sends a request and returns the successful envelope.
    ///
    /// If the platform rejects a token this client fetched itself (codes
    /// [`INVALID_TENANT_ACCESS_TOKEN`](crate::error::codes::INVALID_TENANT_ACCESS_TOKEN) and
    /// [`INVALID_ACCESS_TOKEN`](crate::error::codes::INVALID_ACCESS_TOKEN) for any of them,
    /// [`INVALID_APP_ACCESS_TOKEN`](crate::error::codes::INVALID_APP_ACCESS_TOKEN) for an app
    /// token, [`ILLEGAL_TENANT_ACCESS_TOKEN`](crate::error::codes::ILLEGAL_TENANT_ACCESS_TOKEN)
    /// for a tenant token, and for a user token kept by user key also
    /// [`USER_ACCESS_TOKEN_EXPIRED`](crate::error::codes::USER_ACCESS_TOKEN_EXPIRED)), the
    /// token is evicted and the request sent once more with a fresh one. A refusal whose
    /// message says the endpoint does not take a user token ("user access token not
    /// support") leaves the user's token alone.
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        self.call_with(request, parse_envelope).await
    }

    /// Sends a request and decodes the envelope's `data` into `T`; see
    /// [`ApiResponse::decode`] for empty `data`.
    pub async fn send_json<T: DeserializeOwned + Send>(
        &self,
        request: ApiRequest,
    ) -> Result<T, Error> {
        self.send_json_response(request).await.map(Response::into_inner)
    }

    /// [`Client::send_json`], keeping the answer's log id and status.
    pub async fn send_json_response<T: DeserializeOwned + Send>(
        &self,
        request: ApiRequest,
    ) -> Result<Response<T>, Error> {
        self.call_with(request, parse_data::<T>).await
    }

    /// Sends a request and returns `data` as untyped JSON (`null` if absent).
    pub async fn send_value(&self, request: ApiRequest) -> Result<serde_json::Value, Error> {
        Ok(self.send(request).await?.into_value())
    }

    /// [`Client::send_value`], keeping the answer's log id and status.
    pub async fn send_value_response(
        &self,
        request: ApiRequest,
    ) -> Result<Response<serde_json::Value>, Error> {
        let response = self.send(request).await?;
        let (status, log_id) = (response.http_status, response.log_id.clone());
        Ok(Response::new(response.into_value(), status, log_id))
    }

    /// Sends a request whose answer is a file. Error envelopes (JSON bodies
    /// with a non-zero `code`) become [`Error::Api`] as for other calls.
    ///
    /// The body is not read here: the [`Download`] streams it.
    pub async fn send_bytes(&self, mut request: ApiRequest) -> Result<Download, Error> {
        request.stream_response = true;
        self.call_with(request, parse_download).await
    }

    /// [`Client::send_bytes`] as a [`Response`] (the log id is also the
    /// download's own).
    pub async fn send_bytes_response(
        &self,
        request: ApiRequest,
    ) -> Result<Response<Download>, Error> {
        let download = self.send_bytes(request).await?;
        let log_id = download.log_id.clone();
        Ok(Response::new(download, 200, log_id))
    }

    /// [`Client::call`] for a result of type `R`.
    ///
    /// The retry loop is not generic: `interpret` reaches it as a closure
    /// that stores its value here. A loop generic over `R` was compiled
    /// once per response type, a thousand times in a crate of a thousand
    /// operations, and made that crate take half as long again to build.
    async fn call_with<R: Send>(
        &self,
        request: ApiRequest,
        interpret: fn(RawResponse) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut value = None;
        self.call(request, &mut |raw| {
            value = Some(interpret(raw)?);
            Ok(())
        })
        .await?;
        value.ok_or_else(|| Error::Decode {
            message: "the response was accepted but not kept (a runtime bug)".into(),
            log_id: None,
            source: None,
        })
    }

    /// Runs one call under its tracing span: waits for the rate limiter,
    /// sends, and retries as [`crate::retry`] explains. `interpret` reads a
    /// response; its error decides whether to retry.
    async fn call(&self, mut request: ApiRequest, interpret: Interpret<'_>) -> Result<(), Error> {
        // Bodies that the caller built by hand (catalogue-only sends) get the
        // message size check too: the platform would refuse them anyway,
        // after a round trip and possibly retries.
        if let Body::Json(body) = &request.body
            && let (Some(msg_type), Some(content)) = (
                body.get("msg_type").and_then(|v| v.as_str()),
                body.get("content").and_then(|v| v.as_str()),
            )
        {
            crate::content::check_size(msg_type, content)?;
        }
        // Once per logical call, before the first attempt: every retry must
        // carry the same key.
        request.ensure_idempotency_key();
        let span = tracing::info_span!(
            "feishu.request",
            endpoint = request.endpoint.unwrap_or(""),
            method = %request.method,
            path = %request.path,
            attempts = tracing::field::Empty,
            http_status = tracing::field::Empty,
            code = tracing::field::Empty,
            log_id = tracing::field::Empty,
        );
        // Entering a span on every poll costs even when nothing records it.
        let result = if span.is_disabled() {
            self.attempts(&request, interpret, &span).await
        } else {
            self.attempts(&request, interpret, &span).instrument(span.clone()).await
        };
        if let Err(e) = &result {
            if let Some(code) = e.code() {
                span.record("code", code);
            }
            span.in_scope(|| tracing::debug!(error = %e, "call failed"));
        }
        result
    }

    async fn attempts(
        &self,
        request: &ApiRequest,
        interpret: Interpret<'_>,
        span: &tracing::Span,
    ) -> Result<(), Error> {
        let config = &self.inner.session.config;
        let policy = &config.retry;
        // The path stands in for the endpoint when generated code named none,
        // so that a server-imposed pause still holds back the same calls.
        let keys = Keys {
            endpoint: Some(request.endpoint.unwrap_or(request.path.as_str())),
            receiver: request.receiver.as_deref(),
            limit: request.rate_limit,
        };
        let mut attempts = 0u32;
        let mut rate_limited = 0u32;
        let mut token_refusals = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            if config.rate_limiting {
                self.acquire(request, &keys).await;
            }
            attempts += 1;
            span.record("attempts", attempts);
            // `answered`: the error is the call's own answer, not its token
            // fetch's or the connection's.
            let (error, sent, answered, reset, used) = match self.execute_once(request).await {
                Ok((raw, used)) => {
                    span.record("http_status", raw.status);
                    if let Some(id) = &raw.log_id {
                        span.record("log_id", id.as_str());
                    }
                    let reset = raw.ratelimit_reset();
                    match interpret(raw) {
                        Ok(()) => return Ok(()),
                        Err(e) => (e, true, true, reset, used),
                    }
                }
                Err((e, sent)) => (e, sent, false, None, UsedToken::Other),
            };
            if let Error::Api(e) = &error
                && token_refusals < MAX_TOKEN_REFUSALS
                && self.tokens().refused(self.fetcher(), &used, e).await
            {
                // The platform refuses before acting, so this is safe for
                // any request; only the token that was refused is evicted,
                // so concurrent calls share one refresh.
                token_refusals += 1;
                tracing::info!(code = e.code, "access token refused; refreshing it and retrying");
                not_repeatable(request, error)?;
                continue;
            }
            // The one verdict (`Error::retry_verdict`) decides; the policy
            // bounds how often and how long.
            let delay = match error.retry_verdict() {
                Verdict::DoNotRetry => return Err(error),
                // Something outside the call has to happen first (an
                // app_ticket to arrive): the caller retries, not this loop.
                Verdict::RetryAfterDelay if !error.is_rate_limited() => return Err(error),
                Verdict::RetryAfterDelay => {
                    rate_limited += 1;
                    let wait = match reset {
                        // Spread the waiters over a tenth of the wait so that
                        // they do not all come back in the same instant.
                        Some(reset) => reset + reset.mul_f64(0.1 * crate::random::unit()),
                        None => policy.backoff(rate_limited),
                    };
                    if rate_limited > policy.max_rate_limit_retries
                        || waited.saturating_add(wait) > policy.max_rate_limit_wait
                    {
                        return Err(error);
                    }
                    waited += wait;
                    // Everyone calling this endpoint waits, not just this call:
                    // as long as the server said. Not for this call's jittered
                    // wait, or the pause would hold every refused call until
                    // the longest of their waits and release them together.
                    // (Only when the call itself was refused: a rate-limited
                    // token fetch says nothing about this endpoint.)
                    if answered {
                        let pause = reset.unwrap_or(wait);
                        self.inner
                            .limiter
                            .pause(&keys, crate::clock::after(tokio::time::Instant::now(), pause));
                        if let Some(shared) = &self.inner.shared_limiter {
                            // Failing, it has said so; the in-process pause holds.
                            let _ = shared.pause(&self.limit_key(request, &keys), pause).await;
                        }
                    }
                    wait
                }
                Verdict::RetryNow
                    if attempts < policy.max_attempts
                        && (!retry::may_have_acted(&error, sent) || request.is_idempotent()) =>
                {
                    policy.backoff(attempts)
                }
                _ => return Err(error),
            };
            let error = not_repeatable(request, error)?;
            tracing::info!(attempt = attempts, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Waits for the fleet's limiter when there is one and it answers, else
    /// for the in-process one.
    async fn acquire(&self, request: &ApiRequest, keys: &Keys<'_>) {
        if let Some(shared) = &self.inner.shared_limiter
            && let Ok(wait) = shared.reserve(&self.limit_key(request, keys)).await
        {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            return;
        }
        self.inner.limiter.acquire(keys).await;
    }

    fn limit_key<'a>(&'a self, request: &'a ApiRequest, keys: &Keys<'a>) -> LimitKey<'a> {
        LimitKey {
            app_id: &self.inner.session.config.app_id,
            tenant_key: request.options.tenant_key.as_deref(),
            endpoint: keys.endpoint.unwrap_or(request.path.as_str()),
            receiver: keys.receiver,
            limit: keys.limit,
        }
    }

    /// One HTTP exchange: authenticate, send, read the whole body. An error
    /// says whether the request had left this process.
    async fn execute_once(
        &self,
        request: &ApiRequest,
    ) -> Result<(RawResponse, UsedToken), (Error, bool)> {
        let not_sent = |e| (e, false);
        let (token, used) = self.authorization(request).await.map_err(not_sent)?;
        let session = &*self.inner.session;
        let uri = session.base.join(&request.path, &request.query).map_err(not_sent)?;
        let (body, content_type) = match &request.body {
            Body::None => (RequestBody::Empty, None),
            Body::Json(value) => (
                RequestBody::Full(Some(
                    serde_json::to_vec(value)
                        .expect("a serde_json::Value always serialises")
                        .into(),
                )),
                Some(JSON),
            ),
            Body::JsonBytes(bytes) => (RequestBody::Full(Some(bytes.clone())), Some(JSON)),
            Body::Multipart(form) => {
                let (content_type, body) = form.to_body().map_err(not_sent)?;
                (
                    RequestBody::Form(body),
                    Some(HeaderValue::try_from(content_type).expect("a boundary of hex digits")),
                )
            }
        };
        let mut http_request = session.http.request(request.method.to_http(), uri, body);
        let headers = http_request.headers_mut();
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, content_type);
        }
        if let Some(header) = token {
            // Marked sensitive (see `token::bearer`), which keeps it out of
            // hyper's own debug output.
            headers.insert(AUTHORIZATION, header);
        }
        let options = &request.options;
        for (name, value) in &options.headers {
            let (name, value) = header(name, value).map_err(not_sent)?;
            headers.append(name, value);
        }
        let timeout = options.timeout.unwrap_or(session.config.timeout);
        let raw = if request.stream_response {
            session.http.fetch(http_request, timeout, crate::download::must_read).await?
        } else {
            session.http.exchange(http_request, timeout).await?
        };
        Ok((raw, used))
    }

    async fn authorization(
        &self,
        request: &ApiRequest,
    ) -> Result<(Option<HeaderValue>, UsedToken), Error> {
        self.tokens().authorization(self.fetcher(), request).await
    }

    fn fetcher(&self) -> Fetcher<'_> {
        self.inner.session.fetcher()
    }

    fn tokens(&self) -> &AuthState {
        &self.inner.session.tokens
    }
}

/// Which app the client is, and its tokens (see [`crate::auth`]).
impl Client {
    /// The kind of app this client acts as.
    pub fn app_type(&self) -> AppType {
        self.tokens().app_type
    }

    /// Stores the app_ticket a marketplace app received.
    ///
    /// The platform pushes it hourly as the v1 `app_ticket` event (and
    /// again on request). [`Client::handle_app_tickets`] wires an event
    /// dispatcher to this method; given a webhook's envelope it is one line
    /// too:
    ///
    /// ```no_run
    /// # async fn demo(client: feishu_runtime::Client, envelope: feishu_runtime::events::EventEnvelope) -> Result<(), feishu_runtime::Error> {
    /// client.accept_app_ticket_event(&envelope).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_app_ticket(&self, ticket: impl Into<Secret>) -> Result<(), Error> {
        let ticket = ticket.into();
        if ticket.expose().is_empty() {
            return Err(Error::Validation(ValidationError::new(
                "app_ticket",
                rules::REQUIRED,
                "the app_ticket is empty",
            )));
        }
        self.tokens().tickets.set(ticket).await?;
        tracing::debug!("app_ticket stored");
        Ok(())
    }

    /// The store the app_ticket is kept in.
    pub fn app_ticket_store(&self) -> Arc<dyn AppTicketStore> {
        self.tokens().tickets.clone()
    }

    /// The tenant_access_token of `tenant_key` for a marketplace app,
    /// fetched if missing or due.
    pub async fn tenant_access_token_for(&self, tenant_key: &str) -> Result<Secret, Error> {
        self.tokens().tenant_token(self.fetcher(), Some(tenant_key)).await
    }

    /// OAuth for users: authorisation URL, code exchange, stored tokens.
    pub fn user_auth(&self) -> UserAuth {
        UserAuth::new(self.inner.session.clone())
    }
}

/// The error back if the request can be sent again; a one-shot upload that
/// started going out cannot, and the error says so.
fn not_repeatable(request: &ApiRequest, error: Error) -> Result<Error, Error> {
    match request.body.is_repeatable() {
        true => Ok(error),
        false => Err(Error::File(FileError::NotRepeatable { error: Box::new(error) })),
    }
}

/// A caller's extra header, checked: a bad one fails the call before
/// anything is sent, naming the header but never a credential's value.
fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let bad = |rule| ConfigError::new(format!("request header {name:?}"), rule);
    let name =
        HeaderName::try_from(name).map_err(|e| bad("must have a valid header name").because(e))?;
    // Not the parser's error for the value: it would not name the value,
    // but nothing of a credential is passed on.
    let mut value = HeaderValue::try_from(value)
        .map_err(|_| bad("must have a value of only characters a header can carry"))?;
    value.set_sensitive(is_sensitive_header(name.as_str()));
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23 item 6: a bad header name keeps the parser's error; a bad
    /// value does not (it could hold a credential), but names the header.
    #[test]
    fn a_bad_header_is_a_config_error_naming_it() {
        let error = header("x y", "v").unwrap_err();
        let mut chain =
            std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
        assert!(chain.any(|e| e.is::<http::header::InvalidHeaderName>()), "{error}");
        let error = header("x-token", "secret\n").unwrap_err();
        let Error::Config(config) = &error else { panic!("{error:?}") };
        assert_eq!(config.setting(), r#"request header "x-token""#);
        assert!(std::error::Error::source(config).is_none());
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn client_is_shareable_across_tasks() {
        fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync_clone::<Client>();
        fn assert_send<T: Send>(_: &T) {}
        let client = Client::builder("cli", "s").build().unwrap();
        assert_send(&client.send(ApiRequest::new(crate::Method::GET, "/")));
        assert_send(&client.send_bytes(ApiRequest::new(crate::Method::GET, "/")));
    }
}
