//! Webhook events delivered by the sandbox to a small HTTP server that
//! checks them with `feishu::events::Webhook`: good events are handed to
//! the app once, forged, tampered and stale ones never.

mod sandbox_support;

use std::time::{SystemTime, UNIX_EPOCH};

use feishu::EventType;
use feishu::events::{Webhook, WebhookConfig};
use sandbox_support::{APP_ID, ENCRYPT_KEY, Env, Handled, VERIFICATION_TOKEN, WebhookServer};
use serde_json::{Value, json};

const RECEIVE: &str = "im.message.receive_v1";

fn webhook() -> Webhook {
    Webhook::new(
        WebhookConfig::new().verification_token(VERIFICATION_TOKEN).encrypt_key(ENCRYPT_KEY),
    )
    .unwrap()
}

async fn setup() -> (Env, WebhookServer) {
    let env = Env::start().await;
    let server = WebhookServer::start(webhook()).await;
    (env, server)
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A receive_v1 payload with recognisable ids.
fn message_event(id: &str) -> Value {
    json!({
        "sender": {
            "sender_id": {"open_id": "ou_sender"},
            "sender_type": "user",
            "tenant_key": "sandbox-tenant",
        },
        "message": {
            "message_id": format!("om_{id}"),
            "chat_id": "oc_events",
            "chat_type": "p2p",
            "message_type": "text",
            "content": json!({"text": format!("hello {id}")}).to_string(),
            "create_time": "1700000000000",
        },
    })
}

/// Asks the sandbox to deliver `extra` merged into a receive_v1 delivery
/// request to the server; returns the sandbox's report.
async fn deliver(env: &Env, server: &WebhookServer, event_id: &str, extra: Value) -> Value {
    let mut request = json!({
        "url": server.url(),
        "event_type": RECEIVE,
        "event_id": event_id,
        "event": message_event(event_id),
        "encrypt": true,
    });
    if let (Some(request), Value::Object(extra)) = (request.as_object_mut(), extra) {
        request.extend(extra);
    }
    env.deliver(request).await
}

#[tokio::test]
async fn a_signed_encrypted_event_is_handed_over_once() {
    let (env, server) = setup().await;

    let report = deliver(&env, &server, "ev-good", json!({})).await;
    assert_eq!(report["status"], 200, "{report}");
    assert_eq!(report["json"], json!({}));
    // The body on the wire was really encrypted.
    let sent: Value = serde_json::from_str(report["sent"]["body"].as_str().unwrap()).unwrap();
    assert!(sent["encrypt"].is_string(), "{sent}");
    assert!(!report["sent"]["body"].as_str().unwrap().contains("om_ev-good"));

    let handled = server.take();
    let [Handled::Event(envelope)] = handled.as_slice() else {
        panic!("expected one event, got {handled:?}");
    };
    assert_eq!(envelope.event_type, EventType::ImMessageReceiveV1);
    assert_eq!(envelope.event_id, "ev-good");
    assert_eq!(envelope.schema, "2.0");
    assert_eq!(envelope.app_id.as_deref(), Some(APP_ID));
    assert_eq!(envelope.tenant_key.as_deref(), Some("sandbox-tenant"));
    assert!(envelope.create_time.is_some());
    assert_eq!(envelope.event, message_event("ev-good"));

    // Feishu retries deliveries; the same event id again is answered 200
    // and not handed over again.
    let report = deliver(&env, &server, "ev-good", json!({})).await;
    assert_eq!(report["status"], 200, "{report}");
    let handled = server.take();
    assert!(
        matches!(handled.as_slice(), [Handled::Duplicate(id)] if id == "ev-good"),
        "{handled:?}"
    );

    // Another event is new; the spec's example payload when none is given.
    let report =
        env.deliver(json!({"url": server.url(), "event_type": RECEIVE, "encrypt": true})).await;
    assert_eq!(report["status"], 200, "{report}");
    let handled = server.take();
    let [Handled::Event(example)] = handled.as_slice() else {
        panic!("expected one event, got {handled:?}");
    };
    assert_eq!(example.event_type, EventType::ImMessageReceiveV1);
    assert_ne!(example.event_id, "ev-good");
    assert_eq!(example.event, spec_example_event(RECEIVE));
}

/// The `event` of the spec's example payload of `event_type`, or `{}` (what
/// the sandbox sends when asked for no particular event).
fn spec_example_event(event_type: &str) -> Value {
    let path = sandbox_support::spec_dir().join("im/message.json");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let event = spec["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == event_type)
        .unwrap_or_else(|| panic!("{event_type} is not in the spec"));
    match event["example"].get("event") {
        Some(payload) => payload.clone(),
        None => json!({}),
    }
}

#[tokio::test]
async fn forged_tampered_and_stale_deliveries_are_refused() {
    let (env, server) = setup().await;
    let stale = (now_secs() - 3600).to_string();
    let future = (now_secs() + 3600).to_string();
    let cases = [
        ("tampered signature", json!({"tamper": "signature"}), "BadSignature"),
        ("tampered body", json!({"tamper": "body"}), "BadSignature"),
        ("another encrypt key", json!({"encrypt_key": "not-the-key"}), "BadSignature"),
        ("stale timestamp", json!({"timestamp": stale}), "StaleTimestamp"),
        ("future timestamp", json!({"timestamp": future}), "StaleTimestamp"),
        ("wrong token", json!({"token": "not-the-token"}), "WrongToken"),
        (
            "wrong token, unencrypted",
            json!({"token": "not-the-token", "encrypt": false}),
            "WrongToken",
        ),
    ];
    for (i, (what, extra, error)) in cases.iter().enumerate() {
        let event_id = format!("ev-bad-{i}");
        let report = deliver(&env, &server, &event_id, extra.clone()).await;
        let status = report["status"].as_u64().unwrap();
        assert!(!(200..300).contains(&status), "{what} was answered {status}: {report}");
        assert_eq!(status, 401, "{what}: {report}");
        let handled = server.take();
        match handled.as_slice() {
            [Handled::Refused { status: 401, error: e }] => {
                assert!(e.starts_with(error), "{what}: {e}");
                // The refusal names neither secret.
                assert!(!e.contains(ENCRYPT_KEY) && !e.contains(VERIFICATION_TOKEN));
                assert!(!report["body"].as_str().unwrap().contains(ENCRYPT_KEY));
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }

        // A refused delivery does not count as delivered: the genuine one
        // with the same id is handed over.
        let report = deliver(&env, &server, &event_id, json!({})).await;
        assert_eq!(report["status"], 200, "{what}, then genuine: {report}");
        let handled = server.take();
        assert!(
            matches!(handled.as_slice(), [Handled::Event(e)] if e.event_id == event_id),
            "{what}, then genuine: {handled:?}"
        );
    }
}

#[tokio::test]
async fn url_verification_challenges_are_answered() {
    let (env, server) = setup().await;
    for encrypt in [false, true] {
        let challenge = format!("challenge-{encrypt}");
        let report = env
            .deliver(json!({
                "url": server.url(),
                "event_type": "url_verification",
                "event": {"challenge": challenge},
                "encrypt": encrypt,
            }))
            .await;
        assert_eq!(report["status"], 200, "{report}");
        assert_eq!(report["json"], json!({"challenge": challenge}));
        let handled = server.take();
        assert!(
            matches!(handled.as_slice(), [Handled::Challenge(c)] if *c == challenge),
            "{handled:?}"
        );
    }
    // A challenge with the wrong token is refused.
    let report = env
        .deliver(json!({
            "url": server.url(),
            "event_type": "url_verification",
            "event": {"challenge": "c"},
            "token": "not-the-token",
        }))
        .await;
    assert_eq!(report["status"], 401, "{report}");
    assert!(matches!(server.take().as_slice(), [Handled::Refused { status: 401, .. }]));
}
