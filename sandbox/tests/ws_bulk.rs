//! Bulk delivery over the long connection (`"count"` on
//! `POST /_sandbox/events` with `"via": "ws"`), against a bare client that
//! speaks the frame protocol itself, so that a test can hold acks and drop
//! its socket at will.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use common::{Env, start};

/// The frame, written out a third time on purpose: a test copy is checked
/// against the sandbox's by every delivery below.
#[derive(Clone, PartialEq, prost::Message)]
struct Header {
    #[prost(string, required, tag = "1")]
    key: String,
    #[prost(string, required, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Frame {
    #[prost(uint64, required, tag = "1")]
    seq_id: u64,
    #[prost(uint64, required, tag = "2")]
    log_id: u64,
    #[prost(int32, required, tag = "3")]
    service: i32,
    #[prost(int32, required, tag = "4")]
    method: i32,
    #[prost(message, repeated, tag = "5")]
    headers: Vec<Header>,
    #[prost(bytes = "vec", optional, tag = "8")]
    payload: Option<Vec<u8>>,
}

impl Frame {
    fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.key == key).map(|h| h.value.as_str())
    }
}

/// An event as the client received it.
struct Pushed {
    frame: Frame,
    envelope: Value,
}

impl Pushed {
    fn event_id(&self) -> String {
        self.envelope["header"]["event_id"].as_str().expect("an event_id").to_string()
    }
}

/// A long connection opened with a fresh bootstrap.
struct Client {
    socket: WebSocketStream<TcpStream>,
}

