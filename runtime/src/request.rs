//! The description of one API call, as generated code builds it.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::error::Error;
use crate::secret::Secret;
use crate::transport::multipart::{Content, Form, FormBody};
use crate::upload::UploadFile;

/// An HTTP method of the platform's API (its own type, so that the HTTP
/// library's stays out of the public API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)] // as HTTP spells them, and as `http::Method` does
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    GET,
    /// `POST`.
    POST,
    /// `PUT`.
    PUT,
    /// `PATCH`.
    PATCH,
    /// `DELETE`.
    DELETE,
    /// `HEAD`.
    HEAD,
    /// `OPTIONS`.
    OPTIONS,
}

impl Method {
    /// The method as HTTP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::HEAD => "HEAD",
            Method::OPTIONS => "OPTIONS",
        }
    }

    pub(crate) fn to_http(self) -> http::Method {
        match self {
            Method::GET => http::Method::GET,
            Method::POST => http::Method::POST,
            Method::PUT => http::Method::PUT,
            Method::PATCH => http::Method::PATCH,
            Method::DELETE => http::Method::DELETE,
            Method::HEAD => http::Method::HEAD,
            Method::OPTIONS => http::Method::OPTIONS,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which access token an endpoint is called with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// The app's tenant_access_token, fetched and cached by the client.
    Tenant,
    /// A user_access_token, given in [`RequestOptions`] directly
    /// ([`RequestOptions::user_token`]) or by user key
    /// ([`RequestOptions::user_key`]); the call fails with a validation error
    /// on `user_access_token` without one.
    User,
    /// The endpoint accepts either: the user token when [`RequestOptions`]
    /// carries one (or a user key), otherwise the tenant token.
    TenantOrUser,
    /// The app_access_token, fetched and cached by the client.
    App,
    /// No `Authorization` header.
    None,
}

/// Per-call settings chosen by the caller rather than the endpoint.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// The user token for endpoints with [`Auth::User`] or
    /// [`Auth::TenantOrUser`]; any other endpoint refuses the call before
    /// sending it ([`AuthError::TokenNotAccepted`](crate::AuthError::TokenNotAccepted)).
    pub user_access_token: Option<Secret>,
    /// The caller's key of a user whose tokens the client keeps
    /// ([`UserAuth`](crate::UserAuth)); used like `user_access_token`, and
    /// refreshed as needed. The key is not treated as a secret (it shows in
    /// `Debug` and in errors): use an id such as the user's open_id, not a
    /// session secret.
    pub user_key: Option<String>,
    /// The tenant whose tenant token a marketplace app uses (required
    /// there for endpoints that take one; refused on self-built apps).
    pub tenant_key: Option<String>,
    /// Extra headers, sent after the ones the runtime sets.
    pub headers: Vec<(String, String)>,
    /// Replaces the client's timeout for this call (e.g. a large upload).
    pub timeout: Option<Duration>,
    /// The caller vouches that sending this call twice is harmless (say, a
    /// catalogue-only send whose body carries a `uuid`), so the client may
    /// retry it after an ambiguous failure such as a time-out.
    pub idempotent: bool,
}

impl RequestOptions {
    /// Options carrying a user access token.
    pub fn user(token: impl Into<Secret>) -> Self {
        Self { user_access_token: Some(token.into()), ..Self::default() }
    }

    /// Sends the call with this user_access_token, which the caller manages.
    pub fn user_token(mut self, token: impl Into<Secret>) -> Self {
        self.user_access_token = Some(token.into());
        self
    }

    /// Sends the call as the user whose tokens the client keeps under
    /// `user_key` (see [`UserAuth`](crate::UserAuth)).
    pub fn user_key(mut self, user_key: impl Into<String>) -> Self {
        self.user_key = Some(user_key.into());
        self
    }

    /// Names the tenant of a marketplace app's call.
    pub fn tenant_key(mut self, tenant_key: impl Into<String>) -> Self {
        self.tenant_key = Some(tenant_key.into());
        self
    }

    /// Replaces the client's time limit for this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Marks the call as safe to repeat (see [`RequestOptions::idempotent`](Self::idempotent)).
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Adds an extra header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Fills an idempotency key field with a fresh key (a UUID v4) if it is
/// empty, and leaves a caller's own key alone. Typed operations call it once
/// per call, before serialising, so every retry sends the same key.
pub fn fill_idempotency_key(field: &mut Option<String>) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(crate::random::new_idempotency_key());
    }
}

