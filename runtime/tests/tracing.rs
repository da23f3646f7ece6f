//! One span per call, with the log id, and no secret in any trace.
//!
//! Alone in its binary: tracing caches per-callsite interest globally, so a
//! thread-local subscriber can miss events first hit by a test running in
//! parallel on another thread.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use feishu_runtime::{ApiRequest, Auth, Method, RequestOptions};
use serde_json::json;
use support::secrets::{USER_TOKEN, assert_no_secret, client as new_client, server};
use support::{Reply, Server};

type FieldList = Vec<(String, String)>;

/// A subscriber that writes down every span and event field.
#[derive(Default)]
struct Capture {
    next_id: AtomicU64,
    spans: Mutex<HashMap<u64, (String, FieldList)>>,
    events: Mutex<Vec<FieldList>>,
}

struct Fields<'a>(&'a mut FieldList);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

struct Subscriber(Arc<Capture>);

impl tracing::Subscriber for Subscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.0.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        self.0.spans.lock().unwrap().insert(id, (span.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(id)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut spans = self.0.spans.lock().unwrap();
        let entry = spans.get_mut(&span.into_u64()).unwrap();
        values.record(&mut Fields(&mut entry.1));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
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
