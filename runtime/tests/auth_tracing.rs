//! No secret of a marketplace app or a user — the app secret, the
//! app_ticket, app, tenant and user tokens, refresh tokens — reaches a
//! trace at any level, and the token work is traced.
//!
//! Alone in its binary for the reason tests/tracing.rs gives.

mod support;

use std::time::{Duration, SystemTime};

use feishu_runtime::auth::UserToken;
use feishu_runtime::{ApiRequest, AppType, Auth, Client, Method, RequestOptions, Secret};
use feishu_testkit::Capture;
use serde_json::json;
use support::{Reply, Server};

const APP_SECRET: &str = "APP-SECRET-5d1c";
const TICKET: &str = "TICKET-88e0";
const APP_TOKEN: &str = "a-APP-3b9f";
const TENANT_TOKEN: &str = "t-TENANT-17aa";
const USER_TOKEN: &str = "u-USER-c4d2";
const REFRESH_TOKEN: &str = "r-REFRESH-0e6b";
const SPENT_REFRESH_TOKEN: &str = "r-SPENT-9911";
const NEW_USER_TOKEN: &str = "u-NEW-2f70";
const NEW_REFRESH_TOKEN: &str = "r-NEW-61bd";

async fn server() -> Server {
    Server::start(|r| match r.path.as_str() {
        "/open-apis/auth/v3/app_ticket/resend" => Reply::json(json!({"code": 0, "msg": "ok"})),
        "/open-apis/auth/v3/app_access_token" => Reply::json(json!({"code": 0, "app_access_token": APP_TOKEN, "expire": 7200})),
        "/open-apis/auth/v3/tenant_access_token" => Reply::json(json!({"code": 0, "tenant_access_token": TENANT_TOKEN, "expire": 7200})),
        "/open-apis/authen/v2/oauth/token" => match r.json()["grant_type"].as_str() {
            Some("authorization_code") => Reply::json(json!({"code": 0, "access_token": USER_TOKEN, "expires_in": 7200, "refresh_token": REFRESH_TOKEN})),
            _ if r.json()["refresh_token"] == REFRESH_TOKEN => {
                Reply::json(json!({"code": 0, "access_token": NEW_USER_TOKEN, "expires_in": 7200, "refresh_token": NEW_REFRESH_TOKEN}))
            }
            _ => Reply::json(json!({"code": 20064, "error": "invalid_grant", "error_description": "refresh token revoked"})).status(400),
        },
        _ => Reply::json(json!({"code": 0, "data": {}})),
    })
    .await
}

fn due(refresh: &str) -> UserToken {
    let now = SystemTime::now();
    UserToken {
        access_token: Secret::new(USER_TOKEN),
        refresh_token: Some(Secret::new(refresh)),
        issued_at: now - Duration::from_secs(7190),
        expires_at: now + Duration::from_secs(10),
        refresh_expires_at: None,
        scope: None,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn marketplace_and_user_token_work_is_traced_without_a_secret() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = server().await;
    let client = Client::builder("cli_test", APP_SECRET)
        .base_url(server.url())
        .app_type(AppType::Marketplace)
        .build()
        .unwrap();
    let as_tenant = || {
        ApiRequest::new(Method::GET, "/open-apis/x")
            .options(RequestOptions::default().tenant_key("tk-1"))
    };
    let as_user = || {
        ApiRequest::new(Method::GET, "/open-apis/y")
            .auth(Auth::User)
            .options(RequestOptions::default().user_key("ou_1"))
    };

    let missing = client.send_value(as_tenant()).await.unwrap_err();
    client.set_app_ticket(TICKET).await.unwrap();
    client.send_value(as_tenant()).await.unwrap();
    let auth = client.user_auth();
    auth.exchange_code("ou_1", "code-1", None).await.unwrap();
    auth.store_token("ou_1", due(REFRESH_TOKEN)).await.unwrap();
    client.send_value(as_user()).await.unwrap();
    auth.store_token("ou_1", due(SPENT_REFRESH_TOKEN)).await.unwrap();
    let refused = client.send_value(as_user()).await.unwrap_err();

    let text =
        format!("{}\n{missing}\n{missing:?}\n{refused}\n{refused:?}\n{client:?}", capture.text());
    for secret in [
        APP_SECRET,
        TICKET,
        APP_TOKEN,
        TENANT_TOKEN,
        USER_TOKEN,
        REFRESH_TOKEN,
        SPENT_REFRESH_TOKEN,
        NEW_USER_TOKEN,
        NEW_REFRESH_TOKEN,
    ] {
        assert!(!text.contains(secret), "{secret} reached the traces or errors:\n{text}");
    }
    // What happened is there, though.
    for sign in [
        "feishu.user_token",
        "app_access_token",
        "app_ticket",
        "refused the refresh token",
        "20064",
    ] {
        assert!(text.contains(sign), "{sign} missing from:\n{text}");
    }
}