/// Header names whose values are credentials: never printed.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization", "x-api-key"]
        .iter()
        .any(|s| name.eq_ignore_ascii_case(s))
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let v = if is_sensitive_header(n) { "***" } else { v.as_str() };
                (n.as_str(), v)
            })
            .collect();
        f.debug_struct("RequestOptions")
            .field("user_access_token", &self.user_access_token)
            .field("user_key", &self.user_key)
            .field("tenant_key", &self.tenant_key)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// A request body.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    #[default]
    None,
    /// A JSON body, sent as `application/json; charset=utf-8`.
    Json(serde_json::Value),
    /// A JSON body already serialised, sent as `application/json;
    /// charset=utf-8`. Typed operations send this (see
    /// [`ApiRequest::json_encoded`]); the client does not look inside it.
    JsonBytes(Bytes),
    /// A `multipart/form-data` body (file uploads).
    Multipart(Multipart),
}

impl Body {
    /// Whether the body can be sent again: false once a one-shot upload
    /// reader has started going out.
    pub fn is_repeatable(&self) -> bool {
        match self {
            Body::Multipart(form) => form
                .parts
                .iter()
                .all(|p| !matches!(p, Part::Upload { file, .. } if !file.is_repeatable())),
            _ => true,
        }
    }

    /// Serialises `value` into a JSON body.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        serde_json::to_value(value).map(Body::Json).map_err(Error::Encode)
    }

    /// Serialises `value` into an already encoded JSON body.
    pub fn json_encoded<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        serde_json::to_vec(value)
            .map(|bytes| Body::JsonBytes(Bytes::from(bytes)))
            .map_err(Error::Encode)
    }
}

/// A multipart form kept as a description of its parts, so that the same
/// request can be sent again (a streamed form is consumed by sending).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Multipart {
    /// The parts, in order.
    pub parts: Vec<Part>,
}

/// One field of a [`Multipart`] form.
#[derive(Clone, PartialEq)]
pub enum Part {
    /// A text field.
    Text {
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// A file field.
    File {
        /// Field name.
        name: String,
        /// File contents (cheap to clone).
        bytes: Bytes,
        /// File name sent in `Content-Disposition`.
        filename: String,
        /// MIME type; `application/octet-stream` when `None`.
        mime: Option<String>,
    },
    /// A file streamed from an [`UploadFile`] (a path, bytes or a reader),
    /// with its name and content type.
    Upload {
        /// Field name.
        name: String,
        /// The file.
        file: UploadFile,
    },
}

// Files can be large: show their size, not their contents.
impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Text { name, value } => {
                f.debug_struct("Text").field("name", name).field("value", value).finish()
            }
            Part::File { name, bytes, filename, mime } => f
                .debug_struct("File")
                .field("name", name)
                .field("len", &bytes.len())
                .field("filename", filename)
                .field("mime", mime)
                .finish(),
            Part::Upload { name, file } => {
                f.debug_struct("Upload").field("name", name).field("file", file).finish()
            }
        }
    }
}

impl Multipart {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push(Part::Text { name: name.into(), value: value.into() });
        self
    }

    /// Adds a file field.
    pub fn file(
        mut self,
        name: impl Into<String>,
        bytes: impl Into<Bytes>,
        filename: impl Into<String>,
        mime: Option<String>,
    ) -> Self {
        self.parts.push(Part::File {
            name: name.into(),
            bytes: bytes.into(),
            filename: filename.into(),
            mime,
        });
        self
    }

    /// Adds a file streamed from `file`, under its own name and type.
    pub fn upload(mut self, name: impl Into<String>, file: UploadFile) -> Self {
        self.parts.push(Part::Upload { name: name.into(), file });
        self
    }

    /// Builds a fresh body for one attempt: its `Content-Type` and the
    /// streamed form.
    pub(crate) fn to_body(&self) -> Result<(String, FormBody), Error> {
        let mut form = Form::new();
        for part in &self.parts {
            match part {
                Part::Text { name, value } => form.text(name, value),
                Part::File { name, bytes, filename, mime } => {
                    let mime = mime.as_deref().unwrap_or("application/octet-stream");
                    form.file(
                        name,
                        filename,
                        mime,
                        Content::Bytes(bytes.clone()),
                        bytes.len() as u64,
                    )
                }
                Part::Upload { name, file } => {
                    form.file(name, file.file_name(), &file.mime(), file.content()?, file.len())
                }
            }
        }
        Ok(form.finish())
    }
}

