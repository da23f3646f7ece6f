//! Tokens: issuing, wrong credentials, missing, unknown and expired tokens.

mod common;

use std::time::Duration;

use common::{config, start};
use reqwest::Method;
use serde_json::json;

const TENANT: &str = "/open-apis/auth/v3/tenant_access_token/internal";
const APP: &str = "/open-apis/auth/v3/app_access_token/internal";
const PINS: &str = "/open-apis/im/v1/pins";

#[tokio::test]
async fn issues_tenant_and_app_tokens() {
    let env = start().await;
    let tenant = env
        .raw(
            Method::POST,
            TENANT,
            None,
            Some(json!({"app_id": "cli_sandbox", "app_secret": "sandbox-secret"})),
        )
        .await;
    assert_eq!(tenant.status, 200);
    assert_eq!(tenant.body["code"], 0);
    assert_eq!(tenant.body["msg"], "ok");
    assert_eq!(tenant.body["expire"], 7200);
    assert!(tenant.body["tenant_access_token"].as_str().unwrap().starts_with("t-"));
    assert!(tenant.body.get("app_access_token").is_none());
    assert!(tenant.header("x-tt-logid").is_some_and(|l| !l.is_empty()));

    let app = env
        .raw(
            Method::POST,
            APP,
            None,
            Some(json!({"app_id": "cli_sandbox", "app_secret": "sandbox-secret"})),
        )
        .await;
    assert_eq!(app.body["code"], 0);
    let app_token = app.body["app_access_token"].as_str().unwrap();
    assert!(app_token.starts_with("a-"));
    assert!(app.body["tenant_access_token"].as_str().unwrap().starts_with("t-"));
    // Both kinds of token open the API.
    let listed = env.raw(Method::GET, PINS, Some(&format!("Bearer {app_token}")), None).await;
    assert_eq!(listed.code(), 0, "{}", listed.body);
}

#[tokio::test]
async fn wrong_credentials_get_10014() {
    let env = start().await;
    for body in [
        json!({"app_id": "cli_sandbox", "app_secret": "nope"}),
        json!({"app_id": "cli_other", "app_secret": "sandbox-secret"}),
    ] {
        let answer = env.raw(Method::POST, TENANT, None, Some(body)).await;
        assert_eq!((answer.status, answer.code()), (400, 10014));
        assert_eq!(answer.body["msg"], "app secret invalid");
    }
    let missing = env.raw(Method::POST, TENANT, None, Some(json!({"app_id": "cli_sandbox"}))).await;
    assert_eq!((missing.status, missing.code()), (400, 10003));
}

#[tokio::test]
async fn custom_credentials_and_lifetime() {
    let mut config = config();
    config.app_id = "cli_custom".into();
    config.app_secret = "s3cret".into();
    config.token_ttl = Duration::from_millis(1500);
    let sandbox = feishu_sandbox::Sandbox::start(config, 0).await.unwrap();
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{}{TENANT}", sandbox.url()))
        .json(&json!({"app_id": "cli_custom", "app_secret": "s3cret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["expire"], 1);
    let token = answer["tenant_access_token"].as_str().unwrap().to_string();
    let call = || http.get(format!("{}{PINS}", sandbox.url())).bearer_auth(&token).send();
    let first: serde_json::Value = call().await.unwrap().json().await.unwrap();
    assert_eq!(first["code"], 0);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let later: serde_json::Value = call().await.unwrap().json().await.unwrap();
    assert_eq!(later["code"], 99991663);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens() {
    let env = start().await;
    let missing = env.raw(Method::GET, PINS, None, None).await;
    assert_eq!((missing.status, missing.code()), (400, 99991661));
    let unknown = env.raw(Method::GET, PINS, Some("Bearer t-made-up"), None).await;
    assert_eq!((unknown.status, unknown.code()), (400, 99991663));
    let no_scheme = env.raw(Method::GET, PINS, Some(&env.token), None).await;
    assert_eq!(no_scheme.code(), 99991663);

    assert_eq!(env.api(Method::GET, PINS, None).await.code(), 0);
    let (status, _) = env.control(Method::POST, "/expire_tokens", None).await;
    assert_eq!(status, 200);
    let expired = env.api(Method::GET, PINS, None).await;
    assert_eq!((expired.status, expired.code()), (400, 99991663));

    // A new token works again.
    let fresh = env
        .raw(
            Method::POST,
            TENANT,
            None,
            Some(json!({"app_id": "cli_sandbox", "app_secret": "sandbox-secret"})),
        )
        .await;
    let token = fresh.body["tenant_access_token"].as_str().unwrap();
    assert_ne!(token, env.token);
    assert_eq!(env.raw(Method::GET, PINS, Some(&format!("Bearer {token}")), None).await.code(), 0);
}

#[tokio::test]
async fn unknown_paths_are_404_and_every_answer_has_a_logid() {
    let env = start().await;
    let answer = env.api(Method::GET, "/open-apis/nothing/v1/here", None).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body, json!({"code": 404, "msg": "404 page not found"}));
    assert!(answer.header("x-tt-logid").is_some());
    // A known path with the wrong method is unknown too.
    assert_eq!(env.api(Method::PUT, PINS, None).await.status, 404);
    let elsewhere = env.raw(Method::GET, "/favicon.ico", None, None).await;
    assert_eq!(elsewhere.status, 404);
    assert!(elsewhere.header("x-tt-logid").is_some());
    let logids: std::collections::HashSet<String> = {
        let mut set = std::collections::HashSet::new();
        for _ in 0..5 {
            set.insert(
                env.api(Method::GET, PINS, None).await.header("x-tt-logid").unwrap().to_string(),
            );
        }
        set
    };
    assert_eq!(logids.len(), 5);
}
