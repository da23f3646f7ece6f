//! Differential test against the official Python SDK, lark-oapi (pinned:
//! 1.7.5): our client and lark-oapi make the same `reply`,
//! `message_reaction.create` and `push_follow_up` calls against the sandbox,
//! and the sandbox must have seen the same requests from both.
//!
//! Compared, request by request: method, path (with the seeded message ids
//! replaced by placeholders, since each client gets fresh messages), query
//! (exactly), `Authorization` (scheme `Bearer` and a tenant token; the token
//! values differ between the clients and are normalised once each is checked
//! to be one the sandbox issued to `cli_sandbox` in that run), content type,
//! parsed JSON body (both send the same explicit `uuid`), the endpoint the
//! sandbox matched, and the answer's status and code. Token fetches are not
//! compared with each other (lark-oapi sends its token fetch without a
//! `Content-Type`, we send `application/json; charset=utf-8`; the sandbox
//! accepts both), only checked: one `tenant_access_token/internal` call per
//! client, with the app's id and secret, before any API call.
//!
//! The peer is `peers/lark_oapi_calls.py`, run with the interpreter named by
//! `FEISHU_PEER_PYTHON` (default `python3`); `cargo xtask test` installs
//! lark-oapi into `target/peers/venv` and points the variable there. Without
//! lark-oapi the test says so and passes, unless `CI` is set: then it fails.

mod peer_support;
mod sandbox_support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use feishu::MessageId;
use feishu::RequestOptions;
use feishu::im::message::{PushFollowUpRequest, ReplyRequest, push_follow_up, reply};
use feishu::im::message_reaction::{CreateRequest, create};
use feishu::im::types::{Emoji, FollowUp, I18nContent, Language};
use feishu_sandbox::Sandbox;
use peer_support::{LARK_OAPI_VERSION, peer_missing, peer_python_or_skip};
use sandbox_support::{APP_ID, APP_SECRET, TENANT_TOKEN_PATH, sandbox_config};
use serde_json::{Value, json};

/// How long the Python peer may take (it imports a large SDK: ~4 s here).
const PEER_TIMEOUT: Duration = Duration::from_secs(120);

// The inputs both clients send. Non-ASCII text, escapes, a `false`-y default
// set explicitly and a follow-up without its optional list exercise the
// encoders.
const REPLY_CONTENT: &str =
    r#"{"text":"差分测试: \"quoted\", a\nnewline, <b>tags</b> & émoji 👍"}"#;
const REPLY_MSG_TYPE: &str = "text";
const REPLY_UUID: &str = "differential-3f2b9c1e-reply";
const REPLY_IN_THREAD: bool = true;
const EMOJI_TYPE: &str = "SMILE";

/// A follow-up both clients send: its content and, if any, its
/// `i18n_contents` as `(content, language wire name)`.
struct FollowUpInput {
    content: &'static str,
    i18n: Option<&'static [(&'static str, &'static str)]>,
}

const FOLLOW_UPS: &[FollowUpInput] = &[
    FollowUpInput {
        content: "先看看文档",
        i18n: Some(&[("Read the docs first", "en_us"), ("まずドキュメントを", "ja_jp")]),
    },
    FollowUpInput { content: "稍后再说", i18n: None },
];

fn language(wire: &str) -> Language {
    match wire {
        "en_us" => Language::EnUs,
        "ja_jp" => Language::JaJp,
        other => panic!("no Language for {other}"),
    }
}

fn typed_follow_ups() -> Vec<FollowUp> {
    FOLLOW_UPS
        .iter()
        .map(|input| {
            let follow_up = FollowUp::new(input.content);
            match input.i18n {
                Some(i18n) => follow_up.i18n_contents(
                    i18n.iter().map(|(c, l)| I18nContent::new(*c, language(l))).collect(),
                ),
                None => follow_up,
            }
        })
        .collect()
}

fn json_follow_ups() -> Value {
    FOLLOW_UPS
        .iter()
        .map(|input| {
            let mut item = json!({"content": input.content});
            if let Some(i18n) = input.i18n {
                item["i18n_contents"] =
                    i18n.iter().map(|(c, l)| json!({"content": c, "language": l})).collect();
            }
            item
        })
        .collect()
}

/// The messages one client works on: seeded fresh for each client.
#[derive(Debug)]
struct Targets {
    /// A user's message in a group chat: replied to and reacted to.
    reply_to: String,
    /// The bot's latest message in a p2p chat, seconds old: gets the follow-ups.
    follow_up_on: String,
}

