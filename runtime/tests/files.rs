//! Streaming uploads (from a path, bytes or a one-shot reader, and how each
//! is retried) and streaming downloads (chunks, atomic saves, interrupted
//! bodies), against scripted servers.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use feishu_runtime::{
    ApiRequest, Auth, Body, Client, Error, FileError, Method, Multipart, RetryPolicy, UploadFile,
};
use serde_json::json;
use support::{Reply, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fresh empty directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "feishu-files-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The parts of a multipart body: (headers, content).
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).expect("boundary").trim_matches('"');
    let delimiter = format!("\r\n--{boundary}");
    let mut body = [b"\r\n", body].concat();
    let mut out = Vec::new();
    loop {
        let start = find(&body, delimiter.as_bytes()).expect("a delimiter") + delimiter.len();
        body.drain(..start);
        if body.starts_with(b"--") {
            return out;
        }
        let end = find(&body, delimiter.as_bytes()).expect("a closing delimiter");
        let part = &body[2..end];
        let split = find(part, b"\r\n\r\n").unwrap();
        out.push((
            String::from_utf8(part[..split].to_vec()).unwrap().to_ascii_lowercase(),
            part[split + 4..].to_vec(),
        ));
        body.drain(..end);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn upload_request(file: UploadFile) -> ApiRequest {
    let form = Multipart::new()
        .text("file_type", "stream")
        .text("file_name", file.file_name().to_owned())
        .upload("file", file);
    ApiRequest::new(Method::POST, "/open-apis/im/v1/files").body(Body::Multipart(form))
}

/// Refuses the first `failures` uploads with a rate limit (which is retried
/// whatever the request), then answers a file key.
async fn flaky(failures: usize) -> Server {
    let seen = Arc::new(AtomicUsize::new(0));
    Server::with_token(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            Reply::json(json!({"code": 99991400, "msg": "too fast"}))
                .status(400)
                .header("x-ogw-ratelimit-reset", "0")
                .header("X-Tt-Logid", "L-RL")
        } else {
            Reply::json(json!({"code": 0, "msg": "ok", "data": {"file_key": "file_1"}}))
        }
    })
    .await
}

#[tokio::test]
async fn a_path_upload_streams_the_file_with_its_name_and_type_and_is_resent_whole_on_retry() {
    let dir = TempDir::new("path");
    let path = dir.0.join("季度 report.pdf");
    let content: Vec<u8> = (0..700_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let server = flaky(1).await;
    let data = server
        .fast_retries()
        .send_value(upload_request(UploadFile::from_path(&path).unwrap()))
        .await
        .unwrap();
    assert_eq!(data["file_key"], "file_1");
    let attempts = server.api_requests();
    assert_eq!(attempts.len(), 2);
    for r in &attempts {
        let parts = parts(r.header("content-type").unwrap(), &r.body);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].1, "季度 report.pdf".as_bytes());
        assert!(
            parts[2].0.contains("name=\"file\"; filename=\"季度 report.pdf\""),
            "{}",
            parts[2].0
        );
        assert!(parts[2].0.contains("content-type: application/pdf"), "{}", parts[2].0);
        assert!(parts[2].1 == content, "the file arrives whole on every attempt");
    }
}

#[tokio::test]
async fn a_bytes_upload_is_retried() {
    let server = flaky(2).await;
    let file = UploadFile::from_bytes(vec![7u8; 1000], "a.bin");
    server.fast_retries().send_value(upload_request(file)).await.unwrap();
    let attempts = server.api_requests();
    assert_eq!(attempts.len(), 3);
    for r in &attempts {
        let parts = parts(r.header("content-type").unwrap(), &r.body);
        assert!(parts[2].0.contains("content-type: application/octet-stream"), "{}", parts[2].0);
        assert_eq!(parts[2].1, vec![7u8; 1000]);
    }
}

