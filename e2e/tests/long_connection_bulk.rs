//! Our long-connection client under the sandbox's bulk delivery (`"count"`
//! on `POST /_sandbox/events`, what `cargo xtask bench` times): every event
//! handled once, though the body names one message for all of them (the
//! sandbox gives each a message id of its own, and the client deduplicates
//! `im.message.receive_v1` by message id), with frames written in bursts.

mod sandbox_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_runtime::events::{Dispatcher, EventBody};
use feishu_runtime::ws::Status;
use sandbox_support::{APP_ID, APP_SECRET, Env};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct MessageReceived {
    message: Received,
}

#[derive(Debug, Deserialize)]
struct Received {
    message_id: String,
}

impl EventBody for MessageReceived {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}

/// How often each event id and each message id was handled.
type Seen = (BTreeMap<String, u32>, BTreeMap<String, u32>);

#[tokio::test]
async fn a_bulk_delivery_is_handled_once_per_event() {
    let env = Env::start().await;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let mut dispatcher = Dispatcher::builder();
    let recorder = Arc::clone(&seen);
    dispatcher
        .on(move |ctx, event: MessageReceived| {
            let mut seen = recorder.lock().unwrap();
            *seen.0.entry(ctx.event_id).or_default() += 1;
            *seen.1.entry(event.message.message_id).or_default() += 1;
            async { Ok(()) }
        })
        .unwrap();
    let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(dispatcher.build())
        .build()
        .unwrap();
    let mut status = client.status();
    let task = tokio::spawn({
        let client = client.clone();
        async move { client.start().await }
    });
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| matches!(s, Status::Connected { .. })),
    )
    .await
    .expect("connected in time")
    .unwrap();

    let body = json!({"message": {"message_id": "om_same", "chat_id": "oc_bulk", "message_type": "text", "content": "{\"text\":\"hi\"}"}});
    let (code, answer) = env
        .try_control(
            reqwest::Method::POST,
            "events",
            Some(json!({"via": "ws", "event_type": "im.message.receive_v1", "event": body, "count": 2000, "in_flight": 32})),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(
        (&answer["acked"], &answer["non_200"], &answer["repushed"]),
        (&json!(2000), &json!(0), &json!(0)),
        "{answer}"
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.0.len(), 2000, "every event id handled");
        assert!(seen.0.values().all(|&n| n == 1), "each once");
        assert_eq!(seen.1.len(), 2000, "each with a message id of its own");
    }
    client.shutdown().await;
    task.await.unwrap().unwrap();
}
