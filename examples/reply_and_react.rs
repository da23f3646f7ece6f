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

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// Replies to a message and reacts to it.
        cmd reply-and-react {
            /// The API's base URL (`https://open.feishu.cn`, or a sandbox's).
            required --base-url base_url: String
            /// The app's id (`cli_…`).
            required --app-id app_id: String
            /// The app's secret.
            required --app-secret app_secret: String
            /// The message to reply to and react to (`om_…`).
            required --message-id message_id: String
            /// The reply's text (default "Got it!").
            optional --text text: String
            /// The reaction's emoji type (default THUMBSUP).
            optional --emoji emoji: String
        }
    }
}

async fn run(args: flags::ReplyAndReact) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder(args.app_id, args.app_secret).base_url(args.base_url).build()?;

    let request = ReplyRequest::with_message(
        MessageId::new(&args.message_id),
        &MessageContent::text(args.text.unwrap_or_else(|| "Got it!".to_owned())),
    );
    let sent = match client.im().message().reply(request).await {
        Ok(sent) => sent,
        Err(e) if e.kind().is_bot_cannot_be_outside_group() => {
            return Err("the bot is not in the message's chat: add it first".into());
        }
        Err(e) if e.kind().is_message_recalled() => {
            return Err("the message was recalled; reply to another one".into());
        }
        Err(e) => {
            eprintln!(
                "reply failed: code {:?}, HTTP {:?}, log id {:?}",
                e.code(),
                e.http_status(),
                e.log_id()
            );
            return Err(e.into());
        }
    };
    println!(
        "replied: {} (log id {})",
        sent.message_id.as_deref().unwrap_or("?"),
        sent.log_id().unwrap_or("none")
    );

    let reaction = client
        .im()
        .message_reaction()
        .create(CreateRequest::new(
            MessageId::new(&args.message_id),
            Emoji::new(args.emoji.unwrap_or_else(|| "THUMBSUP".to_owned())),
        ))
        .await?;
    println!(
        "reacted: {} (log id {})",
        reaction.reaction_id.as_deref().unwrap_or("?"),
        reaction.log_id().unwrap_or("none")
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Retries, failed handlers and connection trouble are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    match run(flags::ReplyAndReact::from_env_or_exit()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reply_and_react: {e}");
            ExitCode::FAILURE
        }
    }
}
