//! Asking the platform where to connect (`POST {base}/callback/ws/endpoint`),
//! the connection settings it answers with, and the classification of its
//! codes (and of a refused handshake's) into retryable and fatal.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::error::Error;
use crate::secret::Secret;
use crate::transport::{BaseUri, Http, JSON, RequestBody};

/// The bootstrap path, below the base URL (no `/open-apis`, no token).
pub const ENDPOINT_PATH: &str = "/callback/ws/endpoint";

/// The platform is busy: retry.
pub const CODE_SYSTEM_BUSY: i64 = 1;
/// Forbidden (the app may not use the long connection): fatal.
pub const CODE_FORBIDDEN: i64 = 403;
/// Authentication failed (wrong app id or secret at bootstrap): fatal.
pub const CODE_AUTH_FAILED: i64 = 514;
/// An internal error of the platform: retry.
pub const CODE_INTERNAL_ERROR: i64 = 1_000_040_343;
/// More than 50 connections for the app: fatal.
pub const CODE_EXCEED_CONN_LIMIT: i64 = 1_000_040_350;

/// The handshake's answer header with the refusal code.
pub const HANDSHAKE_STATUS: &str = "Handshake-Status";
/// The handshake's answer header with the refusal message.
pub const HANDSHAKE_MSG: &str = "Handshake-Msg";
/// The handshake's answer header with the authentication error code.
pub const HANDSHAKE_AUTH_ERRCODE: &str = "Handshake-Autherrcode";

/// Whether a bootstrap code is worth another attempt: only 1 and
/// 1000040343 are. Every other code (1000040350, 403, 514 …) is fatal.
pub fn bootstrap_code_is_retryable(code: i64) -> bool {
    matches!(code, CODE_SYSTEM_BUSY | CODE_INTERNAL_ERROR)
}

/// Whether a refused handshake is worth another attempt, from its
/// `Handshake-Status` and `Handshake-Autherrcode`: the connection limit
/// (either header) and 403 are fatal; an authentication failure for
/// another reason (an expired ticket in the URL) is retried, since each
/// attempt asks for a new URL and the bootstrap then tells whether the
/// credentials are wrong; everything else is retried, as the official SDKs do.
pub fn handshake_is_retryable(status: Option<i64>, auth_code: Option<i64>) -> bool {
    !(status == Some(CODE_FORBIDDEN)
        || status == Some(CODE_EXCEED_CONN_LIMIT)
        || auth_code == Some(CODE_EXCEED_CONN_LIMIT))
}

/// The connection settings, in the platform's units (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ClientConfig {
    /// How many reconnect attempts, or -1 for no limit.
    #[serde(rename = "ReconnectCount")]
    pub reconnect_count: i64,
    /// The wait between reconnect attempts after the first.
    #[serde(rename = "ReconnectInterval")]
    pub reconnect_interval: u64,
    /// The first reconnect waits a random time below this.
    #[serde(rename = "ReconnectNonce")]
    pub reconnect_nonce: u64,
    /// How often to ping.
    #[serde(rename = "PingInterval")]
    pub ping_interval: u64,
}

impl Default for ClientConfig {
    /// The SDKs' defaults: -1, 120, 30, 120.
    fn default() -> Self {
        Self {
            reconnect_count: -1,
            reconnect_interval: 120,
            reconnect_nonce: 30,
            ping_interval: 120,
        }
    }
}

/// Where to connect: the URL (which carries secrets), and the ids read from
/// its query. `Debug` and `Display` show the URL redacted.
#[derive(Clone)]
pub struct Endpoint {
    url: Secret,
    /// `service_id`, put into every frame.
    pub service_id: i32,
    /// `device_id`, for logs.
    pub device_id: String,
    /// The settings that came with it.
    pub config: ClientConfig,
}

impl Endpoint {
    /// Reads `service_id` and `device_id` from `url`'s query.
    pub fn new(url: &str, config: ClientConfig) -> Result<Self, String> {
        let parsed = Url::parse(url)
            .map_err(|e| format!("the connection URL {} does not parse: {e}", redact(url)))?;
        if !matches!(parsed.scheme(), "ws" | "wss") {
            return Err(format!("the connection URL {} is not ws:// or wss://", redact(url)));
        }
        let query =
            |name: &str| parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let service_id = query("service_id").and_then(|s| s.parse().ok()).unwrap_or(0);
        let device_id = query("device_id").unwrap_or_default();
        Ok(Self { url: Secret::new(url), service_id, device_id, config })
    }

    /// The URL itself, secrets included: only for connecting.
    pub fn expose_url(&self) -> &str {
        self.url.expose()
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &redact(self.url.expose()))
            .field("service_id", &self.service_id)
            .field("device_id", &self.device_id)
            .field("config", &self.config)
            .finish()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(self.url.expose()))
    }
}

/// `url` with every query value but `device_id` and `service_id` (and any
/// user info) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return "<unparseable URL>".to_owned();
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let keep = k == "device_id" || k == "service_id";
            (k.into_owned(), if keep { v.into_owned() } else { "***".to_owned() })
        })
        .collect();
    if pairs.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string().replace("%2A%2A%2A", "***")
}

