//! Event delivery to a webhook: envelope, encryption, signature, tampering.

mod common;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use common::start;
use feishu_testkit::{Recorded, Reply, WebhookReceiver};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A webhook on a free port (`feishu-testkit`) that answers every POST with `answer` and records what it got.
async fn webhook(answer: &'static str) -> WebhookReceiver {
    WebhookReceiver::answering(Reply::raw(200, "application/json", answer)).await
}

/// A header the webhook received; panics (failing the test) when it is missing.
fn header<'a>(received: &'a Recorded, name: &str) -> &'a str {
    received.header(name).unwrap_or_else(|| panic!("no {name} header in {:?}", received.headers))
}

fn signature(received: &Recorded, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(header(received, "x-lark-request-timestamp").as_bytes());
    hasher.update(header(received, "x-lark-request-nonce").as_bytes());
    hasher.update(key.as_bytes());
    hasher.update(&received.body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn decrypt(encrypted: &str, key: &str) -> Value {
    let raw = base64::engine::general_purpose::STANDARD.decode(encrypted).unwrap();
    let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let iv: [u8; 16] = raw[..16].try_into().unwrap();
    let plain = cbc::Decryptor::<aes::Aes256>::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&raw[16..])
        .unwrap();
    serde_json::from_slice(&plain).unwrap()
}

#[tokio::test]
async fn plain_event_is_signed_and_enveloped() {
    let env = start().await;
    let received = webhook(r#"{"ok":true}"#).await;
    let event = json!({"message": {"message_id": "om_1", "content": "{\"text\":\"hi\"}"}});
    let (status, answer) = env
        .control(
            Method::POST,
            "/events",
            Some(json!({"url": received.url(), "event_type": "im.message.receive_v1", "event": event, "event_id": "ev-1", "timestamp": "1700000000"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"], r#"{"ok":true}"#);
    assert_eq!(answer["json"], json!({"ok": true}));

    let got = received.next_delivery().await;
    assert_eq!(got.path, "/webhook/event");
    assert_eq!(header(&got, "x-lark-request-timestamp"), "1700000000");
    assert_eq!(header(&got, "x-lark-signature"), signature(&got, "sandbox-encrypt-key"));
    assert!(header(&got, "content-type").starts_with("application/json"));
    let payload: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(payload["schema"], "2.0");
    assert_eq!(payload["header"]["event_id"], "ev-1");
    assert_eq!(payload["header"]["event_type"], "im.message.receive_v1");
    assert_eq!(payload["header"]["token"], "sandbox-verification-token");
    assert_eq!(payload["header"]["app_id"], "cli_sandbox");
    assert!(payload["header"]["tenant_key"].is_string());
    assert!(payload["header"]["create_time"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(payload["event"], event);
    assert_eq!(answer["sent"]["body"], String::from_utf8(got.body.clone()).unwrap());
}

#[tokio::test]
async fn encrypted_event_decrypts_with_the_key() {
    let env = start().await;
    let received = webhook("{}").await;
    let (status, _) = env
        .control(
            Method::POST,
            "/events",
            Some(json!({"url": received.url(), "event_type": "im.message.reaction.created_v1", "event": {"reaction_type": {"emoji_type": "OK"}}, "encrypt": true})),
        )
        .await;
    assert_eq!(status, 200);
    let got = received.next_delivery().await;
    assert_eq!(header(&got, "x-lark-signature"), signature(&got, "sandbox-encrypt-key"));
    let outer: Value = serde_json::from_slice(&got.body).unwrap();
    let inner = decrypt(outer["encrypt"].as_str().unwrap(), "sandbox-encrypt-key");
    assert_eq!(inner["header"]["event_type"], "im.message.reaction.created_v1");
    assert_eq!(inner["event"]["reaction_type"]["emoji_type"], "OK");

    // Another key and token, and a random IV each time.
    env.control(
        Method::POST,
        "/events",
        Some(json!({"url": received.url(), "event_type": "x.y", "event": {}, "encrypt": true, "encrypt_key": "other", "token": "tok"})),
    )
    .await;
    let got2 = received.next_delivery().await;
    assert_eq!(header(&got2, "x-lark-signature"), signature(&got2, "other"));
    let outer2: Value = serde_json::from_slice(&got2.body).unwrap();
    assert_eq!(decrypt(outer2["encrypt"].as_str().unwrap(), "other")["header"]["token"], "tok");
    assert_ne!(
        &outer["encrypt"].as_str().unwrap()[..22],
        &outer2["encrypt"].as_str().unwrap()[..22]
    );
}

#[tokio::test]
async fn tampered_events_fail_the_signature_check() {
    let env = start().await;
    let received = webhook("{}").await;
    for tamper in ["signature", "body"] {
        let (status, _) = env
            .control(Method::POST, "/events", Some(json!({"url": received.url(), "event_type": "im.message.receive_v1", "event": {}, "tamper": tamper})))
            .await;
        assert_eq!(status, 200);
        let got = received.next_delivery().await;
        assert_ne!(
            header(&got, "x-lark-signature"),
            signature(&got, "sandbox-encrypt-key"),
            "{tamper}"
        );
        // The body still parses: only the signature gives it away.
        let _: Value = serde_json::from_slice(&got.body).unwrap();
    }
    let (status, _) = env
        .control(
            Method::POST,
            "/events",
            Some(json!({"url": received.url(), "event_type": "x", "tamper": "everything"})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn event_defaults_come_from_the_spec_example() {
    let env = start().await;
    let received = webhook("{}").await;
    env.control(
        Method::POST,
        "/events",
        Some(json!({"url": received.url(), "event_type": "im.message.receive_v1"})),
    )
    .await;
    let got: Value = serde_json::from_slice(&received.next_delivery().await.body).unwrap();
    let spec = common::config().spec;
    let example = spec
        .events
        .iter()
        .find(|e| e.event_type == "im.message.receive_v1")
        .and_then(|e| e.example.clone());
    let expected = example.and_then(|e| e.get("event").cloned()).unwrap_or(json!({}));
    assert_eq!(got["event"], expected);
}

#[tokio::test]
async fn url_verification_and_unreachable_webhooks() {
    let env = start().await;
    let received = webhook(r#"{"challenge":"c-1"}"#).await;
    let (_, answer) =
        env.control(Method::POST, "/events", Some(json!({"url": received.url(), "event_type": "url_verification", "event": {"challenge": "c-1"}}))).await;
    assert_eq!(answer["json"]["challenge"], "c-1");
    let got: Value = serde_json::from_slice(&received.next_delivery().await.body).unwrap();
    assert_eq!(
        got,
        json!({"challenge": "c-1", "token": "sandbox-verification-token", "type": "url_verification"})
    );

    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let (status, body) = env
        .control(
            Method::POST,
            "/events",
            Some(json!({"url": format!("http://{closed}/"), "event_type": "x"})),
        )
        .await;
    assert_eq!(status, 502);
    assert!(body["error"].is_string());
    let (status, _) = env.control(Method::POST, "/events", Some(json!({"event_type": "x"}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_user_message_is_stored_and_delivered_in_one_call() {
    let env = start().await;
    let (_, chat) = env.control(Method::POST, "/chats", Some(json!({"chat_type": "p2p"}))).await;
    let chat_id = chat["chat_id"].as_str().unwrap().to_owned();
    let received = webhook(r#"{}"#).await;
    let (status, answer) = env
        .control(
            Method::POST,
            "/events",
            Some(
                json!({"url": received.url(), "user_message": {"chat_id": chat_id, "text": "hi"}}),
            ),
        )
        .await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    let got = received.next_delivery().await;
    let payload: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(payload["header"]["event_type"], "im.message.receive_v1");
    let event = &payload["event"];
    assert_eq!(event["message"]["content"], r#"{"text":"hi"}"#);
    assert_eq!(event["message"]["chat_id"], chat_id.as_str());
    assert_eq!(event["message"]["chat_type"], "p2p");
    assert_eq!(event["sender"]["sender_id"]["open_id"], chat["user_open_id"]);
    assert_eq!(event["message"]["message_type"], "text");
    assert_eq!(event["sender"]["sender_type"], "user");
    assert!(event["sender"]["sender_id"]["open_id"].as_str().unwrap().starts_with("ou_"));
    // The message is stored too, under the id the event names.
    let (_, listed) = env.control(Method::GET, "/messages", None).await;
    let stored = &listed["messages"][0];
    assert_eq!(stored["message_id"], event["message"]["message_id"]);
    assert_eq!(stored["sender_type"], "user");

    let (status, _) = env
        .control(Method::POST, "/events", Some(json!({"url": received.url(), "user_message": {"chat_id": "oc_none", "text": "hi"}})))
        .await;
    assert_eq!(status, 400, "an unknown chat is refused");
}
