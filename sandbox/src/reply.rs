//! What a handler answers, before it becomes an HTTP response.

use serde_json::{Value, json};

/// An answer: status, extra headers and body. `code` is the Feishu envelope
/// code when the body is one, for the request log.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub code: Option<i64>,
}

impl Reply {
    /// A JSON body; `code` is read from the body's `code` key.
    pub(crate) fn json(status: u16, value: Value) -> Reply {
        let code = value.get("code").and_then(Value::as_i64);
        Reply {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: serde_json::to_vec(&value).unwrap_or_default(),
            code,
        }
    }

    /// A JSON body that is not a Feishu envelope (the control API).
    pub(crate) fn plain_json(status: u16, value: Value) -> Reply {
        Reply { code: None, ..Reply::json(status, value) }
    }

    /// What Feishu answers a path it does not serve.
    pub(crate) fn not_found() -> Reply {
        Reply::json(404, json!({ "code": 404, "msg": "404 page not found" }))
    }

    /// A control API error: `{"error": message}`.
    pub(crate) fn control_error(status: u16, message: impl Into<String>) -> Reply {
        Reply::plain_json(status, json!({ "error": message.into() }))
    }

    /// `{"code":0,"msg":"success","data":data}`, HTTP 200.
    pub(crate) fn success(data: Value) -> Reply {
        Reply::json(200, json!({ "code": 0, "msg": "success", "data": data }))
    }

    /// A Feishu error envelope, HTTP 400.
    pub(crate) fn error(code: i64, msg: impl Into<String>) -> Reply {
        Reply::error_with_status(400, code, msg)
    }

    /// A Feishu error envelope with the given HTTP status.
    pub(crate) fn error_with_status(status: u16, code: i64, msg: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "code": code, "msg": msg.into() }))
    }

    /// A body that is not JSON at all.
    pub(crate) fn text(status: u16, text: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: text.into().into_bytes(),
            code: None,
        }
    }

    /// Raw bytes (file downloads).
    pub(crate) fn binary(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "application/octet-stream",
            headers: Vec::new(),
            body,
            code: None,
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// `99991400` (or `code`) with the rate-limit headers.
    pub(crate) fn rate_limited(code: i64, limit: u32, reset_secs: u64) -> Reply {
        let msg = if code == 99991400 {
            "request trigger frequency limit"
        } else {
            "This operation triggers the frequency limit."
        };
        Reply::error(code, msg)
            .with_header("x-ogw-ratelimit-limit", limit.to_string())
            .with_header("x-ogw-ratelimit-reset", reset_secs.max(1).to_string())
    }
}

/// What a header or a URL keeps unescaped: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `text` percent-encoded (UTF-8), everything but the unreserved characters
/// escaped: for a redirect's query and a download's RFC 5987 file name.
pub(crate) fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}