#[tokio::test]
async fn a_reader_upload_is_sent_once_and_the_error_says_why_it_was_not_retried() {
    let server = flaky(1).await;
    let reader = std::io::Cursor::new(vec![1u8; 5000]);
    let error = server
        .fast_retries()
        .send_value(upload_request(UploadFile::from_reader(reader, "stream.bin", 5000)))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::File(FileError::NotRepeatable { error }) if error.code() == Some(99991400)),
        "{error:?}"
    );
    assert!(error.to_string().contains("not retried"), "{error}");
    assert_eq!(
        (error.code(), error.log_id(), error.http_status()),
        (Some(99991400), Some("L-RL"), Some(400))
    );
    assert_eq!(server.api_requests().len(), 1);

    // Without a failure it goes through, whole.
    let server = flaky(0).await;
    let reader = std::io::Cursor::new(vec![2u8; 5000]);
    server
        .fast_retries()
        .send_value(upload_request(UploadFile::from_reader(reader, "stream.bin", 5000)))
        .await
        .unwrap();
    let r = &server.api_requests()[0];
    assert_eq!(parts(r.header("content-type").unwrap(), &r.body)[2].1, vec![2u8; 5000]);
}

#[tokio::test]
async fn a_missing_file_is_named_in_the_error() {
    let error = UploadFile::from_path("/nonexistent/dir/file.txt").unwrap_err();
    assert!(error.to_string().starts_with("/nonexistent/dir/file.txt: "), "{error}");
}

fn file_server(content: Vec<u8>) -> impl Fn(&support::Recorded) -> Reply + Send + Sync + 'static {
    move |_| {
        Reply::raw(200, "application/pdf", content.clone())
            .header("Content-Disposition", "attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf")
            .header("X-Tt-Logid", "L-DL")
    }
}

