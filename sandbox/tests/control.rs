//! The `/_sandbox` control API: request log, messages, chats, seeding, stats, reset.

mod common;

use common::start;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn the_request_log_records_every_open_api_call() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    env.send_ok(&chat, "logged").await;
    env.raw(Method::GET, "/open-apis/im/v1/pins?page_size=5&chat_id=oc%201", None, None).await;
    let requests = env.requests().await;
    assert_eq!(requests.len(), 3, "token, send, pins: control calls are not logged");
    assert_eq!(requests[0]["path"], "/open-apis/auth/v3/tenant_access_token/internal");
    assert_eq!(requests[0]["authorization"], Value::Null);
    let send = &requests[1];
    assert_eq!(send["method"], "POST");
    assert_eq!(send["path"], "/open-apis/im/v1/messages");
    assert_eq!(send["query"], json!([["receive_id_type", "chat_id"]]));
    assert_eq!(send["authorization"], format!("Bearer {}", env.token));
    assert!(send["content_type"].as_str().unwrap().starts_with("application/json"));
    assert_eq!(send["body"]["receive_id"], chat.as_str());
    assert_eq!(send["endpoint"], "im.v1.message.create");
    assert_eq!((send["status"].clone(), send["code"].clone()), (json!(200), json!(0)));
    let pins = &requests[2];
    assert_eq!(pins["query"], json!([["page_size", "5"], ["chat_id", "oc 1"]]));
    assert_eq!((pins["status"].clone(), pins["code"].clone()), (json!(400), json!(99991661)));
    assert_eq!(pins["body"], Value::Null);

    let (status, _) = env.control(Method::DELETE, "/requests", None).await;
    assert_eq!(status, 200);
    assert!(env.requests().await.is_empty());
}

#[tokio::test]
async fn stored_messages_show_everything() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let id = env.send_ok(&chat, "look").await;
    let messages = env.stored_messages().await;
    let m = &messages[0];
    for key in [
        "message_id",
        "root_id",
        "parent_id",
        "chat_id",
        "msg_type",
        "content",
        "uuid",
        "sender_type",
        "create_time",
        "deleted",
        "follow_ups",
        "reactions",
    ] {
        assert!(m.get(key).is_some(), "missing {key} in {m}");
    }
    assert_eq!(m["message_id"], id.as_str());
    assert_eq!(m["sender_type"], "app");
    assert_eq!(m["content"], r#"{"text":"look"}"#);
}

