//! The sandbox's cluster mode (issue 25), with our long-connection clients
//! as the app's connections: a first push to two connections at once, the
//! redelivery ladder (only an ack 200 within the ack deadline counts; the
//! next push waits for the ladder's next interval; a ladder that runs out
//! answers 504), and a reply's `uuid` honoured.
//!
//! The ladder's intervals are scaled down (hundreds of milliseconds): the
//! tests check that pushes are at least that far apart, never an upper
//! bound.

mod sandbox_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feishu_runtime::events::{Dispatcher, EventBody};
use feishu_runtime::ws::{LongConnection, Status, WsError};
use sandbox_support::{APP_ID, APP_SECRET, Env, wait_until};
use serde::Deserialize;
use serde_json::{Value, json};

const RECEIVE: &str = "im.message.receive_v1";

#[derive(Debug, Deserialize)]
struct MessageReceived {}

impl EventBody for MessageReceived {
    const EVENT_TYPE: &'static str = RECEIVE;
}

/// When each handler run started, per connection.
type Runs = Arc<Mutex<Vec<Instant>>>;

/// A dispatcher (its own in-memory dedup) recording each run into `runs`,
/// failing the first `failures` runs and sleeping `delay` in the first.
fn dispatcher(runs: &Runs, failures: usize, delay: Duration) -> Dispatcher {
    let mut builder = Dispatcher::builder();
    let runs = Arc::clone(runs);
    builder
        .on(move |_ctx, _event: MessageReceived| {
            let runs = Arc::clone(&runs);
            async move {
                let run = {
                    let mut runs = runs.lock().unwrap();
                    runs.push(Instant::now());
                    runs.len()
                };
                if run == 1 {
                    tokio::time::sleep(delay).await;
                }
                if run <= failures { Err("not yet".into()) } else { Ok(()) }
            }
        })
        .unwrap();
    builder.build()
}

/// A connected client of the sandbox's app (one connection of the fleet).
async fn connect(
    env: &Env,
    dispatcher: Dispatcher,
) -> (LongConnection, tokio::task::JoinHandle<Result<(), WsError>>) {
    let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(dispatcher)
        .build()
        .unwrap();
    let mut status = client.status();
    let task = tokio::spawn({
        let client = client.clone();
        async move { client.start().await }
    });
    status.wait_for(|s| matches!(s, Status::Connected { .. })).await.unwrap();
    (client, task)
}

fn delivery(extra: Value) -> Value {
    let mut request = json!({
        "via": "ws", "event_type": RECEIVE,
        "event": {"message": {"message_id": "om_cluster", "chat_id": "oc_cluster", "message_type": "text", "content": "{\"text\":\"hi\"}"}},
    });
    if let (Some(request), Value::Object(extra)) = (request.as_object_mut(), extra) {
        request.extend(extra);
    }
    request
}