/// One API call: the endpoint, its parameters and how to authenticate.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApiRequest {
    /// HTTP method.
    pub method: Method,
    /// Path with path parameters already substituted and encoded, e.g.
    /// `/open-apis/im/v1/messages/om_1/reply` (see [`encode_path_segment`]).
    pub path: String,
    /// Query parameters, in order; the runtime encodes them.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// Which token the endpoint takes.
    pub auth: Auth,
    /// The caller's per-call options.
    pub options: RequestOptions,
    /// The endpoint's id (`im.v1.message.reply`): names the call in tracing
    /// and keys its rate limit.
    pub endpoint: Option<&'static str>,
    /// The endpoint's documented limits, which the client keeps to.
    pub rate_limit: RateLimit,
    /// Who receives what this call sends (a user or chat ID), for limits
    /// per receiver.
    pub receiver: Option<String>,
    /// The JSON body field that carries an idempotency key (`uuid`). When
    /// the body lacks it, the client puts in a fresh key once per call and
    /// sends the same key on every retry, so that the platform acts at most
    /// once however often the call is retried.
    pub idempotency_field: Option<&'static str>,
    /// The answer is a file to stream ([`crate::Client::send_bytes`]).
    pub(crate) stream_response: bool,
}

impl ApiRequest {
    /// A request without query, body or options, authenticated with the
    /// tenant token.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::None,
            auth: Auth::Tenant,
            options: RequestOptions::default(),
            endpoint: None,
            rate_limit: RateLimit::default(),
            receiver: None,
            idempotency_field: None,
            stream_response: false,
        }
    }

    /// Names the endpoint (see [`ApiRequest::endpoint`](Self::endpoint)).
    pub fn endpoint(mut self, id: &'static str) -> Self {
        self.endpoint = Some(id);
        self
    }

    /// Sets the documented limits.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets the receiver for per-receiver limits; empty values are ignored.
    pub fn receiver(mut self, receiver: impl Into<String>) -> Self {
        let receiver = receiver.into();
        self.receiver = (!receiver.is_empty()).then_some(receiver);
        self
    }

    /// Names the body field that carries the idempotency key.
    pub fn idempotency_field(mut self, field: &'static str) -> Self {
        self.idempotency_field = Some(field);
        self
    }

    /// Fills the idempotency field with a fresh key if the JSON body lacks
    /// one (absent, `null` or empty).
    pub(crate) fn ensure_idempotency_key(&mut self) {
        let (Some(field), Body::Json(serde_json::Value::Object(map))) =
            (self.idempotency_field, &mut self.body)
        else {
            return;
        };
        let missing = match map.get(field) {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if missing {
            map.insert(
                field.to_owned(),
                serde_json::Value::String(crate::random::new_idempotency_key()),
            );
        }
    }

    /// Whether sending this request twice has the effect of sending it once:
    /// reads and deletes by method, writes when they carry an idempotency
    /// key, or when the caller vouches for it in [`RequestOptions`].
    pub fn is_idempotent(&self) -> bool {
        if self.options.idempotent
            || matches!(
                self.method,
                Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
            )
        {
            return true;
        }
        let Some(field) = self.idempotency_field else {
            return false;
        };
        let carries_key = |body: &serde_json::Value| {
            body.get(field).and_then(|v| v.as_str()).is_some_and(|s| !s.is_empty())
        };
        match &self.body {
            Body::Json(body) => carries_key(body),
            // Asked only after a failure, so reading the bytes back is cheap
            // enough, and exact where a search of the text would not be.
            Body::JsonBytes(bytes) => {
                serde_json::from_slice(bytes).is_ok_and(|body| carries_key(&body))
            }
            _ => false,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Adds a query parameter if it has a value.
    pub fn query_opt<V: ToString>(self, name: impl Into<String>, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Serialises `value` straight into the body's bytes.
    ///
    /// Meant for typed requests, which have filled their idempotency key
    /// already (see [`fill_idempotency_key`]) and checked their message
    /// size in `validate()`: [`ApiRequest::json`] builds a
    /// `serde_json::Value` first so that the client can do both for
    /// hand-built bodies, and that cost about a tenth of a call.
    pub fn json_encoded<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        Ok(self.body(Body::json_encoded(value)?))
    }

    /// Serialises `value` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        Ok(self.body(Body::json(value)?))
    }

    /// Sets the authentication.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the caller's options.
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }
}

/// Percent-encodes one path segment: everything but ASCII letters, digits
/// and `-._~` is escaped, so an ID containing `/`, `?` or `#` cannot change
/// the path.
///
/// A segment that is `.` or `..` is escaped whole (`%2E`, `%2E%2E`): left
/// as is, it would move the request to another path.
pub fn encode_path_segment(segment: &str) -> String {
    if matches!(segment, "." | "..") {
        return "%2E".repeat(segment.len());
    }
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The documented request limits of one endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests per second for the whole app.
    pub per_second: Option<u32>,
    /// Requests per minute for the whole app.
    pub per_minute: Option<u32>,
    /// Requests per second to one receiver (a user or chat); Feishu allows
    /// 5 messages per second to the same user or group.
    pub per_receiver_per_second: Option<u32>,
}

impl RateLimit {
    /// Limits of `per_second` and `per_minute` requests.
    pub const fn new(per_second: Option<u32>, per_minute: Option<u32>) -> Self {
        Self { per_second, per_minute, per_receiver_per_second: None }
    }

