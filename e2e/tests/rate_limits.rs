//! The sandbox's rate limits agree with the runtime's where both encode the
//! same documented facts: the per-second and per-minute windows, the
//! per-receiver limit, the rate-limit codes and the reset header.
//!
//! The sandbox never depends on the runtime (it is an oracle built from the
//! docs alone; see ARCHITECTURE.md), so each writes these facts down on its
//! own, and this is where the two copies are held together: requests the
//! runtime paced reach the sandbox spaced, the sandbox refuses one only when
//! its window (the documented one) was full, and whatever the sandbox
//! refuses with must be a rate limit to the runtime.

mod sandbox_support;

use feishu_runtime::error::codes;
use feishu_runtime::{ApiRequest, Client, Error, Method, RateLimit, RetryPolicy};
use feishu_sandbox::SandboxConfig;
use sandbox_support::{
    APP_ID, APP_SECRET, Env, MESSAGES_PATH, RATE_LIMITED, assert_spaced, sandbox_config, spec_dir,
    window_was_full,
};
use serde_json::{Value, json};

/// An endpoint the sandbox answers with its documented example, and no
/// required parameters.
const PROGRESS: &str = "im.v1.batch_message.get_progress";
const PROGRESS_PATH: &str = "/open-apis/im/v1/batch_messages/bm_1/get_progress";
const REPLY: &str = "im.v1.message.reply";

/// The workspace spec with `id`'s documented limits replaced.
fn documenting(id: &str, limit: feishu_spec::RateLimit) -> SandboxConfig {
    let mut config = sandbox_config();
    let endpoint = config
        .spec
        .endpoints
        .iter_mut()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("{id} is not in the spec"));
    endpoint.rate_limit = Some(limit);
    config
}

/// A runtime client for the sandbox's app.
fn client(env: &Env, retry: RetryPolicy) -> Client {
    Client::builder(APP_ID, APP_SECRET).base_url(env.url()).retry(retry).build().unwrap()
}

/// Runs the requests at once; returns how many failed, with their errors.
async fn burst(client: &Client, requests: Vec<ApiRequest>) -> Vec<Error> {
    let calls: Vec<_> = requests
        .into_iter()
        .map(|r| {
            tokio::spawn({
                let client = client.clone();
                async move { client.send_value(r).await }
            })
        })
        .collect();
    let mut failed = Vec::new();
    for call in calls {
        if let Err(e) = call.await.unwrap() {
            failed.push(e);
        }
    }
    failed
}

/// Checks the paced requests the sandbox logged (those `of` picks): the
/// client spaced them to `limit` per second, and the sandbox refused only
/// those its own window explains. The client spaces requests when it starts
/// them and the sandbox counts them when they arrive, so a request delayed
/// on its way more than the runtime's 30 ms margin beyond one sent a second
/// later can still be refused; a client letting one more through per
/// window, or a sandbox counting another window, fails here whatever the
/// timing. Returns how many were refused.
fn check_paced(requests: &[Value], of: impl Fn(&Value) -> bool, limit: u32) -> usize {
    let paced: Vec<&Value> = requests.iter().filter(|r| of(r)).collect();
    assert_spaced("paced calls", &paced, limit as usize);
    let refused: Vec<&&Value> = paced.iter().filter(|r| r["code"] == RATE_LIMITED).collect();
    for r in &refused {
        assert!(
            window_was_full(&paced, limit as usize, r),
            "the sandbox refused a paced call its window does not explain: {r}\n{paced:#?}"
        );
    }
    eprintln!("{} of {} paced calls refused (latency)", refused.len(), paced.len());
    refused.len()
}

