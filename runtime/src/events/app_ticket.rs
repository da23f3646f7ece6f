//! The v1 `app_ticket` event that a marketplace app receives, and the
//! client's handlers of it: the ticket is what the app's tokens are
//! fetched with (see [`crate::auth`]).

use std::fmt;

use super::body::EventBody;
use super::builder::DispatcherBuilder;
use super::dispatch::{HandlerError, RegisterError};
use super::envelope::EventEnvelope;
use crate::client::Client;
use crate::error::Error;
use crate::secret::Secret;
use crate::validate::{ValidationError, rules};

/// The body of the v1 `app_ticket` event, which the platform pushes to a
/// marketplace app hourly and on `app_ticket/resend`. `Debug` hides the
/// ticket.
#[derive(Clone, serde::Deserialize)]
pub struct AppTicketEvent {
    /// The app the ticket is for.
    pub app_id: String,
    app_ticket: String,
}

impl AppTicketEvent {
    /// The ticket.
    pub fn ticket(&self) -> Secret {
        Secret::new(self.app_ticket.clone())
    }
}

impl fmt::Debug for AppTicketEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppTicketEvent")
            .field("app_id", &self.app_id)
            .field("app_ticket", &"***")
            .finish()
    }
}

impl EventBody for AppTicketEvent {
    const EVENT_TYPE: &'static str = "app_ticket";
}

/// The client's side of the `app_ticket` event.
impl Client {
    /// Stores the ticket if `envelope` is an `app_ticket` event for this
    /// app, and says whether it was one. Events of other types are left
    /// alone; an `app_ticket` event for another app id is refused.
    ///
    /// Takes an envelope of any event-type representation that prints as
    /// the type's name (`String`, or the generated crate's `EventType`).
    pub async fn accept_app_ticket_event<K: fmt::Display>(
        &self,
        envelope: &EventEnvelope<K>,
    ) -> Result<bool, Error> {
        if envelope.event_type.to_string() != "app_ticket" {
            return Ok(false);
        }
        let app_id = envelope
            .app_id
            .as_deref()
            .or_else(|| envelope.event.get("app_id").and_then(|v| v.as_str()));
        if app_id.is_some_and(|id| id != self.config().app_id) {
            return Err(Error::Validation(ValidationError::new(
                "app_id",
                "mismatch",
                "the app_ticket event is for another app",
            )));
        }
        let Some(ticket) = envelope.event.get("app_ticket").and_then(|v| v.as_str()) else {
            return Err(Error::Validation(ValidationError::new(
                "event.app_ticket",
                rules::REQUIRED,
                "the app_ticket event carries no ticket",
            )));
        };
        self.set_app_ticket(ticket).await?;
        Ok(true)
    }

    /// Registers the handler of the v1 `app_ticket` event on an event
    /// dispatcher (webhook or long connection): each ticket for this app is
    /// stored with [`Client::set_app_ticket`]; one for another app fails
    /// the event. This is the one line a marketplace app needs:
    ///
    /// ```
    /// # let client = feishu_runtime::Client::builder("cli_isv", "s").app_type(feishu_runtime::AppType::Marketplace).build().unwrap();
    /// let mut builder = feishu_runtime::events::Dispatcher::builder();
    /// client.handle_app_tickets(&mut builder).unwrap();
    /// let dispatcher = builder.build();
    /// # assert!(dispatcher.handles("app_ticket"));
    /// ```
    pub fn handle_app_tickets(&self, builder: &mut DispatcherBuilder) -> Result<(), RegisterError> {
        let client = self.clone();
        builder.on(move |_ctx, event: AppTicketEvent| {
            let client = client.clone();
            async move {
                if event.app_id != client.config().app_id {
                    return Err("the app_ticket event is for another app".into());
                }
                client.set_app_ticket(event.ticket()).await.map_err(|e| Box::new(e) as HandlerError)
            }
        })?;
        Ok(())
    }
}
