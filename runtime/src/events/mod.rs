//! Receiving event subscriptions over HTTP (webhooks).
//!
//! Feishu posts events to the app's request URL: first a `url_verification`
//! challenge when the URL is saved, then one request per event, retried for
//! hours until the handler answers HTTP 200. [`Webhook::handle`] takes such a
//! request apart — signature, timestamp, decryption, verification token —
//! and hands back a [`Delivery`]. It is not tied to an HTTP framework: it
//! takes the headers as `(name, value)` pairs and the raw body. It holds no
//! dedup store: deduplication is the [`Dispatcher`]'s.
//!
//! ```
//! use std::time::SystemTime;
//! use feishu_runtime::events::{Delivery, Webhook, WebhookConfig};
//!
//! let webhook = Webhook::new(WebhookConfig::new().verification_token("v-token")).unwrap();
//! let body = br#"{"challenge":"c1","token":"v-token","type":"url_verification"}"#;
//! let headers = [("Content-Type", "application/json")];
//! let delivery: Delivery = webhook.handle(headers, body, SystemTime::now()).unwrap();
//! assert_eq!(delivery.response_body(), r#"{"challenge":"c1"}"#);
//! ```
//!
//! Answer [`Delivery::Challenge`] with its
//! [`response_body`](Delivery::response_body) and handle [`Delivery::Event`]
//! (better: hand the request to [`Webhook::respond`], which deduplicates
//! through a [`Dispatcher`]). On an error answer
//! [`WebhookError::http_status`].
//!
//! Configure an encrypt key, a verification token or both: with neither,
//! anyone who knows the URL can post events, and [`Webhook::new`] refuses
//! such a configuration unless it says
//! [`insecure_no_verification`](WebhookConfig::insecure_no_verification).
//!
//! # One dispatcher for both transports
//!
//! A [`Dispatcher`] holds the handlers: one per typed event
//! ([`DispatcherBuilder::on`], for any [`EventBody`]), callback handlers
//! whose answer goes back to the platform ([`DispatcherBuilder::on_callback`]
//! with [`CardActionTrigger`] → [`CardActionResponse`], or
//! [`UrlPreviewGet`] → [`UrlPreviewResponse`]) and a fallback for the rest.
//! The webhook feeds it with [`Webhook::respond`] (or the ready-made route
//! of `events::axum::handler`, feature `axum`); the long connection
//! (`feishu_runtime::ws`, feature `ws`) feeds the same dispatcher.
//!
//! # What is guaranteed: at least once, duplicates suppressed
//!
//! The dispatcher deduplicates by `event_id`, and by `message_id` for
//! `im.message.receive_v1`, through a [`DedupStore`] in two phases: a
//! delivery claims its keys for a short lease (renewed while the handler
//! runs), then commits them when the handler succeeded (remembered for
//! 24 h, beyond the platform's 7.2-hour retry window) or releases them when
//! it failed, panicked, timed out or was cancelled. A copy that meets a live
//! claim is answered "not yet" (503, or ack 500) and the platform pushes it
//! again; one that meets a commit is answered 200 and runs nothing. Share
//! the store between processes and the duplicates are suppressed across
//! them.
//!
//! That makes delivery **at least once**, not exactly once: a process that
//! dies after the handler's effect and before the commit, or a handler that
//! outlives its lease, lets a later push run the handler again. Make the
//! effects idempotent with [`EventContext::idempotency_key`] (the `uuid` of
//! a reply, say), which is the same for every delivery of an event and of
//! its message.

mod app_ticket;
#[cfg(feature = "axum")]
pub mod axum;
mod body;
mod builder;
mod callback;
mod claims;
mod crypto;
mod dedup;
mod dispatch;
mod envelope;
mod error;
mod report;
mod state;
mod webhook;

pub use app_ticket::AppTicketEvent;
pub use body::EventBody;
pub use builder::DispatcherBuilder;
pub use callback::{
    CallbackCard, CallbackContext, CardAction, CardActionResponse, CardActionTrigger, CardTemplate,
    InlinePreview, Operator, Toast, ToastKind, UrlPreviewGet, UrlPreviewResponse,
};
pub use crypto::{decrypt, encrypt, signature};
pub use dedup::{BoxFuture, Claim, DEFAULT_DEDUP_CAPACITY, DedupStore, InMemoryDedup, StoreError};
pub use dispatch::{
    DEFAULT_CLAIM_LEASE, DEFAULT_COMMIT_TTL, DEFAULT_COPY_WAIT, DEFAULT_HANDLER_TIMEOUT,
    Dispatcher, EventContext, HandlerError, HandlerTimeout, MESSAGE_RECEIVE_EVENT, MIN_COMMIT_TTL,
    Outcome, RegisterError,
};
pub use envelope::{Channel, EventEnvelope, parse_event};
pub use error::{DecryptError, WebhookError};
pub use report::{DeliveryFailure, UndecodableBody};
pub use state::WithState;
pub use webhook::{
    DEFAULT_MAX_CLOCK_SKEW, Delivery, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook,
    WebhookConfig, WebhookResponse,
};
