//! Fault rules: every kind, counts, probability by seed, path prefixes, and
//! faults after the request took effect.

mod common;

use std::time::{Duration, Instant};

use common::{Env, start};
use reqwest::Method;
use serde_json::{Value, json};

const PINS: &str = "/open-apis/im/v1/pins";
const TENANT: &str = "/open-apis/auth/v3/tenant_access_token/internal";

async fn send_with_uuid(
    env: &Env,
    chat: &str,
    uuid: &str,
) -> Result<common::Answer, reqwest::Error> {
    let body = json!({"receive_id": chat, "msg_type": "text", "content": "{\"text\":\"hi\"}", "uuid": uuid});
    env.try_api(Method::POST, "/open-apis/im/v1/messages?receive_id_type=chat_id", Some(body)).await
}

#[tokio::test]
async fn status_faults_answer_a_non_feishu_body_count_times() {
    let env = start().await;
    env.fault(json!({"kind": "status", "status": 503, "count": 2})).await;
    for _ in 0..2 {
        let answer = env.api(Method::GET, PINS, None).await;
        assert_eq!(answer.status, 503);
        assert!(answer.body.is_string(), "not JSON: {}", answer.body);
        assert!(answer.header("x-tt-logid").is_some());
    }
    assert_eq!(env.api(Method::GET, PINS, None).await.code(), 0);
    let (_, stats) = env.control(Method::GET, "/stats", None).await;
    assert_eq!(stats["faults_injected"], 2);
    let requests = env.requests().await;
    let statuses: Vec<&Value> = requests.iter().skip(1).map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!(503), &json!(503), &json!(200)]);
    assert_eq!(requests[1]["code"], Value::Null);
}

#[tokio::test]
async fn delay_waits_then_answers() {
    let env = start().await;
    env.fault(json!({"kind": "delay", "millis": 300, "count": 1})).await;
    let started = Instant::now();
    assert_eq!(env.api(Method::GET, PINS, None).await.code(), 0);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    env.api(Method::GET, PINS, None).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let env = start().await;
    env.fault(json!({"kind": "drop", "count": 1})).await;
    let error = env.try_api(Method::GET, PINS, None).await.err().expect("no answer");
    assert!(!error.is_status(), "{error}");
    assert_eq!(env.api(Method::GET, PINS, None).await.code(), 0);
    let requests = env.requests().await;
    assert_eq!(requests[1]["status"], Value::Null);
}

#[tokio::test]
async fn rate_limited_and_expire_token_faults() {
    let env = start().await;
    env.fault(json!({"kind": "rate_limited", "count": 1})).await;
    let limited = env.api(Method::GET, PINS, None).await;
    assert_eq!((limited.status, limited.code()), (400, 230020));
    assert!(limited.header("x-ogw-ratelimit-limit").is_some());
    assert_eq!(limited.header("x-ogw-ratelimit-reset"), Some("1"));
    env.fault(json!({"kind": "expire_token", "count": 1})).await;
    let expired = env.api(Method::GET, PINS, None).await;
    assert_eq!((expired.status, expired.code()), (400, 99991663));
    assert_eq!(env.api(Method::GET, PINS, None).await.code(), 0);
}

#[tokio::test]
async fn after_processing_the_request_takes_effect_unheard() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    env.fault(json!({"kind": "status", "status": 502, "count": 1, "after_processing": true})).await;
    let answer = send_with_uuid(&env, &chat, "idem-1").await.unwrap();
    assert_eq!(answer.status, 502);
    assert_eq!(env.stored_messages().await.len(), 1, "the message was stored all the same");
    // The retry with the same uuid gets the stored message, and nothing new is stored.
    let retry = send_with_uuid(&env, &chat, "idem-1").await.unwrap();
    assert_eq!(retry.code(), 0);
    assert_eq!(retry.body["data"]["message_id"], env.stored_messages().await[0]["message_id"]);

    env.fault(json!({"kind": "drop", "count": 1, "after_processing": true})).await;
    assert!(send_with_uuid(&env, &chat, "idem-2").await.is_err());
    assert_eq!(env.stored_messages().await.len(), 2);
    let retry = send_with_uuid(&env, &chat, "idem-2").await.unwrap();
    assert_eq!(retry.body["data"]["message_id"], env.stored_messages().await[1]["message_id"]);
    assert_eq!(env.stored_messages().await.len(), 2);

    // Before processing, nothing is stored.
    env.fault(json!({"kind": "status", "status": 500, "count": 1})).await;
    assert_eq!(send_with_uuid(&env, &chat, "idem-3").await.unwrap().status, 500);
    assert_eq!(env.stored_messages().await.len(), 2);
}

#[tokio::test]
async fn path_prefixes_and_token_requests() {
    let env = start().await;
    env.fault(json!({"kind": "status", "status": 500, "path_prefix": "/open-apis/im/v1/messages"}))
        .await;
    assert_eq!(env.api(Method::GET, PINS, None).await.code(), 0);
    assert_eq!(env.api(Method::GET, "/open-apis/im/v1/messages/om_1", None).await.status, 500);
    env.control(Method::DELETE, "/faults", None).await;

    // A rule without a prefix leaves token requests alone…
    env.fault(json!({"kind": "status", "status": 500})).await;
    let token = env
        .raw(
            Method::POST,
            TENANT,
            None,
            Some(json!({"app_id": "cli_sandbox", "app_secret": "sandbox-secret"})),
        )
        .await;
    assert_eq!(token.status, 200);
    assert_eq!(env.api(Method::GET, PINS, None).await.status, 500);
    env.control(Method::DELETE, "/faults", None).await;
    assert_eq!(env.api(Method::GET, PINS, None).await.status, 200);

    // …unless the prefix names them.
    env.fault(
        json!({"kind": "status", "status": 500, "path_prefix": "/open-apis/auth", "count": 1}),
    )
    .await;
    let token = env
        .raw(
            Method::POST,
            TENANT,
            None,
            Some(json!({"app_id": "cli_sandbox", "app_secret": "sandbox-secret"})),
        )
        .await;
    assert_eq!(token.status, 500);
    let (_, listed) = env.control(Method::GET, "/faults", None).await;
    assert_eq!(listed["faults"][0]["remaining"], 0);
    assert_eq!(listed["faults"][0]["fired"], 1);
}

#[tokio::test]
async fn probability_follows_the_seed() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let env = start().await;
        env.fault(json!({"kind": "status", "status": 500, "probability": 0.5, "seed": seed})).await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(env.api(Method::GET, PINS, None).await.status);
        }
        statuses
    }
    let first = pattern(7).await;
    assert_eq!(first, pattern(7).await);
    let failed = first.iter().filter(|&&s| s == 500).count();
    assert!((5..=25).contains(&failed), "{first:?}");
    assert_ne!(first, pattern(8).await);
}

#[tokio::test]
async fn bad_rules_are_refused() {
    let env = start().await;
    for rule in [
        json!({"kind": "meltdown"}),
        json!({"kind": "drop", "probability": 1.5}),
        json!({"kind": "drop", "typo": true}),
        json!("drop"),
    ] {
        let (status, body) = env.control(Method::POST, "/faults", Some(rule)).await;
        assert_eq!(status, 400);
        assert!(body["error"].is_string());
    }
}
