//! Receiving event subscriptions over HTTP (webhooks).
//!
//! Feishu posts events to the app's request URL: first a `url_verification`
//! challenge when the URL is saved, then one request per event, retried for
//! hours until the handler answers HTTP 200. [`Webhook::handle`] takes such a
//! request apart — signature, timestamp, decryption, verification token —
//! and hands back a [`Delivery`]. It is not tied to an HTTP framework: it
//! takes the headers as `(name, value)` pairs and the raw body. It holds no
//! dedup store: deduplication is the [`Dispatcher`]'s.
//!
//! ```
//! use std::time::SystemTime;
//! use feishu_runtime::events::{Delivery, Webhook, WebhookConfig};
//!
//! let webhook = Webhook::new(WebhookConfig::new().verification_token("v-token")).unwrap();
//! let body = br#"{"challenge":"c1","token":"v-token","type":"url_verification"}"#;
//! let headers = [("Content-Type", "application/json")];
//! let delivery: Delivery = webhook.handle(headers, body, SystemTime::now()).unwrap();
//! assert_eq!(delivery.response_body(), r#"{"challenge":"c1"}"#);
//! ```
//!
//! Answer [`Delivery::Challenge`] with its
//! [`response_body`](Delivery::response_body) and handle [`Delivery::Event`]
//! (better: hand the request to [`Webhook::respond`], which deduplicates
//! through a [`Dispatcher`]). On an error answer
//! [`WebhookError::http_status`].
//!
//! Configure an encrypt key, a verification token or both: with neither,
//! anyone who knows the URL can post events, and [`Webhook::new`] refuses
//! such a configuration unless it says
//! [`insecure_no_verification`](WebhookConfig::insecure_no_verification).
//!
//! # One dispatcher for both transports
//!
//! A [`Dispatcher`] holds the handlers: one per typed event
//! ([`DispatcherBuilder::on`], for any [`EventBody`]), callback handlers
//! whose answer goes back to the platform ([`DispatcherBuilder::on_callback`]
//! with [`CardActionTrigger`] → [`CardActionResponse`], or
//! [`UrlPreviewGet`] → [`UrlPreviewResponse`]) and a fallback for the rest.
//! The webhook feeds it with [`Webhook::respond`] (or the ready-made route
//! of `events::axum::handler`, feature `axum`); the long connection
//! (`feishu_runtime::ws`, feature `ws`) feeds the same dispatcher.
//!
//! # What is guaranteed: at least once, duplicates suppressed
//!
//! The dispatcher deduplicates by `event_id`, and by `message_id` for
//! `im.message.receive_v1`, through a [`DedupStore`] in two phases: a
//! delivery claims its keys for a short lease (renewed while the handler
//! runs), then commits them when the handler succeeded (remembered for
//! 24 h, beyond the platform's 7.2-hour retry window) or releases them when
//! it failed, panicked, timed out or was cancelled. A copy that meets a live
//! claim is answered "not yet" (503, or ack 500) and the platform pushes it
//! again; one that meets a commit is answered 200 and runs nothing. Share
//! the store between processes and the duplicates are suppressed across
//! them.
//!
//! That makes delivery **at least once**, not exactly once: a process that
//! dies after the handler's effect and before the commit, or a handler that
//! outlives its lease, lets a later push run the handler again. Make the
//! effects idempotent with [`EventContext::idempotency_key`] (the `uuid` of
//! a reply, say), which is the same for every delivery of an event and of
//! its message.

mod app_ticket;
#[cfg(feature = "axum")]
pub mod axum;
mod body;
mod callback;
mod crypto;
mod dedup;
mod dispatch;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::secret::Secret;

pub use app_ticket::AppTicketEvent;
pub use body::EventBody;
pub use callback::{
    CallbackCard, CallbackContext, CardAction, CardActionResponse, CardActionTrigger, CardTemplate,
    InlinePreview, Operator, Toast, ToastKind, UrlPreviewGet, UrlPreviewResponse,
};
pub use crypto::DecryptError;
pub use crypto::{decrypt, encrypt, signature};
pub use dedup::{BoxFuture, Claim, DEFAULT_DEDUP_CAPACITY, DedupStore, InMemoryDedup, StoreError};
pub use dispatch::{
    Channel, DEFAULT_CLAIM_LEASE, DEFAULT_COMMIT_TTL, DEFAULT_COPY_WAIT, DEFAULT_HANDLER_TIMEOUT,
    Dispatcher, DispatcherBuilder, EventContext, HandlerError, HandlerTimeout,
    MESSAGE_RECEIVE_EVENT, MIN_COMMIT_TTL, Outcome, RegisterError,
};

