//! The client's shared stores, held by three `fleet_worker` processes on one
//! real Redis (`--redis`):
//!
//! - the rate limiter: three workers replying into one chat as fast as they
//!   can for 10 s stay within its documented 5 a second together (no
//!   99991400 from the sandbox, no error to any caller);
//! - the user-token store: three workers calling as one user whose token is
//!   due, all three having read it before any marks it spent (Redis holds
//!   their writes until then), make one refresh, and every call carries the
//!   new token;
//! - the app_ticket store: a ticket pushed to one worker serves another and
//!   outlives both.

use std::time::Duration;

use feishu::runtime::{LimitKey, SharedLimiter};
use feishu_sandbox::Sandbox;
use feishu_testkit::RedisServer;
use serde_json::{Value, json};

use crate::support::{APP, Process, control, sandbox_config};

/// How long the workers reply.
const SECONDS: u64 = 10;
/// The documented limit of replies into one chat, per second (the seed
/// spec's `im.v1.message.reply`: 5 a second per receiver).
const PER_CHAT: usize = 5;

/// Starts `workers` `fleet_worker`s with `args` (after `--wait`), and
/// waits for each to be ready.
async fn workers(n: usize, base: &str, app: &[&str], redis: &str, args: &[&str]) -> Vec<Process> {
    let mut all = Vec::new();
    for _ in 0..n {
        let mut line = vec!["--base-url", base, "--redis", redis, "--wait"];
        line.extend(app);
        line.extend(args);
        all.push(Process::start("fleet_worker", &line));
    }
    for worker in &all {
        worker.wait_for("ready").await;
    }
    all
}

/// Lets every worker go at once, waits for them to end, and checks each
/// succeeded; their last lines.
async fn run(workers: &mut [Process]) -> Vec<String> {
    for worker in workers.iter_mut() {
        worker.say("go");
    }
    let mut last = Vec::new();
    for worker in workers.iter_mut() {
        let succeeded = worker.wait().await;
        assert!(succeeded, "a worker failed: {:?}\n{}", worker.stdout(), worker.stderr());
        last.push(worker.stdout().last().cloned().unwrap_or_default());
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_keep_the_documented_rate_into_a_chat_together() {
    let Some(redis) = RedisServer::start("three_workers_keep_the_documented_rate") else {
        return;
    };
    let sandbox = Sandbox::start(sandbox_config(), 0).await.unwrap();
    let (http, base) = (reqwest::Client::new(), sandbox.url());
    let (_, chat) =
        control(&http, &base, "POST", "chats", Some(json!({"chat_type": "group"}))).await;
    let seed = json!({"chat_id": chat["chat_id"], "msg_type": "text", "content": json!({"text": "hi"}).to_string(), "sender_type": "user"});
    let (_, message) = control(&http, &base, "POST", "messages", Some(seed)).await;
    let message = message["message_id"].as_str().unwrap().to_owned();

    let seconds = SECONDS.to_string();
    let reply = ["reply", "--message", &message, "--seconds", &seconds];
    let mut workers = workers(3, &base, &APP, &redis.url(), &reply).await;
    let started = std::time::Instant::now();
    let last = run(&mut workers).await;
    // Replies queued for a slot at the 10 s mark are still sent.
    let elapsed = started.elapsed().as_secs_f64();
    assert!(last.iter().all(|l| l.ends_with("failed 0")), "no caller saw an error: {last:?}");

    let (_, stats) = control(&http, &base, "GET", "stats", None).await;
    assert_eq!(stats["rate_limited"], 0, "the sandbox refused none (99991400): {stats}");
    let (_, messages) = control(&http, &base, "GET", "messages", None).await;
    let replies = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["parent_id"] == message.as_str())
        .count();
    eprintln!("rate: {replies} replies in {elapsed:.1} s from three workers ({last:?})");
    // As fast as allowed, and no faster (the limiter's windows are a little
    // wider than documented).
    let per_second = replies as f64 / elapsed;
    assert!(
        (PER_CHAT as f64 * 0.7..=PER_CHAT as f64 + 0.5).contains(&per_second),
        "{replies} replies in {elapsed:.1} s"
    );
}

/// The user approves on the sandbox's authorisation page and `client`
/// exchanges the code, storing the tokens in the shared store.
async fn authorise(client: &feishu::Client, user_key: &str) {
    const REDIRECT: &str = "https://bot.example.com/oauth/callback";
    let auth = client.user_auth();
    let page = auth.authorize_url(REDIRECT, &["offline_access"], "state-1").unwrap();
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_redirects.get(&page).send().await.unwrap();
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(n, _)| n == "code").unwrap().1.into_owned();
    auth.exchange_code(user_key, &code, Some(REDIRECT)).await.unwrap();
}

