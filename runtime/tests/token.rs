//! Fetching, caching, refreshing and evicting access tokens.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use feishu_runtime::{ApiRequest, Auth, Empty, Error, Method, RequestOptions};
use serde_json::json;
use support::{APP_TOKEN_PATH, Reply, Server, TOKEN_PATH, token_reply};

fn ok() -> Reply {
    Reply::json(json!({"code": 0, "msg": "ok", "data": {}}))
}

fn get(path: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, path)
}

#[tokio::test]
async fn token_fetch_sends_exact_request() {
    let server = Server::with_token(|_| ok()).await;
    let client = server.client();

    let token = client.tenant_access_token().await.unwrap();

    assert_eq!(token.expose(), "t-1");
    let fetches = server.requests_to(TOKEN_PATH);
    assert_eq!(fetches.len(), 1);
    let fetch = &fetches[0];
    assert_eq!(fetch.method, "POST");
    assert_eq!(fetch.query, None);
    assert_eq!(fetch.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(fetch.header("authorization"), None);
    assert_eq!(fetch.json(), json!({"app_id": "cli_test", "app_secret": "app-secret-xyz"}));
}

#[tokio::test]
async fn token_is_cached_between_calls() {
    let server = Server::with_token(|_| ok()).await;
    let client = server.client();

    let _: Empty = client.send_json(get("/open-apis/a")).await.unwrap();
    let _: Empty = client.clone().send_json(get("/open-apis/b")).await.unwrap();

    assert_eq!(server.requests_to(TOKEN_PATH).len(), 1);
    let api = server.api_requests();
    assert_eq!(api.len(), 2);
    assert!(api.iter().all(|r| r.header("authorization") == Some("Bearer t-1")));
}

/// On tokio's paused clock (the cache counts on it): the refresh comes when
/// due, exactly, and not one call earlier; the test server never refuses
/// the old token, so nothing but the due time can bring it.
#[tokio::test(start_paused = true)]
async fn token_is_refreshed_when_due() {
    let fetches = AtomicUsize::new(0);
    let server = Server::start(move |r| {
        if r.path == TOKEN_PATH {
            let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
            // One second of life: due for refresh after 0.9 s.
            token_reply(&format!("t-{n}"), 1)
        } else {
            ok()
        }
    })
    .await;
    let client = server.client();

    let start = tokio::time::Instant::now();
    client.send_value(get("/open-apis/a")).await.unwrap();
    tokio::time::sleep_until(start + Duration::from_millis(899)).await;
    client.send_value(get("/open-apis/a")).await.unwrap();
    tokio::time::sleep_until(start + Duration::from_millis(900)).await;
    client.send_value(get("/open-apis/a")).await.unwrap();

    assert_eq!(server.requests_to(TOKEN_PATH).len(), 2);
    let auth: Vec<_> = server
        .api_requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer t-1", "Bearer t-1", "Bearer t-2"]);
}

#[tokio::test]
async fn zero_expire_is_never_reused() {
    let fetches = AtomicUsize::new(0);
    let server = Server::start(move |r| {
        let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
        assert_eq!(r.path, TOKEN_PATH);
        token_reply(&format!("t-{n}"), 0)
    })
    .await;
    let client = server.client();
    assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-1");
    assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-2");
}

#[tokio::test]
async fn an_absurd_token_lifetime_is_clamped_not_overflowed() {
    // `expire` far past what the clock can hold panicked when added to the
    // fetch time; it is read as the longest sane lifetime.
    let server =
        Server::start(|r| if r.path == TOKEN_PATH { token_reply("t-1", i64::MAX) } else { ok() })
            .await;
    let client = server.client();

    client.send_value(get("/open-apis/a")).await.unwrap();
    client.send_value(get("/open-apis/a")).await.unwrap();

    assert_eq!(server.requests_to(TOKEN_PATH).len(), 1, "cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_refresh() {
    let server = Server::start(|r| {
        if r.path == TOKEN_PATH {
            // Slow enough that all callers arrive while the fetch is in flight.
            token_reply("t-1", 7200).delay(Duration::from_millis(100))
        } else {
            ok()
        }
    })
    .await;
    let client = server.client();

    let calls: Vec<_> = (0..50)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.send_value(get(&format!("/open-apis/x/{i}"))).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(server.requests_to(TOKEN_PATH).len(), 1);
    let api = server.api_requests();
    assert_eq!(api.len(), 50);
    assert!(api.iter().all(|r| r.header("authorization") == Some("Bearer t-1")));
}

#[tokio::test]
async fn token_error_code_is_reported() {
    let server = Server::start(|_| {
        Reply::json(json!({"code": 10014, "msg": "app secret invalid"}))
            .header("X-Tt-Logid", "LOG-T")
    })
    .await;
    let client = server.client();

    let err = client.send_value(get("/open-apis/a")).await.unwrap_err();

    match &err {
        Error::Token { code, msg, log_id, http_status } => {
            assert_eq!(
                (*code, msg.as_str(), log_id.as_deref(), *http_status),
                (10014, "app secret invalid", Some("LOG-T"), 200)
            );
        }
        other => panic!("expected a token error, got {other:?}"),
    }
    assert_eq!(err.code(), Some(10014));
    assert!(err.to_string().contains("app secret invalid"), "{err}");
    assert!(server.api_requests().is_empty(), "no API call without a token");
}

/// A server whose token endpoint hands out t-1, t-2, ... and whose API
/// answers with `api(authorization)`.
async fn numbered_tokens(api: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
    let fetches = AtomicUsize::new(0);
    Server::start(move |r| {
        if r.path == TOKEN_PATH || r.path == APP_TOKEN_PATH {
            let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
            token_reply(&format!("t-{n}"), 7200)
        } else {
            api(r.header("authorization").unwrap_or(""))
        }
    })
    .await
}

fn invalid_token(code: i64) -> Reply {
    Reply::json(json!({"code": code, "msg": "Invalid access token for authorization"})).status(400)
}

#[tokio::test]
async fn invalid_tenant_token_is_evicted_and_the_request_retried_once() {
    for code in [99991663, 99991668] {
        let server = numbered_tokens(move |auth| {
            if auth == "Bearer t-1" {
                invalid_token(code)
            } else {
                Reply::json(json!({"code": 0, "data": {"answer": 42}}))
            }
        })
        .await;
        let client = server.client();
        let request = ApiRequest::new(Method::POST, "/open-apis/im/v1/messages")
            .query("receive_id_type", "open_id")
            .json(&json!({"content": "hi"}))
            .unwrap();

        let data = client.send_value(request).await.unwrap();

        assert_eq!(data, json!({"answer": 42}));
        assert_eq!(server.requests_to(TOKEN_PATH).len(), 2);
        let api = server.api_requests();
        assert_eq!(api.len(), 2);
        assert_eq!(api[0].header("authorization"), Some("Bearer t-1"));
        assert_eq!(api[1].header("authorization"), Some("Bearer t-2"));
        // The retry is the same request.
        assert_eq!(
            (api[1].method.as_str(), api[1].query.as_deref()),
            ("POST", Some("receive_id_type=open_id"))
        );
        assert_eq!(api[1].body, api[0].body);
        // The fresh token stays cached.
        assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-2");
    }
}

#[tokio::test]
async fn app_token_is_refreshed_on_rejection_too() {
    let server = numbered_tokens(|auth| {
        if auth == "Bearer t-1" { invalid_token(99991663) } else { Reply::json(json!({"code": 0})) }
    })
    .await;
    let client = server.client();

    client.send_value(get("/open-apis/a").auth(Auth::App)).await.unwrap();

    assert_eq!(server.requests_to(APP_TOKEN_PATH).len(), 2);
    assert_eq!(server.requests_to(TOKEN_PATH).len(), 0);
}

#[tokio::test]
async fn an_invalid_app_token_code_evicts_the_app_token_only() {
    // 99991664, "invalid app token": the app token is refreshed and the
    // call sent again; a tenant-token call answered so keeps its token.
    let server = numbered_tokens(|auth| {
        if auth == "Bearer t-1" { invalid_token(99991664) } else { Reply::json(json!({"code": 0})) }
    })
    .await;
    let client = server.client();
    client.send_value(get("/open-apis/a").auth(Auth::App)).await.unwrap();
    assert_eq!(server.requests_to(APP_TOKEN_PATH).len(), 2);
    assert_eq!(client.app_access_token().await.unwrap().expose(), "t-2");

    let server = numbered_tokens(|_| invalid_token(99991664)).await;
    let client = server.client();
    let err = client.send_value(get("/open-apis/a")).await.unwrap_err();
    assert_eq!(err.code(), Some(99991664));
    assert_eq!((server.api_requests().len(), server.requests_to(TOKEN_PATH).len()), (1, 1));
}

#[tokio::test]
async fn an_illegal_tenant_token_code_evicts_the_tenant_token_only() {
    // 99991665, "invalid tenant code": the tenant token is refreshed and the
    // call sent again; an app-token call answered so keeps its token.
    let server = numbered_tokens(|auth| {
        if auth == "Bearer t-1" { invalid_token(99991665) } else { Reply::json(json!({"code": 0})) }
    })
    .await;
    let client = server.client();
    client.send_value(get("/open-apis/a")).await.unwrap();
    assert_eq!(server.requests_to(TOKEN_PATH).len(), 2);
    assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-2");

    let server = numbered_tokens(|_| invalid_token(99991665)).await;
    let client = server.client();
    let err = client.send_value(get("/open-apis/a").auth(Auth::App)).await.unwrap_err();
    assert_eq!(err.code(), Some(99991665));
    assert_eq!((server.api_requests().len(), server.requests_to(APP_TOKEN_PATH).len()), (1, 1));
}

#[tokio::test]
async fn a_token_rejected_twice_is_retried_only_once() {
    let server = numbered_tokens(|_| invalid_token(99991663).header("X-Tt-Logid", "LOG-2")).await;
    let client = server.client();

    let err = client.send_value(get("/open-apis/a")).await.unwrap_err();

    assert_eq!(err.code(), Some(99991663));
    assert_eq!(err.log_id(), Some("LOG-2"));
    assert_eq!(server.api_requests().len(), 2);
    assert_eq!(server.requests_to(TOKEN_PATH).len(), 2);
}

#[tokio::test]
async fn a_rejected_user_token_is_not_retried() {
    let server = numbered_tokens(|_| invalid_token(99991668)).await;
    let client = server.client();
    let request =
        get("/open-apis/a").auth(Auth::TenantOrUser).options(RequestOptions::user("u-abc"));

    let err = client.send_value(request).await.unwrap_err();

    assert_eq!(err.code(), Some(99991668));
    assert_eq!(server.api_requests().len(), 1);
    assert!(server.requests_to(TOKEN_PATH).is_empty());
}

#[tokio::test]
async fn other_error_codes_are_not_retried() {
    let server = numbered_tokens(|_| Reply::json(json!({"code": 230001, "msg": "no"}))).await;
    let client = server.client();
    assert_eq!(client.send_value(get("/open-apis/a")).await.unwrap_err().code(), Some(230001));
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn invalidate_token_forces_a_refetch() {
    let server = numbered_tokens(|_| ok()).await;
    let client = server.client();

    assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-1");
    client.invalidate_token().await;
    assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-2");
    assert_eq!(client.tenant_access_token().await.unwrap().expose(), "t-2");
}

#[tokio::test]
async fn app_token_fetch() {
    let server = Server::start(|_| token_reply("a-1", 7200)).await;
    let client = server.client();

    assert_eq!(client.app_access_token().await.unwrap().expose(), "a-1");
    assert_eq!(client.app_access_token().await.unwrap().expose(), "a-1");

    let fetches = server.requests();
    assert_eq!(fetches.len(), 1);
    assert_eq!((fetches[0].method.as_str(), fetches[0].path.as_str()), ("POST", APP_TOKEN_PATH));
    assert_eq!(fetches[0].json(), json!({"app_id": "cli_test", "app_secret": "app-secret-xyz"}));
}

#[tokio::test]
async fn concurrent_rejections_keep_the_first_refresh() {
    // Both calls go out with t-1 and are rejected; the second eviction must
    // not throw away the t-2 the first one fetched.
    let gate = Arc::new(tokio::sync::Barrier::new(2));
    let server =
        numbered_tokens(|auth| if auth == "Bearer t-1" { invalid_token(99991663) } else { ok() })
            .await;
    let client = server.client();
    client.tenant_access_token().await.unwrap();

    let calls: Vec<_> = (0..2)
        .map(|_| {
            let (client, gate) = (client.clone(), gate.clone());
            tokio::spawn(async move {
                gate.wait().await;
                client.send_value(get("/open-apis/a")).await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    let fetched = server.requests_to(TOKEN_PATH).len();
    assert_eq!(fetched, 2, "t-1 plus exactly one refresh");
}