/// The header carrying the request signature.
pub const SIGNATURE_HEADER: &str = "X-Lark-Signature";
/// The header carrying the request time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Lark-Request-Timestamp";
/// The header carrying the request nonce.
pub const NONCE_HEADER: &str = "X-Lark-Request-Nonce";

/// How far a signed request's timestamp may be from now unless configured:
/// 5 minutes.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Why a webhook request was refused, or an event could not be decoded.
///
/// No message contains the verification token or the encrypt key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The `X-Lark-Signature` header does not match the body.
    #[error("the request signature does not match the body")]
    BadSignature,

    /// An encrypt key is configured but the request is not signed (and is
    /// not a `url_verification` challenge, which Feishu does not sign).
    #[error(
        "the request lacks the X-Lark-Signature, X-Lark-Request-Timestamp and X-Lark-Request-Nonce headers"
    )]
    MissingSignature,

    /// The signed timestamp is too far from now: a replayed or delayed
    /// request, or a skewed clock.
    #[error("the request timestamp {timestamp} is more than {}s away from now", max_skew.as_secs())]
    StaleTimestamp {
        /// The `X-Lark-Request-Timestamp`, in Unix seconds.
        timestamp: u64,
        /// The configured [`WebhookConfig::max_clock_skew`].
        max_skew: Duration,
    },

    /// The verification token in the body is missing or not the
    /// configured one.
    #[error("the verification token is missing or wrong")]
    WrongToken,

    /// The encrypted body could not be decrypted.
    #[error("could not decrypt the body: {0}")]
    Decrypt(#[source] DecryptError),

    /// The body is not a Feishu event, challenge or encrypted envelope.
    #[error("malformed webhook request: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
        /// The JSON parser's error, when the body does not parse.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// [`Webhook::new`] was given neither a verification token nor an
    /// encrypt key, and no
    /// [`insecure_no_verification`](WebhookConfig::insecure_no_verification).
    #[error(
        "a webhook without a verification token or an encrypt key accepts forged requests: set one (or both), or opt out with WebhookConfig::insecure_no_verification()"
    )]
    NoVerification,

    /// The body is encrypted but no encrypt key is configured.
    #[error("the body is encrypted but no encrypt key is configured")]
    NoEncryptKey,

    /// [`EventEnvelope::decode`] found an event of another shape.
    #[error("could not decode the event: {0}")]
    Decode(#[source] serde_json::Error),
}

impl WebhookError {
    /// The HTTP status to answer with: 401 for authentication failures
    /// (signature, timestamp, token), 500 for [`NoEncryptKey`](Self::NoEncryptKey)
    /// (a configuration error here, worth Feishu's retry once fixed), 400
    /// otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadSignature
            | Self::MissingSignature
            | Self::StaleTimestamp { .. }
            | Self::WrongToken => 401,
            Self::NoEncryptKey | Self::NoVerification => 500,
            Self::Decrypt(_) | Self::Malformed { .. } | Self::Decode(_) => 400,
        }
    }
}

/// How requests are checked.
///
/// `Debug` shows the token and key as `Secret(***)`.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The app's verification token ("Verification Token" on the event
    /// subscription page); when set, every request must carry it.
    pub verification_token: Option<Secret>,
    /// The app's encrypt key ("Encrypt Key"); when set, bodies are
    /// decrypted with it and every request but the challenge must be
    /// signed with it.
    pub encrypt_key: Option<Secret>,
    /// How far a signed request's timestamp may be from now, either way.
    pub max_clock_skew: Duration,
    /// Whether a webhook may check nothing (no token, no key): see
    /// [`insecure_no_verification`](Self::insecure_no_verification).
    pub insecure_no_verification: bool,
}

impl WebhookConfig {
    /// Settings without a token or key, and the default clock skew.
    pub fn new() -> Self {
        Self {
            verification_token: None,
            encrypt_key: None,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            insecure_no_verification: false,
        }
    }

