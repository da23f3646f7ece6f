//! The generated client under load against the sandbox: injected failures,
//! tokens expiring mid-run, and bursts at twice the documented rate.
//!
//! Each test starts its own sandbox, so they can run in parallel.

mod sandbox_support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feishu::MessageId;
use feishu::im::message::{ReplyRequest, reply};
use feishu::{Body, Client, MessageContent, RequestOptions};
use sandbox_support::{
    Env, MESSAGES_PATH, RATE_LIMITED, assert_spaced, of_endpoint, patient_retries, token_fetches,
    uuid_counts, wait_until, window_was_full,
};
use serde_json::{Value, json};

const REPLY: &str = "im.v1.message.reply";
const CREATE: &str = "im.v1.message.create";

/// Creates `chats` group chats with one seeded parent message each; returns
/// the parents' ids.
async fn parents(env: &Env, chats: usize) -> Vec<String> {
    let mut parents = Vec::with_capacity(chats);
    for i in 0..chats {
        let chat = env.group_chat().await;
        parents.push(env.seed_text(&chat, &format!("parent {i}")).await);
    }
    parents
}

/// A typed reply without a caller-given uuid.
fn reply_request(parent: &str, text: &str) -> ReplyRequest {
    ReplyRequest::new(MessageId::new(parent), "", "text").message(&MessageContent::text(text))
}

fn text_of(message: &Value) -> String {
    let content: Value =
        serde_json::from_str(message["content"].as_str().expect("content is a string"))
            .expect("content is JSON");
    content["text"].as_str().expect("a text message").to_owned()
}

