//! Prints every message of a chat, oldest first, one line each
//! (`message_id`, `msg_type`, `content`, tab-separated), through the
//! pagination stream: each page is one call, retried and rate limited like
//! any other, and the stream ends with an error rather than looping or
//! stopping short when the pages do not add up.
//!
//! ```text
//! cargo run --example list_messages -- --base-url http://127.0.0.1:8090 \
//!     --app-id cli_sandbox --app-secret sandbox-secret CHAT_ID
//! ```

use std::io::Write;
use std::process::ExitCode;

use feishu::Client;
use serde_json::Value;

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// Prints every message of a chat, oldest first.
        cmd list-messages {
            /// The API's base URL (`https://open.feishu.cn`, or a sandbox's).
            required --base-url base_url: String
            /// The app's id (`cli_…`).
            required --app-id app_id: String
            /// The app's secret.
            required --app-secret app_secret: String
            /// The chat whose messages to print (`oc_…`).
            required chat_id: String
        }
    }
}

async fn run(args: flags::ListMessages) -> Result<usize, Box<dyn std::error::Error>> {
    let client = Client::builder(args.app_id, args.app_secret).base_url(args.base_url).build()?;
    // `im.v1.message.list` is known from the API catalogue only (until its page is synced): an
    // untyped call, whose items come as JSON across pages.
    let mut messages = client
        .im()
        .message()
        .list()
        .query("container_id_type", "chat")
        .query("container_id", &args.chat_id)
        .query("page_size", 50)
        .items();
    let mut out = std::io::stdout().lock();
    let mut count = 0;
    while let Some(message) = messages.next().await {
        let message = message?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        writeln!(
            out,
            "{}\t{}\t{}",
            text(&message["message_id"]),
            text(&message["msg_type"]),
            text(&message["body"]["content"])
        )?;
        count += 1;
    }
    Ok(count)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Retries, failed handlers and connection trouble are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    match run(flags::ListMessages::from_env_or_exit()).await {
        Ok(count) => {
            eprintln!("{count} messages");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("list_messages: {e}");
            ExitCode::FAILURE
        }
    }
}