#[tokio::test]
async fn chats_and_seeded_messages() {
    let env = start().await;
    let (status, p2p) = env
        .control(Method::POST, "/chats", Some(json!({"chat_type": "p2p", "user_open_id": "ou_h"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(p2p["chat_type"], "p2p");
    let (_, same) = env
        .control(Method::POST, "/chats", Some(json!({"chat_type": "p2p", "user_open_id": "ou_h"})))
        .await;
    assert_eq!(same["chat_id"], p2p["chat_id"], "one p2p chat per user");
    let (status, _) =
        env.control(Method::POST, "/chats", Some(json!({"chat_type": "channel"}))).await;
    assert_eq!(status, 400);

    let chat_id = p2p["chat_id"].as_str().unwrap();
    let (status, seeded) = env
        .control(
            Method::POST,
            "/messages",
            Some(json!({"chat_id": chat_id, "msg_type": "text", "content": "{\"text\":\"from user\"}", "sender_type": "user", "age_seconds": 30})),
        )
        .await;
    assert_eq!(status, 200, "{seeded}");
    assert_eq!(seeded["sender_type"], "user");
    let age = common_now_millis() - seeded["create_time"].as_str().unwrap().parse::<i64>().unwrap();
    assert!((29_000..40_000).contains(&age), "{age}");
    // The API shows it like any other message.
    let got = env
        .api(
            Method::GET,
            &format!("/open-apis/im/v1/messages/{}", seeded["message_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(got.body["data"]["items"][0]["sender"]["sender_type"], "user");
    assert_eq!(got.body["data"]["items"][0]["sender"]["id"], "ou_h");
    let (status, _) = env
        .control(
            Method::POST,
            "/messages",
            Some(json!({"chat_id": "oc_none", "msg_type": "text", "content": "{}"})),
        )
        .await;
    assert_eq!(status, 400);
}

fn common_now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn stats_and_reset() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    env.send_ok(&chat, "one").await;
    env.fault(json!({"kind": "status", "status": 500, "count": 1})).await;
    env.api(Method::GET, "/open-apis/im/v1/pins", None).await;
    let (_, stats) = env.control(Method::GET, "/stats", None).await;
    assert_eq!(
        stats,
        json!({"requests": 3, "rate_limited": 0, "faults_injected": 1, "messages": 1, "ws_connections": 0, "ws_acks": 0})
    );

    env.fault(json!({"kind": "status", "status": 500})).await;
    let (status, _) = env.control(Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    assert!(env.stored_messages().await.is_empty());
    assert!(env.requests().await.is_empty());
    // Faults are gone, tokens stay valid, chats are gone.
    assert_eq!(env.api(Method::GET, "/open-apis/im/v1/pins", None).await.code(), 0);
    assert_eq!(env.send_text("chat_id", &chat, "x").await.code(), 230001);
    let (_, stats) = env.control(Method::GET, "/stats", None).await;
    assert_eq!(stats["messages"], 0);
}

#[tokio::test]
async fn unknown_control_calls_and_bad_json() {
    let env = start().await;
    let (status, body) = env.control(Method::GET, "/nothing", None).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    let answer = env.http.post(env.url("/_sandbox/chats")).body("{oops").send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    assert!(answer.headers().contains_key("x-tt-logid"));
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let sandbox = feishu_sandbox::Sandbox::start(common::config(), 0).await.unwrap();
    let addr = sandbox.addr();
    assert_eq!(sandbox.url(), format!("http://127.0.0.1:{}", addr.port()));
    // A kept-alive connection does not hold the server open.
    let http = reqwest::Client::new();
    http.get(format!("{}/_sandbox/stats", sandbox.url())).send().await.unwrap();
    sandbox.shutdown().await;
    assert!(http.get(format!("http://{addr}/_sandbox/stats")).send().await.is_err());
    let again = feishu_sandbox::Sandbox::start(common::config(), addr.port()).await.unwrap();
    assert_eq!(again.addr(), addr);
}

#[tokio::test]
async fn holds_hundreds_of_open_connections() {
    use http_body_util::{BodyExt, Empty};
    let env = start().await;
    let mut senders = Vec::new();
    for _ in 0..300 {
        let stream = tokio::net::TcpStream::connect(env.sandbox.addr()).await.unwrap();
        // One HTTP/1.1 connection per stream, driven by hyper's client: a
        // request on a connection the sandbox closed fails.
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        senders.push(sender);
    }
    // Every connection is open at once; each asks twice over keep-alive.
    let mut tasks = tokio::task::JoinSet::new();
    for mut sender in senders {
        tasks.spawn(async move {
            let mut answers = 0;
            for _ in 0..2 {
                let request = hyper::Request::get("/_sandbox/stats")
                    .header("host", "sandbox")
                    .body(Empty::<bytes::Bytes>::new())
                    .unwrap();
                sender.ready().await.expect("the sandbox closed a kept-alive connection");
                let response = sender
                    .send_request(request)
                    .await
                    .expect("the sandbox closed a kept-alive connection");
                assert_eq!(response.status(), 200, "{response:?}");
                response.into_body().collect().await.expect("the whole answer arrives");
                answers += 1;
            }
            answers
        });
    }
    let mut total = 0;
    while let Some(answers) = tasks.join_next().await {
        total += answers.unwrap();
    }
    assert_eq!(total, 600);
}