fn statuses(answer: &Value) -> Vec<i64> {
    answer["acks"].as_array().unwrap().iter().map(|a| a["status"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_push_to_two_connections_reaches_both() {
    let env = Env::start().await;
    let (a, b, c) = (Runs::default(), Runs::default(), Runs::default());
    let mut clients = Vec::new();
    for runs in [&a, &b, &c] {
        clients.push(connect(&env, dispatcher(runs, 0, Duration::ZERO)).await);
    }
    let (status, answer) = env
        .try_control(reqwest::Method::POST, "events", Some(delivery(json!({"connections": 2}))))
        .await;
    assert_eq!((status, &answer["status"], &answer["attempts"]), (200, &json!(200), &json!(1)));
    // Two of the three connections got it, each handling it on its own.
    let handled = || [&a, &b, &c].iter().filter(|r| r.lock().unwrap().len() == 1).count();
    wait_until("two connections to handle it", Duration::from_secs(10), || async {
        handled() == 2
    })
    .await;
    assert!([&a, &b, &c].iter().all(|r| r.lock().unwrap().len() <= 1));

    // More copies than connections: every connection gets one (another
    // message: each connection remembers the first).
    let before = [&a, &b, &c].map(|r| r.lock().unwrap().len());
    let mut again = delivery(json!({"connections": 50}));
    again["event"]["message"]["message_id"] = json!("om_cluster_2");
    let (status, answer) = env.try_control(reqwest::Method::POST, "events", Some(again)).await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    wait_until("every connection to handle it", Duration::from_secs(10), || async {
        [&a, &b, &c].iter().zip(before).all(|(r, n)| r.lock().unwrap().len() == n + 1)
    })
    .await;
    let (status, answer) = env
        .try_control(reqwest::Method::POST, "events", Some(delivery(json!({"connections": 51}))))
        .await;
    assert_eq!(status, 400, "{answer}");
    for (client, task) in clients {
        client.shutdown().await;
        task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn under_a_ladder_only_an_ack_200_ends_a_delivery_and_pushes_wait_their_interval() {
    let env = Env::start().await;
    let runs = Runs::default();
    let (client, task) = connect(&env, dispatcher(&runs, 2, Duration::ZERO)).await;
    let ladder = [150, 300, 600];
    let (status, answer) = env
        .try_control(
            reqwest::Method::POST,
            "events",
            Some(delivery(json!({"ladder_ms": ladder, "ack_timeout_ms": 100}))),
        )
        .await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    assert_eq!(answer["attempts"], 3);
    assert_eq!(statuses(&answer), [500, 500, 200], "the two failed runs were acked 500");
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 3);
    for (gap, rung) in runs.windows(2).map(|w| w[1] - w[0]).zip(ladder) {
        assert!(gap >= Duration::from_millis(rung), "pushed again after {gap:?}, not {rung} ms");
    }
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_ladder_that_runs_out_answers_504() {
    let env = Env::start().await;
    let runs = Runs::default();
    let (client, task) = connect(&env, dispatcher(&runs, usize::MAX, Duration::ZERO)).await;
    let (status, answer) = env
        .try_control(
            reqwest::Method::POST,
            "events",
            Some(delivery(json!({"ladder_ms": [50, 50], "ack_timeout_ms": 100}))),
        )
        .await;
    assert_eq!(status, 504, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("after 3 pushes"), "{answer}");
    assert_eq!(runs.lock().unwrap().len(), 3, "the first push and one per interval");
    for bad in [json!([]), json!([0]), json!("platform"), json!(vec![1; 17]), json!([86_400_001])] {
        let (status, answer) = env
            .try_control(reqwest::Method::POST, "events", Some(delivery(json!({"ladder_ms": bad}))))
            .await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains("ladder_ms"), "{answer}");
    }
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn under_a_ladder_an_ack_after_the_deadline_does_not_count() {
    let env = Env::start().await;
    let runs = Runs::default();
    // The first run outlasts the 100 ms ack deadline, then succeeds: its
    // ack comes too late, and the next push finds the event handled.
    let (client, task) = connect(&env, dispatcher(&runs, 0, Duration::from_millis(400))).await;
    let (status, answer) = env
        .try_control(
            reqwest::Method::POST,
            "events",
            Some(delivery(json!({"ladder_ms": [600], "ack_timeout_ms": 100}))),
        )
        .await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    assert_eq!(answer["attempts"], 2);
    assert_eq!(statuses(&answer), [200], "the late ack is not among them");
    assert_eq!(runs.lock().unwrap().len(), 1, "the second push was a duplicate");
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_second_reply_with_the_same_uuid_returns_the_first() {
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let parent = env.seed_text(&chat, "hi").await;
    let reply = |text: &str, uuid: &str| {
        let body =
            json!({"msg_type": "text", "content": json!({"text": text}).to_string(), "uuid": uuid});
        let path = format!("/open-apis/im/v1/messages/{parent}/reply");
        let client = env.client();
        async move {
            let request = feishu_runtime::ApiRequest::new(feishu_runtime::Method::POST, &path)
                .json(&body)
                .unwrap();
            client.send_value(request).await.unwrap()
        }
    };
    let first = reply("echo: hi", "uuid-1").await;
    let second = reply("echo: hi again", "uuid-1").await;
    assert_eq!(first["message_id"], second["message_id"], "{first} {second}");
    assert_eq!(second["body"]["content"], json!({"text": "echo: hi"}).to_string());
    let replies: Vec<Value> =
        env.messages().await.into_iter().filter(|m| m["parent_id"] == parent.as_str()).collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    // Another uuid is another reply.
    let third = reply("echo: hi", "uuid-2").await;
    assert_ne!(third["message_id"], first["message_id"]);
}
