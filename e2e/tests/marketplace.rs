//! A marketplace (ISV) client against the sandbox: the app_ticket arrives as
//! a webhook event, calls go out as two tenants at once, each tenant's data
//! stays its own, and every token expiring mid-run loses no call.

mod sandbox_support;

use std::sync::Arc;
use std::time::Duration;

use feishu::events::{Webhook, WebhookConfig};
use feishu::{Body, Client, RequestOptions};
use feishu_runtime::{AuthError, Error};
use sandbox_support::{
    ENCRYPT_KEY, Env, Handled, VERIFICATION_TOKEN, WebhookServer, json_data, sandbox_config,
    send_as_tenant, wait_until,
};
use serde_json::{Value, json};

const TENANTS: [&str; 2] = ["tenant-a", "tenant-b"];
const PER_TENANT: usize = 30;

/// The app's webhook: verifies and decrypts each push, and hands app_ticket
/// events to the client — the one line of wiring an app needs.
fn wire_tickets(client: Client, server: Arc<WebhookServer>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            for handled in server.take() {
                if let Handled::Event(envelope) = handled {
                    client
                        .accept_app_ticket_event(&envelope)
                        .await
                        .expect("the ticket event is for this app");
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

async fn has_ticket(client: &Client) -> bool {
    client.app_ticket_store().get().await.unwrap().is_some()
}

async fn tenant_texts(env: &Env, tenant: &str) -> Vec<String> {
    let answer =
        env.control(reqwest::Method::GET, &format!("tenants/{tenant}/messages"), None).await;
    let mut texts: Vec<String> = answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            serde_json::from_str::<Value>(m["content"].as_str().unwrap()).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    texts.sort();
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_at_once_through_every_token_expiring() {
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
    let client = env.marketplace_client();
    let wiring = wire_tickets(client.clone(), webhook.clone());
    // Pushed when the sandbox started.
    wait_until("the app_ticket", Duration::from_secs(10), || has_ticket(&client)).await;

    let calls: Vec<_> = (0..PER_TENANT)
        .flat_map(|i| TENANTS.map(|tenant| (tenant, i)))
        .map(|(tenant, i)| {
            let client = client.clone();
            tokio::spawn(async move {
                // The second half starts after every token expired.
                if i >= PER_TENANT / 2 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                send_as_tenant(&client, tenant, i).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    env.expire_tokens().await;
    let mut failed = Vec::new();
    for call in calls {
        if let Err(e) = call.await.unwrap() {
            failed.push(e.to_string());
        }
    }
    assert!(failed.is_empty(), "calls lost: {failed:?}");

    for tenant in TENANTS {
        let mut expected: Vec<String> = (0..PER_TENANT).map(|i| format!("{tenant} #{i}")).collect();
        expected.sort();
        assert_eq!(
            tenant_texts(&env, tenant).await,
            expected,
            "{tenant} holds exactly its own messages"
        );
    }
    let requests = env.requests().await;
    let count = |path: &str| requests.iter().filter(|r| r["path"] == path).count();
    assert!(requests.iter().any(|r| r["code"] == 99991663), "the expiry was felt mid-run");
    assert_eq!(
        count("/open-apis/auth/v3/app_access_token"),
        2,
        "one app token before the expiry, one after"
    );
    assert_eq!(
        count("/open-apis/auth/v3/tenant_access_token")
            - requests.iter().filter(|r| r["code"] == 99991664).count(),
        4,
        "two tokens per tenant"
    );
    wiring.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_ticket_fails_fast_and_the_resend_brings_one() {
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
    let env = Env::start().await;
    // The webhook is known, but nothing was pushed yet.
    env.control(
        reqwest::Method::POST,
        "app_ticket",
        Some(json!({"url": webhook.url(), "push": false})),
    )
    .await;
    let client = env.marketplace_client();
    let wiring = wire_tickets(client.clone(), webhook.clone());

    let err = send_as_tenant(&client, "tenant-a", 0).await.unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::AppTicketNotReceived)), "{err:?}");
    wait_until("the resent app_ticket", Duration::from_secs(10), || has_ticket(&client)).await;
    send_as_tenant(&client, "tenant-a", 0).await.unwrap();

    let requests = env.requests().await;
    assert_eq!(
        requests.iter().filter(|r| r["path"] == "/open-apis/auth/v3/app_ticket/resend").count(),
        1
    );
    assert_eq!(tenant_texts(&env, "tenant-a").await, ["tenant-a #0"]);
    // A tenant call without a tenant key goes nowhere.
    let before = env.requests().await.len();
    let no_tenant = json_data(
        client
            .im()
            .message()
            .create()
            .body(Body::Json(json!({})))
            .options(RequestOptions::default()),
    )
    .await
    .unwrap_err();
    assert!(matches!(no_tenant, Error::Auth(AuthError::TenantKeyRequired { .. })), "{no_tenant:?}");
    assert_eq!(env.requests().await.len(), before);
    wiring.abort();
}
