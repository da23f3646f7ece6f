//! The axum adapter (feature `axum`) over real HTTP: the challenge, a signed
//! and encrypted card callback answered with its toast, a refused forgery.

use std::time::{SystemTime, UNIX_EPOCH};

use feishu_runtime::events::{
    self, CardActionResponse, CardActionTrigger, Dispatcher, Toast, ToastKind, Webhook,
    WebhookConfig,
};
use serde_json::{Value, json};

const KEY: &str = "axum-key";
const TOKEN: &str = "axum-token";

#[tokio::test]
async fn the_axum_handler_answers_challenges_callbacks_and_forgeries() {
    let mut dispatcher = Dispatcher::builder();
    dispatcher
        .on_callback(|_ctx, action: CardActionTrigger| async move {
            Ok(CardActionResponse::toast(Toast::new(ToastKind::Info, action.action.tag)))
        })
        .unwrap();
    let webhook =
        Webhook::new(WebhookConfig::new().verification_token(TOKEN).encrypt_key(KEY)).unwrap();
    let app = axum::Router::new()
        .route("/webhook/event", events::axum::handler(webhook, dispatcher.build()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook/event", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();

    let answer = http
        .post(&url)
        .json(&json!({"challenge": "ch", "token": TOKEN, "type": "url_verification"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.json::<Value>().await.unwrap(), json!({"challenge": "ch"}));

    let plain = json!({
        "schema": "2.0",
        "header": {"event_id": "c1", "event_type": "card.action.trigger", "token": TOKEN},
        "event": {"action": {"tag": "button", "value": {}}},
    });
    let body =
        json!({"encrypt": events::encrypt(KEY, plain.to_string().as_bytes(), [9; 16])}).to_string();
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let signature = events::signature(&ts, "nonce", KEY, body.as_bytes());
    let send = |signature: String| {
        http.post(&url)
            .header("content-type", "application/json")
            .header("X-Lark-Request-Timestamp", &ts)
            .header("X-Lark-Request-Nonce", "nonce")
            .header("X-Lark-Signature", signature)
            .body(body.clone())
            .send()
    };
    let answer = send(signature).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"toast": {"type": "info", "content": "button"}})
    );
    let forged = send("0".repeat(64)).await.unwrap();
    assert_eq!(forged.status(), 401);
    server.abort();
}
