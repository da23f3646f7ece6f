//! A whole session against the sandbox — token fetches, replies, retried
//! failures, a token refresh, failed calls of every kind, webhook events —
//! with every tracing span and event recorded at TRACE level: no secret
//! shows in the logs, nor in the `Debug` or `Display` of anything a caller
//! holds.
//!
//! The subscriber is process-wide, so this binary has a single test.

mod sandbox_support;

use std::sync::OnceLock;

use feishu::MessageId;
use feishu::events::{Webhook, WebhookConfig};
use feishu::im::message::{ReplyRequest, reply};
use feishu::{Body, Client, MessageContent, RequestOptions, RetryPolicy};
use feishu_runtime::Config;
use feishu_testkit::Capture;
use sandbox_support::{
    APP_ID, APP_SECRET, ENCRYPT_KEY, Env, Handled, MESSAGES_PATH, VERIFICATION_TOKEN,
    WebhookServer, token_fetches,
};
use serde_json::json;

/// Installs the recording subscriber once for the whole process.
fn capture() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            tracing::subscriber::set_global_default(capture.clone())
                .expect("no other subscriber is installed");
            capture
        })
        .clone()
}

const WRONG_SECRET: &str = "wrong-app-secret-7c1d";
const USER_TOKEN: &str = "u-user-access-token-93ab";

fn text_reply(parent: &str, text: &str) -> ReplyRequest {
    ReplyRequest::new(MessageId::new(parent), "", "text").message(&MessageContent::text(text))
}

/// The session, run in a runtime of its own that the test drops before it
/// reads the logs: every task the session started (the sandbox, the
/// clients' background work, the webhook server) ends with the runtime, so
/// no log line can come later, however long the last ones take.
#[test]
fn no_secret_reaches_logs_or_debug_output() {
    let capture = capture();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (secrets, shown, errors, log_id) = runtime.block_on(session());
    drop(runtime);
    let logs = capture.text();
    // The capture saw the calls, with their fields, so the checks below are
    // not vacuous.
    for expected in [
        "feishu.request",
        "feishu.token",
        "endpoint=im.v1.message.reply",
        "retrying",
        "access token refused",
        "http_status=",
        "attempts=",
        "code=230001",
        "webhook event accepted",
        &log_id,
    ] {
        assert!(logs.contains(expected), "the captured logs lack {expected:?}:\n{logs}");
    }
    let shown = [shown, errors].concat().join("\n");
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "the logs show the secret {secret:?}:\n{logs}");
        assert!(
            !shown.contains(secret.as_str()),
            "Debug or Display output shows the secret {secret:?}:\n{shown}"
        );
    }
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    eprintln!(
        "captured {} lines of logs; checked {} secrets against them and {} bytes of Debug output",
        logs.lines().count(),
        secrets.len(),
        shown.len()
    );
}

