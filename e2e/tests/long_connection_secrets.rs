//! A long-connection session with every tracing span and event recorded at
//! TRACE level: connecting, reconnecting after a dropped socket, a refused
//! bootstrap. The connection URL's secrets (`ticket`, `access_key`) and the
//! app secret never show in the logs, nor in the `Debug` or `Display` of
//! what a caller holds.
//!
//! The subscriber is process-wide, so this binary has a single test.

mod sandbox_support;

use std::time::Duration;

use feishu_runtime::events::Dispatcher;
use feishu_runtime::ws::Status;
use feishu_testkit::Capture;
use sandbox_support::{APP_ID, APP_SECRET, Env};
use serde_json::json;

/// Every `name=` in `text` is followed by `***`.
fn redacted(text: &str, name: &str) -> bool {
    text.match_indices(name).all(|(i, _)| text[i + name.len()..].starts_with("***"))
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone())
        .expect("no other subscriber is installed");
    let env = Env::start().await;
    let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(Dispatcher::builder().build())
        .reconnect_nonce(Duration::from_millis(10))
        .build()
        .unwrap();
    let mut status = client.status();
    let task = tokio::spawn({
        let client = client.clone();
        async move { client.start().await }
    });
    status.wait_for(|s| matches!(s, Status::Connected { .. })).await.unwrap();
    let request = json!({"via": "ws", "event_type": "im.chat.updated_v1", "event": {}, "drop_connection": "before_ack"});
    let (code, answer) = env.try_control(reqwest::Method::POST, "events", Some(request)).await;
    assert_eq!((code, &answer["status"]), (200, &json!(200)), "{answer}");
    assert!(
        answer["attempts"].as_u64().unwrap() >= 2,
        "the socket was dropped, so the client reconnected: {answer}"
    );
    let shown = format!("{client:?} {:?}", *client.status().borrow());
    client.shutdown().await;
    task.await.unwrap().unwrap();

    let refused = feishu_runtime::Client::builder(APP_ID, "a-wrong-secret-3c1d")
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(Dispatcher::builder().build())
        .build()
        .unwrap();
    let error = refused.start().await.unwrap_err();
    let shown = format!("{shown} {refused:?} {error} {error:?}");

    let logs = capture.text();
    assert!(logs.contains("long connection established"), "the session was logged:\n{logs}");
    assert!(logs.contains("service_id="), "the redacted URL keeps its ids:\n{logs}");
    for text in [&logs, &shown] {
        assert!(
            !text.contains(APP_SECRET) && !text.contains("a-wrong-secret-3c1d"),
            "an app secret leaked:\n{text}"
        );
        assert!(
            redacted(text, "ticket=") && redacted(text, "access_key="),
            "a URL secret leaked:\n{text}"
        );
    }
}
