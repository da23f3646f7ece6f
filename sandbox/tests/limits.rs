//! Rate limits: per endpoint (documented or default) and per receiving chat.

mod common;

use std::time::{Duration, Instant};

use common::{config, start, start_with};
use feishu_spec::RateLimit;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn five_messages_per_second_into_one_chat() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let other = env.chat("group", None).await;
    for i in 0..5 {
        env.send_ok(&chat, &format!("m{i}")).await;
    }
    let limited = env.send_text("chat_id", &chat, "one too many").await;
    assert_eq!((limited.status, limited.code()), (400, 99991400), "{}", limited.body);
    assert_eq!(limited.header("x-ogw-ratelimit-limit"), Some("5"));
    assert_eq!(limited.header("x-ogw-ratelimit-reset"), Some("1"));
    // Replies into the chat count against the same limit; other chats are free.
    let first = env.stored_messages().await[0]["message_id"].as_str().unwrap().to_string();
    let reply = env
        .api(
            Method::POST,
            &format!("/open-apis/im/v1/messages/{first}/reply"),
            Some(json!({"msg_type": "text", "content": "{\"text\":\"r\"}"})),
        )
        .await;
    assert_eq!(reply.code(), 99991400);
    env.send_ok(&other, "elsewhere").await;
    // The window slides.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    env.send_ok(&chat, "later").await;
    let (_, stats) = env.control(Method::GET, "/stats", None).await;
    assert_eq!(stats["rate_limited"], 2);
    assert_eq!(stats["messages"], 7);
}

#[tokio::test]
async fn documented_endpoint_limits_apply() {
    let mut config = config();
    let pins = config
        .spec
        .endpoints
        .iter_mut()
        .find(|e| e.id == "im.v1.pin.list")
        .expect("pin.list is in the spec");
    pins.rate_limit =
        Some(RateLimit { per_second: Some(3), per_minute: Some(4), ..RateLimit::default() });
    let env = start_with(config).await;
    for _ in 0..3 {
        assert_eq!(env.api(Method::GET, "/open-apis/im/v1/pins", None).await.code(), 0);
    }
    let per_second = env.api(Method::GET, "/open-apis/im/v1/pins", None).await;
    assert_eq!((per_second.status, per_second.code()), (400, 99991400));
    assert_eq!(per_second.header("x-ogw-ratelimit-limit"), Some("3"));
    assert_eq!(per_second.header("x-ogw-ratelimit-reset"), Some("1"));
    // Other endpoints have their own windows.
    // (No image img_1 was uploaded: answered, not rate limited.)
    assert_eq!(env.api(Method::GET, "/open-apis/im/v1/images/img_1", None).await.code(), 234003);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(env.api(Method::GET, "/open-apis/im/v1/pins", None).await.code(), 0);
    let per_minute = env.api(Method::GET, "/open-apis/im/v1/pins", None).await;
    assert_eq!(per_minute.code(), 99991400);
    assert_eq!(per_minute.header("x-ogw-ratelimit-limit"), Some("4"));
    let reset: u64 = per_minute.header("x-ogw-ratelimit-reset").unwrap().parse().unwrap();
    assert!((57..=60).contains(&reset), "{reset}");
    // Reset forgets the windows.
    env.control(Method::POST, "/reset", None).await;
    assert_eq!(env.api(Method::GET, "/open-apis/im/v1/pins", None).await.code(), 0);
}

#[tokio::test]
async fn undocumented_endpoints_get_50_per_second() {
    let env = start().await;
    // When each accepted request was sent and answered: the sandbox counted
    // it at some instant in between.
    let mut accepted = Vec::new();
    let (limited, refused_sent, refused_answered) = loop {
        let sent = Instant::now();
        let answer = env.api(Method::GET, "/open-apis/im/v1/pins", None).await;
        let answered = Instant::now();
        match answer.code() {
            0 => accepted.push((sent, answered)),
            99991400 => break (answer, sent, answered),
            other => panic!("unexpected code {other}"),
        }
        assert!(accepted.len() <= 1000, "never limited");
    };
    assert_eq!(limited.header("x-ogw-ratelimit-limit"), Some("50"));
    // A sliding second holds 50 when the 51st is refused. However slow the
    // machine, the requests surely inside that second (sent after the
    // refusal's answer less a second) are at most 50, and those that may be
    // inside it (answered after its sending less a second) at least 50; when
    // all came within a second both are the whole count, exactly 50. (Until
    // issue 30 the exact check ran only when the loop took under a second.)
    let second = Duration::from_secs(1);
    let surely_inside =
        accepted.iter().filter(|(sent, _)| *sent + second > refused_answered).count();
    let maybe_inside =
        accepted.iter().filter(|(_, answered)| *answered + second > refused_sent).count();
    assert!(
        surely_inside <= 50 && maybe_inside >= 50,
        "{} accepted: {surely_inside} surely and {maybe_inside} maybe within the refused request's second",
        accepted.len()
    );
}

#[tokio::test]
async fn limits_can_be_switched_off() {
    let mut config = config();
    config.rate_limits = false;
    let env = start_with(config).await;
    let chat = env.chat("group", None).await;
    for i in 0..12 {
        env.send_ok(&chat, &format!("m{i}")).await;
    }
    for _ in 0..60 {
        assert_eq!(env.api(Method::GET, "/open-apis/im/v1/pins", None).await.code(), 0);
    }
}

#[tokio::test]
async fn hundreds_of_concurrent_connections() {
    let mut config = config();
    config.rate_limits = false;
    let env = start_with(config).await;
    let chat = env.chat("group", None).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..300 {
        // Requests in flight at once each take a connection of their own.
        let http = env.http.clone();
        let url = env.url("/open-apis/im/v1/messages?receive_id_type=chat_id");
        let token = env.token.clone();
        let chat = chat.clone();
        tasks.spawn(async move {
            let body =
                json!({"receive_id": chat, "msg_type": "text", "content": json!({"text": format!("m{i}")}).to_string(), "uuid": format!("u{}", i % 150)});
            let answer: serde_json::Value = http.post(url).bearer_auth(token).json(&body).send().await.unwrap().json().await.unwrap();
            answer["code"].as_i64().unwrap()
        });
    }
    let mut ok = 0;
    while let Some(code) = tasks.join_next().await {
        assert_eq!(code.unwrap(), 0);
        ok += 1;
    }
    assert_eq!(ok, 300);
    // 150 distinct uuids: exactly 150 messages, however the requests raced.
    assert_eq!(env.stored_messages().await.len(), 150);
    let (_, stats) = env.control(Method::GET, "/stats", None).await;
    assert_eq!(stats["requests"], 301, "300 sends and the token request");
}
