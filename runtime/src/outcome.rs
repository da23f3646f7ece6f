//! The error every call returns and the answer every call succeeds with.
//!
//! What all operations' errors have in common lives here, written and
//! compiled once: generated code adds only, per typed operation, a
//! field-less enum of its documented codes implementing [`ErrorKind`]
//! (as progenitor-client and aws-smithy-types keep shared behaviour in the
//! client crate rather than in generated text).

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::error::{ApiError, Error, Verdict, is_rate_limit_code};
use crate::validate::ValidationError;

/// The documented error codes of one operation (its `…ErrorKind` enum):
/// a variant per code, and an `Unhandled` variant for everything else.
pub trait ErrorKind: Copy + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// The kind of codes the docs of the operation do not list, and of
    /// failures that carry no code at all (a time-out, say).
    const UNHANDLED: Self;
    /// The documented codes after which sending again later may succeed
    /// (those the docs give a 429 or 5xx status).
    const RETRYABLE: &'static [i64];
    /// The kind of `code`.
    fn of(code: i64) -> Self;
}

/// The [`ErrorKind`]s of operations that document codes: every generated
/// `…ErrorKind` enum, never [`Untyped`]. Their errors convert into
/// `OperationError<Untyped>` (the root `feishu::Error`) with `?`.
pub trait DocumentedKind: ErrorKind {}

/// The kind of operations whose docs list no error codes (catalogue-only
/// endpoints): every failure is [`Untyped::Unhandled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Untyped {
    /// Any failure.
    #[default]
    Unhandled,
}

impl ErrorKind for Untyped {
    const UNHANDLED: Self = Untyped::Unhandled;
    const RETRYABLE: &'static [i64] = &[];

    fn of(_: i64) -> Self {
        Untyped::Unhandled
    }
}

/// Why a call failed: for every operation the same type, generic only
/// over the operation's documented codes `K` (see [`ErrorKind`]).
///
/// - [`kind()`](Self::kind) says which documented code the platform
///   answered with (`K::UNHANDLED` for undocumented codes and for failures
///   without a code);
/// - [`code()`](Self::code), [`http_status()`](Self::http_status),
///   [`log_id()`](Self::log_id) (which Feishu support asks for first),
///   [`troubleshooter()`](Self::troubleshooter) and
///   [`field_violations()`](Self::field_violations) read the answer;
/// - [`is_retryable()`](Self::is_retryable) and
///   [`is_rate_limited()`](Self::is_rate_limited) classify it;
/// - [`runtime_error()`](Self::runtime_error) is the runtime's [`Error`]
///   behind it (validation, transport, decoding, tokens, or the API error).
///
/// One generic type rather than an enum per operation: its code is
/// compiled once, not for each of hundreds of operations. It is two words
/// wide, so that `Result<T, OperationError<K>>` stays small.
pub struct OperationError<K = Untyped> {
    kind: K,
    error: Box<Error>,
}

impl<K: ErrorKind> OperationError<K> {
    /// Which of the operation's documented codes this is; `K::UNHANDLED`
    /// when the code is not documented or there is none.
    pub fn kind(&self) -> K {
        self.kind
    }

    /// Whether this is the documented code `kind`.
    pub fn is(&self, kind: K) -> bool {
        kind != K::UNHANDLED && self.kind == kind
    }

    /// Whether the platform answered with a code the docs of this
    /// operation do not list, or the call failed without a code.
    pub fn is_unhandled(&self) -> bool {
        self.kind == K::UNHANDLED
    }

    /// The platform's error code (of the call or of its token fetch).
    pub fn code(&self) -> Option<i64> {
        self.error.code()
    }

    /// The HTTP status of the answer that failed, if one arrived.
    pub fn http_status(&self) -> Option<u16> {
        self.error.http_status()
    }

    /// The `X-Tt-Logid` of the answer that failed, which Feishu support
    /// asks for first.
    pub fn log_id(&self) -> Option<&str> {
        self.error.log_id()
    }

    /// The platform's message (`msg`), when it answered with an error code.
    pub fn message(&self) -> Option<&str> {
        self.api_error().map(|e| e.msg.as_str())
    }

