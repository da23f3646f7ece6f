//! Marketplace (ISV) apps: the app_ticket, the app token fetched with it,
//! and one tenant token per tenant.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use feishu_runtime::{
    ApiRequest, AppType, AuthError, Client, Error, Method, RequestOptions, RetryPolicy,
};
use serde_json::json;
use support::{Recorded, Reply, Server};

const APP_TOKEN: &str = "/open-apis/auth/v3/app_access_token";
const TENANT_TOKEN: &str = "/open-apis/auth/v3/tenant_access_token";
const RESEND: &str = "/open-apis/auth/v3/app_ticket/resend";
const SECRET: &str = "app-secret-xyz";
const TICKET: &str = "ticket-s3cr3t";

fn ok() -> Reply {
    Reply::json(json!({"code": 0, "msg": "ok", "data": {}}))
}

/// A platform that checks what each token request carries: the app token
/// for `cli_test` with the right secret and a ticket, and tenant tokens
/// `t-<tenant>-<n>` for the app tokens it issued.
struct Platform {
    app_tokens: AtomicUsize,
    tenant_tokens: AtomicUsize,
}

impl Platform {
    fn answer(&self, r: &Recorded) -> Reply {
        match r.path.as_str() {
            RESEND => Reply::json(json!({"code": 0, "msg": "ok"})),
            APP_TOKEN => {
                let body = r.json();
                if body["app_secret"] != SECRET {
                    return Reply::json(json!({"code": 10014, "msg": "app secret invalid"}))
                        .status(400);
                }
                if body["app_ticket"] != TICKET {
                    return Reply::json(json!({"code": 10012, "msg": "app_ticket invalid"}))
                        .status(400);
                }
                let n = self.app_tokens.fetch_add(1, Ordering::SeqCst) + 1;
                Reply::json(
                    json!({"code": 0, "msg": "ok", "app_access_token": format!("a-{n}"), "expire": 7200}),
                )
            }
            TENANT_TOKEN => {
                let body = r.json();
                let app = body["app_access_token"].as_str().unwrap_or_default();
                if !app.starts_with("a-") {
                    return Reply::json(
                        json!({"code": 99991664, "msg": "invalid app access token"}),
                    )
                    .status(400);
                }
                let n = self.tenant_tokens.fetch_add(1, Ordering::SeqCst) + 1;
                let tenant = body["tenant_key"].as_str().unwrap_or_default();
                Reply::json(
                    json!({"code": 0, "msg": "ok", "tenant_access_token": format!("t-{tenant}-{n}"), "expire": 7200}),
                )
            }
            _ => ok(),
        }
    }
}

async fn platform() -> (Server, Arc<Platform>) {
    let platform =
        Arc::new(Platform { app_tokens: AtomicUsize::new(0), tenant_tokens: AtomicUsize::new(0) });
    let answering = platform.clone();
    (Server::start(move |r| answering.answer(r)).await, platform)
}

fn client(server: &Server, secret: &str) -> Client {
    Client::builder("cli_test", secret)
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .app_type(AppType::Marketplace)
        .build()
        .unwrap()
}

fn call(tenant: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, "/open-apis/im/v1/chats")
        .options(RequestOptions::default().tenant_key(tenant))
}

fn api_requests(server: &Server) -> Vec<Recorded> {
    server.requests().into_iter().filter(|r| !r.path.starts_with("/open-apis/auth/")).collect()
}

#[tokio::test]
async fn without_a_ticket_the_call_fails_at_once_and_asks_for_a_resend_once() {
    let (server, _) = platform().await;
    let client = client(&server, SECRET);

    for _ in 0..3 {
        let err = client.send_value(call("tk-a")).await.unwrap_err();
        assert!(matches!(err, Error::Auth(AuthError::AppTicketNotReceived)), "{err:?}");
        assert!(err.is_retryable());
    }

    let resends = server.requests_to(RESEND);
    assert_eq!(resends.len(), 1, "one resend per interval, not one per call");
    assert_eq!(resends[0].json(), json!({"app_id": "cli_test", "app_secret": SECRET}));
    assert!(server.requests_to(APP_TOKEN).is_empty());
    assert!(api_requests(&server).is_empty());
}