    /// Lets [`Webhook::new`] accept settings with neither a verification
    /// token nor an encrypt key: every request is then taken as genuine,
    /// forged ones included. Only for a webhook that something else in
    /// front of it authenticates, or for tests.
    pub fn insecure_no_verification(mut self) -> Self {
        self.insecure_no_verification = true;
        self
    }

    /// Sets the verification token.
    pub fn verification_token(mut self, token: impl Into<Secret>) -> Self {
        self.verification_token = Some(token.into());
        self
    }

    /// Sets the encrypt key.
    pub fn encrypt_key(mut self, key: impl Into<Secret>) -> Self {
        self.encrypt_key = Some(key.into());
        self
    }

    /// Sets the largest accepted clock skew.
    pub fn max_clock_skew(mut self, skew: Duration) -> Self {
        self.max_clock_skew = skew;
        self
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What a webhook request turned out to be.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Delivery<K = String> {
    /// The `url_verification` challenge sent when the request URL is saved;
    /// answer with [`Delivery::response_body`].
    Challenge {
        /// The value to echo back.
        challenge: String,
    },
    /// An event. The webhook does not deduplicate: the platform delivers
    /// an event again until it is answered 200, so hand it to a
    /// [`Dispatcher`] (as [`Webhook::respond`] does), which does.
    Event(EventEnvelope<K>),
}

impl<K> Delivery<K> {
    /// The JSON body to answer with (HTTP 200): `{"challenge":"…"}` for a
    /// challenge, `{}` otherwise.
    pub fn response_body(&self) -> String {
        match self {
            Self::Challenge { challenge } => {
                serde_json::json!({ "challenge": challenge }).to_string()
            }
            Self::Event(_) => "{}".to_owned(),
        }
    }
}

/// A delivered event: the envelope's fields and the event itself.
///
/// Holds no verification token, and its `Debug` names the payload's keys
/// without their values: a payload can carry a secret (the `app_ticket`
/// event's ticket) or a user's message, neither of which belongs in logs.
#[derive(Clone, PartialEq)]
pub struct EventEnvelope<K = String> {
    /// `"2.0"` for v2 events, `"1.0"` for v1 `event_callback`s.
    pub schema: String,
    /// The event's unique id (v2 `header.event_id`, v1 `uuid`).
    pub event_id: String,
    /// The event type (v2 `header.event_type`, v1 `event.type`), e.g.
    /// `im.message.receive_v1`.
    pub event_type: K,
    /// When the event happened (v2: milliseconds, v1: `ts`, seconds), as
    /// sent.
    pub create_time: Option<String>,
    /// The app the event is for.
    pub app_id: Option<String>,
    /// The tenant the event comes from.
    pub tenant_key: Option<String>,
    /// The event's payload (`event`), not yet decoded.
    pub event: Value,
}

impl<K: fmt::Debug> fmt::Debug for EventEnvelope<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .event
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("EventEnvelope")
            .field("schema", &self.schema)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("create_time", &self.create_time)
            .field("app_id", &self.app_id)
            .field("tenant_key", &self.tenant_key)
            .field("event_keys", &keys)
            .finish()
    }
}

impl<K> EventEnvelope<K> {
    /// Decodes the payload into the event type's struct.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, WebhookError> {
        T::deserialize(&self.event).map_err(WebhookError::Decode)
    }
}

/// Checks and unpacks webhook requests; see the [module docs](self).
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct Webhook {
    config: Arc<WebhookConfig>,
}

impl Webhook {
    /// A handler with the given settings.
    ///
    /// Fails with [`WebhookError::NoVerification`] when `config` has neither
    /// a verification token nor an encrypt key, unless it says
    /// [`insecure_no_verification`](WebhookConfig::insecure_no_verification).
    pub fn new(config: WebhookConfig) -> Result<Self, WebhookError> {
        if config.verification_token.is_none()
            && config.encrypt_key.is_none()
            && !config.insecure_no_verification
        {
            return Err(WebhookError::NoVerification);
        }
        Ok(Self { config: Arc::new(config) })
    }

