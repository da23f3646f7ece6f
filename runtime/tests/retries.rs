//! Retries: which failures are sent again, with which idempotency key, and
//! how long the client waits for rate limits.
//!
//! The tests that measure the client's own waits (backoff, rate-limit
//! resets and their jitter, the limiter's windows) run on tokio's paused
//! clock, so that their assertions are exact: the test server runs on the
//! same runtime and answers over loopback at once, and time moves only
//! when every task waits for a timer.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use feishu_runtime::{ApiRequest, Client, Error, Method, RateLimit, RequestOptions, RetryPolicy};
use serde_json::json;
use support::{Reply, Server};

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn client(server: &Server) -> Client {
    Client::builder("cli_test", "app-secret-xyz")
        .base_url(server.url())
        .retry(fast_retries())
        .build()
        .unwrap()
}

/// Answers the first `failures` API calls with `failure`, the rest with a
/// success envelope.
async fn failing_first(failures: usize, failure: Reply) -> Server {
    let seen = Arc::new(AtomicUsize::new(0));
    Server::with_token(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            failure.clone()
        } else {
            Reply::json(json!({"code": 0, "msg": "ok", "data": {"message_id": "om_1"}}))
        }
    })
    .await
}

fn send(path: &str) -> ApiRequest {
    ApiRequest::new(Method::POST, path)
        .json(&json!({"content": "{\"text\":\"hi\"}", "msg_type": "text"}))
        .unwrap()
}

#[tokio::test]
async fn a_keyed_write_is_retried_after_5xx_with_the_same_generated_uuid() {
    let server = failing_first(2, Reply::raw(503, "text/plain", "busy")).await;
    let value = client(&server)
        .send_value(send("/open-apis/im/v1/messages/om_0/reply").idempotency_field("uuid"))
        .await
        .unwrap();
    assert_eq!(value["message_id"], "om_1");
    let attempts = server.api_requests();
    assert_eq!(attempts.len(), 3);
    let uuids: Vec<String> =
        attempts.iter().map(|r| r.json()["uuid"].as_str().unwrap().to_owned()).collect();
    assert_eq!(uuids[0].len(), 36, "{uuids:?}");
    assert!(uuids.iter().all(|u| *u == uuids[0]), "{uuids:?}");
}

#[tokio::test]
async fn each_logical_call_gets_its_own_key() {
    let server = failing_first(0, Reply::raw(503, "text/plain", "")).await;
    let client = client(&server);
    for _ in 0..2 {
        client.send_value(send("/open-apis/x").idempotency_field("uuid")).await.unwrap();
    }
    let requests = server.api_requests();
    assert_ne!(requests[0].json()["uuid"], requests[1].json()["uuid"]);
}

#[tokio::test]
async fn the_callers_uuid_is_sent_unchanged() {
    let server = failing_first(1, Reply::raw(500, "text/plain", "")).await;
    let request = ApiRequest::new(Method::POST, "/open-apis/x")
        .json(&json!({"uuid": "caller-key"}))
        .unwrap()
        .idempotency_field("uuid");
    client(&server).send_value(request).await.unwrap();
    let requests = server.api_requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.json()["uuid"] == "caller-key"));
}

#[tokio::test]
async fn an_unkeyed_write_is_not_repeated_after_an_ambiguous_failure() {
    let server = failing_first(1, Reply::raw(502, "text/html", "bad gateway")).await;
    let err = client(&server).send_value(send("/open-apis/x")).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 502, .. }), "{err:?}");
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn the_caller_can_vouch_for_an_unkeyed_write() {
    let server = failing_first(1, Reply::raw(502, "text/html", "")).await;
    client(&server)
        .send_value(send("/open-apis/x").options(RequestOptions::default().idempotent()))
        .await
        .unwrap();
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn reads_are_retried_until_the_attempts_run_out() {
    let server = failing_first(100, Reply::raw(500, "text/plain", "")).await;
    let err =
        client(&server).send_value(ApiRequest::new(Method::GET, "/open-apis/x")).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 500, .. }), "{err:?}");
    assert_eq!(server.api_requests().len(), RetryPolicy::default().max_attempts as usize);
}

