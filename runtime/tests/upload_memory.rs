//! A 200 MB upload from disk keeps the client's peak memory under 64 MB.
//!
//! The upload runs in a child process (this test binary again, running the
//! ignored `child_uploads_the_file` test), so that nothing the test harness
//! or the server allocates counts; the child reads its own peak resident
//! size (`VmHWM` in /proc/self/status) after the upload and prints it.

use std::process::Command;
use std::time::Duration;

use feishu_runtime::{ApiRequest, Auth, Body, Client, Method, Multipart, RetryPolicy, UploadFile};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const SIZE: u64 = 200 * 1024 * 1024;
const LIMIT_KB: u64 = 64 * 1024;

/// Reads one request, counting its body without keeping it; answers a
/// file key. Returns the body's length.
async fn discard_one(listener: &TcpListener) -> u64 {
    let (stream, _) = listener.accept().await.unwrap();
    let mut stream = BufReader::new(stream);
    let mut length = None;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<u64>().unwrap());
        }
    }
    let length = length.expect("the multipart body announces its length");
    let mut left = length;
    let mut buf = vec![0u8; 1 << 16];
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = stream.read(&mut buf[..want]).await.unwrap();
        assert!(n > 0, "the body ended {left} bytes early");
        left -= n as u64;
    }
    let body = br#"{"code":0,"msg":"ok","data":{"file_key":"file_big"}}"#;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let out = stream.get_mut();
    out.write_all(head.as_bytes()).await.unwrap();
    out.write_all(body).await.unwrap();
    length
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_upload_keeps_peak_memory_under_64_mb() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc/self/status to read the peak memory from");
        return;
    }
    let dir = std::env::temp_dir().join(format!("feishu-upload-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        for _ in 0..SIZE / chunk.len() as u64 {
            file.write_all(&chunk).unwrap();
        }
        file.flush().unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { discard_one(&listener).await });
    let child = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "child_uploads_the_file",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("FEISHU_UPLOAD_URL", url)
                .env("FEISHU_UPLOAD_FILE", &path)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let received = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server finished")
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(received > SIZE, "the server received {received} bytes");
    let peak_kb: u64 = stdout
        .lines()
        .find_map(|l| l.split("VMHWM_KB=").nth(1))
        .expect("the child reports its peak")
        .trim()
        .parse()
        .unwrap();
    eprintln!(
        "peak resident memory of the uploading process: {} MB for a {} MB file",
        peak_kb / 1024,
        SIZE >> 20
    );
    assert!(peak_kb < LIMIT_KB, "peak {peak_kb} kB");
}

/// The child's half; does nothing unless the parent set the variables.
#[tokio::test]
#[ignore = "run by a_200_mb_upload_keeps_peak_memory_under_64_mb in a child process"]
async fn child_uploads_the_file() {
    let (Ok(url), Ok(path)) =
        (std::env::var("FEISHU_UPLOAD_URL"), std::env::var("FEISHU_UPLOAD_FILE"))
    else {
        return;
    };
    let client =
        Client::builder("cli_test", "s").base_url(url).retry(RetryPolicy::none()).build().unwrap();
    let file = UploadFile::from_path(&path).unwrap();
    assert_eq!(file.len(), SIZE);
    let form = Multipart::new()
        .text("file_type", "stream")
        .text("file_name", "big.bin")
        .upload("file", file);
    let request = ApiRequest::new(Method::POST, "/open-apis/im/v1/files")
        .auth(Auth::None)
        .body(Body::Multipart(form));
    let options = feishu_runtime::RequestOptions::default().timeout(Duration::from_secs(600));
    let data = client.send_value(request.options(options)).await.unwrap();
    assert_eq!(data["file_key"], "file_big");
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .to_owned();
    println!("VMHWM_KB={peak}");
}