#[tokio::test]
async fn with_the_ticket_each_tenant_gets_its_own_token_from_one_app_token() {
    let (server, platform) = platform().await;
    let client = client(&server, SECRET);
    client.set_app_ticket(TICKET).await.unwrap();

    let mut calls = Vec::new();
    for i in 0..40 {
        let client = client.clone();
        let tenant = if i % 2 == 0 { "tk-a" } else { "tk-b" };
        calls.push(tokio::spawn(async move { client.send_value(call(tenant)).await }));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }

    let app = server.requests_to(APP_TOKEN);
    assert_eq!(app.len(), 1, "one app token for every tenant");
    assert_eq!(
        app[0].json(),
        json!({"app_id": "cli_test", "app_secret": SECRET, "app_ticket": TICKET})
    );
    let mut tenants: Vec<_> = server.requests_to(TENANT_TOKEN).iter().map(|r| r.json()).collect();
    tenants.sort_by_key(|b| b["tenant_key"].to_string());
    assert_eq!(
        tenants,
        vec![
            json!({"app_access_token": "a-1", "tenant_key": "tk-a"}),
            json!({"app_access_token": "a-1", "tenant_key": "tk-b"})
        ]
    );
    assert_eq!(platform.tenant_tokens.load(Ordering::SeqCst), 2);
    // Every call went out with its own tenant's token.
    let api = api_requests(&server);
    assert_eq!(api.len(), 40);
    let with = |tenant: &str| {
        api.iter()
            .filter(|r| {
                r.header("authorization")
                    .is_some_and(|h| h.starts_with(&format!("Bearer t-{tenant}-")))
            })
            .count()
    };
    assert_eq!((with("tk-a"), with("tk-b")), (20, 20));
    assert!(client.tenant_access_token_for("tk-a").await.unwrap().expose().starts_with("t-tk-a-"));
}