/// A number in an `INFO` answer: `field` (`blocked_clients:`) followed by
/// digits, or 0 when absent.
fn info_number(info: &str, field: &str) -> u64 {
    info.split(field)
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// Waits until `done` holds, checking that no worker ended meanwhile (one
/// that failed before its refresh would leave the test waiting forever).
async fn until(workers: &mut [Process], what: &str, mut done: impl FnMut() -> bool) {
    while !done() {
        for worker in workers.iter_mut() {
            assert!(worker.running(), "a worker ended before {what}: {}", worker.stderr());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The race this test is about is a few Redis round trips wide: each
/// worker reads the due tokens, then marks them spent with the
/// compare-and-swap before it sends the refresh. Started together, three
/// processes seldom overlap there, so the test makes them: Redis itself
/// holds every write (`CLIENT PAUSE … WRITE`; reads still run) until all
/// three workers have read the tokens and wait on their swap, then lets
/// them go at once. Only an atomic compare-and-swap lets exactly one of
/// them win then; a read-compare-write (the trait's default) lets all
/// three spend the refresh token. (A slow refresh answer would not widen
/// the window: the mark is written before the refresh is sent.)
///
/// The workers' calls first reserve a start in the fleet's limiter, which
/// is a write too: the API is held back for the fleet first (as a 429
/// does), so that they reserve at once, wait out the hold, and reach their
/// swap while the writes are paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_refreshing_one_user_make_one_refresh_and_all_use_its_token() {
    let Some(redis) = RedisServer::start("three_workers_refreshing_one_user") else {
        return;
    };
    let mut config = sandbox_config();
    // Due for refresh after 3.6 s.
    config.user_token_ttl = Duration::from_secs(4);
    let sandbox = Sandbox::start(config, 0).await.unwrap();
    let (http, base) = (reqwest::Client::new(), sandbox.url());
    let (_, chat) =
        control(&http, &base, "POST", "chats", Some(json!({"chat_type": "group"}))).await;
    let chat = chat["chat_id"].as_str().unwrap().to_owned();
    const CALLS: u64 = 4;
    let calls = CALLS.to_string();
    let pins = ["pins", "--chat", &chat, "--user", "ou_alice", "--calls", &calls];
    let mut workers = workers(3, &base, &APP, &redis.url(), &pins).await;

    // The user signs in through a process of the fleet (here, the test).
    let stores = feishu::runtime::redis::RedisStores::connect(&redis.url()).await.unwrap();
    let client = feishu::Client::builder(APP[1], APP[3])
        .base_url(&base)
        .redis_stores(&stores)
        .build()
        .unwrap();
    authorise(&client, "ou_alice").await;
    let signed_in = tokio::time::Instant::now();
    let first = client.user_auth().access_token("ou_alice").await.unwrap();

    // Held until the tokens are due (3.7 s after sign-in): time enough for
    // the workers to reserve their starts before Redis holds its writes.
    let limiter = stores.limiter();
    let key = LimitKey::new(APP[1], "im.v1.pin.list");
    let hold = (signed_in + Duration::from_millis(3700))
        .saturating_duration_since(tokio::time::Instant::now());
    limiter.pause(&key, hold).await.unwrap();
    // Also loads the limiter's script, so that no worker's first try of it
    // fails and is sent again.
    assert!(!limiter.reserve(&key).await.unwrap().is_zero(), "the API is held back");
    let evalsha = || info_number(&redis.info("commandstats"), "cmdstat_evalsha:calls=");
    let before = evalsha();
    for worker in workers.iter_mut() {
        worker.say("go");
    }
    until(&mut workers, "reserving", || evalsha() >= before + 3 * CALLS).await;
    assert_eq!(redis.command("CLIENT PAUSE 600000 WRITE"), "+OK");
    let blocked = || info_number(&redis.info("clients"), "blocked_clients:");
    // Each worker's first call has read the due tokens and waits to mark
    // them spent; its other calls wait behind it.
    // (A worker that ends first went past its swap: it reserved after the
    // hold ran out.)
    until(&mut workers, "its swap", || blocked() >= 3).await;
    assert_eq!(redis.command("CLIENT UNPAUSE"), "+OK");
    let last = run(&mut workers).await;
    assert!(last.iter().all(|l| l == "listed 4, failed 0"), "{last:?}");

    let (_, oauth) = control(&http, &base, "GET", "oauth", None).await;
    assert_eq!(oauth["refreshes"], 1, "one refresh for the fleet: {oauth}");
    assert_eq!(oauth["refused_refreshes"], 0, "{oauth}");
    let new = client.user_auth().access_token("ou_alice").await.unwrap();
    assert_ne!(new, first, "the token was refreshed");
    let new_header = format!("Bearer {}", new.expose());
    let (_, requests) = control(&http, &base, "GET", "requests", None).await;
    let calls: Vec<&Value> = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"] == "im.v1.pin.list")
        .collect();
    assert_eq!(calls.len(), 12);
    assert!(
        calls.iter().all(|r| r["authorization"] == new_header.as_str()),
        "every call waited for the refresh and carried its token: {:#?}",
        calls.iter().map(|r| &r["authorization"]).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_ticket_pushed_to_one_worker_serves_another_and_outlives_both() {
    let Some(redis) = RedisServer::start("an_app_ticket_pushed_to_one_worker") else {
        return;
    };
    let sandbox = Sandbox::start(sandbox_config(), 0).await.unwrap();
    let (http, base, url) = (reqwest::Client::new(), sandbox.url(), redis.url());
    let app = [
        "--base-url",
        &base,
        "--redis",
        &url,
        "--marketplace",
        "--app-id",
        "cli_marketplace",
        "--app-secret",
        "marketplace-secret",
    ];
    let worker = |command: &[&str]| Process::start("fleet_worker", &[&app[..], command].concat());
    let pins = |tenant| ["pins", "--chat", "oc_fleet", "--tenant", tenant, "--calls", "1"];

    let mut receiver = worker(&[
        "tickets",
        "--port",
        "0",
        "--encrypt-key",
        "sandbox-encrypt-key",
        "--verification-token",
        "sandbox-verification-token",
    ]);
    let listening = receiver.wait_for("listening on ").await;
    let webhook = listening.trim_start_matches("listening on ");
    // The platform pushes the ticket to the receiver's webhook only.
    let (status, pushed) =
        control(&http, &base, "POST", "app_ticket", Some(json!({"url": webhook}))).await;
    assert_eq!(status, 200, "{pushed}");

    let mut other = worker(&pins("tenant-a"));
    assert!(other.wait().await, "the other worker has the ticket: {}", other.stderr());
    // Both stop; a new worker starts: the ticket is still there.
    assert!(receiver.stop().await, "{}", receiver.stderr());
    let mut restarted = worker(&pins("tenant-b"));
    assert!(restarted.wait().await, "a restarted worker has the ticket: {}", restarted.stderr());

    let (_, requests) = control(&http, &base, "GET", "requests", None).await;
    let paths: Vec<&str> = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    assert_eq!(paths.iter().filter(|p| p.ends_with("/app_ticket/resend")).count(), 0, "{paths:?}");
    assert_eq!(paths.iter().filter(|p| p.ends_with("/im/v1/pins")).count(), 2, "{paths:?}");
}
