//! The echo bot (`cargo run --example echo_bot`) as a user runs it: a
//! process connected to the sandbox over the long connection answers a
//! message delivered to it, once, and exits cleanly on Ctrl-C (SIGINT).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use feishu_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

async fn control(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    call: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, format!("{base}/_sandbox/{call}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_echo_bot_answers_a_message_from_the_long_connection() {
    echo_once(&[]).await;
}

/// With `--redis`, the bot keeps its tokens, rate-limit windows and handled
/// events in the Redis: the contract's command line works, and Redis holds
/// the bot's state afterwards.
#[tokio::test]
async fn the_echo_bot_with_redis_answers_once_and_keeps_its_state_there() {
    let Some(redis) = feishu_testkit::RedisServer::start("the_echo_bot_with_redis") else {
        return;
    };
    let message_id = echo_once(&["--redis".to_owned(), redis.url()]).await;
    assert_ne!(redis.command("DBSIZE"), ":0", "the bot's state is in Redis");
    assert_ne!(redis.command("KEYS feishu:cli_sandbox:token:*"), "*0", "its tenant token too");
    assert_eq!(
        redis.command(&format!("GET feishu:cli_sandbox:dedup:message:{message_id}")),
        "done",
        "the message is committed as handled"
    );
}

/// Runs the bot with `extra` arguments, delivers one message twice (under
/// two event ids), checks the one reply, and stops the bot with SIGINT.
/// Returns the message's id.
async fn echo_once(extra: &[String]) -> String {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let sandbox = Sandbox::start(SandboxConfig::from_spec_dir(spec).unwrap(), 0).await.unwrap();
    let base = sandbox.url();
    let http = reqwest::Client::new();

    let (_, chat) = control(
        &http,
        &base,
        reqwest::Method::POST,
        "chats",
        Some(json!({"chat_type": "p2p", "user_open_id": "ou_echo"})),
    )
    .await;
    let chat_id = chat["chat_id"].as_str().unwrap().to_owned();
    let seed = json!({"chat_id": chat_id, "msg_type": "text", "content": json!({"text": "hi there"}).to_string(), "sender_type": "user"});
    let (_, message) = control(&http, &base, reqwest::Method::POST, "messages", Some(seed)).await;
    let message_id = message["message_id"].as_str().unwrap().to_owned();

    let mut bot = Command::new(feishu_examples::example_binary("echo_bot"))
        .args(["--base-url", &base, "--app-id", "cli_sandbox", "--app-secret", "sandbox-secret"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, stats) = control(&http, &base, reqwest::Method::GET, "stats", None).await;
        if stats["ws_connections"] == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the bot did not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let event = json!({
        "sender": {"sender_id": {"open_id": "ou_echo"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
        "message": {"message_id": message_id, "chat_id": chat_id, "chat_type": "p2p", "message_type": "text", "content": json!({"text": "hi there"}).to_string()},
    });
    let delivery = json!({"via": "ws", "event_type": "im.message.receive_v1", "event_id": "ev_echo", "event": event, "split": 2});
    let (status, answer) =
        control(&http, &base, reqwest::Method::POST, "events", Some(delivery.clone())).await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    // The platform delivering the same message again under another event id.
    let mut again = delivery;
    again["event_id"] = json!("ev_echo_again");
    let (_, answer) = control(&http, &base, reqwest::Method::POST, "events", Some(again)).await;
    assert_eq!(answer["status"], 200);

    let (_, messages) = control(&http, &base, reqwest::Method::GET, "messages", None).await;
    let replies: Vec<&Value> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["parent_id"] == message_id.as_str())
        .collect();
    assert_eq!(replies.len(), 1, "{messages}");
    assert_eq!(replies[0]["msg_type"], "text");
    assert_eq!(replies[0]["content"], json!({"text": "echo: hi there"}).to_string());
    assert_eq!(replies[0]["sender_type"], "app");

    let interrupted = Command::new("kill").args(["-INT", &bot.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let waited = tokio::task::spawn_blocking(move || {
        let status = bot.wait().unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(bot.stdout.as_mut().unwrap(), &mut out).unwrap();
        (status, out)
    });
    let (status, out) = tokio::time::timeout(Duration::from_secs(20), waited)
        .await
        .expect("the bot exits on SIGINT")
        .unwrap();
    assert!(status.success(), "{status:?}\n{out}");
    assert!(
        out.contains(&format!("replied to {message_id}")) && out.trim_end().ends_with("stopped"),
        "{out}"
    );
    sandbox.shutdown().await;
    message_id
}
