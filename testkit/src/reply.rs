//! Scripted answers, and the Feishu answers tests need most.

use std::time::Duration;

use serde_json::{Value, json};

use crate::JSON_CONTENT_TYPE;

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status (any of 100..=999, so tests can send odd ones).
    pub status: u16,
    /// Headers as sent; `Content-Length` is added by the server.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Wait this long before answering (to test timeouts).
    pub delay: Option<Duration>,
}

impl Reply {
    /// A 200 answer with `value` as its JSON body.
    pub fn json(value: Value) -> Self {
        Self::raw(
            200,
            JSON_CONTENT_TYPE,
            serde_json::to_vec(&value).expect("a JSON value serialises"),
        )
    }

    /// Any answer.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            delay: None,
        }
    }

    /// A successful envelope around `data`.
    pub fn ok(data: Value) -> Self {
        Self::json(json!({"code": 0, "msg": "success", "data": data}))
    }

    /// An error envelope `{code, msg}` with the given HTTP status.
    pub fn error(status: u16, code: i64, msg: &str) -> Self {
        Self::json(json!({"code": code, "msg": msg})).status(status)
    }

    /// The same answer with another status.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same answer with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same answer, sent after `delay`.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// The answer of the tenant (or app) token endpoint: `token`, valid `expire`
/// seconds.
pub fn token_reply(token: &str, expire: i64) -> Reply {
    Reply::json(json!({
        "code": 0,
        "msg": "ok",
        "tenant_access_token": token,
        "app_access_token": token,
        "expire": expire,
    }))
}
