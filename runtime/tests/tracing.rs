//! One span per call, with the log id, and no secret in any trace.
//!
//! Alone in its binary: tracing caches per-callsite interest globally, so a
//! thread-local subscriber can miss events first hit by a test running in
//! parallel on another thread.

mod support;

use std::collections::HashMap;

use feishu_runtime::{ApiRequest, Auth, Method, RequestOptions};
use feishu_testkit::Capture;
use serde_json::json;
use support::secrets::{USER_TOKEN, assert_no_secret, client as new_client, server};
use support::{Reply, Server};

// Current-thread runtime: the thread-local subscriber sees every task.
#[tokio::test(flavor = "current_thread")]
async fn traces_name_the_call_and_its_log_id_but_no_secret() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = server().await;
    let client = new_client(&server);

    client
        .send_value(
            ApiRequest::new(Method::POST, "/open-apis/im/v1/messages").json(&json!({})).unwrap(),
        )
        .await
        .unwrap();
    client
        .send_value(
            ApiRequest::new(Method::GET, "/open-apis/b")
                .auth(Auth::User)
                .options(RequestOptions::user(USER_TOKEN)),
        )
        .await
        .unwrap();
    let failing = Server::start(|_| Reply::json(json!({"code": 10014, "msg": "bad secret"}))).await;
    let err = new_client(&failing)
        .send_value(ApiRequest::new(Method::GET, "/open-apis/c"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(10014));

    let spans = capture.spans();
    let requests: Vec<HashMap<&str, &str>> = spans
        .iter()
        .filter(|span| span.name == "feishu.request")
        .map(|span| span.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
        .collect();
    assert_eq!(requests.len(), 3);
    let first =
        requests.iter().find(|f| f.get("path") == Some(&"/open-apis/im/v1/messages")).unwrap();
    assert_eq!(first.get("method"), Some(&"POST"));
    assert_eq!(first.get("log_id"), Some(&"LOG-TRACE"));
    assert_eq!(first.get("http_status"), Some(&"200"));
    let failed = requests.iter().find(|f| f.get("path") == Some(&"/open-apis/c")).unwrap();
    assert_eq!(failed.get("code"), Some(&"10014"), "a failed call records its code");
    assert!(spans.iter().any(|span| span.name == "feishu.token"), "token fetch has its own span");

    let everything = capture.text();
    assert!(everything.contains("bad secret"), "the failure was traced: {everything}");
    assert_no_secret("traces", &everything);
}
