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

use feishu_runtime::{ApiRequest, Client, Method, paginate};
use serde_json::Value;

const USAGE: &str = "usage: list_messages --base-url URL --app-id ID --app-secret SECRET CHAT_ID";

struct Args {
    base_url: String,
    app_id: String,
    app_secret: String,
    chat_id: String,
}

fn args(argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let line = feishu_examples::CommandLine::parse(USAGE, argv, &[])?;
    let chat_id = line.single_positional("CHAT_ID", USAGE)?;
    Ok(Args { base_url: line.base_url, app_id: line.app_id, app_secret: line.app_secret, chat_id })
}

async fn run(args: Args) -> Result<usize, Box<dyn std::error::Error>> {
    let client = Client::builder(args.app_id, args.app_secret).base_url(args.base_url).build()?;
    let request = ApiRequest::new(Method::GET, "/open-apis/im/v1/messages")
        .endpoint("im.v1.message.list")
        .query("container_id_type", "chat")
        .query("container_id", &args.chat_id)
        .query("page_size", 50);
    let mut messages = paginate(&client, request).items();
    let mut out = std::io::stdout().lock();
    let mut count = 0;
    while let Some(message) = messages.next().await {
        let message = message?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        writeln!(out, "{}\t{}\t{}", text(&message["message_id"]), text(&message["msg_type"]), text(&message["body"]["content"]))?;
        count += 1;
    }
    Ok(count)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
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
