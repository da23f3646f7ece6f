//! Event dedup on a real Redis (`feishu_runtime::redis::RedisDedup`) shared
//! by two dispatchers, as two processes of one app would share it: a message
//! is handled once by the pair, whichever event id it comes under; a copy
//! meeting a live claim is answered "not yet"; a claim left by a process
//! that died is taken over once its lease lapses; a commit outlives the
//! platform's 7.2 hours of retries.
//!
//! Without `redis-server` these tests print why and pass (they fail with
//! `CI` set).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use feishu_runtime::events::{
    self, Channel, DedupStore, Dispatcher, EventBody, EventEnvelope, Outcome,
};
use feishu_runtime::redis::RedisStores;
use feishu_testkit::RedisServer;
use serde::Deserialize;
use serde_json::json;

const APP: &str = "cli_dedup";

#[derive(Debug, Deserialize)]
struct MessageReceived {}

impl EventBody for MessageReceived {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}

fn message(event_id: &str, message_id: &str) -> EventEnvelope {
    let body = json!({
        "schema": "2.0",
        "header": {"event_id": event_id, "event_type": "im.message.receive_v1", "app_id": APP},
        "event": {"message": {"message_id": message_id}},
    });
    events::parse_event(body.to_string().as_bytes()).unwrap()
}

/// A dispatcher on its own connection to `redis` whose handler counts its
/// runs in `runs` and takes `work`.
async fn instance(redis: &RedisServer, runs: &Arc<AtomicU32>, work: Duration) -> Dispatcher {
    let stores = RedisStores::connect(&redis.url()).await.unwrap();
    let runs = Arc::clone(runs);
    let mut builder = Dispatcher::builder();
    builder
        .on(move |_ctx, _event: MessageReceived| {
            let runs = Arc::clone(&runs);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(work).await;
                Ok(())
            }
        })
        .unwrap();
    builder.dedup_store(stores.dedup_store(APP)).copy_wait(Duration::ZERO);
    builder.build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_handle_a_message_once_whatever_its_event_ids() {
    let Some(redis) = RedisServer::start("two_instances_handle_a_message_once") else {
        return;
    };
    let runs = Arc::new(AtomicU32::new(0));
    let a = instance(&redis, &runs, Duration::from_millis(300)).await;
    let b = instance(&redis, &runs, Duration::ZERO).await;

    let first =
        tokio::spawn(async move { a.dispatch(message("ev_1", "om_1"), Channel::Webhook).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The same message under another event id, on the other instance,
    // while the first is still being handled: not yet (the platform pushes
    // it again later).
    let copy = b.dispatch(message("ev_2", "om_1"), Channel::Webhook).await;
    assert!(matches!(copy, Outcome::InProgress), "{copy:?}");
    let first = first.await.unwrap();
    assert!(matches!(first, Outcome::Handled { .. }), "{first:?}");
    // Pushed again after it was handled: a duplicate, on either instance.
    let again = b.dispatch(message("ev_2", "om_1"), Channel::LongConnection).await;
    assert!(matches!(again, Outcome::Duplicate { .. }), "{again:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one run for the pair");

    // Committed for longer than the platform retries (about 7.2 h).
    let ttl: u64 = redis
        .command("PTTL feishu:cli_dedup:dedup:message:om_1")
        .trim_start_matches(':')
        .parse()
        .unwrap();
    assert!(ttl > 8 * 3600 * 1000, "{ttl} ms");
    assert_eq!(redis.command("GET feishu:cli_dedup:dedup:message:om_1"), "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_claim_is_taken_over_once_its_lease_lapses() {
    let Some(redis) = RedisServer::start("a_dead_holders_claim_is_taken_over") else {
        return;
    };
    let stores = RedisStores::connect(&redis.url()).await.unwrap();
    // A process claimed the message and was killed: nothing renews or
    // releases its claim.
    let dead = stores.dedup_store(APP);
    let claimed = dead.claim("message:om_2", "dead-owner", Duration::from_millis(500)).await;
    assert!(matches!(claimed, Ok(events::Claim::Acquired)), "{claimed:?}");
    // Another owner cannot release it, nor renew it.
    dead.release("message:om_2", "someone-else").await.unwrap();
    assert!(!dead.renew("message:om_2", "someone-else", Duration::from_secs(60)).await.unwrap());

    let runs = Arc::new(AtomicU32::new(0));
    let alive = instance(&redis, &runs, Duration::ZERO).await;
    let held = alive.dispatch(message("ev_3", "om_2"), Channel::LongConnection).await;
    assert!(matches!(held, Outcome::InProgress), "{held:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    tokio::time::sleep(Duration::from_millis(600)).await;
    let taken_over = alive.dispatch(message("ev_3", "om_2"), Channel::LongConnection).await;
    assert!(matches!(taken_over, Outcome::Handled { .. }), "{taken_over:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