#[tokio::test]
async fn a_tenant_call_without_a_tenant_key_fails_before_sending() {
    let (server, _) = platform().await;
    let client = client(&server, SECRET);
    client.set_app_ticket(TICKET).await.unwrap();

    let err = client
        .send_value(
            ApiRequest::new(Method::GET, "/open-apis/im/v1/chats").endpoint("im.v1.chat.list"),
        )
        .await
        .unwrap_err();

    match err {
        Error::Auth(AuthError::TenantKeyRequired { endpoint }) => {
            assert_eq!(endpoint, "im.v1.chat.list")
        }
        other => panic!("expected TenantKeyRequired, got {other:?}"),
    }
    assert!(matches!(
        client.tenant_access_token().await,
        Err(Error::Auth(AuthError::TenantKeyRequired { .. }))
    ));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_refused_tenant_token_is_replaced_for_that_tenant_only() {
    let refused = Arc::new(AtomicUsize::new(0));
    let platform =
        Arc::new(Platform { app_tokens: AtomicUsize::new(0), tenant_tokens: AtomicUsize::new(0) });
    let seen = refused.clone();
    let server = Server::start(move |r| {
        // The first tenant token issued stops working after one use.
        if r.path == "/open-apis/x"
            && r.header("authorization") == Some("Bearer t-tk-a-1")
            && seen.fetch_add(1, Ordering::SeqCst) > 0
        {
            return Reply::json(json!({"code": 99991663, "msg": "invalid tenant access token"}))
                .status(400);
        }
        platform.answer(r)
    })
    .await;
    let client = client(&server, SECRET);
    client.set_app_ticket(TICKET).await.unwrap();
    let x = |tenant: &str| {
        ApiRequest::new(Method::GET, "/open-apis/x")
            .options(RequestOptions::default().tenant_key(tenant))
    };

    client.send_value(x("tk-a")).await.unwrap();
    client.send_value(x("tk-b")).await.unwrap();
    client.send_value(x("tk-a")).await.unwrap();
    client.send_value(x("tk-b")).await.unwrap();

    let used: Vec<_> = server
        .requests_to("/open-apis/x")
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(
        used,
        [
            "Bearer t-tk-a-1",
            "Bearer t-tk-b-2",
            "Bearer t-tk-a-1",
            "Bearer t-tk-a-3",
            "Bearer t-tk-b-2"
        ]
    );
    assert_eq!(server.requests_to(APP_TOKEN).len(), 1, "the app token was not refused and stays");
}

#[tokio::test]
async fn a_wrong_secret_fails_however_warm_another_client_of_the_app_is() {
    let (server, _) = platform().await;
    let good = client(&server, SECRET);
    good.set_app_ticket(TICKET).await.unwrap();
    good.send_value(call("tk-a")).await.unwrap();

    let wrong = client(&server, "not-the-secret");
    wrong.set_app_ticket(TICKET).await.unwrap();
    let err = wrong.send_value(call("tk-a")).await.unwrap_err();

    assert_eq!(err.code(), Some(10014), "{err:?}");
    assert_eq!(api_requests(&server).len(), 1, "only the good client's call went out");
}

#[tokio::test]
async fn a_refused_ticket_is_forgotten_and_a_new_one_asked_for() {
    let (server, _) = platform().await;
    let client = client(&server, SECRET);
    client.set_app_ticket("stale-ticket").await.unwrap();

    let err = client.send_value(call("tk-a")).await.unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::AppTicketNotReceived)), "{err:?}");
    assert_eq!(server.requests_to(RESEND).len(), 1);
    assert!(client.app_ticket_store().get().await.unwrap().is_none());

    // The pushed ticket arrives; the next call works.
    client.set_app_ticket(TICKET).await.unwrap();
    client.send_value(call("tk-a")).await.unwrap();
    assert_eq!(server.requests_to(APP_TOKEN).len(), 2);
}

#[tokio::test]
async fn an_app_token_refused_by_the_tenant_token_call_is_replaced_once() {
    let first = Arc::new(AtomicUsize::new(0));
    let platform =
        Arc::new(Platform { app_tokens: AtomicUsize::new(0), tenant_tokens: AtomicUsize::new(0) });
    let seen = first.clone();
    let server = Server::start(move |r| {
        if r.path == TENANT_TOKEN
            && r.json()["app_access_token"] == "a-1"
            && seen.fetch_add(1, Ordering::SeqCst) == 0
        {
            return Reply::json(json!({"code": 99991664, "msg": "invalid app access token"}))
                .status(400);
        }
        platform.answer(r)
    })
    .await;
    let client = client(&server, SECRET);
    client.set_app_ticket(TICKET).await.unwrap();

    client.send_value(call("tk-a")).await.unwrap();

    let tenant_calls: Vec<_> = server
        .requests_to(TENANT_TOKEN)
        .iter()
        .map(|r| r.json()["app_access_token"].clone())
        .collect();
    assert_eq!(tenant_calls, [json!("a-1"), json!("a-2")]);
}

#[tokio::test]
async fn debug_output_holds_no_secret_ticket_or_token() {
    let (server, _) = platform().await;
    let client = client(&server, SECRET);
    client.set_app_ticket(TICKET).await.unwrap();
    client.send_value(call("tk-a")).await.unwrap();
    let app = client.app_access_token().await.unwrap();
    let tenant = client.tenant_access_token_for("tk-a").await.unwrap();

    let shown = format!(
        "{client:?} {:?} {app:?} {tenant:?}",
        client.app_ticket_store().get().await.unwrap()
    );
    for secret in [SECRET, TICKET, app.expose(), tenant.expose()] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("Marketplace"), "{shown}");
}

