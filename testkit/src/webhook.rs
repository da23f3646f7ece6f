//! A webhook receiver: where a sandbox (or a test) posts events.

use crate::{Recorded, Reply, Server};

/// A server whose URL ends in `/webhook/event`, like a bot's event
/// endpoint; it records every delivery and answers with a handler.
pub struct WebhookReceiver {
    server: Server,
    url: String,
}

impl WebhookReceiver {
    /// A receiver answering every delivery with `handler` (e.g. a bot's
    /// webhook handling in front of the recorder).
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let server = Server::start(handler).await;
        let url = format!("{}/webhook/event", server.url());
        Self { server, url }
    }

    /// A receiver answering every delivery with the same reply.
    pub async fn answering(reply: Reply) -> Self {
        Self::start(move |_| reply.clone()).await
    }

    /// The URL to deliver to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits for the next delivery not yet taken, in arrival order.
    pub async fn next_delivery(&self) -> Recorded {
        self.server.next_request().await
    }

    /// Every delivery so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}