/// The stored messages that are replies (have a parent).
fn replies(messages: &[Value]) -> Vec<&Value> {
    messages.iter().filter(|m| !m["parent_id"].is_null()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_replies_survive_thirty_percent_failures() {
    const CHATS: usize = 40;
    const PER_PARENT: usize = 5;
    const CALLS: usize = CHATS * PER_PARENT;
    let env = Env::start().await;
    let parents = parents(&env, CHATS).await;
    let before = env.messages().await.len();
    assert_eq!(before, CHATS);

    // About 30% of attempts fail, in three ways. After processing, the
    // message is stored but the client hears a 503 or nothing at all: only
    // the idempotency key keeps the retry from storing it twice. Before
    // processing, the sandbox answers 502 without acting. The statuses tell
    // the kinds apart in the request log.
    let prefix = MESSAGES_PATH;
    for rule in [
        json!({"kind": "status", "status": 503, "probability": 0.12, "seed": 11, "path_prefix": prefix, "after_processing": true}),
        json!({"kind": "drop", "probability": 0.1, "seed": 12, "path_prefix": prefix, "after_processing": true}),
        json!({"kind": "status", "status": 502, "probability": 0.12, "seed": 13, "path_prefix": prefix}),
    ] {
        env.add_fault(rule).await;
    }

    // A 30% failure rate would exhaust the default four attempts of about
    // one call in a hundred; give the calls room.
    let client = env.builder().retry(patient_retries()).build().unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let client = client.clone();
            let parent = parents[i % CHATS].clone();
            tokio::spawn(async move {
                let result = reply(
                    &client,
                    reply_request(&parent, &format!("reply {i}")),
                    RequestOptions::default(),
                )
                .await;
                (parent, result)
            })
        })
        .collect();
    let mut answered = Vec::with_capacity(CALLS);
    for call in calls {
        let (parent, result) = call.await.unwrap();
        let response = result.unwrap_or_else(|e| panic!("a reply to {parent} failed: {e:?}"));
        answered.push((parent, response));
    }
    let elapsed = started.elapsed();

    // Every call answered with its own new message, under its parent.
    let mut ids = HashSet::new();
    for (parent, response) in &answered {
        assert_eq!(response.parent_id.as_deref(), Some(parent.as_str()));
        assert_eq!(response.root_id.as_deref(), Some(parent.as_str()));
        assert!(ids.insert(response.message_id.clone().expect("a message_id")));
    }

    // Exactly one stored message per call: none lost, none doubled.
    let messages = env.messages().await;
    assert_eq!(messages.len() - before, CALLS);
    let stored = replies(&messages);
    assert_eq!(stored.len(), CALLS);
    let texts: HashSet<String> = stored.iter().map(|m| text_of(m)).collect();
    let expected: HashSet<String> = (0..CALLS).map(|i| format!("reply {i}")).collect();
    assert_eq!(texts, expected);
    let parent_set: HashSet<&str> = parents.iter().map(String::as_str).collect();
    let mut per_parent: HashMap<&str, usize> = HashMap::new();
    for m in &stored {
        let parent = m["parent_id"].as_str().unwrap();
        assert!(parent_set.contains(parent), "{m}");
        // The parents are roots, so they are the replies' roots too.
        assert_eq!(m["root_id"], m["parent_id"], "{m}");
        assert!(ids.contains(m["message_id"].as_str().unwrap()), "{m}");
        *per_parent.entry(parent).or_default() += 1;
    }
    assert!(per_parent.values().all(|n| *n == PER_PARENT), "{per_parent:?}");

    // The client made the keys (the caller gave none): one per call.
    let stored_uuids: HashSet<&str> =
        stored.iter().map(|m| m["uuid"].as_str().expect("every reply carries a uuid")).collect();
    assert_eq!(stored_uuids.len(), CALLS);
    assert!(stored_uuids.iter().all(|u| u.len() == 36), "{stored_uuids:?}");

    // The failures really happened, and were retried with the same key.
    let stats = env.stats().await;
    let requests = env.requests().await;
    let sent = of_endpoint(&requests, REPLY);
    let counts = uuid_counts(sent.iter().copied());
    assert!(counts.keys().all(|u| stored_uuids.contains(u.as_str())));
    let retried = counts.values().filter(|n| **n > 1).count();
    let after_503: Vec<&str> = sent
        .iter()
        .filter(|r| r["status"] == 503)
        .map(|r| r["body"]["uuid"].as_str().unwrap())
        .collect();
    let dropped = sent.iter().filter(|r| r["status"].is_null()).count();
    let before_502 = sent.iter().filter(|r| r["status"] == 502).count();
    eprintln!(
        "200 replies with injected failures: {elapsed:?}, {} attempts, {retried} calls retried, \
         {} after-processing 503s, {dropped} dropped, {before_502} refused 502s; sandbox stats {stats:?}",
        sent.len(),
        after_503.len(),
    );
    assert!(stats.faults_injected >= 30, "only {} faults fired", stats.faults_injected);
    assert!(sent.len() >= CALLS + 30, "{} attempts", sent.len());
    assert!(retried >= 20, "only {retried} calls were retried");
    assert!(!after_503.is_empty() && dropped > 0 && before_502 > 0, "every kind of failure fires");
    // A message stored behind a lost answer was retried and not stored
    // again: the retry found the first message by its key.
    for uuid in &after_503 {
        assert!(counts[*uuid] >= 2, "{uuid} was not retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_every_token_mid_run_loses_no_call() {
    const CHATS: usize = 40;
    const CALLS: usize = 200;
    const CONCURRENCY: usize = 8;
    let env = Arc::new(Env::start().await);
    let parents = Arc::new(parents(&env, CHATS).await);
    let before = env.messages().await.len();
    let client = env.client();

    let next = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(Mutex::new(HashSet::new()));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, parents) = (client.clone(), parents.clone());
            let (next, completed, in_flight) = (next.clone(), completed.clone(), in_flight.clone());
            tokio::spawn(async move {
                let mut results = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= CALLS {
                        return results;
                    }
                    in_flight.lock().unwrap().insert(i);
                    let request = reply_request(&parents[i % CHATS], &format!("reply {i}"));
                    let result = reply(&client, request, RequestOptions::default()).await;
                    in_flight.lock().unwrap().remove(&i);
                    completed.fetch_add(1, Ordering::SeqCst);
                    results.push((i, result));
                }
            })
        })
        .collect();

    let token_fetch_count = || {
        let env = env.clone();
        async move { token_fetches(&env.requests().await).len() }
    };
    let at_least = |n: usize| {
        let completed = completed.clone();
        move || {
            let done = completed.load(Ordering::SeqCst) >= n;
            async move { done }
        }
    };

    let patience = Duration::from_secs(60);
    wait_until("40 replies", patience, at_least(40)).await;
    assert_eq!(token_fetch_count().await, 1);
    env.expire_tokens().await;
    let first_expiry_at = completed.load(Ordering::SeqCst);
    // The client notices (99991663), evicts the token and fetches anew.
    wait_until("a second token fetch", patience, || async { token_fetch_count().await >= 2 }).await;
    // Calls in flight now may still hold the old token; once they are done,
    // every call in flight holds the new one, so the second expiry cannot
    // hit a call that already used up its one refresh.
    let holding_old: HashSet<usize> = in_flight.lock().unwrap().clone();
    wait_until("the calls of the first token to end", patience, || {
        let done = in_flight.lock().unwrap().is_disjoint(&holding_old);
        async move { done }
    })
    .await;
    wait_until("100 replies", patience, at_least(100)).await;
    let second_expiry_at = completed.load(Ordering::SeqCst);
    assert!(
        second_expiry_at < CALLS - 2 * CONCURRENCY,
        "the run ended before the second expiry ({second_expiry_at} done)"
    );
    env.expire_tokens().await;

    let mut results = Vec::new();
    for worker in workers {
        results.extend(worker.await.unwrap());
    }
    assert_eq!(results.len(), CALLS);
    for (i, result) in &results {
        if let Err(e) = result {
            panic!("reply {i} failed: {e:?}");
        }
    }
    let messages = env.messages().await;
    assert_eq!(messages.len() - before, CALLS);
    let texts: HashSet<String> = replies(&messages).iter().map(|m| text_of(m)).collect();
    assert_eq!(texts.len(), CALLS);

    // Both expiries hit calls: refused tokens, each refused request sent
    // again with the same key and a fresh token, and one fetch per expiry.
    let requests = env.requests().await;
    let sent = of_endpoint(&requests, REPLY);
    let refused: Vec<&&Value> = sent.iter().filter(|r| r["code"] == 99991663).collect();
    let refused_tokens: HashSet<&str> =
        refused.iter().map(|r| r["authorization"].as_str().unwrap()).collect();
    eprintln!(
        "expiries after {first_expiry_at} and {second_expiry_at} replies: {} refused requests \
         with {} distinct tokens, {} token fetches",
        refused.len(),
        refused_tokens.len(),
        token_fetches(&requests).len()
    );
    assert_eq!(refused_tokens.len(), 2, "both expiries refused a token: {refused:#?}");
    assert_eq!(token_fetches(&requests).len(), 3);
    for r in &refused {
        let uuid = r["body"]["uuid"].as_str().unwrap();
        let retried = sent.iter().any(|s| {
            s["body"]["uuid"] == uuid && s["code"] == 0 && s["authorization"] != r["authorization"]
        });
        assert!(retried, "{uuid} was not retried with a fresh token");
    }
}

