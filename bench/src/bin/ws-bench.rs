//! Our long-connection client as `cargo xtask bench` measures it
//! (`ws_events_time_vs_python_sdk`): feishu-runtime's `LongConnection` connected
//! to a sandbox, with one handler for `im.message.receive_v1` that decodes
//! the event and does nothing else, so that what is timed is the client:
//! reading frames, reassembly, dispatch, dedup and the ack.
//!
//! Usage: `ws-bench BASE [APP_ID APP_SECRET] [--redis URL]` (default the
//! sandbox's app, `cli_sandbox` / `sandbox-secret`). With `--redis`, the
//! dispatcher's dedup store is the Redis one (`RedisStores::dedup_store`,
//! for `redis_dedup_overhead`) instead of the in-memory default. Prints
//! `connected` on stdout once the
//! long connection is up, runs until its stdin closes, then shuts down
//! gracefully and prints `{"handled":N}` (events the handler ran for).
//! Exit 1 when the client stops on its own (a refused connection, say).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use feishu_runtime::events::{Dispatcher, EventBody};
use feishu_runtime::redis::RedisStores;
use feishu_runtime::ws::Status;
use serde::Deserialize;
use tokio::io::AsyncReadExt;

/// The body of `im.message.receive_v1`, decoded as a bot would: the
/// documented fields the Python SDK decodes too. Nothing reads them; the
/// decoding is part of the work a handler costs.
#[derive(Debug, Deserialize)]
#[expect(dead_code, reason = "decoded as a bot's handler would; the bench reads none of it")]
struct MessageReceiveV1 {
    sender: Option<Sender>,
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
#[expect(dead_code, reason = "decoded, never read")]
struct Sender {
    sender_id: Option<UserId>,
    sender_type: Option<String>,
    tenant_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[expect(dead_code, reason = "decoded, never read")]
struct UserId {
    union_id: Option<String>,
    user_id: Option<String>,
    open_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[expect(dead_code, reason = "decoded, never read")]
struct Message {
    message_id: Option<String>,
    root_id: Option<String>,
    parent_id: Option<String>,
    create_time: Option<String>,
    update_time: Option<String>,
    chat_id: Option<String>,
    thread_id: Option<String>,
    chat_type: Option<String>,
    message_type: Option<String>,
    content: Option<String>,
    mentions: Option<Vec<Mention>>,
    user_agent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[expect(dead_code, reason = "decoded, never read")]
struct Mention {
    key: Option<String>,
    id: Option<UserId>,
    name: Option<String>,
    tenant_key: Option<String>,
}

impl EventBody for MessageReceiveV1 {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let redis = match args.iter().position(|a| a == "--redis") {
        Some(at) if at + 1 < args.len() => Some(args.drain(at..=at + 1).nth(1).unwrap_or_default()),
        Some(_) => {
            eprintln!("ws-bench: --redis takes a URL");
            return ExitCode::from(2);
        }
        None => None,
    };
    let Some(base) = args.first() else {
        eprintln!("usage: ws-bench BASE [APP_ID APP_SECRET] [--redis URL]");
        return ExitCode::from(2);
    };
    let app_id = args.get(1).map_or("cli_sandbox", String::as_str);
    let app_secret = args.get(2).map_or("sandbox-secret", String::as_str);

    let handled = Arc::new(AtomicU64::new(0));
    let mut dispatcher = Dispatcher::builder();
    let counter = Arc::clone(&handled);
    let registered = dispatcher.on(move |_ctx, _event: MessageReceiveV1| {
        counter.fetch_add(1, Ordering::Relaxed);
        async { Ok(()) }
    });
    if let Err(error) = registered {
        eprintln!("ws-bench: {error}");
        return ExitCode::FAILURE;
    }
    if let Some(url) = redis {
        match RedisStores::connect(&url).await {
            Ok(stores) => {
                dispatcher.dedup_store(stores.dedup_store(app_id));
            }
            Err(error) => {
                eprintln!("ws-bench: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let api =
        match feishu_runtime::Client::builder(app_id, app_secret.to_owned()).base_url(base).build()
        {
            Ok(api) => api,
            Err(error) => {
                eprintln!("ws-bench: {error}");
                return ExitCode::FAILURE;
            }
        };
    let client = match api.long_connection(dispatcher.build()).build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("ws-bench: {error}");
            return ExitCode::FAILURE;
        }
    };

    let mut status = client.status();
    let runner = client.clone();
    let mut running = tokio::spawn(async move { runner.start().await });
    // `connected` once, when the socket is up: the bench starts sending then.
    loop {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    eprintln!("ws-bench: the client went away before connecting");
                    return ExitCode::FAILURE;
                }
                match &*status.borrow_and_update() {
                    Status::Connected { .. } => break,
                    Status::Disconnected { error } => {
                        eprintln!("ws-bench: could not connect: {}", error.as_deref().unwrap_or("stopped"));
                        return ExitCode::FAILURE;
                    }
                    _ => {}
                }
            }
            ended = &mut running => {
                eprintln!("ws-bench: the client stopped before connecting: {ended:?}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("connected");

    // Until stdin closes (the bench's end of the round), or the client stops.
    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    tokio::select! {
        _ = stdin.read_to_end(&mut sink) => {}
        ended = &mut running => {
            eprintln!("ws-bench: the client stopped: {ended:?}");
            return ExitCode::FAILURE;
        }
    }
    client.shutdown().await;
    let _ = running.await;
    println!("{{\"handled\":{}}}", handled.load(Ordering::Relaxed));
    ExitCode::SUCCESS
}
