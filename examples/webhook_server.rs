//! Receiving events over HTTP with axum: the webhook checks each request
//! (challenge, token, signature, timestamp, decryption) and hands its event
//! to the same kind of dispatcher the long connection uses.
//!
//! ```text
//! cargo run --example webhook_server -- --port 3000 --verification-token TOKEN --encrypt-key KEY
//! ```
//!
//! At least one of `--verification-token` and `--encrypt-key` is required:
//! without either, anyone who finds the URL could post forged events, so
//! the example refuses to start (exit code 2).
//!
//! Then set `http(s)://<your host>/webhook/event` as the request URL (for
//! events and for card callbacks) on the app's event subscription page.
//! With the sandbox: `POST /_sandbox/events` with `"url":
//! "http://127.0.0.1:3000/webhook/event"`. Ctrl-C stops it.

use std::process::ExitCode;

use feishu::events::{
    CardActionResponse, CardActionTrigger, Dispatcher, Toast, ToastKind, Webhook, WebhookConfig,
};

/// The command line.
mod flags {
    #![allow(missing_docs)] // the items xflags generates; `--help` documents the flags

    xflags::xflags! {
        /// Receives events and card callbacks over HTTP at `/webhook/event`.
        cmd webhook-server {
            /// The port to listen on (default 3000).
            optional --port port: u16
            /// The verification token of the app's event subscription.
            optional --verification-token verification_token: String
            /// The encrypt key of the app's event subscription.
            optional --encrypt-key encrypt_key: String
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Retries, failed handlers and connection trouble are reported through tracing.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = flags::WebhookServer::from_env_or_exit();
    let port = args.port.unwrap_or(3000);
    let mut config = WebhookConfig::new();
    if let Some(token) = args.verification_token {
        config = config.verification_token(token);
    }
    if let Some(key) = args.encrypt_key {
        config = config.encrypt_key(key);
    }
    let webhook = match Webhook::new(config) {
        Ok(webhook) => webhook,
        Err(error) => {
            eprintln!(
                "webhook_server: give --verification-token or --encrypt-key (or both): {error}"
            );
            return ExitCode::from(2);
        }
    };

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
    let app = axum::Router::new().route(
        "/webhook/event",
        feishu::runtime::events::axum::handler(webhook, dispatcher.build()),
    );

    let listener = match tokio::net::TcpListener::bind(("0.0.0.0", port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("webhook_server: cannot listen on port {port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "listening on http://{}/webhook/event",
        listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
    );
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