    /// The settings.
    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// Checks a request and unpacks it.
    ///
    /// `headers` are the request's `(name, value)` pairs (names in any
    /// case), `body` its raw bytes, and `now` the current time, against
    /// which the signed timestamp is checked. `K` is the event type's
    /// type: `String`, or a generated `EventType` enum.
    ///
    /// The checks, in order:
    ///
    /// 1. With an encrypt key and the three signature headers, the
    ///    signature must match ([`WebhookError::BadSignature`]) and the
    ///    timestamp be within [`WebhookConfig::max_clock_skew`]
    ///    ([`WebhookError::StaleTimestamp`]). With an encrypt key and no
    ///    signature, only a `url_verification` challenge is accepted; any
    ///    other request, including one that does not decrypt or parse, is
    ///    [`WebhookError::MissingSignature`], so an unsigned request learns
    ///    nothing about why it failed.
    /// 2. A `{"encrypt": "…"}` body is decrypted.
    /// 3. The verification token, if configured, must match.
    ///
    /// Without an encrypt key, signature headers are ignored: there is
    /// nothing to check them with.
    pub fn handle<K, I, N, V>(
        &self,
        headers: I,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery<K>, WebhookError>
    where
        K: for<'a> From<&'a str>,
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        match self.check(headers, body, now)? {
            Request::Challenge { challenge, .. } => Ok(Delivery::Challenge { challenge }),
            Request::Event(raw) => {
                tracing::debug!(
                    event_id = %raw.event_id,
                    event_type = %raw.event_type,
                    "webhook event accepted"
                );
                Ok(Delivery::Event(raw.into_envelope()))
            }
        }
    }

    /// Checks a request like [`handle`](Self::handle), then hands its event
    /// to `dispatcher` and tells what to answer: the challenge, `{}`, a
    /// callback's JSON answer (card callbacks), or an error status.
    ///
    /// Deduplication is the dispatcher's (its [`DedupStore`]). A failed
    /// handler is answered with 500 and an event in progress elsewhere with
    /// 503, so that Feishu delivers the event again.
    ///
    /// The dispatch runs in a task of its own (on the current tokio
    /// runtime), so that it ends as it would have even when this future is
    /// dropped: an HTTP server drops a request's future when the client
    /// hangs up, and the platform hangs up after 3 s while a handler may
    /// run longer. The answer then goes nowhere, and the platform's next
    /// push is answered from the store.
    pub async fn respond<I, N, V>(
        &self,
        dispatcher: &Dispatcher,
        headers: I,
        body: &[u8],
        now: SystemTime,
    ) -> WebhookResponse
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let raw = match self.check(headers, body, now) {
            Ok(Request::Challenge { challenge, .. }) => {
                return WebhookResponse::ok(
                    serde_json::json!({ "challenge": challenge }).to_string(),
                );
            }
            Ok(Request::Event(raw)) => raw,
            Err(error) => {
                tracing::debug!(%error, "webhook request refused");
                return WebhookResponse {
                    status: error.http_status(),
                    body: serde_json::json!({ "msg": error.to_string() }).to_string(),
                };
            }
        };
        let dispatcher = dispatcher.clone();
        let envelope = raw.into_envelope();
        let task =
            tokio::spawn(async move { dispatcher.dispatch(envelope, Channel::Webhook).await });
        match task.await {
            Ok(Outcome::Failed(error)) => WebhookResponse {
                status: 500,
                body: serde_json::json!({ "msg": format!("the handler failed: {error}") })
                    .to_string(),
            },
            Ok(Outcome::InProgress) => WebhookResponse {
                status: 503,
                body: serde_json::json!({ "msg": "the event is being handled; deliver it again later" })
                    .to_string(),
            },
            Ok(outcome) => WebhookResponse::ok(
                outcome.response().map_or_else(|| "{}".to_owned(), Value::to_string),
            ),
            Err(error) => {
                tracing::error!(%error, "dispatching a webhook event panicked");
                WebhookResponse {
                    status: 500,
                    body: serde_json::json!({ "msg": "dispatching the event failed" }).to_string(),
                }
            }
        }
    }

    /// Signature, decryption and token: everything but deduplication.
    fn check<I, N, V>(
        &self,
        headers: I,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Request, WebhookError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let signed = match &self.config.encrypt_key {
            Some(key) => self.check_signature(key, headers, body, now)?,
            None => false,
        };
        let request = if self.config.encrypt_key.is_some() && !signed {
            match self.read(body) {
                Ok(challenge @ Request::Challenge { .. }) => challenge,
                _ => return Err(WebhookError::MissingSignature),
            }
        } else {
            self.read(body)?
        };
        self.check_token(request.token())?;
        Ok(request)
    }

    /// Checks the signature and timestamp if the request is signed;
    /// returns whether it was.
    fn check_signature<I, N, V>(
        &self,
        key: &Secret,
        headers: I,
        body: &[u8],
        now: SystemTime,
    ) -> Result<bool, WebhookError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let (mut sig, mut timestamp, mut nonce) = (None, None, None);
        for (name, value) in headers {
            let name = name.as_ref();
            let slot = if name.eq_ignore_ascii_case(SIGNATURE_HEADER) {
                &mut sig
            } else if name.eq_ignore_ascii_case(TIMESTAMP_HEADER) {
                &mut timestamp
            } else if name.eq_ignore_ascii_case(NONCE_HEADER) {
                &mut nonce
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value.as_ref().trim().to_owned());
            }
        }
        let (Some(sig), Some(timestamp), Some(nonce)) = (sig, timestamp, nonce) else {
            return Ok(false);
        };
        let expected = signature(&timestamp, &nonce, key.expose(), body);
        if !crypto::constant_time_eq(sig.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
            return Err(WebhookError::BadSignature);
        }
        check_timestamp(&timestamp, now, self.config.max_clock_skew)?;
        Ok(true)
    }

    fn check_token(&self, token: Option<&str>) -> Result<(), WebhookError> {
        let Some(expected) = &self.config.verification_token else {
            return Ok(());
        };
        match token {
            Some(token)
                if crypto::constant_time_eq(token.as_bytes(), expected.expose().as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(WebhookError::WrongToken),
        }
    }

    /// Decrypts the body if needed and tells what it is.
    fn read(&self, body: &[u8]) -> Result<Request, WebhookError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| malformed_json("the body is not JSON", e))?;
        let value = match value.get("encrypt") {
            Some(Value::String(encrypted)) => {
                let key = self.config.encrypt_key.as_ref().ok_or(WebhookError::NoEncryptKey)?;
                let plain = decrypt(key.expose(), encrypted)?;
                serde_json::from_slice(&plain)
                    .map_err(|e| malformed_json("the decrypted body is not JSON", e))?
            }
            _ => value,
        };
        let Value::Object(object) = value else {
            return Err(malformed("the body is not a JSON object"));
        };
        Request::parse(object)
    }
}

