//! Runs the `upload_file`, `download_file` and `list_messages` examples, as built by
//! `cargo test`, against a sandbox, and checks that the examples refuse
//! a bad command line by name.

use std::process::Output;

use feishu_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

async fn sandbox() -> Sandbox {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    Sandbox::start(SandboxConfig::from_spec_dir(spec).unwrap(), 0).await.unwrap()
}

async fn run(name: &str, sandbox: &Sandbox, last: &str) -> Output {
    run_with(name, sandbox, &[last]).await
}

/// Runs example `name` against `sandbox`, with `rest` after the flags.
async fn run_with(name: &str, sandbox: &Sandbox, rest: &[&str]) -> Output {
    let (binary, url) = (feishu_examples::example_binary(name), sandbox.url());
    let rest: Vec<String> = rest.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(binary)
            .args(["--base-url", &url, "--app-id", "cli_sandbox", "--app-secret", "sandbox-secret"])
            .args(rest)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn control(
    sandbox: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request =
        reqwest::Client::new().request(method, format!("{}/_sandbox{path}", sandbox.url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_file_prints_the_key_of_exactly_the_uploaded_file() {
    let sandbox = sandbox().await;
    let dir = std::env::temp_dir().join(format!("feishu-example-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("会议 notes.bin");
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let output = run("upload_file", &sandbox, path.to_str().unwrap()).await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let files = control(&sandbox, reqwest::Method::GET, "/files", None).await;
    let stored = &files["files"][0];
    assert_eq!(stored["key"], key.as_str());
    assert_eq!(
        (stored["file_name"].as_str(), stored["filename"].as_str()),
        (Some("会议 notes.bin"), Some("会议 notes.bin"))
    );
    assert_eq!(stored["size"], content.len());
    assert_eq!(stored["fields"]["file_type"], "stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_messages_prints_every_message_once_in_order() {
    let sandbox = sandbox().await;
    let chat =
        control(&sandbox, reqwest::Method::POST, "/chats", Some(json!({"chat_type": "group"})))
            .await["chat_id"]
            .as_str()
            .unwrap()
            .to_owned();
    for i in 0..120 {
        let content = json!({"text": format!("message {i}")}).to_string();
        control(&sandbox, reqwest::Method::POST, "/messages", Some(json!({"chat_id": chat, "msg_type": "text", "content": content, "sender_type": "user"})))
            .await;
    }
    let output = run("list_messages", &sandbox, &chat).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 120);
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields[1], "text", "{line}");
        assert_eq!(fields[2], json!({"text": format!("message {i}")}).to_string(), "{line}");
    }
    let requests = control(&sandbox, reqwest::Method::GET, "/requests", None).await;
    let lists = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"] == "im.v1.message.list")
        .count();
    assert_eq!(lists, 3, "pages of 50");

    // A chat that does not exist: the error, not an empty list.
    let output = run("list_messages", &sandbox, "oc_missing").await;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("230001"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_missing_or_unknown_flag_is_refused_by_name_before_anything_runs() {
    let run = |args: &[&str]| {
        std::process::Command::new(feishu_examples::example_binary("reply_and_react"))
            .args(args)
            .output()
            .unwrap()
    };
    let output =
        run(&["--base-url", "http://127.0.0.1:9", "--app-id", "cli_x", "--app-secret", "s"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--message-id"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run(&["--colour", "red"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--colour"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run(&["--help"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--emoji"));
}

/// Issue 24 item 5: the webhook example does not start without a secret.
#[test]
fn the_webhook_server_refuses_to_start_without_a_secret() {
    let binary = feishu_examples::example_binary("webhook_server");
    let output = std::process::Command::new(binary).args(["--port", "0"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--verification-token or --encrypt-key"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty(), "it never listened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_file_saves_a_hostile_name_inside_its_folder() {
    let sandbox = sandbox().await;
    // Uploaded under a name that climbs out of any folder: the sandbox keeps
    // it as uploaded, as Feishu would hand it back.
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let client = feishu_runtime::Client::builder("cli_sandbox", "sandbox-secret")
        .base_url(sandbox.url())
        .build()
        .unwrap();
    let hostile = "../../.bashrc";
    let form = feishu_runtime::Multipart::new()
        .text("file_type", "stream")
        .text("file_name", hostile)
        .upload("file", feishu_runtime::UploadFile::from_bytes(content.clone(), hostile));
    let request =
        feishu_runtime::ApiRequest::new(feishu_runtime::Method::POST, "/open-apis/im/v1/files")
            .body(feishu_runtime::Body::Multipart(form));
    let key = client.send_value(request).await.unwrap()["file_key"].as_str().unwrap().to_owned();
    let files = control(&sandbox, reqwest::Method::GET, "/files", None).await;
    assert_eq!(files["files"][0]["file_name"], hostile, "the sandbox keeps the name as uploaded");

    let base = std::env::temp_dir().join(format!("feishu-example-download-{}", std::process::id()));
    let dir = base.join("a").join("b");
    std::fs::create_dir_all(&dir).unwrap();
    let output = run_with("download_file", &sandbox, &[&key, dir.to_str().unwrap()]).await;

    let written: Vec<_> = walk(&base);
    std::fs::remove_dir_all(&base).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(printed, dir.join("bashrc").to_str().unwrap());
    assert_eq!(written, vec![(dir.join("bashrc"), content)], "one file, inside DIR");
}

/// Every file under `dir`, with its content.
fn walk(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            let content = std::fs::read(&path).unwrap();
            files.push((path, content));
        }
    }
    files
}
