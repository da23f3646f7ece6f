//! Uploads a file through `im.file.create` (file_type `stream`) and prints
//! its `file_key`. The file is streamed from disk, never read whole: the
//! peak resident memory, printed to stderr on Linux, stays far below the
//! size of a large file.
//!
//! ```text
//! cargo run --release --example upload_file -- --base-url http://127.0.0.1:8090 \
//!     --app-id cli_sandbox --app-secret sandbox-secret FILE
//! ```

use std::process::ExitCode;
use std::time::Duration;

use feishu::{Body, Client, Multipart, UploadFile};

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// Uploads a file and prints its `file_key`.
        cmd upload-file {
            /// The API's base URL (`https://open.feishu.cn`, or a sandbox's).
            required --base-url base_url: String
            /// The app's id (`cli_…`).
            required --app-id app_id: String
            /// The app's secret.
            required --app-secret app_secret: String
            /// The file to upload.
            required file: String
        }
    }
}

async fn run(args: flags::UploadFile) -> Result<String, Box<dyn std::error::Error>> {
    let client = Client::builder(args.app_id, args.app_secret).base_url(args.base_url).build()?;
    let file = UploadFile::from_path(&args.file)?;
    let form = Multipart::new()
        .text("file_type", "stream")
        .text("file_name", file.file_name().to_owned())
        .upload("file", file);
    // The client's 30 s covers the whole upload; a large file needs longer.
    let data = client
        .im()
        .file()
        .create()
        .body(Body::Multipart(form))
        .timeout(Duration::from_secs(3600))
        .await?
        .into_inner();
    let key = data
        .get("file_key")
        .and_then(|k| k.as_str())
        .ok_or_else(|| format!("no file_key in the answer: {data}"))?;
    Ok(key.to_owned())
}

/// The peak resident memory in kB, where the system tells (Linux).
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    // Retries, failed handlers and connection trouble are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    match run(flags::UploadFile::from_env_or_exit()).await {
        Ok(key) => {
            println!("{key}");
            if let Some(kb) = peak_memory_kb() {
                eprintln!("peak resident memory: {} MB", kb / 1024);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("upload_file: {e}");
            ExitCode::FAILURE
        }
    }
}