#[tokio::test]
async fn a_download_streams_and_saves_identical_bytes_atomically() {
    let content: Vec<u8> = (0..2_000_000u32).map(|i| (i * 31 % 255) as u8).collect();
    let server = Server::with_token(file_server(content.clone())).await;
    let client = server.client();

    let file =
        client.send_bytes(ApiRequest::new(Method::GET, "/open-apis/im/v1/files/f1")).await.unwrap();
    assert_eq!(
        (file.filename.as_deref(), file.content_type.as_deref(), file.log_id.as_deref()),
        (Some("报告.pdf"), Some("application/pdf"), Some("L-DL"))
    );
    assert_eq!(file.content_length, Some(content.len() as u64));
    let mut stream = file.bytes_stream();
    let mut streamed = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        streamed.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    assert!(streamed == content);
    assert!(chunks > 1, "the body came in pieces");

    let dir = TempDir::new("save");
    let target = dir.0.join("报告.pdf");
    std::fs::write(&target, b"an older version").unwrap();
    let written = client
        .send_bytes(ApiRequest::new(Method::GET, "/open-apis/im/v1/files/f1"))
        .await
        .unwrap()
        .save_to(&target)
        .await
        .unwrap();
    assert_eq!(written, content.len() as u64);
    assert!(std::fs::read(&target).unwrap() == content);
    assert_eq!(dir.entries(), vec!["报告.pdf".to_owned()], "no temporary file is left");

    let small = client
        .send_bytes(ApiRequest::new(Method::GET, "/open-apis/im/v1/files/f1"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(small == content);
}

#[tokio::test]
async fn a_call_timeout_of_duration_max_means_no_limit() {
    // `Duration::MAX` is how a caller says "no limit"; adding it to now
    // must not overflow (it panicked for downloads).
    let content = b"twelve bytes".to_vec();
    let files = file_server(content.clone());
    let server = Server::with_token(move |r| {
        if r.path.starts_with("/open-apis/im/v1/files/") {
            files(r)
        } else {
            Reply::ok(json!({"answer": 42}))
        }
    })
    .await;
    let client = server.client();
    let no_limit = || feishu_runtime::RequestOptions::default().timeout(Duration::MAX);

    let download = ApiRequest::new(Method::GET, "/open-apis/im/v1/files/f1").options(no_limit());
    let file = client.send_bytes(download).await.unwrap();
    assert!(file.bytes().await.unwrap() == content);
    let call = ApiRequest::new(Method::GET, "/open-apis/im/v1/chats").options(no_limit());
    assert_eq!(client.send_value(call).await.unwrap(), json!({"answer": 42}));
}

#[tokio::test]
async fn save_into_keeps_a_hostile_name_inside_its_folder() {
    // The uploader chose the name: `../../.bashrc`, percent-encoded.
    let server = Server::with_token(|_| {
        Reply::raw(200, "text/plain", b"rm -rf ~".to_vec())
            .header("Content-Disposition", "attachment; filename*=UTF-8''..%2F..%2F.bashrc")
    })
    .await;
    let client = server.client();
    let base = TempDir::new("hostile");
    let dir = base.0.join("a").join("b");
    std::fs::create_dir_all(&dir).unwrap();
    let request = ApiRequest::new(Method::GET, "/open-apis/im/v1/files/f1");

    let file = client.send_bytes(request).await.unwrap();
    assert_eq!(file.filename.as_deref(), Some("../../.bashrc"));
    assert_eq!(file.safe_file_name().as_deref(), Some("bashrc"));
    let path = file.save_into(&dir).await.unwrap();

    assert_eq!(path, dir.join("bashrc"));
    assert_eq!(std::fs::read(&path).unwrap(), b"rm -rf ~");
    assert_eq!(base.entries(), vec!["a".to_owned()], "nothing written beside the folder");
}

/// A server without auth that announces `announced` bytes, sends `sent`
/// of them, and closes the connection; with `stall`, it keeps the
/// connection open until the client closes it.
async fn cut_short(announced: usize, sent: usize, stall: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {announced}\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.write_all(&vec![9u8; sent]).await;
            let _ = stream.flush().await;
            if stall {
                while stream.read(&mut byte).await.unwrap_or(0) == 1 {}
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    url
}

#[tokio::test]
async fn an_interrupted_download_leaves_no_file_and_keeps_the_old_one() {
    let url = cut_short(1_000_000, 300_000, false).await;
    let client =
        Client::builder("cli_test", "s").base_url(url).retry(RetryPolicy::none()).build().unwrap();
    let dir = TempDir::new("cut");
    let fresh = dir.0.join("new.bin");
    let request = ApiRequest::new(Method::GET, "/open-apis/im/v1/files/f1").auth(Auth::None);
    let error =
        client.send_bytes(request.clone()).await.unwrap().save_to(&fresh).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());

    let existing = dir.0.join("old.bin");
    std::fs::write(&existing, b"keep me").unwrap();
    assert!(client.send_bytes(request).await.unwrap().save_to(&existing).await.is_err());
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");
    assert_eq!(dir.entries(), vec!["old.bin".to_owned()]);
}

#[tokio::test]
async fn a_dropped_save_leaves_no_file() {
    const ANNOUNCED: usize = 10_000_000;
    let url = cut_short(ANNOUNCED, 100_000, true).await;
    let client =
        Client::builder("cli_test", "s").base_url(url).retry(RetryPolicy::none()).build().unwrap();
    let dir = TempDir::new("drop");
    let target = dir.0.join("slow.bin");
    let download =
        client.send_bytes(ApiRequest::new(Method::GET, "/x").auth(Auth::None)).await.unwrap();
    // Boxed, so that `drop` below drops the future itself.
    let mut save = Box::pin(download.save_to(&target));
    // Runs the save until part of the body is in its temporary file (the
    // server sends a part, then stalls), and drops it there.
    let written = loop {
        tokio::select! {
            result = &mut save => panic!("the save ended while the server stalled: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
        let sizes: Vec<u64> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .collect();
        if let [size] = sizes[..]
            && size > 0
        {
            break size;
        }
    };
    assert!(written < ANNOUNCED as u64, "{written}");
    drop(save);
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}
