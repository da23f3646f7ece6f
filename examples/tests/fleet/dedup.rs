//! Delivery dedup (issue 25's fleet test): three `echo_bot` processes
//! on one app share one real Redis (`--redis`), and the sandbox delivers
//! over their long connections as the platform does in cluster mode: each
//! event to one connection at random, pushed again along a redelivery
//! ladder (scaled down) when its push is not acked with 200 in time.
//!
//! 300 user messages are delivered, [`CONCURRENCY`] at a time: every 5th is
//! pushed to two connections at once, every 10th comes again under a new
//! event id, and one process is killed (SIGKILL) a third of the way in.
//! Every message then has exactly one reply, every delivery ends acked 200,
//! and the handler ran at most [`CONCURRENCY`] times more than there are
//! messages (the events the killed process was handling).
//!
//! The same run with the in-memory stores (no `--redis`) must show
//! duplicates, so that the test tells the two apart: the handler runs for
//! most copies pushed to two connections.
//!
//! Without `redis-server` the Redis run prints why and passes (it fails with
//! `CI` set): see `feishu_testkit::RedisServer`.

use std::time::Duration;

use feishu_sandbox::Sandbox;
use feishu_testkit::RedisServer;
use serde_json::json;

use crate::support::{APP, Process, control, sandbox_config};

