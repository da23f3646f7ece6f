//! Receiving events over HTTP with axum: the webhook checks each request
//! (challenge, token, signature, timestamp, decryption) and hands its event
//! to the same kind of dispatcher the long connection uses.
//!
//! ```text
//! cargo run --example webhook_server -- --port 3000 --verification-token TOKEN --encrypt-key KEY
//! ```
//!
//! Then set `http(s)://<your host>/webhook/event` as the request URL (for
//! events and for card callbacks) on the app's event subscription page.
//! With the sandbox: `POST /_sandbox/events` with `"url":
//! "http://127.0.0.1:3000/webhook/event"`. Ctrl-C stops it.

use std::process::ExitCode;

use feishu_runtime::events::{CardActionResponse, CardActionTrigger, Dispatcher, Toast, ToastKind, Webhook, WebhookConfig};

const USAGE: &str = "usage: webhook_server [--port N] [--verification-token TOKEN] [--encrypt-key KEY]";

#[tokio::main]
async fn main() -> ExitCode {
    let mut port: u16 = 3000;
    let mut config = WebhookConfig::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--port" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => {
                    eprintln!("--port {value:?} is not a port number\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--verification-token" => config = config.verification_token(value),
            "--encrypt-key" => config = config.encrypt_key(value),
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    let mut dispatcher = Dispatcher::builder();
    let registered = dispatcher
        .on_callback(|_ctx, action: CardActionTrigger| async move {
            let toast = Toast::new(ToastKind::Info, format!("clicked {}", action.action.value));
            Ok(CardActionResponse::toast(toast))
        })
        .and_then(|d| {
            d.fallback(|ctx, event| async move {
                println!("{} {}: {event}", ctx.event_type, ctx.event_id);
                Ok(())
            })
        });
    if let Err(error) = registered {
        eprintln!("webhook_server: {error}");
        return ExitCode::FAILURE;
    }
    let app = axum::Router::new().route("/webhook/event", feishu::runtime::events::axum::handler(Webhook::new(config), dispatcher.build()));

    let listener = match tokio::net::TcpListener::bind(("0.0.0.0", port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("webhook_server: cannot listen on port {port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}/webhook/event", listener.local_addr().map(|a| a.to_string()).unwrap_or_default());
    let served = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("webhook_server: {error}");
            ExitCode::FAILURE
        }
    }
}
