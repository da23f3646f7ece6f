//! One span per call, with the log id, and no secret in any trace.
//!
//! Alone in its binary: tracing caches per-callsite interest globally, so a
//! thread-local subscriber can miss events first hit by a test running in
//! parallel on another thread.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use feishu_runtime::{ApiRequest, Auth, Client, Method, RequestOptions};
use serde_json::json;
use support::trace::{Capture, Subscriber};
use support::{Reply, Server, TOKEN_PATH, token_reply};

const APP_SECRET: &str = "APP-SECRET-7f3a";
const TENANT_TOKEN: &str = "t-TENANT-9c1e";
const USER_TOKEN: &str = "u-USER-44b2";

fn assert_no_secret(what: &str, text: &str) {
    for secret in [APP_SECRET, TENANT_TOKEN, USER_TOKEN] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

async fn server() -> Server {
    Server::start(|r| {
        if r.path == TOKEN_PATH { token_reply(TENANT_TOKEN, 7200) } else { Reply::json(json!({"code": 0, "data": {}})).header("X-Tt-Logid", "LOG-TRACE") }
    })
    .await
}

fn new_client(server: &Server) -> Client {
    Client::builder("cli_test", APP_SECRET).base_url(server.url()).build().unwrap()
}

// Current-thread runtime: the thread-local subscriber sees every task.
#[tokio::test(flavor = "current_thread")]
async fn traces_name_the_call_and_its_log_id_but_no_secret() {
    let capture = Arc::new(Capture::default());
    let _guard = tracing::subscriber::set_default(Subscriber(capture.clone()));
    let server = server().await;
    let client = new_client(&server);

    client.send_value(ApiRequest::new(Method::POST, "/open-apis/im/v1/messages").json(&json!({})).unwrap()).await.unwrap();
    client.send_value(ApiRequest::new(Method::GET, "/open-apis/b").auth(Auth::User).options(RequestOptions::user(USER_TOKEN))).await.unwrap();
    let failing = Server::start(|_| Reply::json(json!({"code": 10014, "msg": "bad secret"}))).await;
    let err = new_client(&failing).send_value(ApiRequest::new(Method::GET, "/open-apis/c")).await.unwrap_err();
    assert_eq!(err.code(), Some(10014));

    let spans = capture.spans.lock().unwrap();
    let requests: Vec<HashMap<&str, &str>> =
        spans.values().filter(|(name, _)| name == "feishu.request").map(|(_, fields)| fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).collect();
    assert_eq!(requests.len(), 3);
    let first = requests.iter().find(|f| f.get("path") == Some(&"/open-apis/im/v1/messages")).unwrap();
    assert_eq!(first.get("method"), Some(&"POST"));
    assert_eq!(first.get("log_id"), Some(&"LOG-TRACE"));
    assert_eq!(first.get("http_status"), Some(&"200"));
    let failed = requests.iter().find(|f| f.get("path") == Some(&"/open-apis/c")).unwrap();
    assert_eq!(failed.get("code"), Some(&"10014"), "a failed call records its code");
    assert!(spans.values().any(|(name, _)| name == "feishu.token"), "token fetch has its own span");

    let mut everything = String::new();
    for (name, fields) in spans.values() {
        everything.push_str(&format!("{name} {fields:?}\n"));
    }
    for fields in capture.events.lock().unwrap().iter() {
        everything.push_str(&format!("{fields:?}\n"));
    }
    assert!(everything.contains("bad secret"), "the failure was traced: {everything}");
    assert_no_secret("traces", &everything);
}
