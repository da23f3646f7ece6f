//! Helpers for the tests against the sandbox (`feishu-sandbox`): a sandbox on
//! a free port serving the workspace spec, clients pointed at it, the
//! sandbox's control API, a webhook server feeding `feishu::events::Webhook`
//! (on `feishu-testkit`'s receiver), and a tracing subscriber that records
//! everything.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use feishu::events::{Delivery, EventEnvelope, Webhook, WebhookError};
use feishu::runtime::{AppType, RawCall};
use feishu::{Body, Client, ClientBuilder, RequestOptions, RetryPolicy};
use feishu_sandbox::{Sandbox, SandboxConfig};
use feishu_testkit::{Recorded, Reply, WebhookReceiver};
use serde_json::{Value, json};

/// The sandbox's default credentials (its README's contract).
pub const APP_ID: &str = "cli_sandbox";
pub const APP_SECRET: &str = "sandbox-secret";
pub const VERIFICATION_TOKEN: &str = "sandbox-verification-token";
pub const ENCRYPT_KEY: &str = "sandbox-encrypt-key";
/// The sandbox's marketplace (ISV) app.
pub const MARKET_ID: &str = "cli_marketplace";
pub const MARKET_SECRET: &str = "marketplace-secret";

pub const TENANT_TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
pub const MESSAGES_PATH: &str = "/open-apis/im/v1/messages";

/// The workspace's checked-in spec, which the generated crate was made from.
pub fn spec_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec"))
}

pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig::from_spec_dir(spec_dir()).expect("the workspace spec loads")
}

/// A running sandbox and a plain HTTP client for its control API.
pub struct Env {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
}

impl Env {
    /// A sandbox with the default settings (rate limits on).
    pub async fn start() -> Self {
        Self::start_with(sandbox_config()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Self {
        let sandbox = Sandbox::start(config, 0).await.expect("the sandbox starts");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        Self { sandbox, http }
    }

    pub fn url(&self) -> String {
        self.sandbox.url()
    }

    /// A client builder for the sandbox's app, pointed at it.
    pub fn builder(&self) -> ClientBuilder {
        Client::builder(APP_ID, APP_SECRET).base_url(self.url())
    }

    /// A tenant access token for the sandbox's app, fetched over plain HTTP.
    pub async fn tenant_token(&self) -> String {
        let answer = self
            .http
            .post(format!("{}{TENANT_TOKEN_PATH}", self.url()))
            .json(&json!({"app_id": APP_ID, "app_secret": APP_SECRET}))
            .send();
        let answer: Value = answer
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("the token answer is JSON");
        answer["tenant_access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {answer}"))
            .to_owned()
    }

    /// A client with the default settings, pointed at the sandbox.
    pub fn client(&self) -> Client {
        self.builder().build().expect("the client builds")
    }

    /// A client of the sandbox's marketplace app, pointed at it.
    pub fn marketplace_client(&self) -> Client {
        Client::builder(MARKET_ID, MARKET_SECRET)
            .base_url(self.url())
            .app_type(AppType::Marketplace)
            .build()
            .expect("the client builds")
    }

    /// A control call; panics unless it answers 2xx. Returns the JSON answer.
    pub async fn control(&self, method: reqwest::Method, call: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.try_control(method.clone(), call, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} /_sandbox/{call} answered {status}: {answer}"
        );
        answer
    }

    /// A control call, whatever it answers: `(status, JSON body)`.
    pub async fn try_control(
        &self,
        method: reqwest::Method,
        call: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}/_sandbox/{call}", self.url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("the sandbox's answer arrives");
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// Creates a group chat; returns its id.
    pub async fn group_chat(&self) -> String {
        let chat =
            self.control(reqwest::Method::POST, "chats", Some(json!({"chat_type": "group"}))).await;
        chat["chat_id"].as_str().expect("a chat_id").to_owned()
    }

    /// Creates (or finds) the p2p chat with a user; returns its id.
    pub async fn p2p_chat(&self, user_open_id: &str) -> String {
        let chat = self
            .control(
                reqwest::Method::POST,
                "chats",
                Some(json!({"chat_type": "p2p", "user_open_id": user_open_id})),
            )
            .await;
        chat["chat_id"].as_str().expect("a chat_id").to_owned()
    }

    /// Seeds a message (no limits, no checks); `extra` may set `msg_type`,
    /// `sender_type`, `age_seconds`, `parent_id`, `uuid`. Returns the stored
    /// message.
    pub async fn seed_message(&self, chat_id: &str, text: &str, extra: Value) -> Value {
        let mut body = json!({
            "chat_id": chat_id,
            "msg_type": "text",
            "content": json!({"text": text}).to_string(),
        });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        self.control(reqwest::Method::POST, "messages", Some(body)).await
    }

    /// Seeds a text message from the bot; returns its id.
    pub async fn seed_text(&self, chat_id: &str, text: &str) -> String {
        let message = self.seed_message(chat_id, text, json!({})).await;
        message["message_id"].as_str().expect("a message_id").to_owned()
    }