impl Client {
    async fn connect(env: &Env) -> Client {
        let answer: Value = env
            .http
            .post(env.url("/callback/ws/endpoint"))
            .json(&json!({"AppID": "cli_sandbox", "AppSecret": "sandbox-secret"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = answer["data"]["URL"].as_str().unwrap_or_else(|| panic!("no URL in {answer}"));
        let tcp = TcpStream::connect(env.sandbox.addr()).await.unwrap();
        let (socket, _) =
            tokio_tungstenite::client_async(url, tcp).await.expect("the handshake succeeds");
        Client { socket }
    }

    /// The next event pushed, or `None` when nothing comes within `quiet`.
    async fn next(&mut self, quiet: Duration) -> Option<Pushed> {
        loop {
            let message = tokio::time::timeout(quiet, self.socket.next())
                .await
                .ok()??
                .expect("the socket reads");
            let Message::Binary(bytes) = message else { continue };
            let frame = Frame::decode(&bytes[..]).expect("a frame");
            if frame.method != 1 || frame.header("type") != Some("event") {
                continue;
            }
            assert_eq!(frame.header("sum"), Some("1"), "one fragment each");
            let envelope = serde_json::from_slice(frame.payload.as_deref().unwrap_or_default())
                .expect("the payload is JSON");
            return Some(Pushed { frame, envelope });
        }
    }

    /// Acks `event` with code 200.
    async fn ack(&mut self, event: Pushed) {
        let mut frame = event.frame;
        frame.payload =
            Some(json!({"code": 200, "headers": {}, "data": ""}).to_string().into_bytes());
        self.socket.send(Message::Binary(frame.encode_to_vec().into())).await.unwrap();
    }
}

/// Starts `POST /_sandbox/events` with `body` in a task of its own.
fn bulk(env: &Env, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
    let (http, url) = (env.http.clone(), env.url("/_sandbox/events"));
    tokio::spawn(async move {
        let answer = http.post(url).json(&body).send().await.unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    })
}

fn receive_v1() -> Value {
    json!({
        "sender": {"sender_id": {"open_id": "ou_sender"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
        "message": {"message_id": "om_same", "chat_id": "oc_bulk", "chat_type": "p2p", "message_type": "text", "content": "{\"text\":\"hi\"}"},
    })
}

async fn ws_acks(env: &Env) -> u64 {
    env.control(Method::GET, "/stats", None).await.1["ws_acks"].as_u64().unwrap()
}

const QUIET: Duration = Duration::from_secs(5);

#[tokio::test]
async fn every_event_of_a_bulk_delivery_arrives_once_and_is_acked() {
    let env = start().await;
    let mut client = Client::connect(&env).await;
    let answer = bulk(
        &env,
        json!({"via": "ws", "event_type": "im.message.receive_v1", "event": receive_v1(), "count": 300, "in_flight": 8}),
    );
    let (mut events, mut messages) =
        (BTreeMap::<String, u32>::new(), BTreeMap::<String, u32>::new());
    while events.len() < 300 {
        let event = client.next(QUIET).await.expect("all 300 events arrive");
        assert_eq!(event.envelope["header"]["event_type"], "im.message.receive_v1");
        assert_eq!(
            event.envelope["event"]["message"]["chat_id"], "oc_bulk",
            "the body is the one asked for"
        );
        *events.entry(event.event_id()).or_default() += 1;
        *messages
            .entry(event.envelope["event"]["message"]["message_id"].as_str().unwrap().to_string())
            .or_default() += 1;
        client.ack(event).await;
    }
    let (status, answer) = answer.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"count": 300, "in_flight": 8, "acked": 300, "repushed": 0, "non_200": 0, "first_non_200": null})
    );
    assert!(events.values().all(|&n| n == 1), "each event once");
    assert_eq!(messages.len(), 300, "each event carries a message id of its own");
    assert!(messages.keys().all(|id| id.starts_with("om_") && id != "om_same"));
    assert!(client.next(Duration::from_millis(200)).await.is_none(), "nothing more is pushed");
    assert_eq!(ws_acks(&env).await, 300);
}

#[tokio::test]
async fn no_more_than_in_flight_events_await_their_ack() {
    let env = start().await;
    let mut client = Client::connect(&env).await;
    let answer = bulk(
        &env,
        json!({"via": "ws", "event_type": "im.message.receive_v1", "count": 40, "in_flight": 4}),
    );
    let (mut acked, mut most) = (0, 0);
    while acked < 40 {
        // Hold every ack until the sandbox stops pushing: what it pushed by
        // then is what it lets await an ack at once.
        let mut held = Vec::new();
        while let Some(event) = client.next(Duration::from_millis(300)).await {
            held.push(event);
        }
        assert!(!held.is_empty(), "the sandbox pushes again once acks come back ({acked} acked)");
        most = most.max(held.len());
        assert!(held.len() <= 4, "{} events awaiting their ack at once", held.len());
        for event in held {
            client.ack(event).await;
            acked += 1;
        }
    }
    assert_eq!(most, 4, "the sandbox fills its window");
    let (status, answer) = answer.await.unwrap();
    assert_eq!(
        (status, &answer["acked"], &answer["repushed"]),
        (200, &json!(40), &json!(0)),
        "{answer}"
    );
}

#[tokio::test]
async fn a_client_that_drops_mid_way_still_gets_every_event() {
    let env = start().await;
    let mut first = Client::connect(&env).await;
    let answer = bulk(
        &env,
        json!({"via": "ws", "event_type": "im.message.receive_v1", "count": 100, "in_flight": 8}),
    );
    let mut acked = BTreeMap::<String, u32>::new();
    for _ in 0..30 {
        let event = first.next(QUIET).await.expect("an event");
        *acked.entry(event.event_id()).or_default() += 1;
        first.ack(event).await;
    }
    // Events pushed and not acked yet go with the socket.
    let unacked = first.next(QUIET).await.expect("more events are in flight").event_id();
    drop(first);
    let mut second = Client::connect(&env).await;
    while acked.len() < 100 {
        let event = second
            .next(QUIET)
            .await
            .unwrap_or_else(|| panic!("every event arrives ({} so far)", acked.len()));
        *acked.entry(event.event_id()).or_default() += 1;
        second.ack(event).await;
    }
    let (status, answer) = answer.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["acked"], 100);
    assert!(
        answer["repushed"].as_u64().unwrap() >= 1,
        "the events on the dropped socket were pushed again: {answer}"
    );
    assert_eq!(acked[&unacked], 1, "the event left unacked came again over the new socket");
    assert!(acked.values().all(|&n| n == 1), "acked events are not pushed again");
}

#[tokio::test]
async fn a_bulk_delivery_without_acks_fails_naming_what_was_acked() {
    let env = start().await;
    let mut client = Client::connect(&env).await;
    let answer = bulk(
        &env,
        json!({"via": "ws", "event_type": "im.message.receive_v1", "count": 20, "in_flight": 4, "ack_timeout_ms": 500, "timeout_ms": 1500}),
    );
    for _ in 0..5 {
        let event = client.next(QUIET).await.expect("an event");
        client.ack(event).await;
    }
    drop(client);
    let (status, answer) = answer.await.unwrap();
    assert_eq!(status, 504, "{answer}");
    assert_eq!(answer["acked"], 5, "{answer}");
    let (failed, not_sent) =
        (answer["failed"].as_u64().unwrap(), answer["not_sent"].as_u64().unwrap());
    assert!(failed >= 1 && failed + not_sent == 15, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.starts_with("5 of 20 events were acked") && error.contains("no ack after"),
        "{error}"
    );
}

#[tokio::test]
async fn bulk_requests_are_checked() {
    let env = start().await;
    let deliver = |extra: Value| {
        let mut body = json!({"via": "ws", "event_type": "im.message.receive_v1"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        env.control(Method::POST, "/events", Some(body))
    };
    for (extra, why) in [
        (json!({"count": 0}), "count must be a whole number from 1 to 100000, not 0"),
        (json!({"count": 100_001}), "count must be a whole number from 1 to 100000, not 100001"),
        (json!({"count": "5"}), "count must be a whole number"),
        (json!({"count": -1}), "count must be a whole number"),
        (
            json!({"count": 5, "in_flight": 0}),
            "in_flight must be a whole number from 1 to 1024, not 0",
        ),
        (json!({"count": 5, "in_flight": 1025}), "in_flight must be a whole number from 1 to 1024"),
        (json!({"count": 5, "in_flight": 2.5}), "in_flight must be a whole number"),
        (json!({"count": 2, "event_id": "ev_1"}), "event_id"),
        (json!({"count": 2, "drop_connection": "before_ack"}), "drop_connection"),
    ] {
        let (status, answer) = deliver(extra.clone()).await;
        assert_eq!(status, 400, "{extra}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{extra}: {answer}");
    }
    let (status, answer) = deliver(json!({"count": 5000})).await;
    assert_eq!((status, answer), (409, json!({"error": "no long-connection client is connected"})));
}

#[tokio::test]
async fn count_one_answers_as_a_single_delivery() {
    let env = start().await;
    let mut client = Client::connect(&env).await;
    let answer = bulk(
        &env,
        json!({"via": "ws", "event_type": "im.message.receive_v1", "event_id": "ev_one", "count": 1, "in_flight": 3}),
    );
    let event = client.next(QUIET).await.expect("the event");
    let message_id = event.frame.header("message_id").unwrap().to_string();
    client.ack(event).await;
    let (status, answer) = answer.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"status": 200, "body": null, "attempts": 1, "message_id": message_id, "event_id": "ev_one", "acks": [{"status": 200, "body": null}]})
    );
}
