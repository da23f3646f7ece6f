//! Everything a call can fail with.

use std::fmt;

use crate::validate::ValidationError;

/// Feishu error codes that the runtime itself acts on or classifies.
pub mod codes {
    /// The tenant access token is invalid or expired: the runtime evicts it
    /// and retries the request once with a fresh token.
    pub const INVALID_TENANT_ACCESS_TOKEN: i64 = 99991663;
    /// The access token is invalid; handled like
    /// [`INVALID_TENANT_ACCESS_TOKEN`] when the token was one the runtime
    /// fetched itself.
    pub const INVALID_ACCESS_TOKEN: i64 = 99991668;
    /// The app hit the platform-wide request frequency limit.
    pub const RATE_LIMITED: i64 = 99991400;
    /// The messaging API's frequency limit.
    pub const IM_RATE_LIMITED: i64 = 230020;
}

/// An error envelope from the platform: a response whose `code` is not 0.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status of the response (often 200 or 400 even for errors).
    pub http_status: u16,
    /// The envelope's `code`.
    pub code: i64,
    /// The envelope's `msg`.
    pub msg: String,
    /// The `X-Tt-Logid` response header, which Feishu support asks for.
    pub log_id: Option<String>,
    /// The whole response body, for fields such as `error.troubleshooter`.
    pub body: Option<serde_json::Value>,
}

impl ApiError {
    /// An error envelope; for tests and for code that wraps the client.
    pub fn new(http_status: u16, code: i64, msg: impl Into<String>) -> Self {
        Self { http_status, code, msg: msg.into(), log_id: None, body: None }
    }

    /// Sets the log id.
    pub fn with_log_id(mut self, log_id: impl Into<String>) -> Self {
        self.log_id = Some(log_id.into());
        self
    }

    /// Sets the whole response body.
    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Feishu API error {}: {} (HTTP {}", self.code, self.msg, self.http_status)?;
        write_log_id(f, self.log_id.as_deref())?;
        f.write_str(")")
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

fn write_log_id(f: &mut fmt::Formatter<'_>, log_id: Option<&str>) -> fmt::Result {
    match log_id {
        Some(id) => write!(f, ", log_id {id}"),
        None => Ok(()),
    }
}

/// Shows an optional log id as `, log_id X` inside an error message.
struct LogId<'a>(&'a Option<String>);

impl fmt::Display for LogId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_log_id(f, self.0.as_deref())
    }
}

/// Why the HTTP exchange failed (connection, TLS, proxy, a body cut short).
///
/// The message gives the whole chain of causes; [`source`](std::error::Error::source)
/// leads to the HTTP library's error, whose type is not part of the API.
#[derive(Debug)]
pub struct TransportError {
    connect: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    /// The pooled client's error.
    pub(crate) fn from_client(e: hyper_util::client::legacy::Error) -> Self {
        Self { connect: e.is_connect(), source: Box::new(e) }
    }

