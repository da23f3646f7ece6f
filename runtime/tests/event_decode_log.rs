//! Issue 24 item 4: an event body that does not decode into its handler's
//! type is acknowledged as not handled (200, not 500: the platform would
//! push every event of the type again for hours), and logged with its type
//! and size, never its content.
//!
//! Alone in its binary: tracing caches per-callsite interest globally, so a
//! thread-local subscriber can miss events first hit by a test running in
//! parallel on another thread.

#![cfg(feature = "events")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use feishu_runtime::events::{Dispatcher, Webhook, WebhookConfig};
use feishu_testkit::Capture;
use serde_json::json;
use support::MessageReceived;

// Current-thread runtime: the thread-local subscriber sees every task.
#[tokio::test(flavor = "current_thread")]
async fn an_undecodable_body_is_acked_as_not_handled_and_logged_without_its_content() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let runs = Arc::new(Mutex::new(0));
    let mut builder = Dispatcher::builder();
    {
        let runs = Arc::clone(&runs);
        builder
            .on(move |_ctx, _ev: MessageReceived| {
                let runs = Arc::clone(&runs);
                async move {
                    *runs.lock().unwrap() += 1;
                    Ok(())
                }
            })
            .unwrap();
    }
    let dispatcher = builder.build();
    let webhook = Webhook::new(WebhookConfig::new().verification_token("tok")).unwrap();
    // A schema mismatch: `message_id` a number, next to a user's text.
    let event = json!({"message": {"message_id": 5, "text": "SECRET-USER-TEXT-4e1b"}});
    let body = json!({
        "schema": "2.0",
        "header": {"event_id": "e1", "event_type": "im.message.receive_v1", "token": "tok"},
        "event": event,
    })
    .to_string();
    let no_headers: [(&str, &str); 0] = [];
    let answer = webhook.respond(&dispatcher, no_headers, body.as_bytes(), SystemTime::now()).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "{}"));
    assert!(!answer.body.contains("SECRET-USER-TEXT"));
    assert_eq!(*runs.lock().unwrap(), 0);
    // Acknowledged for good: the platform's next push is a duplicate.
    let again = webhook.respond(&dispatcher, no_headers, body.as_bytes(), SystemTime::now()).await;
    assert_eq!(again.status, 200);

    let logged = capture.text();
    assert!(!logged.contains("SECRET-USER-TEXT"), "{logged}");
    let size = serde_json::to_vec(&event).unwrap().len().to_string();
    let line = logged
        .lines()
        .find(|line| line.contains("does not decode"))
        .unwrap_or_else(|| panic!("no warning: {logged}"));
    assert!(line.contains("im.message.receive_v1"), "{line}");
    assert!(line.contains(&format!(" bytes={size}")), "{line}");
}