#[tokio::test]
async fn app_ticket_events_are_taken_for_this_app_only() {
    use feishu_runtime::events::{Delivery, Webhook, WebhookConfig};
    let (server, _) = platform().await;
    let client = client(&server, SECRET);
    let webhook = Webhook::new(WebhookConfig::new().verification_token("v-token")).unwrap();
    let envelope = |uuid: &str, event: serde_json::Value| {
        let body = json!({"uuid": uuid, "token": "v-token", "ts": "1700000000.1", "type": "event_callback", "event": event}).to_string();
        let delivery: Delivery = webhook
            .handle(
                [("Content-Type", "application/json")],
                body.as_bytes(),
                std::time::SystemTime::now(),
            )
            .unwrap();
        match delivery {
            Delivery::Event(envelope) => envelope,
            other => panic!("{other:?}"),
        }
    };

    let other_type = envelope("e-1", json!({"type": "app_open", "app_id": "cli_test"}));
    assert!(!client.accept_app_ticket_event(&other_type).await.unwrap());
    let other_app = envelope(
        "e-2",
        json!({"type": "app_ticket", "app_id": "cli_other", "app_ticket": "not-ours"}),
    );
    assert!(client.accept_app_ticket_event(&other_app).await.is_err());
    assert!(client.app_ticket_store().get().await.unwrap().is_none());
    let ours =
        envelope("e-3", json!({"type": "app_ticket", "app_id": "cli_test", "app_ticket": TICKET}));
    assert!(client.accept_app_ticket_event(&ours).await.unwrap());

    client.send_value(call("tk-a")).await.unwrap();
    assert_eq!(server.requests_to(APP_TOKEN)[0].json()["app_ticket"], TICKET);
}

#[tokio::test]
async fn the_dispatcher_stores_app_tickets_with_one_line_of_wiring() {
    use feishu_runtime::events::{Channel, Delivery, Dispatcher, Outcome, Webhook, WebhookConfig};
    let (server, _) = platform().await;
    let client = client(&server, SECRET);
    let mut builder = Dispatcher::builder();
    client.handle_app_tickets(&mut builder).unwrap();
    let dispatcher = builder.build();
    let webhook = Webhook::new(WebhookConfig::new().verification_token("v-token")).unwrap();
    let deliver = |uuid: &str, app_id: &str, ticket: &str| {
        let body = json!({"uuid": uuid, "token": "v-token", "ts": "1700000000.1", "type": "event_callback",
            "event": {"type": "app_ticket", "app_id": app_id, "app_ticket": ticket}})
        .to_string();
        let delivery: Delivery = webhook
            .handle(
                [("Content-Type", "application/json")],
                body.as_bytes(),
                std::time::SystemTime::now(),
            )
            .unwrap();
        let Delivery::Event(envelope) = delivery else { panic!("{delivery:?}") };
        dispatcher.dispatch(envelope, Channel::Webhook)
    };

    let foreign = deliver("e-1", "cli_other", "not-ours").await;
    assert!(matches!(foreign, Outcome::Failed(_)), "{foreign:?}");
    assert!(client.app_ticket_store().get().await.unwrap().is_none());
    let ours = deliver("e-2", "cli_test", TICKET).await;
    assert!(matches!(ours, Outcome::Handled { .. }), "{ours:?}");

    client.send_value(call("tk-a")).await.unwrap();
    assert_eq!(server.requests_to(APP_TOKEN)[0].json()["app_ticket"], TICKET);
    let event: feishu_runtime::events::AppTicketEvent =
        serde_json::from_value(json!({"app_id": "cli_test", "app_ticket": TICKET})).unwrap();
    assert!(!format!("{event:?}").contains(TICKET));
    assert_eq!(event.ticket().expose(), TICKET);
}
