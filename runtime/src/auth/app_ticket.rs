//! Where a marketplace app keeps its app_ticket: a pluggable async store,
//! in memory by default.
//!
//! The platform pushes a new ticket hourly (each stays valid for a while
//! after the next arrives), so one slot per client is enough. Processes
//! that share an app can share the ticket through their own store (say
//! Redis), since only the process that receives the event learns it.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use futures_core::future::BoxFuture;

use crate::error::Error;
use crate::secret::Secret;

/// Keeps the app_ticket of one marketplace app.
pub trait AppTicketStore: Send + Sync {
    /// The newest ticket, if one has arrived.
    fn get(&self) -> BoxFuture<'_, Result<Option<Secret>, Error>>;

    /// Replaces the ticket with `ticket`.
    fn set(&self, ticket: Secret) -> BoxFuture<'_, Result<(), Error>>;

    /// Forgets `ticket` if it is still the one kept (the platform refused
    /// it); a newer ticket set meanwhile stays.
    fn remove<'a>(&'a self, ticket: &'a Secret) -> BoxFuture<'a, Result<(), Error>>;
}

/// The default [`AppTicketStore`]: one ticket in memory.
#[derive(Default)]
pub struct MemoryAppTicketStore {
    ticket: Mutex<Option<Secret>>,
}

impl fmt::Debug for MemoryAppTicketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self.ticket.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        f.debug_struct("MemoryAppTicketStore").field("holds_ticket", &held).finish()
    }
}

impl AppTicketStore for MemoryAppTicketStore {
    fn get(&self) -> BoxFuture<'_, Result<Option<Secret>, Error>> {
        let ticket = self.ticket.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Box::pin(async move { Ok(ticket) })
    }

    fn set(&self, ticket: Secret) -> BoxFuture<'_, Result<(), Error>> {
        *self.ticket.lock().unwrap_or_else(PoisonError::into_inner) = Some(ticket);
        Box::pin(async { Ok(()) })
    }

    fn remove<'a>(&'a self, ticket: &'a Secret) -> BoxFuture<'a, Result<(), Error>> {
        let mut slot = self.ticket.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref() == Some(ticket) {
            *slot = None;
        }
        Box::pin(async { Ok(()) })
    }
}
