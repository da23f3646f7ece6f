//! Marketplace apps (app_ticket pushes, app and tenant tokens, tenants
//! kept apart) and user OAuth (code exchange, single-use refresh tokens,
//! revoked consent, expiring user tokens).

mod common;

use std::time::Duration;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use common::{Env, config, start, start_with};
use feishu_testkit::{Reply, WebhookReceiver};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MARKET_ID: &str = "cli_marketplace";
const MARKET_SECRET: &str = "marketplace-secret";
const OAUTH: &str = "/open-apis/authen/v2/oauth/token";

/// A webhook (`feishu-testkit`) that answers `{}` and records each push.
async fn ticket_webhook() -> WebhookReceiver {
    WebhookReceiver::answering(Reply::raw(200, "application/json", "{}")).await
}

/// The next pushed ticket, after checking the push's signature, decryption
/// and v1 `app_ticket` shape.
async fn next_ticket(webhook: &WebhookReceiver) -> String {
    let push = tokio::time::timeout(Duration::from_secs(10), webhook.next_delivery())
        .await
        .expect("a push arrives");
    let header =
        |name: &str| push.header(name).unwrap_or_else(|| panic!("no {name} header")).to_owned();
    let mut hasher = Sha256::new();
    hasher.update(header("x-lark-request-timestamp").as_bytes());
    hasher.update(header("x-lark-request-nonce").as_bytes());
    hasher.update(b"sandbox-encrypt-key");
    hasher.update(&push.body);
    let expected: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(header("x-lark-signature"), expected, "the push is signed");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(push.json()["encrypt"].as_str().unwrap())
        .unwrap();
    let key: [u8; 32] = Sha256::digest(b"sandbox-encrypt-key").into();
    let iv: [u8; 16] = raw[..16].try_into().unwrap();
    let plain = cbc::Decryptor::<aes::Aes256>::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&raw[16..])
        .unwrap();
    let event: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(event["type"], "event_callback");
    assert_eq!(event["token"], "sandbox-verification-token");
    assert_eq!(event["event"]["type"], "app_ticket");
    assert_eq!(event["event"]["app_id"], MARKET_ID);
    event["event"]["app_ticket"].as_str().unwrap().to_owned()
}

async fn post(env: &Env, path: &str, body: Value) -> common::Answer {
    env.raw(Method::POST, path, None, Some(body)).await
}

async fn app_token(env: &Env, ticket: &str) -> common::Answer {
    post(
        env,
        "/open-apis/auth/v3/app_access_token",
        json!({"app_id": MARKET_ID, "app_secret": MARKET_SECRET, "app_ticket": ticket}),
    )
    .await
}

async fn tenant_token(env: &Env, app_token: &str, tenant: &str) -> common::Answer {
    post(
        env,
        "/open-apis/auth/v3/tenant_access_token",
        json!({"app_access_token": app_token, "tenant_key": tenant}),
    )
    .await
}

#[tokio::test]
async fn the_ticket_is_pushed_on_start_on_resend_and_on_the_control_call() {
    let pushes = ticket_webhook().await;
    let mut config = config();
    config.app_ticket_url = Some(pushes.url().to_owned());
    let env = start_with(config).await;

    let first = next_ticket(&pushes).await;
    let resend = post(
        &env,
        "/open-apis/auth/v3/app_ticket/resend",
        json!({"app_id": MARKET_ID, "app_secret": MARKET_SECRET}),
    )
    .await;
    assert_eq!((resend.status, resend.code()), (200, 0));
    let second = next_ticket(&pushes).await;
    let (status, answer) = env.control(Method::POST, "/app_ticket", None).await;
    assert_eq!((status, answer["status"].as_u64()), (200, Some(200)), "{answer}");
    let third = next_ticket(&pushes).await;
    assert!(first != second && second != third);

    let refused = post(
        &env,
        "/open-apis/auth/v3/app_ticket/resend",
        json!({"app_id": MARKET_ID, "app_secret": "wrong"}),
    )
    .await;
    assert_eq!(refused.code(), 10014);
    // The two newest tickets work; the oldest no longer does.
    assert_eq!(app_token(&env, &third).await.code(), 0);
    assert_eq!(app_token(&env, &second).await.code(), 0);
    assert_eq!(app_token(&env, &first).await.code(), 10012);
    assert_eq!(app_token(&env, "made-up").await.code(), 10012);
    let (_, state) = env.control(Method::GET, "/app_ticket", None).await;
    assert_eq!(state["pushed"], 3);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(pushes.deliveries().len(), 3, "a refused resend pushes nothing");
}