    /// Any other failure of the exchange (a body cut short, a TLS set-up
    /// that failed, an answer too large).
    pub(crate) fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { connect: false, source: e.into() }
    }

    /// Whether the connection could not be opened (nothing was sent).
    pub fn is_connect(&self) -> bool {
        self.connect
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client's own message ("client error (Connect)") says little
        // alone: the causes below it say what happened.
        write!(f, "{}", self.source)?;
        let mut cause = self.source.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request value broke a documented constraint; nothing was sent.
    #[error("invalid request: {0}")]
    Validation(#[from] ValidationError),

    /// The platform answered with a non-zero `code`. Boxed to keep
    /// `Result<_, Error>` small on the success path.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// Fetching the tenant or app access token was refused.
    #[error("fetching the access token failed: code {code}: {msg} (HTTP {http_status}{})", LogId(.log_id))]
    Token {
        /// HTTP status of the token response.
        http_status: u16,
        /// The token response's `code`.
        code: i64,
        /// The token response's `msg`.
        msg: String,
        /// The `X-Tt-Logid` header of the token response.
        log_id: Option<String>,
    },

    /// A non-success HTTP status whose body is not a Feishu error envelope,
    /// e.g. a gateway's HTML 502 page.
    #[error("HTTP {status} without a Feishu error body{}: {body}", LogId(.log_id))]
    Http {
        /// HTTP status.
        status: u16,
        /// The `X-Tt-Logid` header, if the platform set one.
        log_id: Option<String>,
        /// The start of the body as text, for diagnosis.
        body: String,
    },

    /// The request could not be sent or the response not received.
    #[error("HTTP transport error: {0}")]
    Transport(#[source] TransportError),

    /// The response arrived but did not have the expected shape (or, rarely,
    /// a request body could not be turned into JSON).
    #[error("could not decode the response{}: {message}", LogId(.log_id))]
    Decode {
        /// What did not match.
        message: String,
        /// The `X-Tt-Logid` header of the response.
        log_id: Option<String>,
    },

    /// A file to upload could not be read, a download not saved, or a
    /// one-shot upload not retried (see [`crate::upload`]).
    #[error(transparent)]
    File(#[from] crate::upload::FileError),

    /// A list's pages do not add up (see [`mod@crate::paginate`]).
    #[error(transparent)]
    Pagination(#[from] crate::paginate::PaginationError),

    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,

    /// The client settings are unusable (e.g. a malformed base URL).
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// The call's token could not be chosen or obtained: a token type the
    /// operation does not accept, a missing tenant key or app_ticket, a
    /// user who has to authorise (again). See [`crate::auth`].
    #[error(transparent)]
    Auth(crate::auth::AuthError),
}

impl Error {
    /// The platform's error code, for API and token errors.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api(e) => Some(e.code),
            Error::Token { code, .. } => Some(*code),
            Error::File(crate::upload::FileError::NotRepeatable { error }) => error.code(),
            _ => None,
        }
    }

    /// The `X-Tt-Logid` of the response that caused the error, if any.
    pub fn log_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.log_id.as_deref(),
            Error::Token { log_id, .. }
            | Error::Http { log_id, .. }
            | Error::Decode { log_id, .. } => log_id.as_deref(),
            Error::Pagination(e) => e.log_id(),
            Error::File(crate::upload::FileError::NotRepeatable { error }) => error.log_id(),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused the error, if any.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.http_status),
            Error::Token { http_status, .. } => Some(*http_status),
            Error::Http { status, .. } => Some(*status),
            Error::File(crate::upload::FileError::NotRepeatable { error }) => error.http_status(),
            _ => None,
        }
    }

    /// The API error, if the platform answered with one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether sending the same request again later may succeed: transport
    /// failures, timeouts, HTTP 429 and 5xx, and the rate-limit codes
    /// [`codes::RATE_LIMITED`] and [`codes::IM_RATE_LIMITED`].
    ///
    /// The client has already retried such errors as its
    /// [`RetryPolicy`](crate::RetryPolicy) allows before returning them;
    /// ambiguous failures of requests without an idempotency key are
    /// returned at once (see [`crate::retry`]).
    pub fn is_retryable(&self) -> bool {
        let status_retryable = |s: u16| s == 429 || s >= 500;
        match self {
            Error::Transport(_) | Error::Timeout => true,
            Error::Api(e) => {
                matches!(e.code, codes::RATE_LIMITED | codes::IM_RATE_LIMITED)
                    || status_retryable(e.http_status)
            }
            Error::Token { http_status, .. } => status_retryable(*http_status),
            Error::Http { status, .. } => status_retryable(*status),
            Error::Auth(e) => matches!(
                e,
                crate::auth::AuthError::AppTicketNotReceived | crate::auth::AuthError::Store { .. }
            ),
            Error::Validation(_)
            | Error::Decode { .. }
            | Error::Config(_)
            | Error::Pagination(_)
            | Error::File(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(http_status: u16, code: i64) -> Error {
        ApiError { http_status, code, msg: "m".into(), log_id: Some("L1".into()), body: None }
            .into()
    }

    #[test]
    fn helpers_read_code_log_id_and_status() {
        let e = api(400, 1234);
        assert_eq!(e.code(), Some(1234));
        assert_eq!(e.log_id(), Some("L1"));
        assert_eq!(e.http_status(), Some(400));
        assert_eq!(e.to_string(), "Feishu API error 1234: m (HTTP 400, log_id L1)");
        assert_eq!(Error::Timeout.code(), None);
        assert_eq!(Error::Timeout.log_id(), None);
    }

    #[test]
    fn retryable_classification() {
        assert!(api(200, codes::RATE_LIMITED).is_retryable());
        assert!(api(400, codes::IM_RATE_LIMITED).is_retryable());
        assert!(api(503, 1).is_retryable());
        assert!(api(429, 1).is_retryable());
        assert!(!api(400, 1).is_retryable());
        assert!(Error::Timeout.is_retryable());
        let http = |status| Error::Http { status, log_id: None, body: String::new() };
        assert!(http(502).is_retryable());
        assert!(!http(404).is_retryable());
        assert!(!Error::Decode { message: String::new(), log_id: None }.is_retryable());
        assert!(!Error::Config(String::new()).is_retryable());
    }

    #[test]
    fn messages_carry_log_id() {
        let e = Error::Http { status: 500, log_id: Some("L9".into()), body: "oops".into() };
        assert_eq!(e.to_string(), "HTTP 500 without a Feishu error body, log_id L9: oops");
        let e = Error::Token {
            http_status: 200,
            code: 10003,
            msg: "invalid param".into(),
            log_id: None,
        };
        assert_eq!(
            e.to_string(),
            "fetching the access token failed: code 10003: invalid param (HTTP 200)"
        );
    }
}
