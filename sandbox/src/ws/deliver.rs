//! `POST /_sandbox/events` with `"via": "ws"`: push an event (or card
//! callback) to one connected client at random, in `split` fragments, push
//! it again until an ack arrives, and report the ack. The push-and-await of
//! one event ([`push_until_acked`]) also serves bulk deliveries.

use std::time::Duration;

use prost::Message as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::frame::{Frame, METHOD_DATA};
use super::{Ack, Out, bulk, event_body};
use crate::ids::now_millis;
use crate::reply::Reply;
use crate::server::{Shared, lock};

/// The most fragments a delivery may be split into.
const MAX_SPLIT: usize = 64;
/// How long the platform waits for an ack before pushing again.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a delivery keeps trying, unless the request says otherwise.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a delivery looks for a connection when none is left.
const RECHECK: Duration = Duration::from_millis(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WsEventRequest {
    via: String,
    event_type: String,
    event: Option<Value>,
    event_id: Option<String>,
    token: Option<String>,
    #[serde(default = "one")]
    split: usize,
    drop_connection: Option<String>,
    ack_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
    /// How many events (a bulk delivery above 1); checked by [`bounded`].
    count: Option<Value>,
    /// How many events of a bulk delivery may await their ack at once.
    in_flight: Option<Value>,
}

fn one() -> usize {
    1
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Drop {
    BeforeAck,
    AfterAck,
    Stall,
}

/// A connection picked for a delivery.
pub(super) struct Target {
    tx: tokio::sync::mpsc::UnboundedSender<Out>,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    gone: tokio::sync::watch::Receiver<bool>,
    service_id: i32,
}

/// One connected, not stalled client, at random.
pub(super) fn pick(shared: &Shared) -> Option<Target> {
    let conns = lock(&shared.ws.conns);
    let live: Vec<_> = conns
        .values()
        .filter(|c| !c.stalled.load(std::sync::atomic::Ordering::Relaxed) && !*c.gone.borrow())
        .collect();
    if live.is_empty() {
        return None;
    }
    let index = (lock(&shared.rng).next_u64() % live.len() as u64) as usize;
    let conn = live[index];
    Some(Target {
        tx: conn.tx.clone(),
        stalled: conn.stalled.clone(),
        gone: conn.gone.clone(),
        service_id: conn.service_id,
    })
}

/// Answers `POST /_sandbox/events` with `"via": "ws"`: one event, or with
/// `"count"` above 1 a bulk delivery ([`super::bulk`]).
pub(crate) async fn deliver(shared: &Shared, request: &Value) -> Reply {
    let request: WsEventRequest = match serde_json::from_value(request.clone()) {
        Ok(request) => request,
        Err(error) => return Reply::control_error(400, format!("invalid event request: {error}")),
    };
    if request.via != "ws" {
        return Reply::control_error(
            400,
            format!(
                "via {:?} is not \"ws\" (leave it out and give \"url\" for a webhook)",
                request.via
            ),
        );
    }
    if request.split == 0 || request.split > MAX_SPLIT {
        return Reply::control_error(
            400,
            format!("split {} is not between 1 and {MAX_SPLIT}", request.split),
        );
    }
    let drop = match request.drop_connection.as_deref() {
        None => None,
        Some("before_ack") => Some(Drop::BeforeAck),
        Some("after_ack") => Some(Drop::AfterAck),
        Some("stall") => Some(Drop::Stall),
        Some(other) => {
            return Reply::control_error(
                400,
                format!("drop_connection {other:?} is not before_ack, after_ack or stall"),
            );
        }
    };
    let (count, in_flight) = match (
        bounded("count", request.count.as_ref(), 1, bulk::MAX_COUNT),
        bounded(
            "in_flight",
            request.in_flight.as_ref(),
            bulk::DEFAULT_IN_FLIGHT,
            bulk::MAX_IN_FLIGHT,
        ),
    ) {
        (Ok(count), Ok(in_flight)) => (count, in_flight),
        (Err(why), _) | (_, Err(why)) => return Reply::control_error(400, why),
    };
    let policy = Policy {
        ack_timeout: request.ack_timeout_ms.map_or(ACK_TIMEOUT, Duration::from_millis),
        timeout: request.timeout_ms.map_or(DELIVERY_TIMEOUT, Duration::from_millis),
        drop,
        wait_for_client: false,
    };
    if count > 1 {
        // Each event of a bulk delivery needs an id of its own, and a drop
        // on every event's first push would drop the socket thousands of times.
        if request.event_id.is_some() {
            return Reply::control_error(
                400,
                "event_id names one event: leave it out when count is above 1 (each event gets an id of its own)",
            );
        }
        if request.drop_connection.is_some() {
            return Reply::control_error(
                400,
                "drop_connection applies to one event: leave it out when count is above 1",
            );
        }
        return super::bulk::deliver(
            shared,
            &request,
            count,
            in_flight,
            Policy { wait_for_client: true, ..policy },
        )
        .await;
    }
    let event = Outgoing::build(shared, &request, false);
    match push_until_acked(shared, &event, &policy).await {
        Pushed::Acked { ack, attempts } => Reply::plain_json(
            200,
            json!({ "status": ack.code, "body": ack.data, "attempts": attempts, "message_id": event.message_id, "event_id": event.event_id }),
        ),
        Pushed::NoClient => Reply::control_error(409, NO_CLIENT),
        Pushed::TimedOut { attempts } => {
            Reply::control_error(504, format!("no ack after {attempts} pushes"))
        }
    }
}

/// The answer when no client is connected.
pub(super) const NO_CLIENT: &str = "no long-connection client is connected";

/// `value` of the request's `name` as a whole number from 1 to `max`, or `default` when absent.
fn bounded(name: &str, value: Option<&Value>, default: usize, max: usize) -> Result<usize, String> {
    let Some(value) = value else { return Ok(default) };
    match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{name} must be a whole number from 1 to {max}, not {value}")),
    }
}

/// How a push waits for its ack.
#[derive(Clone, Copy)]
pub(super) struct Policy {
    /// How long one push waits for its ack before the event is pushed again.
    ack_timeout: Duration,
    /// How long the event keeps being pushed (or waits for a client), from its first try.
    timeout: Duration,
    drop: Option<Drop>,
    /// Whether an event finding no client waits for one (until `timeout`)
    /// rather than failing at once with [`Pushed::NoClient`].
    wait_for_client: bool,
}

/// One event ready to be pushed.
pub(super) struct Outgoing {
    /// The v2 envelope, as JSON.
    payload: Vec<u8>,
    kind: &'static str,
    split: usize,
    pub(super) event_id: String,
    /// The frames' `message_id`, which the ack names.
    pub(super) message_id: String,
    trace_id: String,
}

impl Outgoing {
    /// The event `request` asks for, with fresh ids where it names none.
    /// With `fresh_message` (bulk deliveries) a `message.message_id` in the
    /// body is replaced by a fresh `om_…` id too, so that clients that
    /// deduplicate messages by it (as `im.message.receive_v1`'s page
    /// advises) see each event as a message of its own.
    pub(super) fn build(
        shared: &Shared,
        request: &WsEventRequest,
        fresh_message: bool,
    ) -> Outgoing {
        let mut event =
            request.event.clone().unwrap_or_else(|| event_body(shared, &request.event_type));
        if fresh_message
            && let Some(id @ Value::String(_)) = event.pointer_mut("/message/message_id")
        {
            *id = Value::String(shared.ids.with_prefix("om_"));
        }
        let token =
            request.token.clone().unwrap_or_else(|| shared.config.verification_token.clone());
        let event_id = request.event_id.clone().unwrap_or_else(|| shared.ids.hex32());
        let payload =
            crate::events::envelope(shared, &request.event_type, &event_id, &token, event)
                .to_string()
                .into_bytes();
        let kind =
            if matches!(request.event_type.as_str(), "card.action.trigger" | "url.preview.get") {
                "card"
            } else {
                "event"
            };
        Outgoing {
            payload,
            kind,
            split: request.split,
            event_id,
            message_id: shared.ids.hex32(),
            trace_id: shared.ids.hex32(),
        }
    }
}

/// How pushing one event ended.
pub(super) enum Pushed {
    Acked {
        ack: Ack,
        attempts: u64,
    },
    /// No client was connected for the first push (and the policy does not wait).
    NoClient,
    /// No ack before the policy's timeout.
    TimedOut {
        attempts: u64,
    },
}

/// Pushes `event` to a connected client at random, and again (to a client
/// picked again) until an ack arrives or the policy's timeout runs out.
pub(super) async fn push_until_acked(shared: &Shared, event: &Outgoing, policy: &Policy) -> Pushed {
    let deadline = Instant::now() + policy.timeout;
    let parts = split(&event.payload, event.split);
    let mut attempts: u64 = 0;
    loop {
        let Some(mut target) = pick(shared) else {
            if attempts == 0 && !policy.wait_for_client {
                return Pushed::NoClient;
            }
            if Instant::now() >= deadline {
                lock(&shared.ws.pending).remove(&event.message_id);
                return Pushed::TimedOut { attempts };
            }
            tokio::time::sleep(RECHECK).await;
            continue;
        };
        attempts += 1;
        let (ack_tx, mut ack_rx) = oneshot::channel();
        lock(&shared.ws.pending).insert(event.message_id.clone(), ack_tx);
        let log_id = lock(&shared.rng).next_u64();
        for (seq, part) in parts.iter().enumerate() {
            let frame = Frame {
                seq_id: attempts,
                log_id,
                service: target.service_id,
                method: METHOD_DATA,
                payload: Some(part.to_vec()),
                ..Frame::default()
            }
            .with_header("type", event.kind)
            .with_header("message_id", event.message_id.clone())
            .with_header("sum", parts.len().to_string())
            .with_header("seq", seq.to_string())
            .with_header("trace_id", event.trace_id.clone())
            .with_header("timestamp", now_millis().to_string());
            let _ = target.tx.send(Out::Frame(frame.encode_to_vec()));
        }
        if attempts == 1 {
            match policy.drop {
                Some(Drop::BeforeAck) => {
                    let _ = target.tx.send(Out::Close);
                }
                Some(Drop::Stall) => {
                    target.stalled.store(true, std::sync::atomic::Ordering::Relaxed)
                }
                _ => {}
            }
        }
        let wait = policy.ack_timeout.min(deadline.saturating_duration_since(Instant::now()));
        let acked = tokio::select! {
            // An ack read just before its socket closed is in the channel
            // before the socket counts as gone: look at it first.
            biased;
            ack = &mut ack_rx => ack.ok(),
            _ = tokio::time::sleep(wait) => ack_rx.try_recv().ok(),
            // No ack can come over a socket that is gone: push again at once.
            _ = super::conn::until_true(&mut target.gone) => ack_rx.try_recv().ok(),
        };
        if let Some(ack) = acked {
            if policy.drop == Some(Drop::AfterAck) && attempts == 1 {
                let _ = target.tx.send(Out::Close);
            }
            return Pushed::Acked { ack, attempts };
        }
        if Instant::now() >= deadline {
            lock(&shared.ws.pending).remove(&event.message_id);
            return Pushed::TimedOut { attempts };
        }
    }
}

/// `payload` in `n` nearly equal parts (as many as it has bytes when it is shorter).
fn split(payload: &[u8], n: usize) -> Vec<&[u8]> {
    let len = payload.len();
    let n = n.clamp(1, len.max(1));
    (0..n).map(|i| &payload[i * len / n..(i + 1) * len / n]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_into_nearly_equal_parts() {
        assert_eq!(split(b"abcdefg", 3), vec![&b"ab"[..], b"cd", b"efg"]);
        assert_eq!(split(b"ab", 5), vec![&b"a"[..], b"b"]);
        assert_eq!(split(b"", 3), vec![&b""[..]]);
        assert_eq!(split(b"abc", 1), vec![&b"abc"[..]]);
        let parts = split(&[0; 1000], 64);
        assert!(parts.len() == 64 && parts.concat() == vec![0; 1000]);
    }
}
