//! Redis goes down under a fleet of three `echo_bot` processes and comes
//! back: while it is down every message is still handled and replied to
//! (duplicates allowed: dedup lets every delivery through), each bot's log
//! names the outage once, and once it is back the bots use it again
//! without a restart (the record of handled events is written again, and
//! a copy pushed to every bot runs once).

use std::time::Duration;

use feishu_sandbox::Sandbox;
use feishu_testkit::RedisServer;
use serde_json::{Value, json};

use crate::support::{APP, Process, control, sandbox_config};

const BOTS: usize = 3;
/// Messages delivered in each phase: Redis up, down, back.
const PER_PHASE: usize = 8;
const OUTAGE: &str = "Redis is unreachable";
const BACK: &str = "Redis is reachable again";

/// Delivers a user's message over the long connection to `connections`
/// bots at once; its id, and the delivery's answer.
async fn deliver(
    http: &reqwest::Client,
    base: &str,
    chat: &str,
    text: &str,
    connections: usize,
    bots: &[Process],
) -> (String, Value) {
    let seed = json!({"chat_id": chat, "msg_type": "text", "content": json!({"text": text}).to_string(), "sender_type": "user"});
    let (_, stored) = control(http, base, "POST", "messages", Some(seed)).await;
    let message_id = stored["message_id"].as_str().unwrap().to_owned();
    let event = json!({
        "sender": {"sender_id": {"open_id": "ou_fleet"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
        "message": {"message_id": message_id, "chat_id": chat, "chat_type": "group", "message_type": "text", "content": json!({"text": text}).to_string()},
    });
    // Pushed again along a (scaled-down) ladder until acked 200: a copy
    // meeting another bot's claim is answered "not yet".
    let delivery = json!({
        "via": "ws", "event_type": "im.message.receive_v1", "event": event,
        "connections": connections, "ladder_ms": [200, 400, 800, 1600, 3200], "ack_timeout_ms": 1000,
    });
    let (status, answer) = control(http, base, "POST", "events", Some(delivery)).await;
    let logs: Vec<String> = bots.iter().map(Process::stderr).collect();
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{text}: {answer}\n{logs:#?}");
    (message_id, answer)
}

/// Handler runs that replied, per bot.
fn replied(bots: &[Process]) -> Vec<usize> {
    bots.iter()
        .map(|b| b.stdout().iter().filter(|l| l.starts_with("replied to ")).count())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_rides_out_a_redis_outage_and_uses_redis_again_without_a_restart() {
    let Some(mut redis) = RedisServer::start("a_fleet_rides_out_a_redis_outage") else {
        return;
    };
    let mut config = sandbox_config();
    // The limiter has its own test; while Redis is down each bot keeps the
    // limits alone, and three of them may send three times the rate.
    config.rate_limits = false;
    let sandbox = Sandbox::start(config, 0).await.unwrap();
    let (http, base, url) = (reqwest::Client::new(), sandbox.url(), redis.url());
    let mut bots: Vec<Process> = (0..BOTS)
        .map(|_| {
            Process::start(
                "echo_bot",
                &[&["--base-url", &base, "--redis", &url], &APP[..]].concat(),
            )
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while control(&http, &base, "GET", "stats", None).await.1["ws_connections"] != BOTS {
        assert!(tokio::time::Instant::now() < deadline, "the bots did not all connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, chat) =
        control(&http, &base, "POST", "chats", Some(json!({"chat_type": "group"}))).await;
    let chat = chat["chat_id"].as_str().unwrap().to_owned();
    let mut messages = Vec::new();
    for n in 0..PER_PHASE {
        messages.push(deliver(&http, &base, &chat, &format!("up {n}"), 1, &bots).await.0);
    }

    redis.stop();
    let before = replied(&bots);
    for n in 0..PER_PHASE {
        // Every other one to two bots at once: without dedup both may run it.
        messages.push(deliver(&http, &base, &chat, &format!("down {n}"), 1 + n % 2, &bots).await.0);
    }
    let during: Vec<usize> = replied(&bots).iter().zip(&before).map(|(a, b)| a - b).collect();
    for (bot, handled) in bots.iter().zip(&during) {
        let log = bot.stderr();
        let outages = log.matches(OUTAGE).count();
        // A bot that did nothing during the outage never met it.
        let expected = usize::from(*handled > 0);
        assert_eq!(outages, expected, "handled {handled} during the outage; its log:\n{log}");
    }
    assert!(during.iter().sum::<usize>() >= PER_PHASE, "{during:?}");

    redis.restart();
    let before = replied(&bots);
    let mut back = Vec::new();
    for n in 0..PER_PHASE {
        // To every bot at once: one runs it, once Redis is in use again.
        back.push(deliver(&http, &base, &chat, &format!("back {n}"), BOTS, &bots).await.0);
    }
    let after: usize = replied(&bots).iter().zip(&before).map(|(a, b)| a - b).sum();
    // The first command of each bot after the outage may still meet the
    // broken connection (and start the reconnect), and fall back.
    assert!(after <= PER_PHASE + BOTS, "{after} runs for {PER_PHASE} messages pushed to every bot");
    for id in &back[PER_PHASE / 2..] {
        let key = format!("GET feishu:cli_sandbox:dedup:message:{id}");
        assert_eq!(redis.command(&key), "done", "the record of {id} is in Redis again");
    }
    messages.extend(back);

    for bot in &mut bots {
        assert!(bot.stop().await, "the bot stops cleanly; its log:\n{}", bot.stderr());
        let log = bot.stderr();
        assert!(log.matches(OUTAGE).count() <= 1, "the outage is logged once:\n{log}");
        assert_eq!(log.matches(BACK).count(), log.matches(OUTAGE).count(), "{log}");
    }
    let (_, stored) = control(&http, &base, "GET", "messages", None).await;
    let stored = stored["messages"].as_array().unwrap();
    for id in &messages {
        let replies = stored.iter().filter(|m| m["parent_id"] == id.as_str()).count();
        assert_eq!(replies, 1, "one reply to {id} (the reply's uuid)");
    }
}
