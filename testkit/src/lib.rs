//! Test plumbing shared by the runtime's, the sandbox's and the end-to-end
//! tests: a scripted HTTP/1.1 server that records every request
//! ([`Server`]) and a webhook receiver ([`WebhookReceiver`]), both on hyper,
//! a real `redis-server` started per test ([`RedisServer`]), a tracing
//! subscriber that records everything ([`Capture`]) and a forwarding HTTP
//! proxy ([`ForwardProxy`]); and the one rule for "are we in CI" ([`on_ci`]),
//! with what a test does when CI's corpus or tools are missing.
//!
//! It knows the Feishu wire facts a fake server needs (the token endpoints
//! and their answer, the `{code, msg, data}` envelope) and nothing of the
//! runtime or the sandbox: both use it as a dev-dependency, and the sandbox
//! must never depend on the runtime, not even through its tests' helpers.

mod ci;
mod proxy;
mod recorded;
mod redis;
mod reply;
mod server;
mod trace;
mod webhook;

pub use ci::{corpus_folder, is_ci_value, on_ci, skip_or_fail};
pub use proxy::{ForwardProxy, ProxiedRequest};
pub use recorded::Recorded;
pub use redis::RedisServer;
pub use reply::{Reply, token_reply};
pub use server::{Script, Server};
pub use trace::{Capture, CapturedSpan};
pub use webhook::WebhookReceiver;

/// The tenant access token endpoint (self-built apps).
pub const TENANT_TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
/// The app access token endpoint (self-built apps).
pub const APP_TOKEN_PATH: &str = "/open-apis/auth/v3/app_access_token/internal";
/// The `Content-Type` of Feishu's JSON answers.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