    /// The error envelope, when the platform answered with an error code.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.error.as_api()
    }

    /// The documented troubleshooting link the platform sends with some
    /// errors (`error.troubleshooter`).
    pub fn troubleshooter(&self) -> Option<&str> {
        self.api_error()?.troubleshooter()
    }

    /// The request fields the platform rejected (`error.field_violations`).
    pub fn field_violations(&self) -> Vec<FieldViolation> {
        self.api_error().map(ApiError::field_violations).unwrap_or_default()
    }

    /// The documented constraint a request broke before anything was sent.
    pub fn validation(&self) -> Option<&ValidationError> {
        match &*self.error {
            Error::Validation(v) => Some(v),
            _ => None,
        }
    }

    /// Whether, and when, sending the same request again may succeed: the
    /// runtime's [`Error::retry_verdict`], refined by the operation's docs.
    /// A code the operation documents keeps its documented verdict whatever
    /// the answer's status: retry after a delay for the rate-limit codes,
    /// retry for the codes documented with a 429 or 5xx status
    /// ([`ErrorKind::RETRYABLE`]), never for the others. Undocumented codes
    /// and failures without a code get the runtime's verdict.
    ///
    /// The client's own retries follow the runtime's verdict alone: it
    /// sends every operation's requests through one loop that does not
    /// know `K`.
    pub fn retry_verdict(&self) -> Verdict {
        match self.code() {
            Some(code) if !self.is_unhandled() && self.error.as_api().is_some() => {
                if is_rate_limit_code(code) {
                    Verdict::RetryAfterDelay
                } else if K::RETRYABLE.contains(&code) {
                    match self.error.retry_verdict() {
                        Verdict::DoNotRetry => Verdict::RetryNow,
                        verdict => verdict,
                    }
                } else {
                    Verdict::DoNotRetry
                }
            }
            _ => self.error.retry_verdict(),
        }
    }

    /// Whether sending the same request again, now or later, may succeed:
    /// [`retry_verdict`](Self::retry_verdict) is not
    /// [`Verdict::DoNotRetry`].
    pub fn is_retryable(&self) -> bool {
        self.retry_verdict() != Verdict::DoNotRetry
    }

    /// Whether the platform said to slow down (its rate-limit codes, or
    /// HTTP 429): [`Error::is_rate_limited`].
    pub fn is_rate_limited(&self) -> bool {
        self.error.is_rate_limited()
    }

    /// The finer code some errors carry in their message as `ErrCode: <n>`
    /// (for instance under 230099, "failed to create card content").
    pub fn sub_code(&self) -> Option<i64> {
        let msg = self.message()?;
        let start = msg.find("ErrCode:")? + "ErrCode:".len();
        let digits: String =
            msg[start..].trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    /// The runtime's error behind this one.
    pub fn runtime_error(&self) -> &Error {
        &self.error
    }

    /// The runtime's error behind this one, by value.
    pub fn into_runtime_error(self) -> Error {
        *self.error
    }

    /// The same error without the operation's kinds, for code that handles
    /// the errors of many operations alike.
    pub fn untyped(self) -> OperationError {
        OperationError { kind: Untyped::Unhandled, error: self.error }
    }
}

impl<K: ErrorKind> From<Error> for OperationError<K> {
    fn from(error: Error) -> Self {
        let kind = error.as_api().map_or(K::UNHANDLED, |api| K::of(api.code));
        Self { kind, error: Box::new(error) }
    }
}

impl<K: ErrorKind> From<ApiError> for OperationError<K> {
    fn from(error: ApiError) -> Self {
        Error::from(error).into()
    }
}

impl<K: ErrorKind> From<ValidationError> for OperationError<K> {
    fn from(error: ValidationError) -> Self {
        Error::from(error).into()
    }
}

impl<K: DocumentedKind> From<OperationError<K>> for OperationError<Untyped> {
    fn from(error: OperationError<K>) -> Self {
        error.untyped()
    }
}

impl<K> From<OperationError<K>> for Error {
    fn from(error: OperationError<K>) -> Self {
        *error.error
    }
}

// `BotNotInGroup(Api(ApiError { .. }))`: as an enum variant of the kind would print.
impl<K: fmt::Debug> fmt::Debug for OperationError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({:?})", self.kind, self.error)
    }
}

impl<K> fmt::Display for OperationError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<K: fmt::Debug> std::error::Error for OperationError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// One request field the platform rejected, from `error.field_violations`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldViolation {
    /// The field's wire name (a path such as `content.text` for nested ones).
    pub field: String,
    /// The value that was sent, as the platform echoes it.
    pub value: Option<String>,
    /// What is wrong with it.
    pub description: Option<String>,
}

