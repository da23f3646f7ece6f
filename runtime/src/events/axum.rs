//! The webhook as an axum handler (feature `axum`): checks the request with
//! a [`Webhook`] and hands its event to a [`Dispatcher`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use feishu_runtime::events::{Dispatcher, Webhook, WebhookConfig};
//!
//! let webhook = Webhook::new(WebhookConfig::new().verification_token("v-token").encrypt_key("e-key")).unwrap();
//! let dispatcher = Dispatcher::builder().build();
//! let app: axum::Router = axum::Router::new().route("/webhook/event", feishu_runtime::events::axum::handler(webhook, dispatcher));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};

use super::dispatch::Dispatcher;
use super::webhook::Webhook;

/// A `POST` route answering Feishu's requests: the challenge, events and
/// callbacks (see [`Webhook::respond`]). Bodies are limited by axum's
/// default body limit (2 MB), far above what Feishu sends. A client that
/// hangs up does not cancel the handler: [`Webhook::respond`] runs it in a
/// task of its own.
pub fn handler<S: Clone + Send + Sync + 'static>(
    webhook: Webhook,
    dispatcher: Dispatcher,
) -> MethodRouter<S> {
    post(move |headers: HeaderMap, body: Bytes| async move {
        let pairs =
            headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let answer = webhook.respond(&dispatcher, pairs, &body, SystemTime::now()).await;
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let response: Response =
            (status, [(CONTENT_TYPE, "application/json; charset=utf-8")], answer.body)
                .into_response();
        response
    })
}