/// Runs the session; returns the secrets it saw, what a caller could print,
/// the errors' output and a log id the logs must show.
async fn session() -> (Vec<String>, Vec<String>, Vec<String>, String) {
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let parent = env.seed_text(&chat, "parent").await;
    let client = env.client();
    // Everything a caller might print.
    let mut shown: Vec<String> = vec![
        format!("{client:?}"),
        format!("{:?}", client.config()),
        format!("{:?}", Config::new(APP_ID, APP_SECRET)),
        format!("{:?}", env.builder()),
    ];

    // A token fetch and a reply.
    let ok = reply(&client, text_reply(&parent, "one"), RequestOptions::default()).await.unwrap();
    shown.push(format!("{ok:?} {client:?}"));

    // A failure after processing and one before, both retried.
    env.add_fault(json!({"kind": "status", "status": 503, "count": 1, "path_prefix": MESSAGES_PATH, "after_processing": true})).await;
    env.add_fault(json!({"kind": "drop", "count": 1, "path_prefix": MESSAGES_PATH})).await;
    reply(&client, text_reply(&parent, "two"), RequestOptions::default()).await.unwrap();
    reply(&client, text_reply(&parent, "three"), RequestOptions::default()).await.unwrap();
    assert_eq!(env.stats().await.faults_injected, 2);

    // Every token expires: refused once, refreshed, retried.
    env.expire_tokens().await;
    reply(&client, text_reply(&parent, "four"), RequestOptions::default()).await.unwrap();

    // Failed calls of every kind, and their errors.
    let mut errors: Vec<String> = Vec::new();
    let documented =
        reply(&client, text_reply("om_missing", "x"), RequestOptions::default()).await.unwrap_err();
    let log_id = documented
        .api_error()
        .and_then(|e| e.log_id.clone())
        .expect("the sandbox sends X-Tt-Logid");
    errors.push(format!("{documented:?} {documented}"));
    let no_retries = env.builder().retry(RetryPolicy::none()).build().unwrap();
    for rule in [
        json!({"kind": "status", "status": 502, "count": 1, "path_prefix": MESSAGES_PATH}),
        json!({"kind": "drop", "count": 1, "path_prefix": MESSAGES_PATH}),
        json!({"kind": "expire_token", "count": 2, "path_prefix": MESSAGES_PATH}),
        json!({"kind": "rate_limited", "count": 1, "path_prefix": MESSAGES_PATH}),
    ] {
        env.add_fault(rule.clone()).await;
        let e = reply(&no_retries, text_reply(&parent, "x"), RequestOptions::default())
            .await
            .expect_err(&rule.to_string());
        errors.push(format!("{e:?} {e}"));
        env.clear_faults().await;
    }
    let validation = reply(
        &client,
        ReplyRequest::new(MessageId::new(&parent), "{}", "text").uuid("u".repeat(51)),
        RequestOptions::default(),
    )
    .await
    .unwrap_err();
    errors.push(format!("{validation:?} {validation}"));
    let wrong_secret = Client::builder(APP_ID, WRONG_SECRET).base_url(env.url()).build().unwrap();
    shown.push(format!("{wrong_secret:?}"));
    let refused = reply(&wrong_secret, text_reply(&parent, "x"), RequestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(10014), "{refused:?}");
    errors.push(format!("{refused:?} {refused}"));
    // A user token the platform does not know: refused, and not refreshed.
    let user = RequestOptions::user(USER_TOKEN);
    shown.push(format!("{user:?}"));
    let user_refused =
        client.im().message().delete(&parent).body(Body::None).options(user).await.unwrap_err();
    assert_eq!(user_refused.code(), Some(99991663), "{user_refused:?}");
    errors.push(format!("{user_refused:?} {user_refused}"));

    // Webhook events: accepted, duplicate, refused.
    let config =
        WebhookConfig::new().verification_token(VERIFICATION_TOKEN).encrypt_key(ENCRYPT_KEY);
    let webhook = Webhook::new(config.clone()).unwrap();
    shown.push(format!("{config:?} {webhook:?}"));
    let server = WebhookServer::start(webhook).await;
    for extra in
        [json!({}), json!({}), json!({"tamper": "signature"}), json!({"token": "not-the-token"})]
    {
        let mut request = json!({
            "url": server.url(),
            "event_type": "im.message.receive_v1",
            "event_id": "ev-secrets",
            "event": {"message": {"message_id": "om_1", "content": "{\"text\":\"hi\"}"}},
            "encrypt": true,
        });
        request.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        env.deliver(request).await;
    }
    let handled = server.take();
    assert!(matches!(handled[0], Handled::Event(_)), "{handled:?}");
    assert!(matches!(handled[1], Handled::Duplicate(_)), "{handled:?}");
    assert!(matches!(handled[2], Handled::Refused { .. }), "{handled:?}");
    assert!(matches!(handled[3], Handled::Refused { .. }), "{handled:?}");
    for h in &handled {
        match h {
            Handled::Event(envelope) => shown.push(format!("{envelope:?}")),
            other => shown.push(format!("{other:?}")),
        }
    }

    // The secrets: the app secrets, every token the sandbox saw, the current
    // one, and the webhook's token and key.
    let current = client.tenant_access_token().await.unwrap();
    shown.push(format!("{current:?} {current}"));
    let requests = env.requests().await;
    let mut secrets: Vec<String> = vec![
        APP_SECRET.into(),
        WRONG_SECRET.into(),
        USER_TOKEN.into(),
        VERIFICATION_TOKEN.into(),
        ENCRYPT_KEY.into(),
        current.expose().to_owned(),
    ];
    for r in &requests {
        if let Some(token) = r["authorization"].as_str().and_then(|a| a.strip_prefix("Bearer ")) {
            secrets.push(token.to_owned());
            // The random part alone, in case something drops the prefix.
            if let Some((_, random)) = token.split_once('-') {
                secrets.push(random.to_owned());
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    let issued: Vec<&String> = secrets.iter().filter(|s| s.starts_with("t-")).collect();
    // Tokens really were used: the first, and one after the expiry.
    assert!(issued.len() >= 2, "{issued:?}");
    assert!(token_fetches(&requests).len() >= 2);
    assert!(secrets.contains(&current.expose().to_owned()));

    (secrets, shown, errors, log_id)
}