#[tokio::test]
async fn each_tenant_token_sees_only_its_own_tenants_messages() {
    let pushes = ticket_webhook().await;
    let env = start().await;
    let (status, _) =
        env.control(Method::POST, "/app_ticket", Some(json!({"url": pushes.url()}))).await;
    assert_eq!(status, 200);
    let ticket = next_ticket(&pushes).await;
    let app = app_token(&env, &ticket).await;
    let app = app.body["app_access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        tenant_token(&env, &app, "tenant-z").await.code(),
        10003,
        "a tenant without the app"
    );
    assert_eq!(tenant_token(&env, "a-made-up", "tenant-a").await.code(), 99991664);
    let token = |answer: common::Answer| {
        format!("Bearer {}", answer.body["tenant_access_token"].as_str().unwrap())
    };
    let a = token(tenant_token(&env, &app, "tenant-a").await);
    let b = token(tenant_token(&env, &app, "tenant-b").await);

    let send = |auth: String, text: &'static str| {
        let env = &env;
        async move {
            let body = json!({"receive_id": "ou_same_id", "msg_type": "text", "content": json!({"text": text}).to_string()});
            env.raw(
                Method::POST,
                "/open-apis/im/v1/messages?receive_id_type=open_id",
                Some(&auth),
                Some(body),
            )
            .await
        }
    };
    let sent_a = send(a.clone(), "for a").await;
    let sent_b = send(b.clone(), "for b").await;
    assert_eq!((sent_a.code(), sent_b.code()), (0, 0), "{} {}", sent_a.body, sent_b.body);
    let id_a = sent_a.body["data"]["message_id"].as_str().unwrap().to_owned();

    let path = format!("/open-apis/im/v1/messages/{id_a}");
    assert_eq!(env.raw(Method::GET, &path, Some(&a), None).await.code(), 0);
    assert_eq!(
        env.raw(Method::GET, &path, Some(&b), None).await.code(),
        230001,
        "tenant b cannot see tenant a's message"
    );
    let texts = |body: Value| {
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(env.control(Method::GET, "/tenants/tenant-a/messages", None).await.1),
        [r#"{"text":"for a"}"#]
    );
    assert_eq!(
        texts(env.control(Method::GET, "/tenants/tenant-b/messages", None).await.1),
        [r#"{"text":"for b"}"#]
    );
    assert!(
        texts(env.control(Method::GET, "/messages", None).await.1).is_empty(),
        "the self-built app's tenant has none"
    );
    assert_eq!(env.control(Method::GET, "/tenants/tenant-z/messages", None).await.0, 404);

    env.control(Method::POST, "/expire_tokens", None).await;
    assert_eq!(env.raw(Method::GET, &path, Some(&a), None).await.code(), 99991663);
    assert_eq!(
        tenant_token(&env, &app, "tenant-a").await.code(),
        99991664,
        "app tokens expire too"
    );
    assert_eq!(app_token(&env, &ticket).await.code(), 0, "tickets survive");
}

async fn code(env: &Env, open_id: &str) -> String {
    let (status, answer) =
        env.control(Method::POST, "/oauth/code", Some(json!({"open_id": open_id}))).await;
    assert_eq!(status, 200, "{answer}");
    answer["code"].as_str().unwrap().to_owned()
}

fn grant(grant_type: &str, name: &str, value: &str) -> Value {
    json!({"grant_type": grant_type, "client_id": "cli_sandbox", "client_secret": "sandbox-secret", name: value})
}

#[tokio::test]
async fn codes_and_refresh_tokens_work_once() {
    let env = start().await;
    let code = code(&env, "ou_alice").await;

    let tokens = post(&env, OAUTH, grant("authorization_code", "code", &code)).await;
    assert_eq!((tokens.status, tokens.code()), (200, 0), "{}", tokens.body);
    assert_eq!(tokens.body["expires_in"], 7200);
    assert_eq!(tokens.body["token_type"], "Bearer");
    assert_eq!(
        post(&env, OAUTH, grant("authorization_code", "code", &code)).await.code(),
        20003,
        "a code works once"
    );
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_owned();

    let renewed = post(&env, OAUTH, grant("refresh_token", "refresh_token", &refresh)).await;
    assert_eq!(renewed.code(), 0);
    let reused = post(&env, OAUTH, grant("refresh_token", "refresh_token", &refresh)).await;
    assert_eq!(
        (reused.status, reused.code(), reused.body["error"].as_str()),
        (400, 20073, Some("invalid_grant"))
    );
    assert_eq!(
        post(&env, OAUTH, grant("refresh_token", "refresh_token", "ur-unknown")).await.code(),
        20026
    );
    let mut wrong =
        grant("refresh_token", "refresh_token", renewed.body["refresh_token"].as_str().unwrap());
    wrong["client_secret"] = "nope".into();
    assert_eq!(post(&env, OAUTH, wrong).await.code(), 20002);
    let (_, counts) = env.control(Method::GET, "/oauth", None).await;
    assert_eq!(
        (
            counts["exchanges"].as_u64(),
            counts["refreshes"].as_u64(),
            counts["refused_refreshes"].as_u64()
        ),
        (Some(1), Some(3), Some(2))
    );
}

#[tokio::test]
async fn user_tokens_open_user_endpoints_only_and_expire() {
    let env = start().await;
    let code = code(&env, "ou_alice").await;
    let tokens = post(&env, OAUTH, grant("authorization_code", "code", &code)).await;
    let user = format!("Bearer {}", tokens.body["access_token"].as_str().unwrap());
    let chat = env.chat("group", None).await;

    let pins = format!("/open-apis/im/v1/pins?chat_id={chat}");
    assert_eq!(
        env.raw(Method::GET, &pins, Some(&user), None).await.code(),
        0,
        "pin.list accepts user tokens"
    );
    let body = json!({"receive_id": chat, "msg_type": "text", "content": "{\"text\":\"x\"}"});
    let tenant_only = env
        .raw(
            Method::POST,
            "/open-apis/im/v1/messages?receive_id_type=chat_id",
            Some(&user),
            Some(body),
        )
        .await;
    assert_eq!(
        tenant_only.code(),
        99991672,
        "message.create takes the tenant token only: {}",
        tenant_only.body
    );

    env.control(Method::POST, "/expire_tokens", None).await;
    assert_eq!(env.raw(Method::GET, &pins, Some(&user), None).await.code(), 99991663);
    // The refresh token survives and renews it.
    let renewed = post(
        &env,
        OAUTH,
        grant("refresh_token", "refresh_token", tokens.body["refresh_token"].as_str().unwrap()),
    )
    .await;
    let user = format!("Bearer {}", renewed.body["access_token"].as_str().unwrap());
    assert_eq!(env.raw(Method::GET, &pins, Some(&user), None).await.code(), 0);

    // Revoked consent: the access token stops working and the refresh token is refused.
    env.control(Method::POST, "/oauth/revoke", Some(json!({"open_id": "ou_alice"}))).await;
    assert_eq!(env.raw(Method::GET, &pins, Some(&user), None).await.code(), 99991663);
    let refused = post(
        &env,
        OAUTH,
        grant("refresh_token", "refresh_token", renewed.body["refresh_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(refused.code(), 20064);
}

#[tokio::test]
async fn short_lived_user_tokens_expire_by_themselves() {
    let mut config = config();
    config.user_token_ttl = Duration::from_secs(1);
    let env = start_with(config).await;
    let code = code(&env, "ou_bob").await;
    let tokens = post(&env, OAUTH, grant("authorization_code", "code", &code)).await;
    let user = format!("Bearer {}", tokens.body["access_token"].as_str().unwrap());
    let pins = format!("/open-apis/im/v1/pins?chat_id={}", env.chat("group", None).await);
    assert_eq!(env.raw(Method::GET, &pins, Some(&user), None).await.code(), 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(env.raw(Method::GET, &pins, Some(&user), None).await.code(), 99991663);
}

#[tokio::test]
async fn the_authorisation_page_redirects_with_a_code_and_the_state() {
    let env = start().await;
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = env.url("/open-apis/authen/v1/authorize?client_id=cli_sandbox&response_type=code&redirect_uri=https%3A%2F%2Fbot%2Fcb&state=s%201");
    let answer = http.get(page).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let code = location
        .strip_prefix("https://bot/cb?code=")
        .and_then(|rest| rest.strip_suffix("&state=s%201"))
        .unwrap_or_else(|| panic!("{location}"));
    let mut exchange = grant("authorization_code", "code", code);
    exchange["redirect_uri"] = "https://bot/elsewhere".into();
    assert_eq!(post(&env, OAUTH, exchange).await.code(), 20003, "the redirect_uri must match");
}

#[tokio::test]
async fn users_come_only_from_tenants_that_installed_the_app() {
    let env = start().await;
    let (status, answer) =
        env.control(Method::POST, "/oauth/code", Some(json!({"tenant_key": "tenant-a"}))).await;
    assert_eq!(
        status, 400,
        "tenant-a installed the marketplace app, not the self-built one: {answer}"
    );
    let (status, answer) = env
        .control(
            Method::POST,
            "/oauth/code",
            Some(json!({"app_id": MARKET_ID, "tenant_key": "tenant-b"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let mut exchange = grant("authorization_code", "code", answer["code"].as_str().unwrap());
    exchange["client_id"] = MARKET_ID.into();
    exchange["client_secret"] = MARKET_SECRET.into();
    assert_eq!(post(&env, OAUTH, exchange).await.code(), 0);
    let page = env.url("/open-apis/authen/v1/authorize?client_id=cli_sandbox&redirect_uri=http%3A%2F%2Fx&sandbox_tenant_key=tenant-zzz");
    assert_eq!(reqwest::get(page).await.unwrap().json::<Value>().await.unwrap()["code"], 20001);
}
