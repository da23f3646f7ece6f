//! The Rust clients compared: the generated one, the hand-written reqwest +
//! serde_json code a user would write instead, and the same hand-written
//! code one layer lower, on hyper-util's pooled client: what reqwest itself
//! costs per call, and the floor of the generated client, which is built on
//! hyper-util too.

use std::sync::Arc;

use feishu::Client;
use feishu::MessageId;
use feishu::im::message::ReplyRequest;
use serde::{Deserialize, Serialize};

use crate::server::{APP_ID, APP_SECRET};

/// The text every reply sends.
pub const CONTENT: &str = r#"{"text":"hello from the benchmark"}"#;

/// How many different messages the calls reply to, in turn: enough that the
/// per-receiver lanes of the limiter are exercised, few enough that they stay
/// under the limiter's idle-lane threshold (4,096).
pub const MESSAGES: usize = 1000;

/// The message the `i`-th call replies to.
pub fn message_id(i: usize) -> String {
    format!("om_bench_{:04}", i % MESSAGES)
}

/// Which client a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `client.im().message().reply(..)` with a default [`Client`]: validation,
    /// the rate limiter, retries, tracing spans and the token cache on.
    Generated,
    /// Hand-written reqwest + serde_json, with one token fetched up front.
    Raw,
    /// The same on hyper-util's legacy (pooled) client, without reqwest.
    Hyper,
}

impl Kind {
    /// The name used on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Generated => "generated",
            Kind::Raw => "raw",
            Kind::Hyper => "hyper",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "generated" => Some(Kind::Generated),
            "raw" => Some(Kind::Raw),
            "hyper" => Some(Kind::Hyper),
            _ => None,
        }
    }
}

/// A ready client of either kind; cheap to clone.
#[derive(Clone)]
pub enum Caller {
    /// The generated client.
    Generated(Client),
    /// The hand-written one.
    Raw(Arc<Raw>),
    /// The hand-written one on hyper-util.
    Hyper(Arc<RawHyper>),
}

impl Caller {
    /// Builds a client of `kind` for the server at `base` (the raw one fetches its token here).
    pub async fn new(kind: Kind, base: &str) -> Result<Self, String> {
        match kind {
            Kind::Generated => {
                let client = Client::builder(APP_ID, APP_SECRET)
                    .base_url(base)
                    .build()
                    .map_err(|e| e.to_string())?;
                Ok(Caller::Generated(client))
            }
            Kind::Raw => Ok(Caller::Raw(Arc::new(Raw::new(base).await?))),
            Kind::Hyper => Ok(Caller::Hyper(Arc::new(RawHyper::new(base).await?))),
        }
    }

    /// Makes the `i`-th reply; an error says what went wrong.
    pub async fn call(&self, i: usize) -> Result<(), String> {
        match self {
            Caller::Generated(client) => {
                let request = ReplyRequest::new(MessageId::new(message_id(i)), CONTENT, "text");
                // The call as the README writes it: through the method tree,
                // whose `.await` boxes the future (one allocation a call).
                let sent = client.im().message().reply(request).await.map_err(|e| e.to_string())?;
                if sent.message_id.is_none() {
                    return Err("the reply has no message_id".into());
                }
                Ok(())
            }
            Caller::Raw(raw) => raw.reply(&message_id(i)).await,
            Caller::Hyper(raw) => raw.reply(&message_id(i)).await,
        }
    }
}

/// The hand-written client: one `reqwest::Client`, one token.
pub struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

#[derive(Serialize)]
struct TokenRequest<'a> {
    app_id: &'a str,
    app_secret: &'a str,
}

#[derive(Deserialize)]
struct TokenResponse {
    code: i64,
    msg: String,
    tenant_access_token: Option<String>,
}

#[derive(Serialize)]
struct ReplyBody<'a> {
    content: &'a str,
    msg_type: &'a str,
}

#[derive(Deserialize)]
struct Envelope<T> {
    code: i64,
    msg: String,
    data: Option<T>,
}

