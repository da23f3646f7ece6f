//! Redis goes down under a running client of a fleet, and comes back:
//! calls still go out (the limiter and the token cache fall back to the
//! process), events are handled (dedup answers "first delivery"), the token
//! stores fail with a typed error, the log names the
//! outage once, and once Redis is back the stores are used again without
//! restarting anything.
//!
//! Its own test binary: it installs the process's tracing subscriber.

mod sandbox_support;

use feishu_runtime::events;
use feishu_runtime::redis::RedisStores;
use feishu_runtime::{ApiRequest, AuthError, Error, Method, RateLimit};
use feishu_testkit::{Capture, RedisServer};
use sandbox_support::Env;
use serde_json::json;

const PROGRESS: &str = "im.v1.batch_message.get_progress";
const PROGRESS_PATH: &str = "/open-apis/im/v1/batch_messages/bm_1/get_progress";

fn progress() -> ApiRequest {
    ApiRequest::new(Method::GET, PROGRESS_PATH)
        .endpoint(PROGRESS)
        .rate_limit(RateLimit::new(Some(50), None))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_through_an_outage_logged_once_and_the_stores_come_back() {
    let Some(mut redis) = RedisServer::start("calls_go_on_through_an_outage") else {
        return;
    };
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone())
        .expect("no other subscriber is installed");
    let env = Env::start().await;
    let stores = RedisStores::connect(&redis.url()).await.unwrap();
    let client = env.builder().redis_stores(&stores).build().unwrap();
    client.send_value(progress()).await.expect("a call with Redis up");
    let keys = |redis: &RedisServer| redis.command("DBSIZE");
    assert_ne!(keys(&redis), ":0", "the limiter and the token cache wrote to Redis");

    redis.stop();
    for _ in 0..20 {
        client.send_value(progress()).await.expect("calls go on without Redis");
    }
    // A fresh token is fetched by the process itself.
    client.invalidate_token().await;
    client.send_value(progress()).await.expect("a token fetched without Redis");
    // Event dedup lets every delivery through: a duplicate beats a loss.
    let mut builder = events::Dispatcher::builder();
    builder.fallback(|_ctx, _event| async { Ok(()) }).unwrap();
    builder.dedup_store(stores.dedup_store("cli_sandbox"));
    let dispatcher = builder.build();
    for _ in 0..2 {
        let body = json!({"schema": "2.0", "header": {"event_id": "ev_down", "event_type": "im.chat.updated_v1"}, "event": {}});
        let envelope = events::parse_event(body.to_string().as_bytes()).unwrap();
        let outcome = dispatcher.dispatch(envelope, events::Channel::Webhook).await;
        assert!(matches!(outcome, events::Outcome::Handled { .. }), "{outcome:?}");
    }
    let user = client.user_auth().access_token("ou_alice").await.unwrap_err();
    assert!(
        matches!(&user, Error::Auth(AuthError::Store { .. })),
        "the user-token store fails with its typed error: {user:?}"
    );
    let log = capture.text();
    assert_eq!(log.matches("Redis is unreachable").count(), 1, "the outage is logged once:\n{log}");

    redis.restart();
    // The first command after the outage may still meet the old, broken
    // connection (and start the reconnect); a few calls later the stores
    // are in use again.
    let mut calls = 0;
    while keys(&redis) == ":0" {
        assert!(calls < 3, "the stores did not come back after {calls} calls");
        client.send_value(progress()).await.expect("a call once Redis is back");
        calls += 1;
    }
    let log = capture.text();
    assert_eq!(log.matches("Redis is reachable again").count(), 1, "{log}");
    assert_eq!(log.matches("Redis is unreachable").count(), 1, "{log}");
    let user = client.user_auth().access_token("ou_alice").await.unwrap_err();
    assert!(
        matches!(&user, Error::Auth(AuthError::UserNotAuthorized { .. })),
        "the user-token store answers again: {user:?}"
    );
}
