//! The webhook: checks a request (signature, timestamp, verification
//! token), decrypts its body and hands back a [`Delivery`], or answers it
//! through a [`Dispatcher`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::secret::Secret;

use super::crypto::{self, decrypt, signature};
use super::dispatch::{Dispatcher, Outcome};
use super::envelope::{Channel, EventEnvelope, Request};
use super::error::{WebhookError, malformed, malformed_json};

/// The header carrying the request signature.
pub const SIGNATURE_HEADER: &str = "X-Lark-Signature";
/// The header carrying the request time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Lark-Request-Timestamp";
/// The header carrying the request nonce.
pub const NONCE_HEADER: &str = "X-Lark-Request-Nonce";

/// How far a signed request's timestamp may be from now unless configured:
/// 5 minutes.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

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

/// Checks and unpacks webhook requests; see the [module docs](crate::events).
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
    /// Deduplication is the dispatcher's (its [`DedupStore`](super::DedupStore)). A failed
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
