//! Everything a call can fail with.

mod auth;
mod config;
mod display;
mod pagination;
mod transport;

use std::fmt;
use std::path::PathBuf;

use crate::validate::ValidationError;

pub use auth::{AuthError, SharedCause};
pub use config::ConfigError;
pub(crate) use display::Cause;
use display::LogId;
pub use pagination::PaginationError;
pub use transport::TransportError;

/// Feishu error codes that the runtime itself acts on or classifies.
pub mod codes {
    /// The tenant access token is invalid or expired: the runtime evicts it
    /// and retries the request once with a fresh token.
    pub const INVALID_TENANT_ACCESS_TOKEN: i64 = 99991663;
    /// The access token is invalid; handled like
    /// [`INVALID_TENANT_ACCESS_TOKEN`] when the token was one the runtime
    /// fetched itself.
    pub const INVALID_ACCESS_TOKEN: i64 = 99991668;
    /// The app_access_token is invalid ("invalid app token"): the runtime
    /// evicts the app token the call used and retries once.
    pub const INVALID_APP_ACCESS_TOKEN: i64 = 99991664;
    /// The tenant_access_token is illegal ("invalid tenant code"): the
    /// runtime evicts the tenant token the call used and retries once.
    pub const ILLEGAL_TENANT_ACCESS_TOKEN: i64 = 99991665;
    /// The user_access_token has expired: the runtime refreshes a user
    /// token it keeps by user key and retries once.
    pub const USER_ACCESS_TOKEN_EXPIRED: i64 = 99991677;
    /// The app hit the platform-wide request frequency limit.
    pub const RATE_LIMITED: i64 = 99991400;
    /// The messaging API's frequency limit.
    pub const IM_RATE_LIMITED: i64 = 230020;
    /// The platform's "slow down" codes: the one list the runtime consults
    /// (through [`Error::is_rate_limited`](super::Error::is_rate_limited)).
    pub const RATE_LIMITS: [i64; 2] = [RATE_LIMITED, IM_RATE_LIMITED];
}