    /// Adds a fault rule; returns its id.
    pub async fn add_fault(&self, rule: Value) -> u64 {
        let answer = self.control(reqwest::Method::POST, "faults", Some(rule)).await;
        answer["id"].as_u64().expect("a fault id")
    }

    pub async fn faults(&self) -> Vec<Value> {
        let answer = self.control(reqwest::Method::GET, "faults", None).await;
        answer["faults"].as_array().expect("faults").clone()
    }

    pub async fn clear_faults(&self) {
        self.control(reqwest::Method::DELETE, "faults", None).await;
    }

    pub async fn expire_tokens(&self) {
        self.control(reqwest::Method::POST, "expire_tokens", None).await;
    }

    /// Every stored message.
    pub async fn messages(&self) -> Vec<Value> {
        let answer = self.control(reqwest::Method::GET, "messages", None).await;
        answer["messages"].as_array().expect("messages").clone()
    }

    pub async fn message(&self, message_id: &str) -> Value {
        self.messages()
            .await
            .into_iter()
            .find(|m| m["message_id"] == message_id)
            .unwrap_or_else(|| panic!("no stored message {message_id}"))
    }

    /// Every recorded `/open-apis` request, in order.
    pub async fn requests(&self) -> Vec<Value> {
        let answer = self.control(reqwest::Method::GET, "requests", None).await;
        answer["requests"].as_array().expect("requests").clone()
    }

    pub async fn clear_requests(&self) {
        self.control(reqwest::Method::DELETE, "requests", None).await;
    }

    /// `{"requests","rate_limited","faults_injected","messages"}`.
    pub async fn stats(&self) -> Stats {
        let answer = self.control(reqwest::Method::GET, "stats", None).await;
        let n =
            |name: &str| answer[name].as_u64().unwrap_or_else(|| panic!("no {name} in {answer}"));
        Stats {
            requests: n("requests"),
            rate_limited: n("rate_limited"),
            faults_injected: n("faults_injected"),
            messages: n("messages"),
        }
    }