/// Messages delivered.
const MESSAGES: usize = 300;
/// Deliveries under way at once (one control call each).
const CONCURRENCY: usize = 10;
/// The bots.
const PROCESSES: usize = 3;
/// The delivery after which one bot is killed.
const KILL_AT: usize = MESSAGES / 3;
/// The redelivery ladder, scaled down from the platform's 15 s / 5 min /
/// 1 h / 6 h: long enough in all (6.2 s) for a dead bot's claims (a 1 s
/// lease) to lapse.
const LADDER_MS: [u64; 5] = [200, 400, 800, 1600, 3200];
/// The ack deadline, scaled down from the platform's 3 s.
const ACK_TIMEOUT_MS: u64 = 1000;
/// The bots' claim lease (`--claim-lease`), in seconds.
const CLAIM_LEASE: &str = "1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_on_redis_replies_once_to_each_message_despite_copies_and_a_kill() {
    let Some(redis) = RedisServer::start("a_fleet_on_redis_replies_once") else {
        return;
    };
    let run = fleet_run(Some(&redis.url())).await;
    assert_eq!(run.not_200, Vec::<String>::new(), "every delivery ends acked 200");
    assert_eq!(run.replies_per_message, vec![1; MESSAGES], "exactly one reply per message");
    assert!(
        run.handled >= MESSAGES && run.handled <= MESSAGES + CONCURRENCY,
        "the handler ran {} times for {MESSAGES} messages (at most {CONCURRENCY} more: the kill's window)",
        run.handled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_with_in_memory_stores_handles_copies_twice() {
    let run = fleet_run(None).await;
    assert_eq!(run.not_200, Vec::<String>::new(), "every delivery ends acked 200");
    // The reply's uuid keeps the replies single even here ...
    assert_eq!(run.replies_per_message, vec![1; MESSAGES]);
    // ... but each process handles what it is given: the copies pushed to
    // two connections at once run twice.
    assert!(
        run.handled > MESSAGES + CONCURRENCY,
        "without a shared dedup store the handler ran only {} times for {MESSAGES} messages",
        run.handled
    );
}

/// What one run saw.
struct Run {
    /// The deliveries not acked 200 in the end, described.
    not_200: Vec<String>,
    /// Replies to each message, in delivery order.
    replies_per_message: Vec<usize>,
    /// Handler runs that replied, over all bots (the killed one included).
    handled: usize,
}

/// Starts the sandbox and [`PROCESSES`] bots (with `--redis URL` when
/// given), delivers the messages, kills one bot part way, and gathers what
/// happened.
async fn fleet_run(redis: Option<&str>) -> Run {
    let mut config = sandbox_config();
    // The fleet's limiter has tests of its own; here the sandbox must not
    // refuse replies the in-memory fleet sends at three times the rate.
    config.rate_limits = false;
    let sandbox = Sandbox::start(config, 0).await.unwrap();
    let base = sandbox.url();
    let http = reqwest::Client::new();

    let started = std::time::Instant::now();
    let mut bots: Vec<Process> = (0..PROCESSES).map(|_| echo_bot(&base, redis)).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while control(&http, &base, "GET", "stats", None).await.1["ws_connections"] != PROCESSES {
        assert!(tokio::time::Instant::now() < deadline, "the bots did not all connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (_, chat) =
        control(&http, &base, "POST", "chats", Some(json!({"chat_type": "group"}))).await;
    let chat_id = chat["chat_id"].as_str().unwrap().to_owned();
    let mut message_ids = Vec::new();
    let mut not_200 = Vec::new();
    let mut batches = (0..MESSAGES).collect::<Vec<_>>();
    let mut repushed = 0;
    for batch in batches.chunks_mut(CONCURRENCY) {
        let kill = batch[0] == KILL_AT;
        if kill {
            // The replies of this batch are made, then answered only after
            // a while: the bots are mid-handler when one is killed.
            let delay = json!({"kind": "delay", "millis": 400, "after_processing": true, "path_prefix": "/open-apis/im/v1/messages/", "count": 2 * CONCURRENCY});
            control(&http, &base, "POST", "faults", Some(delay)).await;
        }
        let mut calls = Vec::new();
        for &n in batch.iter() {
            let (http, base, chat_id) = (http.clone(), base.clone(), chat_id.clone());
            calls.push(tokio::spawn(async move { deliver(&http, &base, &chat_id, n).await }));
        }
        if kill {
            tokio::time::sleep(Duration::from_millis(200)).await;
            bots[0].kill();
        }
        for call in calls {
            let (message_id, failures, pushes) = call.await.unwrap();
            message_ids.push(message_id);
            not_200.extend(failures);
            repushed += pushes;
        }
        if kill {
            control(&http, &base, "DELETE", "faults", None).await;
        }
    }

    let (_, messages) = control(&http, &base, "GET", "messages", None).await;
    let messages = messages["messages"].as_array().unwrap().clone();
    let replies_per_message = message_ids
        .iter()
        .map(|id| messages.iter().filter(|m| m["parent_id"] == id.as_str()).count())
        .collect();
    let mut handled = 0;
    for bot in &mut bots {
        bot.stop().await;
        handled += bot.stdout().iter().filter(|l| l.starts_with("replied to ")).count();
    }
    sandbox.shutdown().await;
    eprintln!(
        "fleet ({}): {handled} handler runs for {MESSAGES} messages, {repushed} pushes beyond the first, in {:?}",
        if redis.is_some() { "Redis" } else { "in-memory" },
        started.elapsed()
    );
    Run { not_200, replies_per_message, handled }
}

/// Message `n`: stored as a user's, delivered (to two connections at once
/// when `n` is a multiple of 5), and delivered again under a new event id
/// when `n` is a multiple of 10. Returns its id, the deliveries that did
/// not end acked 200, and the pushes beyond each delivery's first.
async fn deliver(
    http: &reqwest::Client,
    base: &str,
    chat_id: &str,
    n: usize,
) -> (String, Vec<String>, u64) {
    let text = format!("message {n}");
    let seed = json!({"chat_id": chat_id, "msg_type": "text", "content": json!({"text": text}).to_string(), "sender_type": "user"});
    let (_, stored) = control(http, base, "POST", "messages", Some(seed)).await;
    let message_id = stored["message_id"].as_str().unwrap().to_owned();
    let event = json!({
        "sender": {"sender_id": {"open_id": "ou_fleet"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
        "message": {"message_id": message_id, "chat_id": chat_id, "chat_type": "group", "message_type": "text", "content": json!({"text": text}).to_string()},
    });
    let mut delivery = json!({
        "via": "ws", "event_type": "im.message.receive_v1", "event": event,
        "ack_timeout_ms": ACK_TIMEOUT_MS, "ladder_ms": LADDER_MS,
    });
    if n.is_multiple_of(5) {
        delivery["connections"] = json!(2);
    }
    let mut failures = Vec::new();
    let mut repushed = 0;
    let copies = if n.is_multiple_of(10) { 2 } else { 1 };
    for copy in 0..copies {
        // Without an event_id, each delivery gets a new one.
        let (status, answer) = control(http, base, "POST", "events", Some(delivery.clone())).await;
        if status != 200 || answer["status"] != 200 {
            failures.push(format!("message {n} delivery {copy}: HTTP {status} {answer}"));
        }
        repushed += answer["attempts"].as_u64().unwrap_or(1).saturating_sub(1);
    }
    (message_id, failures, repushed)
}

/// An `echo_bot` of the sandbox's app, on `redis` when given.
fn echo_bot(base: &str, redis: Option<&str>) -> Process {
    let mut args = vec!["--base-url", base, "--claim-lease", CLAIM_LEASE];
    args.extend(APP);
    if let Some(url) = redis {
        args.extend(["--redis", url]);
    }
    Process::start("echo_bot", &args)
}
