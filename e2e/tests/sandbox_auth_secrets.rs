//! A marketplace and user-token session against the sandbox — app_ticket
//! pushes, app and tenant tokens for two tenants, every token expiring,
//! OAuth exchange, refreshes, a refused refresh — recorded at TRACE level:
//! no secret (app secrets, tickets, any token, refresh tokens) shows in the
//! logs, nor in the `Debug` or `Display` of anything a caller holds.
//!
//! The subscriber is process-wide, so this binary has a single test.

mod sandbox_support;

use std::sync::Arc;
use std::time::Duration;

use feishu::events::{Webhook, WebhookConfig};
use feishu::{Body, RequestOptions};
use feishu_testkit::Capture;
use sandbox_support::{
    APP_SECRET, ENCRYPT_KEY, Env, Handled, MARKET_SECRET, VERIFICATION_TOKEN, WebhookServer,
    json_data, sandbox_config, send_as_tenant, wait_until,
};
use serde_json::json;

/// The session runs in a runtime of its own that the test drops before it
/// reads the logs: every task the session started (the sandbox and its
/// ticket pushes, the clients' background work, the webhook server) ends
/// with the runtime, so no log line can come later, however long the last
/// ones take.
#[test]
fn no_ticket_token_or_refresh_token_reaches_logs_or_debug_output() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone())
        .expect("no other subscriber is installed");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (secrets, shown, errors) = runtime.block_on(session());
    drop(runtime);
    let logs = capture.text();
    for expected in [
        "feishu.token",
        "feishu.user_token",
        "app_ticket stored",
        "access token refused",
        "refused the refresh token",
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
}

/// Runs the session; returns the secrets it saw, what a caller could print
/// and the errors' output.
async fn session() -> (Vec<String>, Vec<String>, Vec<String>) {
    let webhook = Arc::new(
        WebhookServer::start(
            Webhook::new(
                WebhookConfig::new()
                    .verification_token(VERIFICATION_TOKEN)
                    .encrypt_key(ENCRYPT_KEY),
            )
            .unwrap(),
        )
        .await,
    );
    let mut config = sandbox_config();
    config.app_ticket_url = Some(webhook.url().to_owned());
    let env = Env::start_with(config).await;
    let market = env.marketplace_client();
    let mut shown = vec![format!("{market:?}")];
    let mut errors = Vec::new();
    let mut tickets = Vec::new();

    // The ticket arrives; calls as two tenants; every token expires; calls again.
    wait_until("the app_ticket push", Duration::from_secs(10), || {
        let webhook = webhook.clone();
        async move { webhook.len() > 0 }
    })
    .await;
    for handled in webhook.take() {
        let Handled::Event(envelope) = handled else { panic!("the push was refused: {handled:?}") };
        tickets.push(envelope.event["app_ticket"].as_str().unwrap().to_owned());
        assert!(market.accept_app_ticket_event(&envelope).await.unwrap());
    }
    for (i, tenant) in ["tenant-a", "tenant-b"].into_iter().enumerate() {
        send_as_tenant(&market, tenant, i).await.unwrap();
    }
    env.expire_tokens().await;
    send_as_tenant(&market, "tenant-a", 7).await.unwrap();
    shown.push(format!("{market:?} {:?}", market.app_ticket_store().get().await.unwrap()));
    let no_tenant = json_data(
        market.im().message().create().body(Body::None).options(RequestOptions::default()),
    )
    .await
    .unwrap_err();
    errors.push(format!("{no_tenant:?} {no_tenant}"));

    // A user authorises; the token is refreshed after the expiry; then the
    // user revokes consent and the refresh is refused.
    let client = env.client();
    let auth = client.user_auth();
    let code =
        env.control(reqwest::Method::POST, "oauth/code", Some(json!({"open_id": "ou_dave"}))).await;
    let token = auth.exchange_code("ou_dave", code["code"].as_str().unwrap(), None).await.unwrap();
    shown.push(format!("{token:?} {auth:?} {client:?}"));
    let chat = env.group_chat().await;
    let pins_as_dave = || {
        json_data(
            client
                .im()
                .pin()
                .list()
                .queries([("chat_id", chat.as_str())])
                .options(RequestOptions::default().user_key("ou_dave")),
        )
    };
    pins_as_dave().await.unwrap();
    env.expire_tokens().await;
    pins_as_dave().await.unwrap();
    let latest = auth.store().get("ou_dave").await.unwrap().expect("tokens are kept");
    shown.push(format!("{latest:?}"));
    env.control(reqwest::Method::POST, "oauth/revoke", Some(json!({"open_id": "ou_dave"}))).await;
    let revoked = pins_as_dave().await.unwrap_err();
    errors.push(format!("{revoked:?} {revoked}"));
    let tenant_only = json_data(
        client
            .im()
            .message()
            .create()
            .body(Body::None)
            .options(RequestOptions::default().user_key("ou_dave")),
    )
    .await
    .unwrap_err();
    errors.push(format!("{tenant_only:?} {tenant_only}"));
    let bad_code = auth.exchange_code("ou_eve", "code-made-up", None).await.unwrap_err();
    errors.push(format!("{bad_code:?} {bad_code}"));

    // Every secret the sandbox saw or handed out.
    let mut secrets: Vec<String> = vec![
        APP_SECRET.into(),
        MARKET_SECRET.into(),
        VERIFICATION_TOKEN.into(),
        ENCRYPT_KEY.into(),
    ];
    secrets.extend(tickets.iter().cloned());
    secrets.extend([
        token.access_token.expose().to_owned(),
        token.refresh_token.as_ref().unwrap().expose().to_owned(),
        latest.access_token.expose().to_owned(),
    ]);
    secrets.extend(latest.refresh_token.iter().map(|t| t.expose().to_owned()));
    for r in env.requests().await {
        if let Some(token) = r["authorization"].as_str().and_then(|a| a.strip_prefix("Bearer ")) {
            secrets.push(token.to_owned());
        }
        for field in [
            "app_secret",
            "app_ticket",
            "app_access_token",
            "client_secret",
            "refresh_token",
            "code",
        ] {
            if let Some(value) = r["body"][field].as_str() {
                secrets.push(value.to_owned());
            }
        }
    }
    secrets.retain(|s| s.len() > 8);
    secrets.sort();
    secrets.dedup();
    // The run really used what is checked for.
    for prefix in ["tkt-", "a-", "t-", "u-", "ur-", "code-"] {
        assert!(
            secrets.iter().any(|s| s.starts_with(prefix)),
            "no {prefix} secret was seen: {secrets:?}"
        );
    }
    (secrets, shown, errors)
}
