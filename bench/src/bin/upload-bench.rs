//! The upload benchmark of `cargo xtask bench` (`upload_time_vs_raw_reqwest`
//! and `upload_peak_rss_mb`): one streamed multipart upload of a file to the
//! sandbox's `POST /open-apis/im/v1/files`, by the generated client or by
//! hand-written reqwest, in a process of its own so that its peak memory is
//! the upload's.
//!
//! ```text
//! upload-bench generated BASE FILE
//!     client.im().file().create() with feishu-runtime's UploadFile opened
//!     from FILE (streamed from disk)
//! upload-bench raw BASE FILE
//!     reqwest multipart: Part::stream_with_length of a ReaderStream over
//!     tokio::fs::File, 64 KiB chunks
//! ```
//!
//! Both fetch the tenant token of the sandbox's app (`cli_sandbox` /
//! `sandbox-secret`) first, untimed; then time one upload from opening the
//! file to the decoded answer; then ask the sandbox (`GET /_sandbox/files`)
//! how many bytes it stored under the answer's `file_key`. They print one
//! JSON line: `client`, `seconds`, `bytes`, `file_key` and `peak_rss_kb`
//! (`VmHWM` of /proc/self/status right after the upload, before that control
//! call; null off Linux).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use feishu::runtime::{Body, Multipart, UploadFile};
use serde_json::{Value, json};

const APP_ID: &str = "cli_sandbox";
const APP_SECRET: &str = "sandbox-secret";
/// The raw side's read size, as the bench's design fixes it.
const RAW_CHUNK: usize = 64 * 1024;
/// Long enough for any upload the bench makes; the client's default 30 s
/// would cut a slow one short.
const TIMEOUT: Duration = Duration::from_secs(3600);
const USAGE: &str = "usage: upload-bench generated|raw BASE FILE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client, base, file] = args.as_slice() else {
        eprintln!("upload-bench: {USAGE}");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("upload-bench: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base = base.trim_end_matches('/');
    let result = runtime.block_on(async {
        let (seconds, key) = match client.as_str() {
            "generated" => generated(base, Path::new(file)).await?,
            "raw" => raw(base, Path::new(file)).await?,
            other => return Err(format!("{other:?} is not a client; {USAGE}")),
        };
        // Read before the control call below, which is no part of the upload.
        let peak = peak_rss_kb();
        let bytes = stored_size(base, &key).await?;
        Ok(json!({ "client": client, "seconds": seconds, "bytes": bytes, "file_key": key, "peak_rss_kb": peak }))
    });
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("upload-bench {client}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The generated client, as a user writes it (`examples/upload_file.rs`).
async fn generated(base: &str, path: &Path) -> Result<(f64, String), String> {
    let client = feishu::Client::builder(APP_ID, APP_SECRET)
        .base_url(base)
        .build()
        .map_err(|e| e.to_string())?;
    client.tenant_access_token().await.map_err(|e| format!("token: {e}"))?;
    let started = Instant::now();
    let file = UploadFile::from_path(path).map_err(|e| e.to_string())?;
    let form = Multipart::new()
        .text("file_type", "stream")
        .text("file_name", file.file_name().to_owned())
        .upload("file", file);
    let data = client
        .im()
        .file()
        .create()
        .body(Body::Multipart(form))
        .timeout(TIMEOUT)
        .await
        .map_err(|e| format!("upload: {e}"))?
        .into_inner();
    let seconds = started.elapsed().as_secs_f64();
    let key = data
        .get("file_key")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no file_key in the answer: {data}"))?;
    Ok((seconds, key.to_owned()))
}

/// Hand-written reqwest: the same form, the file streamed in 64 KiB reads.
async fn raw(base: &str, path: &Path) -> Result<(f64, String), String> {
    let http = reqwest::Client::new();
    let token = tenant_token(&http, base).await?;
    let started = Instant::now();
    let file = tokio::fs::File::open(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    let length = file.metadata().await.map_err(|e| format!("{}: {e}", path.display()))?.len();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let body =
        reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, RAW_CHUNK));
    let part = reqwest::multipart::Part::stream_with_length(body, length)
        .file_name(name.clone())
        .mime_str("application/octet-stream")
        .map_err(|e| e.to_string())?;
    let form = reqwest::multipart::Form::new()
        .text("file_type", "stream")
        .text("file_name", name)
        .part("file", part);
    let response = http
        .post(format!("{base}/open-apis/im/v1/files"))
        .bearer_auth(token)
        .multipart(form)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("upload: {e}"))?;
    let answer: Value = response.json().await.map_err(|e| format!("upload answer: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let key = match (answer["code"].as_i64(), answer["data"]["file_key"].as_str()) {
        (Some(0), Some(key)) => key.to_owned(),
        _ => return Err(format!("the upload was refused: {answer}")),
    };
    Ok((seconds, key))
}

async fn tenant_token(http: &reqwest::Client, base: &str) -> Result<String, String> {
    let url = format!("{base}/open-apis/auth/v3/tenant_access_token/internal");
    let response = http
        .post(url)
        .json(&json!({ "app_id": APP_ID, "app_secret": APP_SECRET }))
        .send()
        .await
        .map_err(|e| format!("token: {e}"))?;
    let answer: Value = response.json().await.map_err(|e| format!("token answer: {e}"))?;
    answer["tenant_access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no tenant_access_token in {answer}"))
}

/// The size the sandbox reports for the upload stored under `key`.
async fn stored_size(base: &str, key: &str) -> Result<u64, String> {
    let listed: Value =
        async { reqwest::get(format!("{base}/_sandbox/files")).await?.json().await }
            .await
            .map_err(|e: reqwest::Error| format!("GET /_sandbox/files: {e}"))?;
    let files = listed["files"]
        .as_array()
        .ok_or_else(|| format!("GET /_sandbox/files gave no files list: {listed}"))?;
    files
        .iter()
        .find(|f| f["key"] == key)
        .and_then(|f| f["size"].as_u64())
        .ok_or_else(|| format!("the sandbox lists no stored file with key {key:?} and a size"))
}

/// The peak resident memory in kB (`VmHWM`); `None` off Linux.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}