    /// Asks the sandbox to deliver an event (`POST /_sandbox/events`);
    /// returns its answer (`status`, `body`, `json`, `sent`).
    pub async fn deliver(&self, request: Value) -> Value {
        self.control(reqwest::Method::POST, "events", Some(request)).await
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub rate_limited: u64,
    pub faults_injected: u64,
    pub messages: u64,
}

/// The data of a catalogue call (JSON in, JSON out), its failure as the
/// runtime's [`feishu_runtime::Error`], which the auth tests match on.
pub async fn json_data(call: RawCall<'_, Value>) -> Result<Value, feishu_runtime::Error> {
    call.await.map(feishu_runtime::Response::into_inner).map_err(feishu_runtime::Error::from)
}

/// Sends text message `i` as `tenant` of a marketplace app: each to a
/// receiver of its own, so that per-chat limits do not pace a run, and with
/// an idempotency uuid of its own.
pub async fn send_as_tenant(
    client: &Client,
    tenant: &str,
    i: usize,
) -> Result<Value, feishu_runtime::Error> {
    let content = json!({"text": format!("{tenant} #{i}")}).to_string();
    let body = json!({"receive_id": format!("ou_{tenant}_{i}"), "msg_type": "text", "content": content, "uuid": format!("{tenant}-{i}")});
    json_data(
        client
            .im()
            .message()
            .create()
            .body(Body::Json(body))
            .queries([("receive_id_type", "open_id")])
            .options(RequestOptions::default().tenant_key(tenant)),
    )
    .await
}

/// The query of a recorded request as pairs.
pub fn query_of(request: &Value) -> Vec<(String, String)> {
    request["query"]
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_owned(),
                        p[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Recorded requests to the tenant token endpoint.
pub fn token_fetches(requests: &[Value]) -> Vec<&Value> {
    requests.iter().filter(|r| r["path"] == TENANT_TOKEN_PATH).collect()
}

/// Recorded requests of one endpoint id (e.g. `im.v1.message.reply`).
pub fn of_endpoint<'a>(requests: &'a [Value], id: &str) -> Vec<&'a Value> {
    requests.iter().filter(|r| r["endpoint"] == id).collect()
}

/// How often each `uuid` of the recorded request bodies was sent.
pub fn uuid_counts<'a>(requests: impl IntoIterator<Item = &'a Value>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in requests {
        if let Some(uuid) = r["body"]["uuid"].as_str() {
            *counts.entry(uuid.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// Feishu's rate-limit code.
pub const RATE_LIMITED: i64 = 99991400;

/// When the sandbox's rate limits counted a recorded request (µs since it
/// started).
pub fn at_us(record: &Value) -> u64 {
    record["at_us"].as_u64().unwrap_or_else(|| panic!("no at_us in {record}"))
}

/// The shortest time in which `limit + 1` requests a client keeps to
/// `limit` per second may reach the sandbox. The client starts them at
/// least a second (and its 30 ms margin) apart; latency can bring them
/// closer, by the first one's delay less the last one's, which stays well
/// under a quarter second. A client that let one more through per window
/// sends it within the launch interval, at once in a burst.
pub const MIN_SPAN_US: u64 = 750_000;

/// Checks requests that a client paced to `limit` per second (the records
/// of one rate-limit key) against the sandbox's log: no `limit + 1` of them
/// reached it within [`MIN_SPAN_US`]. Panics naming the bunched requests.
pub fn assert_spaced(what: &str, records: &[&Value], limit: usize) {
    let mut at: Vec<u64> = records.iter().map(|r| at_us(r)).collect();
    at.sort_unstable();
    for (i, window) in at.windows(limit + 1).enumerate() {
        let span = window[limit] - window[0];
        assert!(
            span >= MIN_SPAN_US,
            "{what}: requests {i}..={} of {} (limit {limit}/s) reached the sandbox within {span} µs: {at:?}",
            i + limit,
            at.len()
        );
    }
}

/// Whether the sandbox's one-second window of `key_records` (the records
/// of one rate-limit key) was full when `refused` came: `limit` accepted
/// requests counted in the second before it. That is a refusal the
/// documented limit explains (latency brought paced requests together);
/// any other refusal means the sandbox counts differently from the client.
pub fn window_was_full(key_records: &[&Value], limit: usize, refused: &Value) -> bool {
    let at = at_us(refused);
    let counted = key_records
        .iter()
        .filter(|r| r["code"] != RATE_LIMITED && !std::ptr::eq(**r, refused))
        .filter(|r| at_us(r) <= at && at - at_us(r) < 1_000_000)
        .count();
    counted >= limit
}

/// A retry policy for tests that inject many failures: more attempts and
/// shorter waits than the default, so that a 30% failure rate cannot
/// exhaust a call's attempts.
pub fn patient_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(12)
        .initial_backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(500))
}

/// Waits for `check` to become true, polling; panics after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------
// A webhook server in front of `feishu::events::Webhook`.

/// What the webhook did with one request.
#[derive(Debug)]
pub enum Handled {
    /// A new event, handed to the app.
    Event(EventEnvelope),
    /// A repeated event id, answered 200 and not handed to the app (the
    /// server remembers the ids, as a dispatcher's store would: the
    /// `Webhook` itself does not deduplicate).
    Duplicate(String),
    /// A `url_verification` challenge, answered.
    Challenge(String),
    /// Refused with this HTTP status.
    Refused { status: u16, error: String },
}

/// A webhook receiver (`feishu-testkit`) whose every request goes through
/// [`Webhook::handle`]; events are handed to the "app" (recorded in
/// [`WebhookServer::take`]) exactly once.
pub struct WebhookServer {
    receiver: WebhookReceiver,
    handled: Arc<Mutex<Vec<Handled>>>,
}

impl WebhookServer {
    pub async fn start(webhook: Webhook) -> Self {
        let handled = Arc::new(Mutex::new(Vec::new()));
        let log = handled.clone();
        let seen = Mutex::new(std::collections::HashSet::new());
        let receiver = WebhookReceiver::start(move |request| {
            let (status, answer, mut handled) = handle(&webhook, request);
            if let Handled::Event(envelope) = &handled
                && !seen.lock().unwrap().insert(envelope.event_id.clone())
            {
                handled = Handled::Duplicate(envelope.event_id.clone());
            }
            log.lock().unwrap().push(handled);
            Reply::raw(status, "application/json", answer)
        })
        .await;
        Self { receiver, handled }
    }

    pub fn url(&self) -> &str {
        self.receiver.url()
    }

    /// Takes what was handled so far.
    pub fn take(&self) -> Vec<Handled> {
        std::mem::take(&mut *self.handled.lock().unwrap())
    }

    /// How many requests were handled so far (kept).
    pub fn len(&self) -> usize {
        self.handled.lock().unwrap().len()
    }
}

/// The webhook's answer to one request: status, body and what it did.
fn handle(webhook: &Webhook, request: &Recorded) -> (u16, String, Handled) {
    let result: Result<Delivery, WebhookError> = webhook.handle(
        request.headers.iter().map(|(n, v)| (n, v)),
        &request.body,
        SystemTime::now(),
    );
    match result {
        Ok(delivery) => {
            let answer = delivery.response_body();
            let handled = match delivery {
                Delivery::Event(envelope) => Handled::Event(envelope),
                Delivery::Challenge { challenge } => Handled::Challenge(challenge),
                other => panic!("a delivery this test does not know: {other:?}"),
            };
            (200, answer, handled)
        }
        Err(error) => {
            let status = error.http_status();
            let answer = json!({"error": error.to_string()}).to_string();
            let handled = Handled::Refused { status, error: format!("{error:?}") };
            (status, answer, handled)
        }
    }
}