    /// Adds a per-receiver limit.
    pub const fn per_receiver(mut self, per_second: u32) -> Self {
        self.per_receiver_per_second = Some(per_second);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_key_is_kept_and_an_empty_one_replaced() {
        let mut own = Some("my-key".to_owned());
        fill_idempotency_key(&mut own);
        assert_eq!(own.as_deref(), Some("my-key"));
        for mut slot in [None, Some(String::new())] {
            fill_idempotency_key(&mut slot);
            assert_eq!(slot.map(|k| k.len()), Some(36));
        }
    }

    #[test]
    fn an_encoded_body_is_idempotent_when_it_carries_the_key() {
        #[derive(Serialize)]
        struct Reply<'a> {
            content: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            uuid: Option<&'a str>,
        }
        let request = |uuid| {
            ApiRequest::new(Method::POST, "/x")
                .idempotency_field("uuid")
                .json_encoded(&Reply { content: "{\"uuid\":\"\"}", uuid })
                .unwrap()
        };
        assert!(request(Some("k-1")).is_idempotent());
        assert!(!request(Some("")).is_idempotent());
        assert!(!request(None).is_idempotent());
        let no_field = ApiRequest::new(Method::POST, "/x")
            .json_encoded(&Reply { content: "", uuid: Some("k-1") })
            .unwrap();
        assert!(!no_field.is_idempotent());
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_path_segment("om_1-a.b~c"), "om_1-a.b~c");
        assert_eq!(encode_path_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_path_segment("你"), "%E4%BD%A0");
        assert_eq!(encode_path_segment("%"), "%25");
        assert_eq!(encode_path_segment(".."), "%2E%2E");
        assert_eq!(encode_path_segment("."), "%2E");
        assert_eq!(encode_path_segment("..."), "...");
    }

    #[test]
    fn options_debug_hides_tokens_and_auth_headers() {
        let o = RequestOptions::user("u-secret")
            .header("Authorization", "Bearer hidden")
            .header("X-Trace", "visible");
        let s = format!("{o:?}");
        assert!(!s.contains("u-secret") && !s.contains("hidden"), "{s}");
        assert!(s.contains("visible") && s.contains("X-Trace"), "{s}");
    }

    #[test]
    fn builder_methods() {
        let r = ApiRequest::new(Method::GET, "/p")
            .query("a", 1)
            .query_opt("b", None::<i32>)
            .query_opt("c", Some("x"))
            .auth(Auth::User);
        assert_eq!(r.query, vec![("a".into(), "1".into()), ("c".into(), "x".into())]);
        assert_eq!(r.auth, Auth::User);
        let r = r.json(&serde_json::json!({"k": 1})).unwrap();
        assert!(matches!(r.body, Body::Json(ref v) if v["k"] == 1));
    }

    #[test]
    fn idempotency_key_is_added_once_and_kept() {
        let mut r = ApiRequest::new(Method::POST, "/p")
            .json(&serde_json::json!({"content": "x"}))
            .unwrap()
            .idempotency_field("uuid");
        assert!(!r.is_idempotent());
        r.ensure_idempotency_key();
        let first = r.body_json_field("uuid");
        assert_eq!(first.len(), 36);
        assert!(r.is_idempotent());
        r.ensure_idempotency_key();
        assert_eq!(r.body_json_field("uuid"), first);
        // The caller's own key is never replaced.
        let mut r = ApiRequest::new(Method::POST, "/p")
            .json(&serde_json::json!({"uuid": "mine"}))
            .unwrap()
            .idempotency_field("uuid");
        r.ensure_idempotency_key();
        assert_eq!(r.body_json_field("uuid"), "mine");
        // Without a named field nothing is added and a POST is not idempotent.
        let mut r = ApiRequest::new(Method::POST, "/p").json(&serde_json::json!({})).unwrap();
        r.ensure_idempotency_key();
        assert!(matches!(&r.body, Body::Json(v) if v.as_object().unwrap().is_empty()));
        assert!(!r.is_idempotent());
        assert!(r.clone().options(RequestOptions::default().idempotent()).is_idempotent());
        assert!(ApiRequest::new(Method::GET, "/p").is_idempotent());
    }

    impl ApiRequest {
        fn body_json_field(&self, name: &str) -> String {
            match &self.body {
                Body::Json(v) => v[name].as_str().unwrap_or_default().to_owned(),
                _ => String::new(),
            }
        }
    }

    #[test]
    fn file_part_debug_shows_size_not_contents() {
        let m = Multipart::new().file("file", b"PRIVATE".to_vec(), "a.txt", None);
        let s = format!("{m:?}");
        assert!(s.contains("len: 7") && !s.contains("PRIVATE") && !s.contains("80, 82"), "{s}");
    }
}