/// The code of an API error, failing the test on anything else.
fn api_code(error: &Error) -> i64 {
    match error {
        Error::Api(e) => e.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn whatever_the_sandbox_refuses_with_the_runtime_knows_as_a_rate_limit() {
    // A per-minute limit of 2, so that the third call is refused however
    // slowly the calls go; nothing tells the runtime of it.
    let env = Env::start_with(documenting(
        PROGRESS,
        feishu_spec::RateLimit { per_minute: Some(2), ..Default::default() },
    ))
    .await;
    let client = client(&env, RetryPolicy::none());
    let mut refusals = Vec::new();
    for _ in 0..3 {
        if let Err(e) = client.send_value(ApiRequest::new(Method::GET, PROGRESS_PATH)).await {
            refusals.push(e);
        }
    }
    // The fault that stands for Feishu's messaging limit.
    env.add_fault(json!({"kind": "rate_limited", "count": 1})).await;
    refusals.extend(client.send_value(ApiRequest::new(Method::GET, PROGRESS_PATH)).await.err());

    let codes: Vec<i64> = refusals.iter().map(api_code).collect();
    assert_eq!(codes, [codes::RATE_LIMITED, codes::IM_RATE_LIMITED], "{refusals:?}");
    for error in &refusals {
        assert!(error.is_retryable(), "the runtime would not retry {error:?}");
    }
}

#[tokio::test]
async fn the_runtime_waits_out_the_reset_the_sandbox_names() {
    // One call per second, unknown to the runtime: the second call of a
    // pair is refused with `x-ogw-ratelimit-reset: 1`. A runtime that read
    // the header waits that second and gets through on its first retry; one
    // that missed it retries after its own backoff (100 ms) and is refused
    // again.
    let env = Env::start_with(documenting(
        PROGRESS,
        feishu_spec::RateLimit { per_second: Some(1), ..Default::default() },
    ))
    .await;
    let client = client(&env, RetryPolicy::default());
    for _ in 0..2 {
        client
            .send_value(ApiRequest::new(Method::GET, PROGRESS_PATH))
            .await
            .expect("the call gets through after waiting");
    }
    let requests = env.requests().await;
    let refused = requests
        .iter()
        .filter(|r| r["path"] == PROGRESS_PATH && r["code"] == codes::RATE_LIMITED)
        .count();
    let answered = requests.iter().filter(|r| r["path"] == PROGRESS_PATH && r["code"] == 0).count();
    assert_eq!((answered, refused), (2, 1), "{requests:#?}");
}

#[tokio::test]
async fn a_per_second_limit_the_runtime_keeps_is_refused_only_for_latency() {
    const LIMIT: u32 = 2;
    const CALLS: usize = 8;
    let env = Env::start_with(documenting(
        PROGRESS,
        feishu_spec::RateLimit { per_second: Some(LIMIT), ..Default::default() },
    ))
    .await;
    let client = client(&env, RetryPolicy::none());
    // The token first (whatever the call answers), so that its fetch does
    // not delay the first call after its slot was taken.
    client.send_value(ApiRequest::new(Method::GET, "/open-apis/im/v1/pins")).await.ok();

    let paced = || {
        (0..CALLS)
            .map(|_| {
                ApiRequest::new(Method::GET, PROGRESS_PATH)
                    .endpoint(PROGRESS)
                    .rate_limit(RateLimit::new(Some(LIMIT), None))
            })
            .collect()
    };
    env.clear_requests().await;
    let refused = burst(&client, paced()).await;
    let requests = env.requests().await;
    assert_eq!(requests.len(), CALLS, "{requests:#?}");
    assert_eq!(check_paced(&requests, |r| r["path"] == PROGRESS_PATH, LIMIT), refused.len());

    // The same burst, unpaced, meets the sandbox's limit: it is on.
    let unpaced = (0..CALLS).map(|_| ApiRequest::new(Method::GET, PROGRESS_PATH)).collect();
    let refused = burst(&client, unpaced).await;
    assert!(
        refused.len() >= CALLS / 2,
        "the sandbox refused only {} of {CALLS} unpaced calls",
        refused.len()
    );
    assert!(refused.iter().all(|e| api_code(e) == codes::RATE_LIMITED), "{refused:?}");
}

#[tokio::test]
async fn a_per_receiver_limit_the_runtime_keeps_is_refused_only_for_latency() {
    const LIMIT: u32 = 2;
    const CALLS: usize = 8;
    // The sandbox's per-chat limit is the strictest per-receiver limit the
    // spec documents; the endpoint limits stay out of the way.
    let env = Env::start_with(documenting(
        REPLY,
        feishu_spec::RateLimit { per_receiver_per_second: Some(LIMIT), ..Default::default() },
    ))
    .await;
    let chat = env.group_chat().await;
    let parent = env.seed_text(&chat, "parent").await;
    let client = client(&env, RetryPolicy::none());
    client.send_value(ApiRequest::new(Method::GET, "/open-apis/im/v1/pins")).await.ok();

    let replies = |paced: bool| -> Vec<ApiRequest> {
        (0..CALLS)
            .map(|i| {
                let request = ApiRequest::new(Method::POST, format!("/open-apis/im/v1/messages/{parent}/reply"))
                    .json(&json!({"msg_type": "text", "content": json!({"text": format!("reply {i}")}).to_string()}))
                    .unwrap();
                if paced { request.endpoint(REPLY).rate_limit(RateLimit::default().per_receiver(LIMIT)).receiver(parent.clone()) } else { request }
            })
            .collect()
    };
    env.clear_requests().await;
    let refused = burst(&client, replies(true)).await;
    let requests = env.requests().await;
    assert_eq!(requests.len(), CALLS, "{requests:#?}");
    assert_eq!(check_paced(&requests, |r| r["endpoint"] == REPLY, LIMIT), refused.len());

    let refused = burst(&client, replies(false)).await;
    assert!(
        refused.len() >= CALLS / 2,
        "the sandbox refused only {} of {CALLS} unpaced replies",
        refused.len()
    );
    assert!(refused.iter().all(|e| api_code(e) == codes::RATE_LIMITED), "{refused:?}");
}

#[tokio::test]
async fn the_sandbox_per_receiver_default_is_the_documented_limit_the_client_keeps() {
    // What the generated client keeps: the checked-in spec's per-receiver
    // limit of reply (the generated code is made from it; `regen --check`
    // holds them together).
    let text = std::fs::read_to_string(spec_dir().join("im/message.json")).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    let reply = spec["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == REPLY)
        .expect("reply is in spec/im/message.json");
    let documented = reply["rate_limit"]["per_receiver_per_second"]
        .as_u64()
        .expect("reply documents a per-receiver limit");

    // A spec that documents none: the sandbox falls back to its default.
    let mut config = sandbox_config();
    for endpoint in &mut config.spec.endpoints {
        if let Some(limit) = &mut endpoint.rate_limit {
            limit.per_receiver_per_second = None;
        }
    }
    let env = Env::start_with(config).await;
    let chat = env.group_chat().await;
    let bearer = format!("Bearer {}", env.tenant_token().await);
    // Sends to one chat until one is refused (sends in one second: at most
    // the limit go through).
    let mut limit_header = None;
    for i in 0..100 {
        let answer = env
            .http
            .post(format!("{}{MESSAGES_PATH}?receive_id_type=chat_id", env.url()))
            .header("authorization", &bearer)
            .json(&json!({"receive_id": chat, "msg_type": "text", "content": json!({"text": format!("m{i}")}).to_string()}))
            .send()
            .await
            .unwrap();
        if let Some(limit) = answer.headers().get("x-ogw-ratelimit-limit") {
            limit_header = Some(limit.to_str().unwrap().parse::<u64>().unwrap());
            let body: Value = answer.json().await.unwrap();
            assert_eq!(body["code"], codes::RATE_LIMITED);
            break;
        }
    }
    assert_eq!(
        limit_header,
        Some(documented),
        "the sandbox's per-chat default is not the documented per-receiver limit"
    );
}
