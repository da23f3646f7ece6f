//! Differential test of a file upload against the official Python SDK,
//! lark-oapi (pinned: 1.7.5): both clients upload the same file through
//! `im.v1.file.create` to the sandbox, which must have stored the same thing
//! from each: the same form fields (names and values, in any order), the
//! same bytes (sha256, size) and the same `file_name`.
//!
//! The file part itself differs, on purpose: ours carries the real file name
//! in its `filename` and a content type guessed from it, while lark-oapi
//! 1.7.5 sends the file part with neither (its `MultipartEncoder` gets the
//! bare file object, so the part has no `filename` at all). The test pins
//! both, so that a change on either side is seen.
//!
//! The peer is `peers/lark_oapi_upload.py`, run with the interpreter named by
//! `FEISHU_PEER_PYTHON` (default `python3`; `cargo xtask test` installs
//! lark-oapi into `target/peers/venv` and points the variable there). Without
//! lark-oapi the test says so and passes, unless `CI` is set: then it fails.

mod peer_support;
mod sandbox_support;

use std::path::Path;
use std::process::Command;

use feishu_runtime::{ApiRequest, Body, Method, Multipart, UploadFile};
use peer_support::peer_python_or_skip;
use sandbox_support::Env;
use serde_json::Value;

/// What the sandbox stored of an upload, without the key, and without
/// empty form fields: lark-oapi sends `duration` empty when none is set,
/// which the platform takes as absent.
fn stored(files: &Value, key: &str) -> Value {
    let mut entry = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no upload {key} in {files}"))
        .clone();
    entry.as_object_mut().unwrap().remove("key");
    entry["fields"].as_object_mut().unwrap().retain(|_, v| v != "");
    entry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lark_oapi_and_our_client_upload_the_same_multipart_form() {
    let Some(python) =
        peer_python_or_skip("lark_oapi_and_our_client_upload_the_same_multipart_form")
    else {
        return;
    };
    let env = Env::start().await;
    let dir =
        std::env::temp_dir().join(format!("feishu-differential-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("周报 final.pdf");
    let content: Vec<u8> = (0..400_000u32).map(|i| (i.wrapping_mul(40_503) >> 7) as u8).collect();
    std::fs::write(&path, &content).unwrap();

    let file = UploadFile::from_path(&path).unwrap();
    let form = Multipart::new()
        .text("file_type", "pdf")
        .text("file_name", file.file_name().to_owned())
        .upload("file", file);
    let ours = env
        .client()
        .send_value(
            ApiRequest::new(Method::POST, "/open-apis/im/v1/files").body(Body::Multipart(form)),
        )
        .await
        .unwrap();
    let our_key = ours["file_key"].as_str().unwrap().to_owned();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/lark_oapi_upload.py");
    let (url, file_arg) = (env.url(), path.to_str().unwrap().to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([url.as_str(), file_arg.as_str(), "pdf"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        output.status.success(),
        "the peer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(peer["success"], true, "{peer}");
    let peer_key = peer["file_key"].as_str().unwrap().to_owned();

    let files = env.control(reqwest::Method::GET, "files", None).await;
    let (ours, theirs) = (stored(&files, &our_key), stored(&files, &peer_key));
    eprintln!("ours: {ours}\nlark-oapi: {theirs}");
    assert_eq!(ours["fields"], theirs["fields"], "the same form fields");
    assert_eq!(ours["fields"]["file_name"], "周报 final.pdf");
    assert_eq!(
        (&ours["sha256"], &ours["size"]),
        (&theirs["sha256"], &theirs["size"]),
        "the same bytes"
    );
    assert_eq!(
        (ours["filename"].as_str(), ours["content_type"].as_str()),
        (Some("周报 final.pdf"), Some("application/pdf")),
        "our part is named and typed"
    );
    assert_eq!(
        (&theirs["filename"], &theirs["content_type"]),
        (&Value::Null, &Value::Null),
        "lark-oapi's part has no filename or type"
    );
}
