//! Helpers shared by the integration tests: a sandbox on a free port with the
//! workspace spec, and a small JSON client for it.

#![allow(dead_code)]

use std::path::Path;

use feishu_sandbox::{Sandbox, SandboxConfig};
use reqwest::Method;
use serde_json::{Value, json};

/// The workspace's checked-in spec.
pub fn config() -> SandboxConfig {
    SandboxConfig::from_spec_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec")))
        .expect("the workspace spec loads")
}

/// A running sandbox, a client and a valid tenant token.
pub struct Env {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    pub token: String,
}

/// An answer: status, headers and the body parsed as JSON (`Value::String` of the text when it is not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or_else(|| panic!("no code in {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn start() -> Env {
    start_with(config()).await
}

pub async fn start_with(config: SandboxConfig) -> Env {
    let sandbox = Sandbox::start(config, 0).await.expect("the sandbox starts");
    let http = reqwest::Client::new();
    let mut env = Env { sandbox, http, token: String::new() };
    let answer = env
        .raw(
            Method::POST,
            "/open-apis/auth/v3/tenant_access_token/internal",
            None,
            Some(json!({"app_id": "cli_sandbox", "app_secret": "sandbox-secret"})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    env.token = answer.body["tenant_access_token"].as_str().expect("a token").to_string();
    env
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.url())
    }

    /// A request with an explicit `Authorization` header (or none).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.try_raw(method, path, authorization, body).await.expect("the sandbox answers")
    }

    pub async fn try_raw(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self.http.request(method, self.url(path));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Answer { status, headers, body })
    }

    /// An `/open-apis` call with the env's token.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let authorization = format!("Bearer {}", self.token);
        self.raw(method, path, Some(&authorization), body).await
    }

    pub async fn try_api(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, reqwest::Error> {
        let authorization = format!("Bearer {}", self.token);
        self.try_raw(method, path, Some(&authorization), body).await
    }

    /// A `/_sandbox` call; answers status and body.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let answer = self.raw(method, &format!("/_sandbox{path}"), None, body).await;
        (answer.status, answer.body)
    }

    pub async fn chat(&self, chat_type: &str, user_open_id: Option<&str>) -> String {
        let mut body = json!({ "chat_type": chat_type });
        if let Some(user) = user_open_id {
            body["user_open_id"] = user.into();
        }
        let (status, answer) = self.control(Method::POST, "/chats", Some(body)).await;
        assert_eq!(status, 200, "{answer}");
        answer["chat_id"].as_str().unwrap().to_string()
    }

    /// Sends a text message; answers the whole answer.
    pub async fn send_text(&self, receive_id_type: &str, receive_id: &str, text: &str) -> Answer {
        let content = json!({ "text": text }).to_string();
        self.api(
            Method::POST,
            &format!("/open-apis/im/v1/messages?receive_id_type={receive_id_type}"),
            Some(json!({ "receive_id": receive_id, "msg_type": "text", "content": content })),
        )
        .await
    }

    /// Sends a text message to a chat and answers its id, asserting success.
    pub async fn send_ok(&self, chat_id: &str, text: &str) -> String {
        let answer = self.send_text("chat_id", chat_id, text).await;
        assert_eq!((answer.status, answer.code()), (200, 0), "{}", answer.body);
        answer.body["data"]["message_id"].as_str().unwrap().to_string()
    }

    pub async fn stored_messages(&self) -> Vec<Value> {
        let (_, body) = self.control(Method::GET, "/messages", None).await;
        body["messages"].as_array().unwrap().clone()
    }

    pub async fn requests(&self) -> Vec<Value> {
        let (_, body) = self.control(Method::GET, "/requests", None).await;
        body["requests"].as_array().unwrap().clone()
    }

    pub async fn fault(&self, rule: Value) -> u64 {
        let (status, body) = self.control(Method::POST, "/faults", Some(rule)).await;
        assert_eq!(status, 200, "{body}");
        body["id"].as_u64().unwrap()
    }
}