fn check_timestamp(
    timestamp: &str,
    now: SystemTime,
    max_skew: Duration,
) -> Result<(), WebhookError> {
    let secs: u64 = timestamp.parse().map_err(|_| {
        malformed(format!("{TIMESTAMP_HEADER} is not a number of seconds: {timestamp:?}"))
    })?;
    let stale = WebhookError::StaleTimestamp { timestamp: secs, max_skew };
    let Some(at) = UNIX_EPOCH.checked_add(Duration::from_secs(secs)) else {
        return Err(stale);
    };
    let skew = match now.duration_since(at) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > max_skew { Err(stale) } else { Ok(()) }
}

/// A decrypted request body, before the token check.
enum Request {
    Challenge { challenge: String, token: Option<String> },
    Event(RawEvent),
}

struct RawEvent {
    schema: String,
    event_id: String,
    event_type: String,
    token: Option<String>,
    create_time: Option<String>,
    app_id: Option<String>,
    tenant_key: Option<String>,
    event: Value,
}

impl RawEvent {
    fn into_envelope<K: for<'a> From<&'a str>>(self) -> EventEnvelope<K> {
        EventEnvelope {
            schema: self.schema,
            event_type: K::from(self.event_type.as_str()),
            event_id: self.event_id,
            create_time: self.create_time,
            app_id: self.app_id,
            tenant_key: self.tenant_key,
            event: self.event,
        }
    }
}

