//! The long connections' part of the state: the connected clients, the
//! connection URLs handed out, and the deliveries awaiting their acks
//! (`crate::ws` speaks the protocol).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use super::lock;

/// How long a connection URL stays usable.
const TICKET_TTL: Duration = Duration::from_secs(3600);
/// The most unused connection URLs remembered.
const MAX_TICKETS: usize = 10_000;

/// What a connection's writer is asked to do.
pub(crate) enum Out {
    Frame(Vec<u8>),
    Close,
}

/// A connected client, as the hub sees it.
pub(crate) struct Conn {
    pub tx: mpsc::UnboundedSender<Out>,
    /// Set when a delivery asked for a half-dead socket: nothing more is
    /// sent or answered on it, and it gets no deliveries.
    pub stalled: Arc<std::sync::atomic::AtomicBool>,
    /// Turns true when the connection is gone.
    pub gone: watch::Receiver<bool>,
    pub service_id: i32,
}

/// An ack as the sandbox read it: the JSON payload's code and data.
#[derive(Debug, Clone)]
pub(crate) struct Ack {
    pub code: i64,
    pub data: Value,
}

/// The long connections and the deliveries waiting for their acks.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    pub conns: std::sync::Mutex<BTreeMap<u64, Conn>>,
    tickets: std::sync::Mutex<HashMap<String, Instant>>,
    /// The deliveries awaiting an ack, by the frames' message id.
    pub pending: std::sync::Mutex<HashMap<String, oneshot::Sender<Ack>>>,
    pub next_conn: AtomicU64,
    closed: std::sync::OnceLock<watch::Sender<bool>>,
    acks: AtomicU64,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("service_id", &self.service_id).finish_non_exhaustive()
    }
}

impl Hub {
    /// Turns true when the sandbox stops.
    pub(crate) fn closed(&self) -> &watch::Sender<bool> {
        self.closed.get_or_init(|| watch::channel(false).0)
    }

    /// Closes every connection (the sandbox is stopping).
    pub(crate) fn close_all(&self) {
        self.closed().send_replace(true);
    }

    /// How many connections are open.
    pub(crate) fn connections(&self) -> usize {
        lock(&self.conns).len()
    }

    /// How many acks arrived so far.
    pub(crate) fn acks(&self) -> u64 {
        self.acks.load(Ordering::Relaxed)
    }

    /// Remembers a connection URL's ticket.
    pub(crate) fn issue_ticket(&self, ticket: String) {
        let mut tickets = lock(&self.tickets);
        let now = Instant::now();
        tickets.retain(|_, at| now.duration_since(*at) < TICKET_TTL);
        if tickets.len() < MAX_TICKETS {
            tickets.insert(ticket, now);
        }
    }

    /// Uses up a ticket: whether it was issued and is still fresh.
    pub(crate) fn take_ticket(&self, ticket: &str) -> bool {
        lock(&self.tickets).remove(ticket).is_some_and(|at| at.elapsed() < TICKET_TTL)
    }

    /// Hands an ack to the delivery awaiting it.
    pub(crate) fn complete(&self, message_id: &str, ack: Ack) {
        self.acks.fetch_add(1, Ordering::Relaxed);
        if let Some(waiter) = lock(&self.pending).remove(message_id) {
            let _ = waiter.send(ack);
        }
    }
}
