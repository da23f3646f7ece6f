//! Lists and files against the sandbox: pagination under faults and
//! against a server that breaks the paging rules, uploads stored exactly
//! with their real names, downloads saved identically.

mod sandbox_support;

use std::time::Duration;

use feishu_runtime::{
    ApiRequest, Body, Error, Method, Multipart, PaginationError, RetryPolicy, UploadFile, paginate,
};
use sandbox_support::Env;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn list(chat: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, "/open-apis/im/v1/messages")
        .endpoint("im.v1.message.list")
        .query("container_id_type", "chat")
        .query("container_id", chat)
        .query("page_size", 50)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(50))
}

async fn list_requests(env: &Env) -> Vec<Value> {
    let requests = env.control(reqwest::Method::GET, "requests", None).await;
    requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"] == "im.v1.message.list")
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_in_pages_of_50_arrive_once_each_in_order_through_faults() {
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let mut seeded = Vec::new();
    for i in 0..1000 {
        seeded.push(env.seed_message(&chat, &format!("m{i}"), json!({"sender_type": "user"})).await["message_id"].as_str().unwrap().to_owned());
    }
    // Mid-stream: a 503, a dropped connection, a rate limit, then a 502
    // after the list was computed (the answer lost on the way back).
    for rule in [
        json!({"kind": "status", "status": 503, "count": 2, "probability": 0.3, "seed": 7, "path_prefix": "/open-apis/im/v1/messages"}),
        json!({"kind": "drop", "count": 2, "probability": 0.2, "seed": 8, "path_prefix": "/open-apis/im/v1/messages"}),
        json!({"kind": "rate_limited", "count": 2, "probability": 0.2, "seed": 9, "path_prefix": "/open-apis/im/v1/messages"}),
        json!({"kind": "status", "status": 502, "count": 1, "probability": 0.2, "seed": 10, "after_processing": true, "path_prefix": "/open-apis/im/v1/messages"}),
    ] {
        env.add_fault(rule).await;
    }
    let client = env.builder().retry(fast_retries()).build().unwrap();
    let ids: Vec<String> = paginate(&client, list(&chat))
        .items()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, seeded, "each message once, in order");
    let stats = env.control(reqwest::Method::GET, "stats", None).await;
    assert!(stats["faults_injected"].as_u64().unwrap() >= 3, "the faults fired: {stats}");
    // Each page was answered once: no page was fetched again after it arrived.
    let answered =
        list_requests(&env).await.iter().filter(|r| r["status"] == 200 && r["code"] == 0).count();
    assert_eq!(answered, 20);
}

#[tokio::test]
async fn a_repeated_or_empty_token_ends_with_an_error_and_no_extra_requests() {
    for (mode, requests) in [("repeat", 2), ("empty", 1)] {
        let env = Env::start().await;
        let chat = env.group_chat().await;
        for i in 0..120 {
            env.seed_message(&chat, &format!("m{i}"), json!({})).await;
        }
        env.control(reqwest::Method::POST, "pagination", Some(json!({"token": mode}))).await;
        let mut items = paginate(&env.client(), list(&chat)).items();
        let mut received = 0;
        let error = loop {
            match items.next().await {
                Some(Ok(_)) => received += 1,
                Some(Err(e)) => break e,
                None => panic!("{mode}: the stream ended without an error"),
            }
        };
        assert_eq!(received, 50 * requests, "{mode}");
        match (mode, &error) {
            (
                "repeat",
                Error::Pagination(PaginationError::RepeatedToken { page: 2, token, log_id }),
            ) => {
                assert_eq!(token, "50");
                assert!(log_id.is_some());
            }
            (
                "empty",
                Error::Pagination(PaginationError::MissingToken { page: 1, log_id: Some(_) }),
            ) => {}
            _ => panic!("{mode}: {error:?}"),
        }
        assert!(items.next().await.is_none());
        assert_eq!(list_requests(&env).await.len(), requests, "{mode}: no request after the error");
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_stored_exactly_with_its_name_and_downloads_back_identically() {
    let env = Env::start().await;
    let dir = std::env::temp_dir().join(format!("feishu-e2e-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("季度报告 Q3.pdf");
    let content: Vec<u8> =
        (0..5_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let client = env.client();

    let file = UploadFile::from_path(&path).unwrap();
    let form = Multipart::new()
        .text("file_type", "pdf")
        .text("file_name", file.file_name().to_owned())
        .upload("file", file);
    let request =
        ApiRequest::new(Method::POST, "/open-apis/im/v1/files").body(Body::Multipart(form));
    let key = client.send_value(request).await.unwrap()["file_key"].as_str().unwrap().to_owned();

    let files = env.control(reqwest::Method::GET, "files", None).await;
    let stored = &files["files"][0];
    assert_eq!(stored["key"], key.as_str());
    assert_eq!(stored["sha256"], sha256(&content));
    assert_eq!(stored["size"], content.len());
    assert_eq!(stored["filename"], "季度报告 Q3.pdf", "the real name in the part");
    assert_eq!(stored["content_type"], "application/pdf");

    let chat = env.group_chat().await;
    let message = env.seed_text(&chat, "the report").await;
    for path in [
        format!("/open-apis/im/v1/files/{key}"),
        format!("/open-apis/im/v1/messages/{message}/resources/{key}?type=file"),
    ] {
        let (path, query) =
            path.split_once('?').map_or((path.as_str(), None), |(p, q)| (p, Some(q)));
        let mut request = ApiRequest::new(Method::GET, path);
        if let Some((name, value)) = query.and_then(|q| q.split_once('=')) {
            request = request.query(name, value);
        }
        let download = client.send_bytes(request).await.unwrap();
        assert_eq!(download.filename.as_deref(), Some("季度报告 Q3.pdf"));
        assert_eq!(download.content_type.as_deref(), Some("application/pdf"));
        let target = dir.join("saved.pdf");
        assert_eq!(download.save_to(&target).await.unwrap(), content.len() as u64);
        assert!(std::fs::read(&target).unwrap() == content, "save_to writes identical bytes");
    }
    // The sandbox's error for a key it never issued arrives as the API error.
    let error = client
        .send_bytes(ApiRequest::new(Method::GET, "/open-apis/im/v1/files/file_v3_nothing"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(234003), "{error:?}");
    assert!(error.log_id().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}
