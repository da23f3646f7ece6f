//! Downloads a file the app uploaded (`GET /open-apis/im/v1/files/:file_key`)
//! into a folder, under its safe name, and prints the path it wrote. The
//! name comes from whoever uploaded the file: only its safe form
//! (`Download::safe_file_name`: the last component, no control characters,
//! no leading dot) is used, so a name such as `../../.bashrc` cannot put
//! the file outside the folder. The body is streamed to disk, never held
//! whole.
//!
//! ```text
//! cargo run --example download_file -- --base-url http://127.0.0.1:8090 \
//!     --app-id cli_sandbox --app-secret sandbox-secret FILE_KEY DIR
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use feishu::Client;

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// Downloads an uploaded file into DIR and prints the path written.
        cmd download-file {
            /// The API's base URL (`https://open.feishu.cn`, or a sandbox's).
            required --base-url base_url: String
            /// The app's id (`cli_…`).
            required --app-id app_id: String
            /// The app's secret.
            required --app-secret app_secret: String
            /// The file's key, as `im.file.create` answered it.
            required file_key: String
            /// The folder to save the file in (it must exist).
            required dir: String
        }
    }
}

async fn run(args: flags::DownloadFile) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let client = Client::builder(args.app_id, args.app_secret).base_url(args.base_url).build()?;
    // The client's 30 s covers reading the body too; a large file needs longer.
    let file = client
        .im()
        .file()
        .get(&args.file_key)
        .timeout(Duration::from_secs(3600))
        .await?
        .into_inner();
    Ok(file.save_into(&args.dir).await?)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Retries and connection trouble are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    match run(flags::DownloadFile::from_env_or_exit()).await {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("download_file: {e}");
            ExitCode::FAILURE
        }
    }
}