/// Why the bootstrap failed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The platform answered a non-zero code.
    #[error("the platform refused the long connection: code {code}: {msg}")]
    Code {
        /// The code.
        code: i64,
        /// Its message.
        msg: String,
    },
    /// No answer in time, a transport failure, or an unreadable answer.
    #[error("the bootstrap request failed: {0}")]
    Transport(String),
    /// The answer is not what the protocol says (and retrying will not help).
    #[error("the bootstrap answer is unusable: {0}")]
    Invalid(String),
}

impl BootstrapError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Code { code, .. } => bootstrap_code_is_retryable(*code),
            Self::Transport(_) => true,
            Self::Invalid(_) => false,
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    msg: String,
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    #[serde(rename = "URL", default)]
    url: String,
    #[serde(rename = "ClientConfig", default)]
    client_config: Option<ClientConfig>,
}

/// Asks `base_url` where to connect, within `timeout`.
pub(crate) async fn fetch(
    http: &Http,
    base_url: &str,
    app_id: &str,
    app_secret: &Secret,
    timeout: Duration,
) -> Result<Endpoint, BootstrapError> {
    let base = BaseUri::parse(base_url).map_err(|e| BootstrapError::Invalid(e.to_string()))?;
    let uri = base.join(ENDPOINT_PATH, &[]).map_err(|e| BootstrapError::Invalid(e.to_string()))?;
    let body = serde_json::to_vec(&json!({ "AppID": app_id, "AppSecret": app_secret.expose() }))
        .expect("a JSON object of strings serialises");
    let mut request = http.request(http::Method::POST, uri, RequestBody::Full(Some(body.into())));
    request.headers_mut().insert(http::header::CONTENT_TYPE, JSON);
    request.headers_mut().insert("locale", http::HeaderValue::from_static("zh"));
    let raw = match http.exchange(request, timeout).await {
        Ok(raw) => raw,
        Err((Error::Timeout, _)) => {
            return Err(BootstrapError::Transport(format!(
                "no complete answer within {timeout:?}"
            )));
        }
        Err((error, _)) => return Err(BootstrapError::Transport(error.to_string())),
    };
    let status = raw.status;
    let answer: Answer = match serde_json::from_slice(&raw.body) {
        Ok(answer) => answer,
        Err(error) if status >= 500 || status == 429 => {
            return Err(BootstrapError::Transport(format!("HTTP {status}: {error}")));
        }
        Err(error) => {
            return Err(BootstrapError::Invalid(format!(
                "HTTP {status}, the body is not the expected JSON: {error}"
            )));
        }
    };
    if answer.code != 0 {
        return Err(BootstrapError::Code { code: answer.code, msg: answer.msg });
    }
    let data =
        answer.data.ok_or_else(|| BootstrapError::Invalid("code 0 without data".to_owned()))?;
    Endpoint::new(&data.url, data.client_config.unwrap_or_default())
        .map_err(BootstrapError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes() {
        assert!(bootstrap_code_is_retryable(1));
        assert!(bootstrap_code_is_retryable(1_000_040_343));
        for fatal in [403, 514, 1_000_040_350, 10003, -1] {
            assert!(!bootstrap_code_is_retryable(fatal), "{fatal}");
        }
        assert!(!handshake_is_retryable(Some(514), Some(1_000_040_350)));
        assert!(!handshake_is_retryable(Some(1_000_040_350), None));
        assert!(!handshake_is_retryable(Some(403), None));
        assert!(handshake_is_retryable(Some(514), Some(1)));
        assert!(handshake_is_retryable(None, None));
        assert!(handshake_is_retryable(Some(1_000_040_343), None));
    }

    #[test]
    fn redacts_everything_but_the_ids() {
        let url = "wss://user:pw@msg.example.com/ws/v2?fpid=493&aid=552564&device_id=d1&access_key=SECRETKEY&service_id=33&ticket=SECRETTICKET";
        let redacted = redact(url);
        assert_eq!(
            redacted,
            "wss://msg.example.com/ws/v2?fpid=***&aid=***&device_id=d1&access_key=***&service_id=33&ticket=***"
        );
        let endpoint = Endpoint::new(url, ClientConfig::default()).unwrap();
        assert_eq!(endpoint.service_id, 33);
        assert_eq!(endpoint.device_id, "d1");
        let shown = format!("{endpoint} {endpoint:?}");
        assert!(!shown.contains("SECRET") && !shown.contains("pw"), "{shown}");
        assert_eq!(redact("not a url ?ticket=SECRET"), "<unparseable URL>");
        assert!(
            Endpoint::new("http://x/?ticket=SECRET", ClientConfig::default())
                .unwrap_err()
                .contains("ticket=***")
        );
    }

    #[test]
    fn client_config_defaults_and_partial() {
        assert_eq!(
            ClientConfig::default(),
            ClientConfig {
                reconnect_count: -1,
                reconnect_interval: 120,
                reconnect_nonce: 30,
                ping_interval: 120
            }
        );
        let partial: ClientConfig = serde_json::from_str(r#"{"PingInterval": 5}"#).unwrap();
        assert_eq!(partial, ClientConfig { ping_interval: 5, ..ClientConfig::default() });
    }
}
