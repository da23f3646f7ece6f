//! The runtime's view of the shared test server (`feishu-testkit`): the same
//! server, plus a runtime client pointed at it.

#![allow(dead_code)] // each test binary uses a different part

use std::ops::Deref;

pub mod secrets;

use feishu_runtime::Client;
#[allow(unused_imports)] // each test binary uses a different part
pub use feishu_testkit::{
    APP_TOKEN_PATH, Recorded, Reply, TENANT_TOKEN_PATH as TOKEN_PATH, token_reply,
};

/// The token [`Server::with_token`] hands out.
pub const TOKEN: &str = "t-1";

/// A [`feishu_testkit::Server`] that also builds runtime clients.
pub struct Server(feishu_testkit::Server);

impl Deref for Server {
    type Target = feishu_testkit::Server;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Server {
    /// Starts a server answering every request with `handler`.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self(feishu_testkit::Server::start(handler).await)
    }

    /// A server that answers the token endpoint with [`TOKEN`] (two hours)
    /// and every other path with `api`.
    pub async fn with_token(api: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self(feishu_testkit::Server::with_token(TOKEN, api).await)
    }

    /// A client without retries (the refused-token retry still happens):
    /// these tests check how one answer is mapped; tests/retries.rs builds
    /// its own clients.
    pub fn client(&self) -> Client {
        Client::builder("cli_test", "app-secret-xyz")
            .base_url(self.url())
            .retry(feishu_runtime::RetryPolicy::none())
            .build()
            .unwrap()
    }

    /// A client that retries as by default, but with waits of 5 to 20 ms.
    pub fn fast_retries(&self) -> Client {
        let policy = feishu_runtime::RetryPolicy::default()
            .initial_backoff(std::time::Duration::from_millis(5))
            .max_backoff(std::time::Duration::from_millis(20));
        Client::builder("cli_test", "app-secret-xyz")
            .base_url(self.url())
            .retry(policy)
            .build()
            .unwrap()
    }
}

/// An `im.message.receive_v1` body that only has to decode (a body without
/// `message.message_id` fails); its fields are not read.
#[cfg(feature = "events")]
#[derive(Debug, serde::Deserialize)]
pub struct MessageReceived {
    #[serde(rename = "message")]
    _message: ReceivedMessage,
}

#[cfg(feature = "events")]
#[derive(Debug, serde::Deserialize)]
struct ReceivedMessage {
    #[serde(rename = "message_id")]
    _message_id: String,
}

#[cfg(feature = "events")]
impl feishu_runtime::events::EventBody for MessageReceived {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}