/// Whether `code` is one of the platform's "slow down" codes
/// ([`codes::RATE_LIMITS`]).
pub fn is_rate_limit_code(code: i64) -> bool {
    codes::RATE_LIMITS.contains(&code)
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
        write!(f, "{}", LogId(&self.log_id))?;
        f.write_str(")")
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

/// Why a call failed.
///
/// Every cause is kept: a variant that wraps another error hands it out
/// through [`source`](std::error::Error::source) (never flattened into a
/// `String`), and so do the errors it nests, down to the library's own.
///
/// **One rule for `From`:** each variant that wraps one of this crate's
/// error types converts from it (`From<ValidationError>`,
/// `From<TransportError>`, `From<FileError>`, `From<PaginationError>`,
/// `From<ConfigError>`, `From<AuthError>`: derived with `#[from]`;
/// `From<ApiError>` is written out only because it boxes), so that `?`
/// works on them. A cause from another crate gets no `From`: one
/// `serde_json::Error` may mean a body that could not be encoded
/// ([`Error::Encode`]) or an answer that could not be decoded
/// ([`Error::Decode`]), and the code that met it says which. Variants made
/// of fields (`Token`, `Http`, `Decode`) and `Timeout` have none either.
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
    Transport(#[from] TransportError),

    /// The response arrived but did not have the expected shape.
    #[error("could not decode the response{}: {message}{}", LogId(.log_id), Cause(.source))]
    Decode {
        /// What did not match.
        message: String,
        /// The `X-Tt-Logid` header of the response.
        log_id: Option<String>,
        /// The JSON parser's error, when it found the fault and its message
        /// cannot quote a secret (never for a token's answer).
        #[source]
        source: Option<serde_json::Error>,
    },

    /// A request body could not be turned into JSON (a map with non-string
    /// keys, say); nothing was sent.
    #[error("could not encode the request body as JSON: {0}")]
    Encode(#[source] serde_json::Error),

    /// A file to upload could not be read, a download not saved, or a
    /// one-shot upload not retried (see [`crate::upload`]).
    #[error(transparent)]
    File(#[from] FileError),

    /// A list's pages do not add up (see [`mod@crate::paginate`]).
    #[error(transparent)]
    Pagination(#[from] PaginationError),

    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,

    /// A setting of the client or of the call is unusable (a malformed
    /// base URL, say): [`ConfigError`] names it and the rule it breaks.
    /// Nothing was sent.
    #[error("invalid client configuration: {0}")]
    Config(#[from] ConfigError),

    /// The call's token could not be chosen or obtained: a token type the
    /// operation does not accept, a missing tenant key or app_ticket, a
    /// user who has to authorise (again). See [`crate::auth`].
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl Error {
    /// The platform's error code, for API and token errors.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api(e) => Some(e.code),
            Error::Token { code, .. } => Some(*code),
            Error::File(FileError::NotRepeatable { error }) => error.code(),
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
            Error::File(FileError::NotRepeatable { error }) => error.log_id(),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused the error, if any.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.http_status),
            Error::Token { http_status, .. } => Some(*http_status),
            Error::Http { status, .. } => Some(*status),
            Error::File(FileError::NotRepeatable { error }) => error.http_status(),
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

    /// Whether, and when, sending the same request again may succeed: the
    /// runtime's one answer (see [`Verdict`]), which the client's own
    /// retries follow too.
    pub fn retry_verdict(&self) -> Verdict {
        let by_status = |status: u16| match status {
            429 => Verdict::RetryAfterDelay,
            500.. => Verdict::RetryNow,
            _ => Verdict::DoNotRetry,
        };
        match self {
            // A one-shot upload cannot be sent again, whatever stopped it.
            Error::File(_) => Verdict::DoNotRetry,
            _ if self.is_rate_limited() => Verdict::RetryAfterDelay,
            Error::Api(e) => by_status(e.http_status),
            Error::Token { http_status, .. } => by_status(*http_status),
            Error::Http { status, .. } => by_status(*status),
            Error::Transport(_) | Error::Timeout => Verdict::RetryNow,
            Error::Auth(AuthError::AppTicketNotReceived | AuthError::Store { .. }) => {
                Verdict::RetryAfterDelay
            }
            Error::Auth(_)
            | Error::Validation(_)
            | Error::Decode { .. }
            | Error::Encode(_)
            | Error::Config(_)
            | Error::Pagination(_) => Verdict::DoNotRetry,
        }
    }

    /// Whether sending the same request again, now or later, may succeed:
    /// [`retry_verdict`](Self::retry_verdict) is not
    /// [`Verdict::DoNotRetry`]. Transport failures, time-outs, HTTP 429 and
    /// 5xx, the rate-limit codes, a marketplace app's missing app_ticket and
    /// a failing token store are; the rest is not.
    ///
    /// The client has already retried such errors as its
    /// [`RetryPolicy`](crate::RetryPolicy) allows before returning them;
    /// ambiguous failures of requests without an idempotency key are
    /// returned at once (see [`crate::retry`]).
    pub fn is_retryable(&self) -> bool {
        self.retry_verdict() != Verdict::DoNotRetry
    }

    /// A copy of this error for another caller that waited for the same
    /// outcome (one token refresh's, handed to every waiter): the same
    /// variant with the same fields. Two causes cannot be copied and are
    /// rebuilt from their message and kind: the `serde_json::Error` of
    /// [`Error::Encode`] and the `std::io::Error` of [`FileError::Io`]
    /// (neither comes out of a token fetch).
    pub(crate) fn copy_for_waiter(&self) -> Error {
        match self {
            Error::Validation(e) => Error::Validation(e.clone()),
            Error::Api(e) => Error::Api(e.clone()),
            Error::Token { http_status, code, msg, log_id } => Error::Token {
                http_status: *http_status,
                code: *code,
                msg: msg.clone(),
                log_id: log_id.clone(),
            },
            Error::Http { status, log_id, body } => {
                Error::Http { status: *status, log_id: log_id.clone(), body: body.clone() }
            }
            Error::Transport(e) => Error::Transport(e.clone()),
            Error::Decode { message, log_id, source } => Error::Decode {
                message: message.clone(),
                log_id: log_id.clone(),
                source: source.as_ref().map(serde::de::Error::custom),
            },
            Error::Encode(e) => Error::Encode(serde::ser::Error::custom(e)),
            Error::File(e) => Error::File(e.copy_for_waiter()),
            Error::Pagination(e) => Error::Pagination(e.clone()),
            Error::Timeout => Error::Timeout,
            Error::Config(e) => Error::Config(e.clone()),
            Error::Auth(e) => Error::Auth(e.clone()),
        }
    }

    /// Whether the platform said to slow down: one of its rate-limit codes
    /// ([`codes::RATE_LIMITS`]) or HTTP 429, in the answer to the call or to
    /// its token fetch.
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Error::Api(_) | Error::Token { .. } | Error::Http { .. } => {
                rate_limited(self.http_status().unwrap_or_default(), self.code())
            }
            _ => false,
        }
    }
}

/// Whether an answer of `http_status` with `code` says to slow down (the
/// test behind [`Error::is_rate_limited`], for answers not yet made errors).
pub(crate) fn rate_limited(http_status: u16, code: Option<i64>) -> bool {
    http_status == 429 || code.is_some_and(is_rate_limit_code)
}

/// Whether a failed call may succeed if the same request is sent again,
/// and when: [`Error::retry_verdict`].
///
/// It is the one answer in the runtime: the client's retry loop follows it,
/// [`Error::is_retryable`] and [`Error::is_rate_limited`] read it, and
/// [`OperationError::retry_verdict`](crate::OperationError::retry_verdict)
/// refines it with the operation's documented codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Send again now, after a short backoff: the exchange failed (a
    /// connection that broke or could not be opened, a time-out, a 5xx
    /// answer). The client does so itself, up to
    /// [`RetryPolicy::max_attempts`](crate::RetryPolicy::max_attempts): always when
    /// the request cannot have reached the server, otherwise only for
    /// idempotent requests.
    RetryNow,
    /// Send again after a delay. Either the platform said to slow down
    /// ([`Error::is_rate_limited`]), which the client waits out itself, for
    /// as long as the server asks and within
    /// [`RetryPolicy::max_rate_limit_wait`](crate::RetryPolicy::max_rate_limit_wait);
    /// or something outside the call has to happen first (a marketplace
    /// app's app_ticket to arrive, a token store to recover), which the
    /// client does not wait for.
    RetryAfterDelay,
    /// The same request cannot succeed.
    DoNotRetry,
}

/// Why a file could not be uploaded or a download saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file's length changed since the [`UploadFile`](crate::UploadFile) was made, so the
    /// length the request announces would be wrong.
    #[error("{}: was {expected} bytes when the upload was prepared, is {found} now", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// The length when the upload was prepared.
        expected: u64,
        /// The length now.
        found: u64,
    },
    /// The call failed after a one-shot reader had started sending, so it
    /// was not retried, though the failure alone would have allowed it.
    #[error(
        "{error} (not retried: the upload reads from a one-shot reader whose bytes had started going out; upload from a path or Bytes to allow retries)"
    )]
    NotRepeatable {
        /// The failure of the attempt.
        error: Box<Error>,
    },
}

