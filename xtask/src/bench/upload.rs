//! `upload_time_vs_raw_reqwest` and `upload_peak_rss_mb`: a 200 MB file
//! uploaded to the sandbox (`POST /open-apis/im/v1/files`) by the generated
//! client, streamed through feishu-runtime's `UploadFile`, against a
//! hand-written streaming reqwest multipart upload; and the client process's
//! peak RSS during it. How they are to be measured is written in
//! `bench/README.md`; until the capability has landed (checked at run time,
//! [`landed`]) both keys are `null` with what is missing.

use std::path::Path;

use serde_json::Value;

use super::report::{Ratio, Report};
use super::{Server, probe, progress};

const KEYS: [&str; 2] = ["upload_time_vs_raw_reqwest", "upload_peak_rss_mb"];

/// Adds the upload figures to `report` (for now, why there are none).
pub fn measure(root: &Path, sandbox: Result<&Server, &str>, report: &mut Report) {
    let why = match landed(root, sandbox) {
        Err(why) => why,
        Ok(()) => "the streaming-upload capability has landed, but its measurement is not written yet (see bench/README.md, \"Still to measure\")".into(),
    };
    progress(&format!("upload: not measured: {why}"));
    for key in KEYS {
        report.ratios.push(Ratio { key, value: Err(why.clone()), detail: String::new() });
    }
}

/// `Ok` when the runtime has `UploadFile` and the sandbox takes a multipart file.
///
/// The sandbox already answers `POST /open-apis/im/v1/files` from the spec's
/// example whatever the body holds, so its answer alone does not show that
/// streaming uploads landed: the runtime's `UploadFile` is what is awaited.
fn landed(root: &Path, sandbox: Result<&Server, &str>) -> Result<(), String> {
    let mut missing = Vec::new();
    if !probe::runtime_mentions(root, "UploadFile") {
        missing.push("feishu-runtime has no `UploadFile` (runtime/src)".to_string());
    }
    match sandbox {
        Err(e) => missing.push(format!("the sandbox did not start: {e}")),
        Ok(sandbox) => {
            if let Err(e) = upload_once(&sandbox.base) {
                missing.push(format!("the sandbox does not take an uploaded file (POST /open-apis/im/v1/files: {e})"));
            }
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(format!("the streaming-upload capability has not landed: {}", missing.join("; "))) }
}

/// Uploads a 16-byte file with the sandbox's default app; its `file_key`.
fn upload_once(base: &str) -> Result<String, String> {
    let http = reqwest::Client::new();
    let token = probe::send(
        http.post(format!("{base}/open-apis/auth/v3/tenant_access_token/internal"))
            .json(&serde_json::json!({ "app_id": "cli_sandbox", "app_secret": "sandbox-secret" })),
    )?;
    let token: Value = serde_json::from_str(&token.body).map_err(|_| format!("token call: {}", token.describe()))?;
    let token = token["tenant_access_token"].as_str().ok_or("the token call gave no tenant_access_token")?.to_string();
    let form = reqwest::multipart::Form::new()
        .text("file_type", "stream")
        .text("file_name", "probe.bin")
        .part("file", reqwest::multipart::Part::bytes(b"sixteen bytes..!".to_vec()).file_name("probe.bin"));
    let answer = probe::send(http.post(format!("{base}/open-apis/im/v1/files")).bearer_auth(token).multipart(form))?;
    let json: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    match (answer.status, json["code"].as_i64(), json["data"]["file_key"].as_str()) {
        (200, Some(0), Some(key)) => Ok(key.to_string()),
        _ => Err(answer.describe()),
    }
}