/// Decodes a plain (not encrypted) event body, v2 `{schema, header, event}`
/// or v1 `{uuid, token, ts, type: "event_callback", event}`, as the long
/// connection carries them. Checks no token: the long connection is
/// authenticated by its handshake.
pub fn parse_event(body: &[u8]) -> Result<EventEnvelope, WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed_json("the event is not JSON", e))?;
    let Value::Object(object) = value else {
        return Err(malformed("the event is not a JSON object"));
    };
    match Request::parse(object)? {
        Request::Event(raw) => Ok(raw.into_envelope()),
        Request::Challenge { .. } => Err(malformed("a url_verification challenge is not an event")),
    }
}

/// What to answer a webhook request with (see [`Webhook::respond`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

impl WebhookResponse {
    fn ok(body: String) -> Self {
        Self { status: 200, body }
    }
}

impl Request {
    fn token(&self) -> Option<&str> {
        match self {
            Self::Challenge { token, .. } => token.as_deref(),
            Self::Event(raw) => raw.token.as_deref(),
        }
    }

    fn parse(mut body: Map<String, Value>) -> Result<Self, WebhookError> {
        let kind = body.get("type").and_then(Value::as_str);
        if kind == Some("url_verification") {
            return Ok(Self::Challenge {
                challenge: required_str(&body, "challenge")?,
                token: optional_str(&body, "token"),
            });
        }
        if let Some(schema) = body.get("schema").and_then(Value::as_str) {
            let schema = schema.to_owned();
            let Some(Value::Object(header)) = body.get("header") else {
                return Err(malformed(format!("a schema {schema} event without a header object")));
            };
            return Ok(Self::Event(RawEvent {
                event_id: required_str(header, "event_id")?,
                event_type: required_str(header, "event_type")?,
                token: optional_str(header, "token"),
                create_time: optional_str(header, "create_time"),
                app_id: optional_str(header, "app_id"),
                tenant_key: optional_str(header, "tenant_key"),
                event: body.remove("event").unwrap_or(Value::Null),
                schema,
            }));
        }
        if kind == Some("event_callback") {
            let Some(Value::Object(event)) = body.get("event") else {
                return Err(malformed("an event_callback without an event object"));
            };
            return Ok(Self::Event(RawEvent {
                schema: "1.0".to_owned(),
                event_id: required_str(&body, "uuid")?,
                event_type: required_str(event, "type")?,
                token: optional_str(&body, "token"),
                create_time: optional_str(&body, "ts"),
                app_id: optional_str(event, "app_id"),
                tenant_key: optional_str(event, "tenant_key"),
                event: body.remove("event").unwrap_or(Value::Null),
            }));
        }
        Err(malformed(
            "neither a url_verification challenge, a schema 2.0 event nor a v1 event_callback",
        ))
    }
}

/// A string field (numbers are taken as their text), or `None`.
fn optional_str(object: &Map<String, Value>, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required_str(object: &Map<String, Value>, field: &str) -> Result<String, WebhookError> {
    optional_str(object, field)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(format!("no `{field}` string")))
}

fn malformed(reason: impl Into<String>) -> WebhookError {
    WebhookError::Malformed { reason: reason.into(), source: None }
}

fn malformed_json(reason: &str, source: serde_json::Error) -> WebhookError {
    WebhookError::Malformed { reason: reason.to_owned(), source: Some(source) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_window_is_inclusive() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let skew = Duration::from_secs(300);
        assert!(check_timestamp("1000300", now, skew).is_ok());
        assert!(check_timestamp("999700", now, skew).is_ok());
        assert!(matches!(
            check_timestamp("1000301", now, skew),
            Err(WebhookError::StaleTimestamp { timestamp: 1000301, .. })
        ));
        assert!(matches!(
            check_timestamp("999699", now, skew),
            Err(WebhookError::StaleTimestamp { .. })
        ));
        assert!(matches!(
            check_timestamp(&u64::MAX.to_string(), now, skew),
            Err(WebhookError::StaleTimestamp { .. })
        ));
        assert!(matches!(check_timestamp("-5", now, skew), Err(WebhookError::Malformed { .. })));
    }

    #[test]
    fn statuses() {
        assert_eq!(WebhookError::BadSignature.http_status(), 401);
        assert_eq!(WebhookError::WrongToken.http_status(), 401);
        assert_eq!(malformed("").http_status(), 400);
        assert_eq!(WebhookError::NoEncryptKey.http_status(), 500);
    }
}