#[tokio::test]
async fn a_timed_out_read_is_retried() {
    let seen = Arc::new(AtomicUsize::new(0));
    let server = Server::with_token(move |_| {
        let reply = Reply::json(json!({"code": 0, "data": {"ok": true}}));
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            reply.delay(Duration::from_secs(30))
        } else {
            reply
        }
    })
    .await;
    let client = Client::builder("cli_test", "s")
        .base_url(server.url())
        .timeout(Duration::from_millis(300))
        .retry(fast_retries())
        .build()
        .unwrap();
    let value = client.send_value(ApiRequest::new(Method::GET, "/open-apis/x")).await.unwrap();
    assert_eq!(value["ok"], true);
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server =
        failing_first(100, Reply::json(json!({"code": 230001, "msg": "bad param"})).status(400))
            .await;
    let err =
        client(&server).send_value(ApiRequest::new(Method::GET, "/open-apis/x")).await.unwrap_err();
    assert_eq!(err.code(), Some(230001));
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_refusals_wait_for_the_reset_header_then_succeed() {
    for code in [99991400, 230020] {
        let server = failing_first(
            1,
            Reply::json(json!({"code": code, "msg": "too many requests"}))
                .status(400)
                .header("x-ogw-ratelimit-limit", "50")
                .header("x-ogw-ratelimit-reset", "1"),
        )
        .await;
        let started = Instant::now();
        // Not even an unkeyed write is at risk: the server refused it.
        client(&server).send_value(send("/open-apis/x")).await.unwrap();
        // The reset, plus up to a tenth of it (the jitter).
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(1), "{code}: waited {waited:?}");
        assert!(waited <= Duration::from_millis(1100), "{code}: waited {waited:?}");
        assert_eq!(server.api_requests().len(), 2, "{code}");
    }
}

#[tokio::test(start_paused = true)]
async fn calls_refused_together_come_back_spread_over_the_jitter() {
    // Each refused call waits the reset plus up to a tenth of it, so that
    // the callers do not all come back in the same instant; the pause that
    // holds back the endpoint meanwhile must not gather them up again.
    const CALLS: usize = 20;
    let seen = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = retries.clone();
    let server = Server::with_token(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < CALLS {
            Reply::json(json!({"code": 99991400, "msg": "too many"}))
                .status(400)
                .header("x-ogw-ratelimit-reset", "1")
        } else {
            log.lock().unwrap().push(Instant::now());
            Reply::json(json!({"code": 0, "msg": "ok", "data": {}}))
        }
    })
    .await;
    let client = client(&server);
    let started = Instant::now();
    let calls = (0..CALLS).map(|_| {
        let client = client.clone();
        async move {
            client
                .send_value(ApiRequest::new(Method::GET, "/open-apis/x").endpoint("test.v1.x.get"))
                .await
                .unwrap();
        }
    });
    futures_join_all(calls).await;
    let mut retries = retries.lock().unwrap().clone();
    assert_eq!(retries.len(), CALLS);
    retries.sort();
    let after: Vec<Duration> = retries.iter().map(|t| *t - started).collect();
    // Each came back after the reset and within its tenth, by its own
    // draw: twenty draws from 0–100 ms of jitter span far more than 30 ms
    // but for a chance of about 1e-8, and no two coincide but for a chance
    // of about 1e-13 (the clock counts nanoseconds).
    assert!(after[0] >= Duration::from_secs(1), "{after:?}");
    assert!(after[CALLS - 1] <= Duration::from_millis(1100), "{after:?}");
    let spread = retries[CALLS - 1] - retries[0];
    assert!(spread >= Duration::from_millis(30), "{after:?}");
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_are_bounded() {
    let server = failing_first(
        1000,
        Reply::json(json!({"code": 99991400, "msg": "too many"}))
            .status(400)
            .header("x-ogw-ratelimit-reset", "1"),
    )
    .await;
    let client = Client::builder("cli_test", "s")
        .base_url(server.url())
        .retry(fast_retries().max_rate_limit_wait(Duration::from_millis(2500)))
        .build()
        .unwrap();
    let err = client.send_value(send("/open-apis/x")).await.unwrap_err();
    assert_eq!(err.code(), Some(99991400));
    // Waits of 1–1.1 s each: two fit in 2.5 s, a third does not.
    assert_eq!(server.api_requests().len(), 3);
}

