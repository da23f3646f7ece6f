//! Replies to a message and reacts to it: the first two calls most bots
//! make. Prints each answer's log id (which Feishu support asks for), and
//! tells the documented errors it can act on apart by name.
//!
//! Against the local sandbox (`cargo xtask sandbox`, app `cli_sandbox` /
//! `sandbox-secret` on port 8090), seed a chat and a message first:
//!
//! ```text
//! curl -s -X POST localhost:8090/_sandbox/chats -d '{"chat_type":"group"}'            # → {"chat_id":"oc_…"}
//! curl -s -X POST localhost:8090/_sandbox/messages -d '{"chat_id":"oc_…","content":"{\"text\":\"hi\"}"}'  # → {"message_id":"om_…",…}
//! cargo run --example reply_and_react -- --base-url http://127.0.0.1:8090 \
//!     --app-id cli_sandbox --app-secret sandbox-secret --message-id om_…
//! ```

use std::process::ExitCode;

use feishu::MessageId;
use feishu::im::message::ReplyRequest;
use feishu::im::message_reaction::CreateRequest;
use feishu::im::types::Emoji;
use feishu::{Client, MessageContent};

const USAGE: &str = "usage: reply_and_react --base-url URL --app-id ID --app-secret SECRET --message-id ID [--text TEXT] [--emoji TYPE]";

/// The command line.
struct Args {
    base_url: String,
    app_id: String,
    app_secret: String,
    message_id: String,
    text: String,
    emoji: String,
}

fn args(argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let line = feishu_examples::CommandLine::parse(USAGE, argv, &["--message-id", "--text", "--emoji"])?;
    let message_id = line.flag("--message-id").ok_or_else(|| format!("--message-id is required; {USAGE}"))?.to_owned();
    let text = line.flag("--text").unwrap_or("Got it!").to_owned();
    let emoji = line.flag("--emoji").unwrap_or("THUMBSUP").to_owned();
    line.no_positional(USAGE)?;
    Ok(Args { base_url: line.base_url, app_id: line.app_id, app_secret: line.app_secret, message_id, text, emoji })
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder(args.app_id, args.app_secret).base_url(args.base_url).build()?;

    let request = ReplyRequest::with_message(MessageId::new(&args.message_id), &MessageContent::text(args.text));
    let sent = match client.im().message().reply(request).await {
        Ok(sent) => sent,
        Err(e) if e.kind().is_bot_not_outside_group() => return Err("the bot is not in the message's chat: add it first".into()),
        Err(e) if e.kind().is_message_recalled() => return Err("the message was recalled; reply to another one".into()),
        Err(e) => {
            eprintln!("reply failed: code {:?}, HTTP {:?}, log id {:?}", e.code(), e.http_status(), e.log_id());
            return Err(e.into());
        }
    };
    println!("replied: {} (log id {})", sent.message_id.as_deref().unwrap_or("?"), sent.log_id().unwrap_or("none"));

    let reaction = client.im().message_reaction().create(CreateRequest::new(MessageId::new(&args.message_id), Emoji::new(args.emoji))).await?;
    println!("reacted: {} (log id {})", reaction.reaction_id.as_deref().unwrap_or("?"), reaction.log_id().unwrap_or("none"));
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reply_and_react: {e}");
            ExitCode::FAILURE
        }
    }
}