impl ApiError {
    /// The `error` object of the body, where the platform puts its details.
    fn details(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.body.as_ref()?.get("error")?.as_object()
    }

    /// The documented troubleshooting link the platform sends with some
    /// errors (`error.troubleshooter`).
    pub fn troubleshooter(&self) -> Option<&str> {
        self.details()?.get("troubleshooter")?.as_str()
    }

    /// The request fields the platform rejected (`error.field_violations`);
    /// entries without a field name are skipped.
    pub fn field_violations(&self) -> Vec<FieldViolation> {
        let Some(list) =
            self.details().and_then(|d| d.get("field_violations")).and_then(|v| v.as_array())
        else {
            return Vec::new();
        };
        let text = |item: &serde_json::Value, key: &str| match item.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        };
        list.iter()
            .filter_map(|item| {
                Some(FieldViolation {
                    field: text(item, "field")?,
                    value: text(item, "value"),
                    description: text(item, "description"),
                })
            })
            .collect()
    }
}

/// A successful answer: the decoded `data` (reachable through `Deref`)
/// and what the platform said about the call, such as its log id.
#[derive(Clone, Debug, PartialEq)]
pub struct Response<T> {
    data: T,
    http_status: u16,
    log_id: Option<String>,
}

impl<T> Response<T> {
    /// A response of `data`, for tests and for code that wraps the client.
    pub fn new(data: T, http_status: u16, log_id: Option<String>) -> Self {
        Self { data, http_status, log_id }
    }

    /// The `X-Tt-Logid` of the answer.
    pub fn log_id(&self) -> Option<&str> {
        self.log_id.as_deref()
    }

    /// The HTTP status of the answer.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// The decoded `data`.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The decoded `data`, by value.
    pub fn into_inner(self) -> T {
        self.data
    }