impl Targets {
    /// Replaces the seeded ids in `path` with placeholders.
    fn normalise(&self, path: &str) -> String {
        path.replace(&self.follow_up_on, ":follow_up_on").replace(&self.reply_to, ":reply_to")
    }
}

/// The lark-oapi calls, in the order ours are made.
fn peer_calls(targets: &Targets) -> Value {
    json!({
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "calls": [
            {"op": "reply", "message_id": targets.reply_to, "body": {
                "content": REPLY_CONTENT, "msg_type": REPLY_MSG_TYPE, "uuid": REPLY_UUID, "reply_in_thread": REPLY_IN_THREAD}},
            {"op": "reaction_create", "message_id": targets.reply_to, "body": {"reaction_type": {"emoji_type": EMOJI_TYPE}}},
            {"op": "push_follow_up", "message_id": targets.follow_up_on, "body": {"follow_ups": json_follow_ups()}},
        ]
    })
}

/// Our client's calls; each must succeed.
async fn our_calls(base_url: &str, targets: &Targets) {
    let client = feishu::Client::builder(APP_ID, APP_SECRET).base_url(base_url).build().unwrap();
    let request =
        ReplyRequest::new(MessageId::new(&targets.reply_to), REPLY_CONTENT, REPLY_MSG_TYPE)
            .uuid(REPLY_UUID)
            .reply_in_thread(REPLY_IN_THREAD);
    let replied =
        reply(&client, request, RequestOptions::default()).await.expect("our reply succeeds");
    assert_eq!(replied.parent_id.as_deref(), Some(targets.reply_to.as_str()));
    let request = CreateRequest::new(MessageId::new(&targets.reply_to), Emoji::new(EMOJI_TYPE));
    let reacted =
        create(&client, request, RequestOptions::default()).await.expect("our reaction succeeds");
    assert!(reacted.reaction_id.is_some(), "{reacted:?}");
    let request =
        PushFollowUpRequest::new(MessageId::new(&targets.follow_up_on), typed_follow_ups());
    push_follow_up(&client, request, RequestOptions::default())
        .await
        .expect("our push_follow_up succeeds");
}

/// The sandbox's control API.
struct Control {
    http: reqwest::Client,
    base_url: String,
}