/// Sends `total` messages through the catalogue-only `create` at `per_second`,
/// round-robin to `users` open_ids; returns the results in order.
async fn send_at(
    client: &Client,
    users: &[String],
    total: usize,
    per_second: u32,
) -> Vec<Result<Value, feishu::runtime::Error>> {
    let mut interval = tokio::time::interval(Duration::from_secs(1) / per_second);
    let mut calls = Vec::with_capacity(total);
    for i in 0..total {
        interval.tick().await;
        let client = client.clone();
        let body = json!({
            "receive_id": users[i % users.len()],
            "msg_type": "text",
            "content": json!({"text": format!("send {i}")}).to_string(),
            "uuid": format!("load-send-{i}"),
        });
        calls.push(tokio::spawn(async move {
            client
                .im()
                .message()
                .create()
                .body(Body::Json(body))
                .query("receive_id_type", "open_id")
                .await
        }));
    }
    let mut results = Vec::with_capacity(total);
    for call in calls {
        results.push(
            call.await
                .unwrap()
                .map(feishu::Response::into_inner)
                .map_err(feishu::runtime::Error::from),
        );
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sends_at_twice_the_rate_never_see_a_rate_limit() {
    const TOTAL: usize = 1000;
    let env = Env::start().await;
    // The catalogue knows no limits of this endpoint, so the client cannot
    // space the calls: it learns of the limit from 99991400 answers and
    // pauses the endpoint until the reset they name. When the pause ends,
    // the waiting calls come back within a tenth of a second and all but 50
    // are refused again, so with a backlog of hundreds one call can be
    // refused a dozen times; the default policy waits out up to 50 refusals
    // and two minutes per call.
    //
    // It takes about a minute, not the 20 s that 1000 calls at 50/s need:
    // without spacing, some calls meet the 5/s limit of their chat, and the
    // sandbox counts those against the endpoint's 1000 per minute too, so
    // the last few wait for the minute window.
    let client = env.builder().build().unwrap();
    let users: Vec<String> = (0..20).map(|i| format!("ou_load_{i:02}")).collect();

    // The send endpoint documents 50/s; launch at 100/s.
    let started = Instant::now();
    let results = send_at(&client, &users, TOTAL, 100).await;
    let elapsed = started.elapsed();

    let mut ids = HashSet::new();
    for (i, result) in results.iter().enumerate() {
        let data = result.as_ref().unwrap_or_else(|e| panic!("send {i} failed: {e:?}"));
        assert!(ids.insert(data["message_id"].as_str().expect("a message_id").to_owned()));
    }
    let messages = env.messages().await;
    assert_eq!(messages.len(), TOTAL);
    let texts: HashSet<String> = messages.iter().map(text_of).collect();
    assert_eq!(texts.len(), TOTAL);
    let chats: HashSet<&str> = messages.iter().map(|m| m["chat_id"].as_str().unwrap()).collect();
    assert_eq!(chats.len(), users.len());

    let stats = env.stats().await;
    let requests = env.requests().await;
    let sent = of_endpoint(&requests, CREATE);
    let limited: Vec<&&Value> = sent.iter().filter(|r| r["code"] == 99991400).collect();
    let mut refusals_per_call: HashMap<&str, usize> = HashMap::new();
    for r in &limited {
        *refusals_per_call.entry(r["body"]["uuid"].as_str().unwrap()).or_default() += 1;
    }
    let times: Vec<i64> =
        messages.iter().map(|m| m["create_time"].as_str().unwrap().parse().unwrap()).collect();
    let stored_over =
        Duration::from_millis((times.iter().max().unwrap() - times.iter().min().unwrap()) as u64);
    let first = *times.iter().min().unwrap();
    let first_minute = times.iter().filter(|t| **t < first + 60_000).count();
    eprintln!(
        "1000 sends at 100/s: {elapsed:?}, stored over {stored_over:?} ({first_minute} in the \
         first minute); sandbox stats {stats:?}; {} send attempts, {} answered 99991400, the most \
         refusals of one call {}",
        sent.len(),
        limited.len(),
        refusals_per_call.values().max().unwrap_or(&0)
    );
    // Twice the rate cannot all go through at once: the sandbox did limit.
    assert!(stats.rate_limited > 0, "the sandbox never limited: {stats:?}");
    assert_eq!(sent.len() - limited.len(), TOTAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_at_twice_the_rate_are_spaced_by_the_client() {
    const CHATS: usize = 20;
    const TOTAL: usize = 300;
    let env = Env::start().await;
    let parents = parents(&env, CHATS).await;
    let before = env.messages().await.len();
    let client = env.client();

    // reply documents 50/s and 5/s per receiver; launch at 100/s, 5/s to
    // each of 20 parents.
    let started = Instant::now();
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    let mut calls = Vec::with_capacity(TOTAL);
    for i in 0..TOTAL {
        interval.tick().await;
        let client = client.clone();
        let request = reply_request(&parents[i % CHATS], &format!("reply {i}"));
        calls.push(tokio::spawn(async move {
            reply(&client, request, RequestOptions::default()).await
        }));
    }
    for (i, call) in calls.into_iter().enumerate() {
        if let Err(e) = call.await.unwrap() {
            panic!("reply {i} failed: {e:?}");
        }
    }
    let elapsed = started.elapsed();

    let messages = env.messages().await;
    assert_eq!(messages.len() - before, TOTAL);
    let stats = env.stats().await;
    eprintln!("300 replies at 100/s: {elapsed:?}; sandbox stats {stats:?}");
    // The client kept to the documented limits itself: every attempt it
    // made (retries too) reached the sandbox spaced to 50/s and to 5/s per
    // parent, and the sandbox refused only what latency brought together
    // (see `assert_spaced`), where an unlimited client meets the limit with
    // about half of its calls.
    let requests = env.requests().await;
    let sent = of_endpoint(&requests, REPLY);
    assert_spaced("replies", &sent, 50);
    let parent_of = |r: &Value| r["path"].as_str().unwrap().split('/').nth(5).unwrap().to_owned();
    let mut per_parent: HashMap<String, Vec<&Value>> = HashMap::new();
    for r in &sent {
        per_parent.entry(parent_of(r)).or_default().push(r);
    }
    assert_eq!(per_parent.len(), CHATS);
    for (parent, attempts) in &per_parent {
        assert_spaced(&format!("replies to {parent}"), attempts, 5);
    }
    let refused: Vec<&&Value> = sent.iter().filter(|r| r["code"] == RATE_LIMITED).collect();
    for r in &refused {
        assert!(
            window_was_full(&sent, 50, r) || window_was_full(&per_parent[&parent_of(r)], 5, r),
            "the sandbox refused a paced reply its windows do not explain: {r}"
        );
    }
    assert_eq!(refused.len() as u64, stats.rate_limited);
    // Spacing 300 calls to 50/s takes at least five seconds.
    assert!(elapsed >= Duration::from_secs(5), "{elapsed:?}");
}