#[tokio::test]
async fn no_retries_with_the_none_policy() {
    let server = failing_first(1, Reply::raw(503, "text/plain", "")).await;
    let client = Client::builder("cli_test", "s")
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(client.send_value(ApiRequest::new(Method::GET, "/open-apis/x")).await.is_err());
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_connection_refused_is_retried_even_for_unkeyed_writes() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::builder("cli_test", "s")
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(fast_retries())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .send_value(ApiRequest::new(Method::POST, "/open-apis/x").auth(feishu_runtime::Auth::None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // Three backoffs (5, 10 and 20 ms, each at least half its value and
    // at most all of it) happened, and nothing else took time.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_micros(17_500), "{waited:?}");
    assert!(waited <= Duration::from_millis(35), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn documented_limits_space_out_a_burst() {
    let server = failing_first(0, Reply::raw(500, "text/plain", "")).await;
    let client = client(&server);
    let limit = RateLimit::new(Some(5), None);
    let started = Instant::now();
    let calls = (0..12).map(|_| {
        let client = client.clone();
        async move {
            client
                .send_value(
                    ApiRequest::new(Method::GET, "/open-apis/x")
                        .endpoint("test.v1.x.get")
                        .rate_limit(limit),
                )
                .await
                .unwrap();
            Instant::now()
        }
    });
    let mut done: Vec<Instant> = futures_join_all(calls).await;
    done.sort();
    // 12 calls at 5 per second: five at once, five when the first window
    // (a second and the limiter's 30 ms margin for latency) has passed,
    // two after the second.
    let starts: Vec<Duration> = done.iter().map(|t| *t - started).collect();
    let window = Duration::from_millis(1030);
    let expected: Vec<Duration> =
        [Duration::ZERO; 5].into_iter().chain([window; 5]).chain([window * 2; 2]).collect();
    assert_eq!(starts, expected);
}

#[tokio::test(start_paused = true)]
async fn receivers_share_a_limit_across_endpoints_but_not_with_each_other() {
    let server = failing_first(0, Reply::raw(500, "text/plain", "")).await;
    let client = client(&server);
    let limit = RateLimit::default().per_receiver(2);
    let started = Instant::now();
    let call = |endpoint: &'static str, receiver: &'static str| {
        let client = client.clone();
        async move {
            client
                .send_value(
                    ApiRequest::new(Method::GET, "/open-apis/x")
                        .endpoint(endpoint)
                        .rate_limit(limit)
                        .receiver(receiver),
                )
                .await
                .unwrap();
            started.elapsed()
        }
    };
    let mut a = futures_join_all([
        call("e1", "ou_a"),
        call("e2", "ou_a"),
        call("e1", "ou_a"),
        call("e1", "ou_b"),
        call("e2", "ou_b"),
    ])
    .await;
    let b = a.split_off(3);
    a.sort();
    // ou_a's third call waits for its window (a second and the 30 ms
    // margin), whichever endpoint; ou_b's calls wait for nothing.
    assert_eq!(a, [Duration::ZERO, Duration::ZERO, Duration::from_millis(1030)]);
    assert_eq!(b, [Duration::ZERO, Duration::ZERO]);
}

/// Runs futures concurrently on the current task and collects their outputs
/// in order (no dependency on the futures crate).
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn hand_built_message_bodies_get_the_size_check_before_sending() {
    let server = failing_first(0, Reply::raw(500, "text/plain", "")).await;
    let client = client(&server);
    let body = |content: String| {
        ApiRequest::new(Method::POST, "/open-apis/im/v1/messages")
            .json(&json!({"receive_id": "ou_1", "msg_type": "post", "content": content}))
            .unwrap()
    };
    let at_limit = "x".repeat(30 * 1024);
    client.send_value(body(at_limit.clone())).await.unwrap();
    let err = client.send_value(body(format!("{at_limit}x"))).await.unwrap_err();
    match &err {
        Error::Validation(v) => assert_eq!(v.field, "content", "{v:?}"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(server.api_requests().len(), 1, "the oversized body was not sent");
}
