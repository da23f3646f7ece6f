//! A bot that answers every text message with `echo: <text>`, receiving
//! events over the long connection (no public URL needed):
//!
//! ```text
//! cargo run --example echo_bot -- --base-url URL --app-id ID --app-secret SECRET [--redis redis://HOST:PORT] [--claim-lease SECONDS]
//! ```
//!
//! With `--redis`, several instances of the bot share one Redis: the
//! tokens, the app's rate limits and the record of handled events (see
//! the README's "Run several instances"), so that each message is handled
//! once by the fleet (and a handler run twice replies once, by the reply's
//! `uuid`).
//!
//! `--base-url` defaults to `https://open.feishu.cn`; point it at a sandbox
//! (`cargo xtask sandbox`) to try it offline. Ctrl-C stops it cleanly: it
//! reads no more events, finishes the replies under way and acks them.
//!
//! The event body is a small struct of this file until the generator emits
//! `feishu::im::events::MessageReceiveV1`; only its `EVENT_TYPE` and the
//! fields read here matter.

use std::process::ExitCode;

use feishu::im::message::ReplyRequest;
use feishu::runtime::MessageContent;
use feishu::runtime::events::{Dispatcher, EventBody};
use feishu::runtime::ids::MessageId;
use feishu::runtime::redis::RedisStores;
use serde::Deserialize;

/// The part of `im.message.receive_v1` the bot reads.
#[derive(Debug, Deserialize)]
struct MessageReceiveV1 {
    message: ReceivedMessage,
}

#[derive(Debug, Deserialize)]
struct ReceivedMessage {
    message_id: String,
    message_type: String,
    /// JSON text, `{"text":"…"}` for text messages.
    content: String,
}

impl EventBody for MessageReceiveV1 {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// A bot that answers every text message with `echo: <text>`.
        cmd echo-bot {
            /// The API's base URL (default `https://open.feishu.cn`).
            optional --base-url base_url: String
            /// The app's id (`cli_…`).
            required --app-id app_id: String
            /// The app's secret.
            required --app-secret app_secret: String
            /// A Redis shared with the bot's other instances
            /// (`redis://HOST:PORT`).
            optional --redis redis: String
            /// Seconds an event claimed by an instance stays claimed if
            /// that instance dies mid-handler, before another takes it
            /// over (default 30, at least 1).
            optional --claim-lease claim_lease: u64
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Retries, failed handlers and connection trouble are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = flags::EchoBot::from_env_or_exit();
    let base_url = args.base_url.unwrap_or_else(|| feishu::runtime::FEISHU_BASE_URL.to_owned());
    let stores = match &args.redis {
        Some(url) => match RedisStores::connect(url).await {
            Ok(stores) => Some(stores),
            Err(error) => {
                eprintln!("echo_bot: {error}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let mut builder =
        feishu::Client::builder(args.app_id.clone(), args.app_secret).base_url(&base_url);
    if let Some(stores) = &stores {
        builder = builder.redis_stores(stores);
    }
    let api = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("echo_bot: {error}");
            return ExitCode::FAILURE;
        }
    };

    let connection_api = api.clone();
    let mut dispatcher = Dispatcher::builder();
    let registered = dispatcher.on(move |ctx, event: MessageReceiveV1| {
        let api = api.clone();
        async move {
            let message = event.message;
            if message.message_type != "text" {
                return Ok(());
            }
            let text = serde_json::from_str::<serde_json::Value>(&message.content)?["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            // The delivery's idempotency key (derived from the message id)
            // makes the reply idempotent: delivery is at least once, and a
            // redelivered message never sends a second reply.
            let request = ReplyRequest::with_message(
                MessageId::new(&message.message_id),
                &MessageContent::text(format!("echo: {text}")),
            )
            .uuid(ctx.idempotency_key());
            api.im().message().reply(request).await?;
            println!("replied to {}", message.message_id);
            Ok(())
        }
    });
    if let Err(error) = registered {
        eprintln!("echo_bot: {error}");
        return ExitCode::FAILURE;
    }
    if let Some(stores) = &stores {
        // The fleet handles each event once: a claim while a handler runs,
        // a commit once it succeeded.
        dispatcher.dedup_store(stores.dedup_store(&args.app_id));
    }
    if let Some(seconds) = args.claim_lease {
        dispatcher.claim_lease(std::time::Duration::from_secs(seconds));
    }

    // The long connection comes from the same client: its base URL,
    // credentials, timeout, proxy and TLS.
    let client = match connection_api.long_connection(dispatcher.build()).build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("echo_bot: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut status = client.status();
    let printer = tokio::spawn(async move {
        while status.changed().await.is_ok() {
            println!("status: {:?}", *status.borrow_and_update());
        }
    });
    let stopper = client.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            println!("stopping");
            stopper.shutdown().await;
        }
    });
    match client.start().await {
        Ok(()) => {
            // The last status lines first: the printer ends when the
            // client (the status sender) is gone.
            drop(client);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), printer).await;
            println!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("echo_bot: {error}");
            ExitCode::FAILURE
        }
    }
}