/// The reply's `data`, field for field as the docs give it.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Message {
    message_id: String,
    root_id: Option<String>,
    parent_id: Option<String>,
    thread_id: Option<String>,
    msg_type: Option<String>,
    create_time: Option<String>,
    update_time: Option<String>,
    deleted: Option<bool>,
    updated: Option<bool>,
    chat_id: Option<String>,
    sender: Option<Sender>,
    body: Option<Body>,
    mentions: Option<Vec<Mention>>,
    upper_message_id: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Sender {
    id: Option<String>,
    id_type: Option<String>,
    sender_type: Option<String>,
    tenant_key: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Body {
    content: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Mention {
    key: Option<String>,
    id: Option<String>,
    id_type: Option<String>,
    name: Option<String>,
    tenant_key: Option<String>,
}

impl Raw {
    async fn new(base: &str) -> Result<Self, String> {
        let http = reqwest::Client::new();
        let base = base.trim_end_matches('/').to_owned();
        let token: TokenResponse = http
            .post(format!("{base}/open-apis/auth/v3/tenant_access_token/internal"))
            .json(&TokenRequest { app_id: APP_ID, app_secret: APP_SECRET })
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match (token.code, token.tenant_access_token) {
            (0, Some(token)) => Ok(Raw { http, base, token }),
            (code, _) => Err(format!("no token: {code} {}", token.msg)),
        }
    }

    async fn reply(&self, message_id: &str) -> Result<(), String> {
        let envelope: Envelope<Message> = self
            .http
            .post(format!("{}/open-apis/im/v1/messages/{message_id}/reply", self.base))
            .bearer_auth(&self.token)
            .json(&ReplyBody { content: CONTENT, msg_type: "text" })
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match envelope.data {
            Some(_) if envelope.code == 0 => Ok(()),
            _ => Err(format!("{} {}", envelope.code, envelope.msg)),
        }
    }
}

/// The hand-written client one layer lower: hyper-util's pooled HTTP/1
/// client, the same token, body and decoding as [`Raw`].
pub struct RawHyper {
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    base: String,
    authorization: hyper::header::HeaderValue,
}

impl RawHyper {
    async fn new(base: &str) -> Result<Self, String> {
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let base = base.trim_end_matches('/').to_owned();
        let body = serde_json::to_vec(&TokenRequest { app_id: APP_ID, app_secret: APP_SECRET })
            .map_err(|e| e.to_string())?;
        let token: TokenResponse = Self::post(
            &http,
            &format!("{base}/open-apis/auth/v3/tenant_access_token/internal"),
            None,
            body,
        )
        .await?;
        match (token.code, token.tenant_access_token) {
            (0, Some(token)) => {
                let authorization = hyper::header::HeaderValue::try_from(format!("Bearer {token}"))
                    .map_err(|e| e.to_string())?;
                Ok(RawHyper { http, base, authorization })
            }
            (code, _) => Err(format!("no token: {code} {}", token.msg)),
        }
    }

    async fn post<T: serde::de::DeserializeOwned>(
        http: &hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            http_body_util::Full<bytes::Bytes>,
        >,
        url: &str,
        authorization: Option<&hyper::header::HeaderValue>,
        body: Vec<u8>,
    ) -> Result<T, String> {
        use http_body_util::BodyExt;
        let mut request =
            hyper::Request::post(url).header(hyper::header::CONTENT_TYPE, "application/json");
        if let Some(value) = authorization {
            request = request.header(hyper::header::AUTHORIZATION, value);
        }
        let request = request
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = http.request(request).await.map_err(|e| e.to_string())?;
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    }

    async fn reply(&self, message_id: &str) -> Result<(), String> {
        let body = serde_json::to_vec(&ReplyBody { content: CONTENT, msg_type: "text" })
            .map_err(|e| e.to_string())?;
        let url = format!("{}/open-apis/im/v1/messages/{message_id}/reply", self.base);
        let envelope: Envelope<Message> =
            Self::post(&self.http, &url, Some(&self.authorization), body).await?;
        match envelope.data {
            Some(_) if envelope.code == 0 => Ok(()),
            _ => Err(format!("{} {}", envelope.code, envelope.msg)),
        }
    }
}