impl FileError {
    fn copy_for_waiter(&self) -> FileError {
        match self {
            FileError::Io { path, source } => FileError::Io {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            FileError::Changed { path, expected, found } => {
                FileError::Changed { path: path.clone(), expected: *expected, found: *found }
            }
            FileError::NotRepeatable { error } => {
                FileError::NotRepeatable { error: Box::new(error.copy_for_waiter()) }
            }
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

    /// Every shape of error: each variant, and each variant of the errors
    /// it nests. A new variant fails to compile here until it has a name,
    /// and the test below fails until the table has a row for it.
    const SHAPES: [&str; 23] = [
        "Validation",
        "Api",
        "Token",
        "Http",
        "Transport",
        "Decode",
        "Encode",
        "File::Io",
        "File::Changed",
        "File::NotRepeatable",
        "Pagination::MissingToken",
        "Pagination::RepeatedToken",
        "Pagination::TooManyPages",
        "Timeout",
        "Config",
        "Auth::AppTicketNotReceived",
        "Auth::TenantKeyRequired",
        "Auth::TenantKeyNotUsed",
        "Auth::TokenNotAccepted",
        "Auth::ConflictingUserCredentials",
        "Auth::UserNotAuthorized",
        "Auth::ReauthorizationRequired",
        "Auth::Store",
    ];

    /// The name of `e`'s shape in [`SHAPES`]; an exhaustive match (no `_`).
    fn shape(e: &Error) -> &'static str {
        match e {
            Error::Validation(_) => "Validation",
            Error::Api(_) => "Api",
            Error::Token { .. } => "Token",
            Error::Http { .. } => "Http",
            Error::Transport(_) => "Transport",
            Error::Decode { .. } => "Decode",
            Error::Encode(_) => "Encode",
            Error::File(FileError::Io { .. }) => "File::Io",
            Error::File(FileError::Changed { .. }) => "File::Changed",
            Error::File(FileError::NotRepeatable { .. }) => "File::NotRepeatable",
            Error::Pagination(PaginationError::MissingToken { .. }) => "Pagination::MissingToken",
            Error::Pagination(PaginationError::RepeatedToken { .. }) => "Pagination::RepeatedToken",
            Error::Pagination(PaginationError::TooManyPages { .. }) => "Pagination::TooManyPages",
            Error::Timeout => "Timeout",
            Error::Config(_) => "Config",
            Error::Auth(a) => match a {
                AuthError::AppTicketNotReceived => "Auth::AppTicketNotReceived",
                AuthError::TenantKeyRequired { .. } => "Auth::TenantKeyRequired",
                AuthError::TenantKeyNotUsed { .. } => "Auth::TenantKeyNotUsed",
                AuthError::TokenNotAccepted { .. } => "Auth::TokenNotAccepted",
                AuthError::ConflictingUserCredentials => "Auth::ConflictingUserCredentials",
                AuthError::UserNotAuthorized { .. } => "Auth::UserNotAuthorized",
                AuthError::ReauthorizationRequired { .. } => "Auth::ReauthorizationRequired",
                AuthError::Store { .. } => "Auth::Store",
            },
        }
    }

    /// Every shape of error the runtime produces, with its verdict and the
    /// two readings of it.
    #[test]
    fn every_error_shape_has_one_verdict() {
        use Verdict::{DoNotRetry as Never, RetryAfterDelay as Later, RetryNow as Now};
        let token = |http_status, code| Error::Token {
            http_status,
            code,
            msg: String::new(),
            log_id: None,
        };
        let http = |status| Error::Http { status, log_id: None, body: String::new() };
        let io = std::io::Error::other("disk");
        let not_json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let endpoint = || "e".to_owned();
        // (what, the error, its verdict, is_rate_limited)
        let table: Vec<(&str, Error, Verdict, bool)> = vec![
            (
                "invalid request",
                ValidationError::new("f", "max_length", "long").into(),
                Never,
                false,
            ),
            ("api error", api(400, 230001), Never, false),
            ("api error on 200", api(200, 1), Never, false),
            ("api rate limit", api(200, codes::RATE_LIMITED), Later, true),
            ("im rate limit", api(400, codes::IM_RATE_LIMITED), Later, true),
            ("api 429", api(429, 1), Later, true),
            ("api 500", api(500, 1), Now, false),
            ("api 503 rate limit", api(503, codes::RATE_LIMITED), Later, true),
            ("token refused", token(200, 10003), Never, false),
            ("token 429", token(429, 0), Later, true),
            ("token rate limit", token(200, codes::RATE_LIMITED), Later, true),
            ("token 502", token(502, 0), Now, false),
            ("http 404", http(404), Never, false),
            ("http 429", http(429), Later, true),
            ("http 502", http(502), Now, false),
            ("connect failed", Error::Transport(TransportError::new(true, "refused")), Now, false),
            ("connection lost", Error::Transport(TransportError::other("reset")), Now, false),
            ("timeout", Error::Timeout, Now, false),
            (
                "decode",
                Error::Decode { message: String::new(), log_id: None, source: None },
                Never,
                false,
            ),
            ("encode", Error::Encode(not_json), Never, false),
            ("config", ConfigError::new("base URL", "must use http or https").into(), Never, false),
            ("file io", FileError::Io { path: "f".into(), source: io }.into(), Never, false),
            (
                "file changed",
                FileError::Changed { path: "f".into(), expected: 1, found: 2 }.into(),
                Never,
                false,
            ),
            (
                "one-shot upload not repeated after a rate limit",
                FileError::NotRepeatable { error: Box::new(api(429, codes::RATE_LIMITED)) }.into(),
                Never,
                false,
            ),
            ("pages", PaginationError::MissingToken { page: 2, log_id: None }.into(), Never, false),
            (
                "repeated token",
                PaginationError::RepeatedToken { page: 2, token: "t".into(), log_id: None }.into(),
                Never,
                false,
            ),
            (
                "page cap",
                PaginationError::TooManyPages { pages: 10, log_id: None }.into(),
                Never,
                false,
            ),
            ("no app_ticket yet", AuthError::AppTicketNotReceived.into(), Later, false),
            (
                "store failed",
                AuthError::store("Redis", std::io::Error::other("down")).into(),
                Later,
                false,
            ),
            (
                "tenant key required",
                AuthError::TenantKeyRequired { endpoint: endpoint() }.into(),
                Never,
                false,
            ),
            (
                "tenant key not used",
                AuthError::TenantKeyNotUsed { endpoint: endpoint(), reason: "r" }.into(),
                Never,
                false,
            ),
            (
                "token not accepted",
                AuthError::TokenNotAccepted { endpoint: endpoint(), allowed: "a", given: "g" }
                    .into(),
                Never,
                false,
            ),
            (
                "conflicting user credentials",
                AuthError::ConflictingUserCredentials.into(),
                Never,
                false,
            ),
            (
                "user not authorised",
                AuthError::UserNotAuthorized { user_key: "u".into() }.into(),
                Never,
                false,
            ),
            (
                "reauthorisation",
                AuthError::ReauthorizationRequired {
                    user_key: "u".into(),
                    code: Some(20064),
                    reason: String::new(),
                    source: None,
                }
                .into(),
                Never,
                false,
            ),
        ];
        let mut covered = std::collections::BTreeSet::new();
        for (what, error, verdict, rate_limited) in table {
            assert_eq!(error.retry_verdict(), verdict, "{what}: {error}");
            assert_eq!(error.is_retryable(), verdict != Never, "{what}");
            assert_eq!(error.is_rate_limited(), rate_limited, "{what}");
            covered.insert(shape(&error));
        }
        let missing: Vec<_> = SHAPES.iter().filter(|s| !covered.contains(*s)).collect();
        assert!(missing.is_empty(), "shapes without a row in the table: {missing:?}");
        assert_eq!(codes::RATE_LIMITS.iter().filter(|c| is_rate_limit_code(**c)).count(), 2);
        assert!(!is_rate_limit_code(230001));
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
