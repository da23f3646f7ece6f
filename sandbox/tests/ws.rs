//! The long connection's HTTP side, without a WebSocket client: the
//! bootstrap, refused handshakes and the control API's checks. (Clients
//! talking the protocol are tested in e2e: ours in `long_connection.rs`,
//! lark-oapi's in `sandbox_ws_with_lark_oapi.rs`.)

mod common;

use common::start;
use reqwest::Method;
use serde_json::{Value, json};

async fn bootstrap(env: &common::Env, body: Value) -> Value {
    let answer = env
        .http
        .post(env.url("/callback/ws/endpoint"))
        .header("locale", "zh")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

async fn handshake(env: &common::Env, url: &str) -> reqwest::Response {
    let url = url.replacen("ws://", "http://", 1);
    env.http
        .get(url)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_bootstrap_hands_out_a_url_once_usable() {
    let env = start().await;
    let answer =
        bootstrap(&env, json!({"AppID": "cli_sandbox", "AppSecret": "sandbox-secret"})).await;
    assert_eq!(answer["code"], 0, "{answer}");
    assert_eq!(
        answer["data"]["ClientConfig"],
        json!({"ReconnectCount": -1, "ReconnectInterval": 120, "ReconnectNonce": 30, "PingInterval": 120})
    );
    let url = answer["data"]["URL"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("ws://{}/callback/ws/connect?device_id=", env.sandbox.addr())),
        "{url}"
    );
    assert!(url.contains("&service_id=") && url.contains("&ticket="), "{url}");

    let upgraded = handshake(&env, url).await;
    assert_eq!(upgraded.status(), 101);
    assert_eq!(upgraded.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // The same URL again: refused the way the platform refuses a handshake.
    let again = handshake(&env, url).await;
    assert_eq!(again.status(), 403);
    assert_eq!(again.headers()["handshake-status"], "514");
    assert!(again.headers().contains_key("handshake-msg"));
}

#[tokio::test]
async fn wrong_credentials_get_514() {
    let env = start().await;
    let answer = bootstrap(&env, json!({"AppID": "cli_sandbox", "AppSecret": "nope"})).await;
    assert_eq!(answer["code"], 514, "{answer}");
    assert!(answer.get("data").is_none());
    assert_eq!(bootstrap(&env, json!({})).await["code"], 514);
}

#[tokio::test]
async fn ws_deliveries_check_their_request() {
    let env = start().await;
    let deliver = |body: Value| env.control(Method::POST, "/events", Some(body));
    let (status, answer) =
        deliver(json!({"via": "ws", "event_type": "im.message.receive_v1"})).await;
    assert_eq!(status, 409, "no client is connected: {answer}");
    for (bad, why) in [
        (json!({"via": "ws", "event_type": "x", "split": 0}), "split"),
        (json!({"via": "ws", "event_type": "x", "split": 65}), "split"),
        (
            json!({"via": "ws", "event_type": "x", "drop_connection": "sometimes"}),
            "drop_connection",
        ),
        (json!({"via": "carrier pigeon", "event_type": "x"}), "via"),
        (json!({"via": "ws", "event_type": "x", "url": "http://127.0.0.1:1/"}), "url"),
    ] {
        let (status, answer) = deliver(bad).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }
}
