//! Uploads and downloads of images and files, and the paging switch.

mod common;

use common::{Env, start};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn upload(env: &Env, path: &str, form: Form, authorised: bool) -> (u16, Value) {
    let mut request = env.http.post(env.url(path)).multipart(form);
    if authorised {
        request = request.bearer_auth(&env.token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn file_form(bytes: Vec<u8>, part_name: &str, file_name: &str) -> Form {
    Form::new().text("file_type", "stream").text("file_name", file_name.to_owned()).part(
        "file",
        Part::bytes(bytes).file_name(part_name.to_owned()).mime_str("application/pdf").unwrap(),
    )
}

async fn files(env: &Env) -> Vec<Value> {
    let (_, listed) = env.control(Method::GET, "/files", None).await;
    listed["files"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_uploaded_file_is_stored_exactly_and_served_back() {
    let env = start().await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (status, answer) = upload(
        &env,
        "/open-apis/im/v1/files",
        file_form(bytes.clone(), "季度 report.pdf", "季度 report.pdf"),
        true,
    )
    .await;
    assert_eq!((status, answer["code"].as_i64()), (200, Some(0)), "{answer}");
    let key = answer["data"]["file_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("file_v3_"), "{key}");

    let stored = files(&env).await;
    assert_eq!(stored.len(), 1);
    let entry = &stored[0];
    assert_eq!(entry["key"], key.as_str());
    assert_eq!(entry["file_name"], "季度 report.pdf");
    assert_eq!(entry["filename"], "季度 report.pdf");
    assert_eq!(entry["size"], bytes.len());
    assert_eq!(entry["sha256"], sha256(&bytes));
    assert_eq!(entry["fields"], json!({"file_type": "stream", "file_name": "季度 report.pdf"}));

    for path in [format!("/open-apis/im/v1/files/{key}")] {
        let response = env.http.get(env.url(&path)).bearer_auth(&env.token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(
            disposition.ends_with("filename*=UTF-8''%E5%AD%A3%E5%BA%A6%20report.pdf"),
            "{disposition}"
        );
        assert_eq!(response.bytes().await.unwrap().as_ref(), &bytes[..]);
    }
}

/// A name chosen by whoever uploaded the file is data: it is kept and served
/// back exactly (so that a client's `safe_file_name()` can be tested against
/// it), and never becomes a path on the sandbox's side.
#[tokio::test]
async fn a_hostile_file_name_is_kept_as_uploaded_and_never_used_as_a_path() {
    let env = start().await;
    let hostile = "../../.bashrc";
    // Where the name would land if it were joined to the temporary folder or the current one.
    let escapes = [std::env::temp_dir().join(hostile), std::path::PathBuf::from(hostile)];
    let existed: Vec<bool> = escapes.iter().map(|p| p.exists()).collect();
    let (status, answer) = upload(
        &env,
        "/open-apis/im/v1/files",
        file_form(b"x=1\n".to_vec(), hostile, hostile),
        true,
    )
    .await;
    assert_eq!((status, answer["code"].as_i64()), (200, Some(0)), "{answer}");
    let key = answer["data"]["file_key"].as_str().unwrap().to_owned();

    let stored = files(&env).await;
    assert_eq!(
        (stored[0]["file_name"].as_str(), stored[0]["filename"].as_str()),
        (Some(hostile), Some(hostile))
    );
    let path = format!("/open-apis/im/v1/files/{key}");
    let response = env.http.get(env.url(&path)).bearer_auth(&env.token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.ends_with("filename*=UTF-8''..%2F..%2F.bashrc"), "{disposition}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"x=1\n");
    for (path, existed) in escapes.iter().zip(existed) {
        assert!(existed || !path.exists(), "the upload was written to {}", path.display());
    }
}

#[tokio::test]
async fn images_are_served_directly_and_as_message_resources() {
    let env = start().await;
    let png = b"\x89PNG\r\n\x1a\nnot really a picture".to_vec();
    let form = Form::new().text("image_type", "message").part(
        "image",
        Part::bytes(png.clone()).file_name("cat.png").mime_str("image/png").unwrap(),
    );
    let (_, answer) = upload(&env, "/open-apis/im/v1/images", form, true).await;
    let key = answer["data"]["image_key"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
    let chat = env.chat("group", None).await;
    let sent = env.send_text("chat_id", &chat, "see picture").await;
    let message_id = sent.body["data"]["message_id"].as_str().unwrap().to_owned();
    for path in [
        format!("/open-apis/im/v1/images/{key}"),
        format!("/open-apis/im/v1/messages/{message_id}/resources/{key}?type=image"),
    ] {
        let response = env.http.get(env.url(&path)).bearer_auth(&env.token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(response.bytes().await.unwrap().as_ref(), &png[..]);
    }
    // The wrong type, an unknown key, an unknown message.
    for (path, code) in [
        (format!("/open-apis/im/v1/messages/{message_id}/resources/{key}?type=file"), 234003),
        (format!("/open-apis/im/v1/files/{key}"), 234003),
        ("/open-apis/im/v1/images/img_v3_nothing".to_owned(), 234003),
        (format!("/open-apis/im/v1/messages/om_nothing/resources/{key}?type=image"), 234003),
        (format!("/open-apis/im/v1/messages/{message_id}/resources/{key}?type=video"), 234001),
    ] {
        let answer = env.api(Method::GET, &path, None).await;
        assert_eq!(answer.code(), code, "{path}: {}", answer.body);
    }
}

#[tokio::test]
async fn documented_limits_and_fields_are_enforced_and_refusals_store_nothing() {
    let env = start().await;
    let big_image = vec![0u8; 10 * 1024 * 1024 + 1];
    let form = Form::new()
        .text("image_type", "message")
        .part("image", Part::bytes(big_image).file_name("big.png"));
    let (status, answer) = upload(&env, "/open-apis/im/v1/images", form, true).await;
    assert_eq!((status, answer["code"].as_i64()), (400, Some(234006)), "{answer}");
    let exactly = Form::new()
        .text("image_type", "message")
        .part("image", Part::bytes(vec![1u8; 10 * 1024 * 1024]).file_name("ok.png"));
    assert_eq!(upload(&env, "/open-apis/im/v1/images", exactly, true).await.1["code"], 0);

    let cases = [
        (file_form(Vec::new(), "empty.bin", "empty.bin"), 234010),
        (
            Form::new()
                .text("file_type", "stream")
                .part("file", Part::bytes(vec![1]).file_name("a")),
            234001,
        ),
        (
            Form::new()
                .text("file_type", "zip")
                .text("file_name", "a")
                .part("file", Part::bytes(vec![1]).file_name("a")),
            234001,
        ),
        (Form::new().text("file_type", "stream").text("file_name", "a"), 234001),
        (file_form(vec![1; 10], "a", "a").text("duration", "soon"), 234001),
        (file_form(vec![1; 10], "a", "a").text("duration", ""), 0),
    ];
    for (form, code) in cases {
        let (_, answer) = upload(&env, "/open-apis/im/v1/files", form, true).await;
        assert_eq!(answer["code"].as_i64(), Some(code), "{answer}");
    }
    let (_, answer) =
        upload(&env, "/open-apis/im/v1/files", file_form(vec![1; 10], "a", "a"), false).await;
    assert_eq!(answer["code"].as_i64(), Some(99991661), "{answer}");
    assert_eq!(
        files(&env).await.len(),
        2,
        "only the image within the limit and the file with an empty duration are stored"
    );
}

#[tokio::test]
async fn the_file_limit_is_30_mb_unless_the_config_raises_it() {
    const MB: usize = 1024 * 1024;
    let over_documented = || file_form(vec![7u8; 30 * MB + 1], "big.bin", "big.bin");
    let env = start().await;
    let (status, answer) = upload(&env, "/open-apis/im/v1/files", over_documented(), true).await;
    assert_eq!((status, answer["code"].as_i64()), (400, Some(234006)), "{answer}");
    assert!(
        answer["msg"].as_str().unwrap().contains(&format!("limit of {} bytes", 30 * MB)),
        "{answer}"
    );
    assert!(files(&env).await.is_empty());

    let mut config = common::config();
    config.upload_limit = Some(31 * MB as u64);
    let env = common::start_with(config).await;
    let (status, answer) = upload(&env, "/open-apis/im/v1/files", over_documented(), true).await;
    assert_eq!((status, answer["code"].as_i64()), (200, Some(0)), "{answer}");
    let stored = files(&env).await;
    assert_eq!((stored.len(), stored[0]["size"].as_u64()), (1, Some(30 * MB as u64 + 1)));
    assert_eq!(stored[0]["sha256"], sha256(&vec![7u8; 30 * MB + 1]));
    // The raised limit is a limit still, and it holds for images too.
    let (_, answer) = upload(
        &env,
        "/open-apis/im/v1/files",
        file_form(vec![7u8; 31 * MB + 1], "big.bin", "big.bin"),
        true,
    )
    .await;
    assert_eq!(answer["code"].as_i64(), Some(234006), "{answer}");
    let image = Form::new()
        .text("image_type", "message")
        .part("image", Part::bytes(vec![1u8; 10 * MB + 1]).file_name("big.png"));
    let (_, answer) = upload(&env, "/open-apis/im/v1/images", image, true).await;
    assert_eq!(answer["code"].as_i64(), Some(0), "{answer}");
}

#[tokio::test]
async fn the_paging_switch_repeats_or_empties_tokens() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    for i in 0..3 {
        env.control(
            Method::POST,
            "/messages",
            Some(json!({"chat_id": chat, "msg_type": "text", "content": json!({"text": i.to_string()}).to_string(), "sender_type": "user"})),
        )
        .await;
    }
    let list = |token: Option<&str>| {
        let mut path = format!(
            "/open-apis/im/v1/messages?container_id_type=chat&container_id={chat}&page_size=1"
        );
        if let Some(token) = token {
            path.push_str(&format!("&page_token={token}"));
        }
        path
    };
    let first = env.api(Method::GET, &list(None), None).await.body["data"].clone();
    let token = first["page_token"].as_str().unwrap().to_owned();

    assert_eq!(
        env.control(Method::POST, "/pagination", Some(json!({"token": "repeat"}))).await.0,
        200
    );
    assert_eq!(
        env.api(Method::GET, &list(None), None).await.body["data"]["page_token"],
        token.as_str(),
        "the first page is left alone"
    );
    let second = env.api(Method::GET, &list(Some(&token)), None).await.body["data"].clone();
    assert_eq!(
        (second["has_more"].as_bool(), second["page_token"].as_str()),
        (Some(true), Some(token.as_str()))
    );

    env.control(Method::POST, "/pagination", Some(json!({"token": "empty"}))).await;
    let page = env.api(Method::GET, &list(None), None).await.body["data"].clone();
    assert_eq!((page["has_more"].as_bool(), page["page_token"].as_str()), (Some(true), Some("")));

    env.control(Method::POST, "/pagination", Some(json!({"token": "normal"}))).await;
    assert_eq!(env.api(Method::GET, &list(None), None).await.body["data"], first);
    assert_eq!(
        env.control(Method::POST, "/pagination", Some(json!({"token": "sometimes"}))).await.0,
        400
    );
}