    /// The same answer with its `data` turned into something else.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response { data: f(self.data), http_status: self.http_status, log_id: self.log_id }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::codes;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Kind {
        Recalled,
        Overloaded,
        Unhandled,
    }

    impl ErrorKind for Kind {
        const UNHANDLED: Self = Kind::Unhandled;
        const RETRYABLE: &'static [i64] = &[230099];

        fn of(code: i64) -> Self {
            match code {
                230011 => Kind::Recalled,
                230099 => Kind::Overloaded,
                _ => Kind::Unhandled,
            }
        }
    }

    impl DocumentedKind for Kind {}

    fn api(
        http_status: u16,
        code: i64,
        msg: &str,
        body: Option<serde_json::Value>,
    ) -> OperationError<Kind> {
        ApiError { http_status, code, msg: msg.into(), log_id: Some("L1".into()), body }.into()
    }

    #[test]
    fn the_kind_comes_from_the_code_and_everything_else_is_unhandled() {
        let e = api(400, 230011, "recalled", None);
        assert_eq!(e.kind(), Kind::Recalled);
        assert!(e.is(Kind::Recalled) && !e.is(Kind::Overloaded) && !e.is_unhandled());
        assert_eq!(
            (e.code(), e.http_status(), e.log_id(), e.message()),
            (Some(230011), Some(400), Some("L1"), Some("recalled"))
        );
        let undocumented = api(400, 1, "m", None);
        assert!(undocumented.is_unhandled() && !undocumented.is(Kind::Unhandled));
        let timeout = OperationError::<Kind>::from(Error::Timeout);
        assert_eq!(timeout.kind(), Kind::Unhandled);
        assert_eq!((timeout.code(), timeout.log_id(), timeout.api_error()), (None, None, None));
        let invalid =
            OperationError::<Kind>::from(ValidationError::new("uuid", "max_length", "too long"));
        assert_eq!(invalid.validation().map(|v| v.field.as_str()), Some("uuid"));
    }

    #[test]
    fn retryable_follows_the_documented_codes_then_the_runtime() {
        assert!(api(400, 230099, "m", None).is_retryable());
        assert!(!api(400, 230011, "m", None).is_retryable());
        // A documented code keeps its documented verdict, whatever the status.
        assert!(!api(500, 230011, "m", None).is_retryable());
        // Rate limits are retryable under any kind.
        assert!(api(400, codes::IM_RATE_LIMITED, "m", None).is_retryable());
        assert!(api(400, codes::IM_RATE_LIMITED, "m", None).is_rate_limited());
        assert!(api(200, codes::RATE_LIMITED, "m", None).is_rate_limited());
        assert_eq!(
            api(400, codes::IM_RATE_LIMITED, "m", None).retry_verdict(),
            Verdict::RetryAfterDelay
        );
        assert_eq!(api(400, 230099, "m", None).retry_verdict(), Verdict::RetryNow);
        assert_eq!(api(500, 230011, "m", None).retry_verdict(), Verdict::DoNotRetry);
        assert!(api(429, 1, "m", None).is_rate_limited());
        assert!(!api(400, 230011, "m", None).is_rate_limited());
        // Undocumented codes fall back on the HTTP status.
        assert!(api(503, 1, "m", None).is_retryable());
        assert!(!api(400, 1, "m", None).is_retryable());
        assert!(OperationError::<Kind>::from(Error::Timeout).is_retryable());
        assert!(
            !OperationError::<Kind>::from(Error::Config(crate::error::ConfigError::new("s", "r")))
                .is_retryable()
        );
        let no_ticket = OperationError::<Kind>::from(Error::from(
            crate::error::AuthError::AppTicketNotReceived,
        ));
        assert_eq!(no_ticket.retry_verdict(), Verdict::RetryAfterDelay);
    }

    #[test]
    fn details_of_the_body_are_typed() {
        let body = serde_json::json!({
            "code": 99992402, "msg": "field validation failed",
            "error": {
                "troubleshooter": "https://open.feishu.cn/search?log_id=L1",
                "field_violations": [
                    {"field": "receive_id", "value": "x", "description": "invalid"},
                    {"field": "uuid"},
                    {"value": "no field name"},
                    {"field": "count", "value": 7}
                ]
            }
        });
        let e = api(400, 99992402, "field validation failed", Some(body));
        assert_eq!(e.troubleshooter(), Some("https://open.feishu.cn/search?log_id=L1"));
        let violations = e.field_violations();
        let fields: Vec<(&str, Option<&str>, Option<&str>)> = violations
            .iter()
            .map(|v| (v.field.as_str(), v.value.as_deref(), v.description.as_deref()))
            .collect();
        assert_eq!(
            fields,
            [
                ("receive_id", Some("x"), Some("invalid")),
                ("uuid", None, None),
                ("count", Some("7"), None)
            ]
        );
        let plain = api(400, 1, "m", Some(serde_json::json!({"error": "not an object"})));
        assert_eq!((plain.troubleshooter(), plain.field_violations()), (None, Vec::new()));
    }

    #[test]
    fn sub_codes_are_read_from_the_message() {
        assert_eq!(
            api(400, 230099, "Failed to create card content, ext=ErrCode: 200621; ErrMsg: x", None)
                .sub_code(),
            Some(200621)
        );
        assert_eq!(api(400, 230099, "no sub code", None).sub_code(), None);
        assert_eq!(api(400, 230099, "ErrCode: x", None).sub_code(), None);
    }

    #[test]
    fn conversions_keep_the_runtime_error_and_the_display() {
        let e = api(400, 230011, "recalled", None);
        assert_eq!(e.to_string(), "Feishu API error 230011: recalled (HTTP 400, log_id L1)");
        assert!(format!("{e:?}").starts_with("Recalled(Api(ApiError"), "{e:?}");
        let untyped = e.untyped();
        assert_eq!((untyped.kind(), untyped.code()), (Untyped::Unhandled, Some(230011)));
        let runtime: Error = untyped.into();
        fn untyped_by_question_mark() -> Result<(), OperationError> {
            Err(api(400, 230011, "recalled", None))?
        }
        assert_eq!(untyped_by_question_mark().unwrap_err().code(), Some(230011));
        assert_eq!(runtime.code(), Some(230011));
        assert_eq!(std::mem::size_of::<OperationError<Kind>>(), 2 * std::mem::size_of::<usize>());
    }

    #[test]
    fn a_response_reads_as_its_data_and_keeps_the_log_id() {
        let mut r = Response::new(vec![1, 2], 200, Some("L2".into()));
        assert_eq!((r.len(), r.log_id(), r.http_status()), (2, Some("L2"), 200));
        r.push(3);
        assert_eq!(r.map(|v| v.len()).into_inner(), 3);
    }
}
