//! One worker of a fleet: several processes of one app that share its
//! state through Redis (`--redis`, see the runtime README's "Run several
//! instances"). Run a few at once to watch the shared stores at work:
//!
//! ```text
//! cargo run --example fleet_worker -- --base-url URL --app-id ID --app-secret SECRET [--redis redis://HOST:PORT] [--marketplace] [--wait] COMMAND
//!   reply --message MESSAGE_ID [--seconds N] [--tasks N]   replies to a message as fast as the rate limits allow
//!   pins --chat CHAT_ID [--user USER_KEY] [--tenant TENANT_KEY] [--calls N]   lists a chat's pins, as a user or a tenant
//!   tickets [--port N] --encrypt-key KEY [--verification-token TOKEN]   receives a marketplace app's app_ticket
//! ```
//!
//! - `reply` keeps `--tasks` replies under way (default 8) for `--seconds`
//!   (default 10): the client's limiter paces them to the endpoint's
//!   documented limits (50 a second, and 5 a second into one chat), held
//!   by the whole fleet with `--redis`. Prints `replied N, failed M`.
//! - `pins` makes `--calls` calls at once (default 4). With `--user`, the
//!   calls carry that user's token from the shared store; a token due for
//!   refresh is refreshed once for the fleet. Prints `listed N, failed M`.
//! - `tickets` serves the webhook at `http://127.0.0.1:PORT/webhook/event`
//!   (port 3000 by default, 0 for any free one) and keeps each app_ticket
//!   pushed to it, for the whole fleet with `--redis`, until Ctrl-C. Prints
//!   `listening on URL`.
//!
//! `--marketplace` makes the app a marketplace app (its tenant tokens need
//! the app_ticket). `--wait` prints `ready` once connected, then waits for
//! a line on standard input before it starts, so that several workers can
//! start at the same moment. A failed call is printed on standard error,
//! and the exit code is 1 if any failed.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use feishu::im::message::ReplyRequest;
use feishu::runtime::events::{Dispatcher, Webhook, WebhookConfig};
use feishu::runtime::ids::MessageId;
use feishu::runtime::redis::RedisStores;
use feishu::runtime::{AppType, MessageContent, RequestOptions};

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// One worker of a fleet of processes of one app.
        cmd fleet-worker {
            /// The API's base URL (default `https://open.feishu.cn`).
            optional --base-url base_url: String
            /// The app's id (`cli_…`).
            required --app-id app_id: String
            /// The app's secret.
            required --app-secret app_secret: String
            /// A Redis shared with the fleet's other workers
            /// (`redis://HOST:PORT`).
            optional --redis redis: String
            /// The app is a marketplace app.
            optional --marketplace
            /// Print `ready`, then wait for a line on standard input.
            optional --wait

            /// Replies to a message as fast as the rate limits allow.
            cmd reply {
                /// The message replied to.
                required --message message: String
                /// How long to go on (default 10).
                optional --seconds seconds: u64
                /// Replies under way at once (default 8).
                optional --tasks tasks: usize
            }
            /// Lists a chat's pins, several calls at once.
            cmd pins {
                /// The chat.
                required --chat chat: String
                /// Call as this user (their tokens in the user-token store).
                optional --user user: String
                /// Call as this tenant (of a marketplace app).
                optional --tenant tenant: String
                /// Calls at once (default 4).
                optional --calls calls: usize
            }
            /// Receives the app_ticket pushes of a marketplace app.
            cmd tickets {
                /// The port to listen on (default 3000; 0: any free one).
                optional --port port: u16
                /// The encrypt key of the app's event subscription.
                required --encrypt-key encrypt_key: String
                /// The verification token of the app's event subscription.
                optional --verification-token verification_token: String
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Retries, a Redis outage and failed handlers are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = flags::FleetWorker::from_env_or_exit();
    let base_url = args.base_url.unwrap_or_else(|| feishu::runtime::FEISHU_BASE_URL.to_owned());
    let mut builder = feishu::Client::builder(args.app_id, args.app_secret).base_url(&base_url);
    if args.marketplace {
        builder = builder.app_type(AppType::Marketplace);
    }
    if let Some(url) = &args.redis {
        match RedisStores::connect(url).await {
            Ok(stores) => builder = builder.redis_stores(&stores),
            Err(error) => {
                eprintln!("fleet_worker: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("fleet_worker: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.wait {
        println!("ready");
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() {
            return ExitCode::FAILURE;
        }
    }
    let failed = match args.subcommand {
        flags::FleetWorkerCmd::Reply(reply) => {
            let (seconds, tasks) = (reply.seconds.unwrap_or(10), reply.tasks.unwrap_or(8));
            replies(&client, &reply.message, Duration::from_secs(seconds), tasks).await
        }
        flags::FleetWorkerCmd::Pins(pins) => {
            let mut options = RequestOptions::default();
            if let Some(user) = &pins.user {
                options = options.user_key(user);
            }
            if let Some(tenant) = &pins.tenant {
                options = options.tenant_key(tenant);
            }
            list_pins(&client, &pins.chat, options, pins.calls.unwrap_or(4)).await
        }
        flags::FleetWorkerCmd::Tickets(tickets) => return serve_tickets(&client, tickets).await,
    };
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Keeps `tasks` replies to `message` under way until `span` has passed;
/// the number that failed.
async fn replies(client: &feishu::Client, message: &str, span: Duration, tasks: usize) -> usize {
    let until = Instant::now() + span;
    let (replied, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, message) = (client.clone(), MessageId::new(message));
            let (replied, failed) = (Arc::clone(&replied), Arc::clone(&failed));
            tokio::spawn(async move {
                while Instant::now() < until {
                    let content = MessageContent::text("a reply from the fleet");
                    let request = ReplyRequest::with_message(message.clone(), &content);
                    match client.im().message().reply(request).await {
                        Ok(_) => replied.fetch_add(1, Ordering::Relaxed),
                        Err(error) => {
                            eprintln!("fleet_worker: a reply failed: {error}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let failed = failed.load(Ordering::Relaxed);
    println!("replied {}, failed {failed}", replied.load(Ordering::Relaxed));
    failed
}

/// Lists the pins of `chat` in `calls` calls at once; the number that
/// failed.
async fn list_pins(
    client: &feishu::Client,
    chat: &str,
    options: RequestOptions,
    calls: usize,
) -> usize {
    let calls: Vec<_> = (0..calls)
        .map(|_| {
            let (client, chat, options) = (client.clone(), chat.to_owned(), options.clone());
            tokio::spawn(async move {
                client
                    .im()
                    .pin()
                    .list()
                    .queries([("chat_id", chat.as_str())])
                    .options(options)
                    .await
            })
        })
        .collect();
    let (mut listed, mut failed) = (0, 0);
    for call in calls {
        match call.await {
            Ok(Ok(_)) => listed += 1,
            Ok(Err(error)) => {
                eprintln!("fleet_worker: a call failed: {error}");
                failed += 1;
            }
            Err(error) => {
                eprintln!("fleet_worker: a call panicked: {error}");
                failed += 1;
            }
        }
    }
    println!("listed {listed}, failed {failed}");
    failed
}

/// Serves the webhook that keeps the app_tickets pushed to it, until
/// Ctrl-C.
async fn serve_tickets(client: &feishu::Client, args: flags::Tickets) -> ExitCode {
    let mut config = WebhookConfig::new().encrypt_key(args.encrypt_key);
    if let Some(token) = args.verification_token {
        config = config.verification_token(token);
    }
    let webhook = match Webhook::new(config) {
        Ok(webhook) => webhook,
        Err(error) => {
            eprintln!("fleet_worker: {error}");
            return ExitCode::from(2);
        }
    };
    let mut dispatcher = Dispatcher::builder();
    // Each ticket goes to the client's app_ticket store: Redis with `--redis`.
    if let Err(error) = client.handle_app_tickets(&mut dispatcher) {
        eprintln!("fleet_worker: {error}");
        return ExitCode::FAILURE;
    }
    let app = axum::Router::new().route(
        "/webhook/event",
        feishu::runtime::events::axum::handler(webhook, dispatcher.build()),
    );
    let port = args.port.unwrap_or(3000);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("fleet_worker: cannot listen on port {port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    println!("listening on http://{address}/webhook/event");
    let served = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fleet_worker: {error}");
            ExitCode::FAILURE
        }
    }
}
