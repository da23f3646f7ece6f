//! Asking the platform where to connect (`POST {base}/callback/ws/endpoint`,
//! through the client's transport), the socket URL and server settings it
//! answers with, and the classification of its codes (and of a refused
//! handshake's) into retryable and fatal.

use std::fmt;

use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::error::{SocketUrlError, WsError};
use crate::client::Client;
use crate::error::{ApiError, ConfigError, Error};
use crate::secret::Secret;
use crate::transport::{JSON, RequestBody};

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

/// The settings the platform hands out with the socket URL and in every
/// pong: how often to ping and how to reconnect, in its units (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
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

impl Default for ServerSettings {
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

/// Where to connect: the socket URL (which carries secrets), and the ids
/// read from its query. `Debug` and `Display` show the URL redacted.
#[derive(Clone)]
pub struct SocketUrl {
    url: Secret,
    /// `service_id`, put into every frame.
    pub service_id: i32,
    /// `device_id`, for logs.
    pub device_id: String,
    /// The settings that came with it.
    pub config: ServerSettings,
}

impl SocketUrl {
    /// Reads `service_id` and `device_id` from `url`'s query. Refuses a URL
    /// that is not `ws://` or `wss://`, and a `ws://` one when `secure` (the
    /// base URL is `https`): the socket would carry the events in the clear
    /// although the platform was reached over TLS.
    pub fn new(url: &str, config: ServerSettings, secure: bool) -> Result<Self, SocketUrlError> {
        let refused = |reason: String| SocketUrlError { reason, source: None };
        let parsed = Url::parse(url).map_err(|e| SocketUrlError {
            reason: format!("the socket URL {} does not parse", redact(url)),
            source: Some(Box::new(e)),
        })?;
        match parsed.scheme() {
            "wss" => {}
            "ws" if !secure => {}
            "ws" => {
                return Err(refused(format!(
                    "the socket URL {} is ws:// although the base URL is https: only wss:// is accepted",
                    redact(url)
                )));
            }
            _ => {
                return Err(refused(format!(
                    "the socket URL {} is not ws:// or wss://",
                    redact(url)
                )));
            }
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(refused(format!("the socket URL {} has no host", redact(url))));
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

    /// `host:port`, for messages (no secret is in either).
    pub fn host(&self) -> String {
        let parsed = Url::parse(self.url.expose()).ok();
        let host = parsed.as_ref().and_then(Url::host_str).unwrap_or_default();
        match parsed.as_ref().and_then(Url::port_or_known_default) {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The `http(s)://host:port/` the socket's connection is opened to.
    pub(crate) fn connect_uri(&self) -> Option<http::Uri> {
        let parsed = Url::parse(self.url.expose()).ok()?;
        let scheme = if parsed.scheme() == "wss" { "https" } else { "http" };
        let host = match parsed.host()? {
            url::Host::Ipv6(ip) => format!("[{ip}]"),
            host => host.to_string(),
        };
        format!("{scheme}://{host}:{}/", parsed.port_or_known_default()?).parse().ok()
    }
}

impl fmt::Debug for SocketUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketUrl")
            .field("url", &redact(self.url.expose()))
            .field("service_id", &self.service_id)
            .field("device_id", &self.device_id)
            .field("config", &self.config)
            .finish()
    }
}

impl fmt::Display for SocketUrl {
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

/// Whether a bootstrap failure is worth another attempt: a refusal with
/// code 1 or 1000040343, a transport failure or timeout, or an HTTP 5xx or
/// 429 without an answer; not another refusal, nor an unreadable answer.
pub(crate) fn bootstrap_is_retryable(error: &Error) -> bool {
    match error {
        Error::Api(api) => bootstrap_code_is_retryable(api.code),
        Error::Transport(_) | Error::Timeout => true,
        Error::Http { status, .. } => *status >= 500 || *status == 429,
        _ => false,
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
    client_config: Option<ServerSettings>,
}

/// Asks the platform where to connect, through `client`'s transport (its
/// proxy, TLS and timeout). A refusal is [`Error::Api`] with its code and log
/// id, inside [`WsError::Bootstrap`], which names the host.
pub(crate) async fn fetch(client: &Client) -> Result<SocketUrl, WsError> {
    let config = client.config();
    let base = config.base_url.trim_end_matches('/');
    let host = host_of(base);
    let failed = |source: Error| WsError::Bootstrap { host: host.clone(), source };
    let uri: http::Uri = format!("{base}{ENDPOINT_PATH}").parse().map_err(|e| {
        failed(ConfigError::new(format!("base URL {base:?}"), "must be a URL").because(e).into())
    })?;
    let body = serde_json::to_vec(
        &json!({ "AppID": config.app_id, "AppSecret": config.app_secret.expose() }),
    )
    .expect("a JSON object of strings serialises");
    let http = client.http();
    let mut request = http.request(http::Method::POST, uri, RequestBody::Full(Some(body.into())));
    request.headers_mut().insert(http::header::CONTENT_TYPE, JSON);
    request.headers_mut().insert("locale", http::HeaderValue::from_static("zh"));
    let raw = http.exchange(request, config.timeout).await.map_err(|(error, _)| failed(error))?;
    let (status, log_id) = (raw.status, raw.log_id.clone());
    let answer: Answer = match serde_json::from_slice(&raw.body) {
        Ok(answer) => answer,
        Err(_) if status >= 400 => {
            let body = String::from_utf8_lossy(&raw.body[..raw.body.len().min(200)]).into_owned();
            return Err(failed(Error::Http { status, log_id, body }));
        }
        Err(error) => {
            // The answer of a refusal holds no secret (a success's URL is
            // never reached: it is what did not parse).
            return Err(failed(Error::Decode {
                message: "the bootstrap answer is not the expected JSON".into(),
                log_id,
                source: Some(error),
            }));
        }
    };
    if answer.code != 0 {
        let mut refusal = ApiError::new(status, answer.code, answer.msg);
        if let Some(log_id) = log_id {
            refusal = refusal.with_log_id(log_id);
        }
        return Err(failed(refusal.into()));
    }
    let Some(data) = answer.data else {
        let message = "code 0 without data".to_owned();
        return Err(failed(Error::Decode { message, log_id, source: None }));
    };
    let secure = base.starts_with("https://");
    SocketUrl::new(&data.url, data.client_config.unwrap_or_default(), secure)
        .map_err(|source| WsError::SocketUrl { host, source })
}

/// The host (and port, if any) of a base URL, for messages.
pub(crate) fn host_of(base_url: &str) -> String {
    Url::parse(base_url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "<no host>".to_owned())
}

// The verdict reads the platform's codes, which live here.
impl WsError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Bootstrap { source, .. } => bootstrap_is_retryable(source),
            Self::Handshake { status, auth_code, .. } => {
                handshake_is_retryable(*status, *auth_code)
            }
            Self::Connect { .. } | Self::Lost { .. } => true,
            Self::SocketUrl { .. }
            | Self::GaveUp { .. }
            | Self::AlreadyRunning
            | Self::InvalidSetting { .. } => false,
        }
    }
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
        let endpoint = SocketUrl::new(url, ServerSettings::default(), true).unwrap();
        assert_eq!(endpoint.service_id, 33);
        assert_eq!(endpoint.device_id, "d1");
        let shown = format!("{endpoint} {endpoint:?}");
        assert!(!shown.contains("SECRET") && !shown.contains("pw"), "{shown}");
        assert_eq!(redact("not a url ?ticket=SECRET"), "<unparseable URL>");
        assert!(
            SocketUrl::new("http://x/?ticket=SECRET", ServerSettings::default(), false)
                .unwrap_err()
                .to_string()
                .contains("ticket=***")
        );
        assert_eq!(endpoint.host(), "msg.example.com:443");
        assert_eq!(endpoint.connect_uri().unwrap(), "https://msg.example.com:443/");
    }