impl Control {
    /// A sandbox serving the workspace spec without rate limits (the
    /// clients' calls are compared, not paced), and its control API.
    async fn start() -> (Sandbox, Control) {
        let mut config = sandbox_config();
        config.rate_limits = false;
        let sandbox = Sandbox::start(config, 0).await.unwrap();
        let control = Control { http: reqwest::Client::new(), base_url: sandbox.url() };
        (sandbox, control)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn requests(&self) -> Vec<Value> {
        let answer = self.call(reqwest::Method::GET, "/_sandbox/requests", None).await;
        answer["requests"].as_array().expect("a list of requests").clone()
    }

    async fn messages(&self) -> Vec<Value> {
        let answer = self.call(reqwest::Method::GET, "/_sandbox/messages", None).await;
        answer["messages"].as_array().expect("a list of messages").clone()
    }

    /// A group chat with a user's message, and a p2p chat whose latest message the bot sent just now.
    async fn seed(&self, who: &str) -> Targets {
        let group = self.post("/_sandbox/chats", json!({"chat_type": "group"})).await;
        let asked = self
            .post("/_sandbox/messages", json!({"chat_id": group["chat_id"], "msg_type": "text", "content": {"text": "which SDK?"}, "sender_type": "user"}))
            .await;
        let p2p = self
            .post(
                "/_sandbox/chats",
                json!({"chat_type": "p2p", "user_open_id": format!("ou_differential_{who}")}),
            )
            .await;
        let answered = self
            .post("/_sandbox/messages", json!({"chat_id": p2p["chat_id"], "msg_type": "text", "content": {"text": "this one"}, "sender_type": "app"}))
            .await;
        let id = |v: &Value| v["message_id"].as_str().expect("a seeded message_id").to_string();
        Targets { reply_to: id(&asked), follow_up_on: id(&answered) }
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/lark_oapi_calls.py")
}

/// Runs the peer script (blocking), killing it after [`PEER_TIMEOUT`]; returns
/// its parsed stdout, or why lark_oapi could not be imported.
fn run_peer(python: &str, base_url: &str, calls: &Value) -> Result<Value, String> {
    let mut child = Command::new(python)
        .arg(script())
        .args([base_url, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    child.stdin.take().unwrap().write_all(calls.to_string().as_bytes()).unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > PEER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lark_oapi_calls.py did not finish within {PEER_TIMEOUT:?}; stderr: {}",
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    if status.code() == Some(3) {
        return Err(stderr.trim().to_string());
    }
    assert!(
        status.success(),
        "lark_oapi_calls.py failed ({status}):\nstdout: {stdout}\nstderr: {stderr}"
    );
    Ok(serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("lark_oapi_calls.py printed no JSON ({e}):\n{stdout}\nstderr: {stderr}")
    }))
}

/// Checks the run's token fetch and returns its API requests, normalised for comparison.
fn api_requests(who: &str, recorded: &[Value], targets: &Targets) -> Vec<Value> {
    let (tokens, api): (Vec<&Value>, Vec<&Value>) = recorded
        .iter()
        .partition(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/open-apis/auth/")));
    assert_eq!(tokens.len(), 1, "{who}: one token fetch for the three calls: {tokens:#?}");
    let fetch = tokens[0];
    assert_eq!(recorded.first(), Some(fetch), "{who}: the token fetch comes first: {recorded:#?}");
    assert_eq!(fetch["method"], "POST", "{who}: {fetch}");
    assert_eq!(
        fetch["path"], TENANT_TOKEN_PATH,
        "{who}: a tenant token from the internal endpoint: {fetch}"
    );
    assert_eq!(fetch["query"], json!([]), "{who}: {fetch}");
    assert_eq!(
        fetch["body"],
        json!({"app_id": APP_ID, "app_secret": APP_SECRET}),
        "{who}: {fetch}"
    );
    assert_eq!((&fetch["status"], &fetch["code"]), (&json!(200), &json!(0)), "{who}: {fetch}");

    let mut token = None;
    api.iter()
        .map(|r| {
            // The sandbox answers 99991663 to tokens it did not issue, and
            // issues them only to its one app, cli_sandbox: an accepted
            // `Bearer t-…` after that app's token fetch is one of its tokens.
            let authorization = r["authorization"].as_str().unwrap_or_default();
            let normalised = match authorization.strip_prefix("Bearer ") {
                Some(value) if value.starts_with("t-") && r["code"] == 0 => {
                    assert!(
                        token.get_or_insert(value) == &value,
                        "{who}: the cached token is reused: {authorization} after {token:?}"
                    );
                    "Bearer <tenant_access_token issued to cli_sandbox>".to_string()
                }
                _ => authorization.to_string(),
            };
            json!({
                "method": r["method"],
                "path": targets.normalise(r["path"].as_str().unwrap_or_default()),
                "query": r["query"],
                "authorization": normalised,
                "content_type": r["content_type"],
                "body": r["body"],
                "endpoint": r["endpoint"],
                "status": r["status"],
                "code": r["code"],
            })
        })
        .collect()
}

/// What the calls did to the store, with ids normalised.
fn effects(messages: &[Value], targets: &Targets) -> Value {
    let find = |id: &str| {
        messages.iter().find(|m| m["message_id"] == id).unwrap_or_else(|| panic!("no message {id}"))
    };
    let replies: Vec<Value> = messages
        .iter()
        .filter(|m| m["parent_id"] == targets.reply_to.as_str())
        .map(|m| json!({"msg_type": m["msg_type"], "content": m["content"], "uuid": m["uuid"], "sender_type": m["sender_type"], "in_thread": !m["thread_id"].is_null()}))
        .collect();
    let emojis: Vec<&Value> = find(&targets.reply_to)["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["emoji_type"])
        .collect();
    json!({
        "replies": replies,
        "reactions": emojis,
        "follow_ups": find(&targets.follow_up_on)["follow_ups"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lark_oapi_and_our_client_send_the_same_requests() {
    let Some(python) = peer_python_or_skip("lark_oapi_and_our_client_send_the_same_requests")
    else {
        return;
    };

    let (sandbox, control) = Control::start().await;
    let base_url = sandbox.url();

    // Ours.
    let ours_targets = control.seed("ours").await;
    control.call(reqwest::Method::DELETE, "/_sandbox/requests", None).await;
    let started = Instant::now();
    our_calls(&base_url, &ours_targets).await;
    let ours_took = started.elapsed();
    let ours_recorded = control.requests().await;
    let ours_effects = effects(&control.messages().await, &ours_targets);

    // lark-oapi's, from the same state: the reset also forgets the reply's
    // uuid, which would otherwise answer lark-oapi's reply with ours.
    control.post("/_sandbox/reset", json!({})).await;
    let peer_targets = control.seed("lark_oapi").await;
    control.call(reqwest::Method::DELETE, "/_sandbox/requests", None).await;
    let calls = peer_calls(&peer_targets);
    let started = Instant::now();
    let peer = {
        let (python, base_url) = (python.clone(), base_url.clone());
        match tokio::task::spawn_blocking(move || run_peer(&python, &base_url, &calls))
            .await
            .unwrap()
        {
            Ok(peer) => peer,
            Err(why) => {
                return peer_missing("lark_oapi_and_our_client_send_the_same_requests", &why);
            }
        }
    };
    let peer_took = started.elapsed();
    let peer_recorded = control.requests().await;
    let peer_effects = effects(&control.messages().await, &peer_targets);
    sandbox.shutdown().await;
    eprintln!("our client: {ours_took:?}; lark-oapi ({python}): {peer_took:?}");

    assert_eq!(peer["version"], LARK_OAPI_VERSION, "{peer}");
    let results = peer["results"].as_array().expect("results");
    let ops: Vec<&Value> = results.iter().map(|r| &r["op"]).collect();
    assert_eq!(ops, ["reply", "reaction_create", "push_follow_up"], "{peer}");
    for result in results {
        assert_eq!(
            (&result["success"], &result["code"]),
            (&json!(true), &json!(0)),
            "lark-oapi's call failed: {result}"
        );
    }
    assert_eq!(results[0]["data"]["parent_id"], peer_targets.reply_to.as_str(), "{peer}");

    let ours = api_requests("our client", &ours_recorded, &ours_targets);
    let theirs = api_requests("lark-oapi", &peer_recorded, &peer_targets);
    let endpoints: Vec<&Value> = ours.iter().map(|r| &r["endpoint"]).collect();
    assert_eq!(
        endpoints,
        ["im.v1.message.reply", "im.v1.message_reaction.create", "im.v1.message.push_follow_up"]
    );
    for r in &ours {
        assert_eq!((&r["status"], &r["code"]), (&json!(200), &json!(0)), "our call failed: {r}");
    }
    assert_eq!(ours.len(), theirs.len(), "ours: {ours:#?}\nlark-oapi: {theirs:#?}");
    let mut differences = Vec::new();
    for (mine, peer) in ours.iter().zip(&theirs) {
        for (field, value) in mine.as_object().unwrap() {
            if &peer[field] != value {
                differences.push(format!(
                    "{} {}: ours {value}, lark-oapi {}",
                    mine["endpoint"], field, peer[field]
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "the sandbox saw different requests:\n{}",
        differences.join("\n")
    );

    // And both did the same to the sandbox's store.
    assert_eq!(ours_effects, peer_effects);
    assert_eq!(
        ours_effects,
        json!({
            "replies": [{"msg_type": REPLY_MSG_TYPE, "content": REPLY_CONTENT, "uuid": REPLY_UUID, "sender_type": "app", "in_thread": true}],
            "reactions": [EMOJI_TYPE],
            "follow_ups": json_follow_ups(),
        })
    );
}

/// What one client meets in [`both_clients_meet_the_sandboxs_behaviours`]:
/// messages set up so that each call hits one documented rule.
struct Traps {
    /// A recalled message: replying gives 230011, reacting 231003.
    recalled: String,
    /// The bot's message in a p2p chat with a later one after it: 230006.
    not_latest: String,
    /// A live message; a reply whose `content` does not fit `msg_type`: 230001.
    live: String,
}

impl Control {
    async fn traps(&self, who: &str, base_url: &str) -> Traps {
        let group = self.post("/_sandbox/chats", json!({"chat_type": "group"})).await;
        let seed = |chat: &Value, sender: &str| json!({"chat_id": chat["chat_id"], "msg_type": "text", "content": {"text": "x"}, "sender_type": sender});
        let id = |v: &Value| v["message_id"].as_str().expect("a seeded message_id").to_string();
        let recalled = id(&self.post("/_sandbox/messages", seed(&group, "user")).await);
        let live = id(&self.post("/_sandbox/messages", seed(&group, "user")).await);
        let p2p = self
            .post(
                "/_sandbox/chats",
                json!({"chat_type": "p2p", "user_open_id": format!("ou_traps_{who}")}),
            )
            .await;
        let not_latest = id(&self.post("/_sandbox/messages", seed(&p2p, "app")).await);
        self.post("/_sandbox/messages", seed(&p2p, "app")).await;
        // Recalled through the API, as a bot would.
        let client =
            feishu::Client::builder(APP_ID, APP_SECRET).base_url(base_url).build().unwrap();
        client.im().message().delete(&recalled).await.expect("the recall succeeds");
        Traps { recalled, not_latest, live }
    }
}

/// The peer check of the sandbox's behaviours: lark-oapi, pointed at the
/// sandbox with its `domain` option, meets the same documented errors as our
/// client, which maps each to its typed variant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_clients_meet_the_sandboxs_behaviours() {
    let Some(python) = peer_python_or_skip("both_clients_meet_the_sandboxs_behaviours") else {
        return;
    };
    let (sandbox, control) = Control::start().await;
    let base_url = sandbox.url();
    const BAD_CONTENT: &str = r#"{"txt":"not the text shape"}"#;

    // Ours: each call fails with its documented code, as its typed variant.
    let traps = control.traps("ours", &base_url).await;
    let client = feishu::Client::builder(APP_ID, APP_SECRET).base_url(&base_url).build().unwrap();
    let code_of = |e: &feishu::OperationError<_>| e.code();
    let err = reply(
        &client,
        ReplyRequest::new(MessageId::new(&traps.recalled), REPLY_CONTENT, "text"),
        RequestOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(err.kind() == feishu::im::message::ReplyErrorKind::MessageRecalled, "{err:?}");
    let err = create(
        &client,
        CreateRequest::new(MessageId::new(&traps.recalled), Emoji::new(EMOJI_TYPE)),
        RequestOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.kind() == feishu::im::message_reaction::CreateErrorKind::MessageNotFound,
        "{err:?}"
    );
    let err = push_follow_up(
        &client,
        PushFollowUpRequest::new(MessageId::new(&traps.not_latest), typed_follow_ups()),
        RequestOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.kind() == feishu::im::message::PushFollowUpErrorKind::OnlySupportLatestMessage,
        "{err:?}"
    );
    let err = reply(
        &client,
        ReplyRequest::new(MessageId::new(&traps.live), BAD_CONTENT, "text"),
        RequestOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(code_of(&err), Some(230001), "{err:?}");
    assert!(
        err.kind() == feishu::im::message::ReplyErrorKind::RequestContainsInvalidRequestParameter,
        "{err:?}"
    );

    // lark-oapi meets the same codes on its own copies of the traps.
    let traps = control.traps("lark_oapi", &base_url).await;
    let calls = json!({
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "calls": [
            {"op": "reply", "message_id": traps.recalled, "body": {"content": REPLY_CONTENT, "msg_type": "text"}},
            {"op": "reaction_create", "message_id": traps.recalled, "body": {"reaction_type": {"emoji_type": EMOJI_TYPE}}},
            {"op": "push_follow_up", "message_id": traps.not_latest, "body": {"follow_ups": json_follow_ups()}},
            {"op": "reply", "message_id": traps.live, "body": {"content": BAD_CONTENT, "msg_type": "text"}},
        ]
    });
    let peer = {
        let (python, base_url) = (python.clone(), base_url.clone());
        match tokio::task::spawn_blocking(move || run_peer(&python, &base_url, &calls))
            .await
            .unwrap()
        {
            Ok(peer) => peer,
            Err(why) => return peer_missing("both_clients_meet_the_sandboxs_behaviours", &why),
        }
    };
    let messages = control.messages().await;
    sandbox.shutdown().await;
    let seen: Vec<(&Value, &Value)> = peer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (&r["success"], &r["code"]))
        .collect();
    let failed = |code: i64| (json!(false), json!(code));
    let want = [failed(230011), failed(231003), failed(230006), failed(230001)];
    let want: Vec<(&Value, &Value)> = want.iter().map(|(a, b)| (a, b)).collect();
    assert_eq!(seen, want, "{peer}");
    // Nothing was stored by any of the eight refused calls: only the seeds.
    assert_eq!(messages.len(), 8, "{messages:#?}");
}