    /// Issue 23: the socket URL must be wss:// whenever the base URL is https.
    #[test]
    fn a_ws_url_is_refused_for_an_https_base_url() {
        let ws = "ws://msg.example.com/ws/v2?device_id=d1&service_id=3&ticket=SECRET";
        let refused = SocketUrl::new(ws, ServerSettings::default(), true).unwrap_err().to_string();
        assert!(refused.contains("only wss:// is accepted"), "{refused}");
        assert!(!refused.contains("SECRET"), "{refused}");
        // Over plain http (a sandbox) ws:// is what there is.
        let plain = SocketUrl::new(ws, ServerSettings::default(), false).unwrap();
        assert_eq!(plain.connect_uri().unwrap(), "http://msg.example.com:80/");
        let wss = ws.replacen("ws://", "wss://", 1);
        assert!(SocketUrl::new(&wss, ServerSettings::default(), true).is_ok());
        assert!(SocketUrl::new("wss://?ticket=1", ServerSettings::default(), true).is_err());
    }

    /// Issue 23 item 6: the URL parser's error is kept as the source.
    #[test]
    fn a_socket_url_that_does_not_parse_keeps_the_parsers_error() {
        let refused = SocketUrl::new("wss://[::1/?ticket=SECRET", ServerSettings::default(), true)
            .unwrap_err();
        let source = std::error::Error::source(&refused).expect("a source");
        assert_eq!(
            source.downcast_ref::<url::ParseError>(),
            Some(&url::ParseError::InvalidIpv6Address)
        );
        assert!(!refused.to_string().contains("SECRET"), "{refused}");
        let error = WsError::SocketUrl { host: "h".into(), source: refused };
        let chain = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
        assert!(chain.into_iter().any(|e| e.is::<url::ParseError>()), "{error}");
    }

    #[test]
    fn client_config_defaults_and_partial() {
        assert_eq!(
            ServerSettings::default(),
            ServerSettings {
                reconnect_count: -1,
                reconnect_interval: 120,
                reconnect_nonce: 30,
                ping_interval: 120
            }
        );
        let partial: ServerSettings = serde_json::from_str(r#"{"PingInterval": 5}"#).unwrap();
        assert_eq!(partial, ServerSettings { ping_interval: 5, ..ServerSettings::default() });
    }
}
