//! `POST /_sandbox/events` with `"via": "ws"`: push an event (or card
//! callback) to one connected client at random, in `split` fragments, push
//! it again until an ack arrives, and report the ack.

use std::time::Duration;

use prost::Message as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::frame::{Frame, METHOD_DATA};
use super::{Out, event_body};
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
struct WsEventRequest {
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
}

fn one() -> usize {
    1
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Drop {
    BeforeAck,
    AfterAck,
    Stall,
}

/// A connection picked for a delivery.
struct Target {
    tx: tokio::sync::mpsc::UnboundedSender<Out>,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    gone: tokio::sync::watch::Receiver<bool>,
    service_id: i32,
}

/// One connected, not stalled client, at random.
fn pick(shared: &Shared) -> Option<Target> {
    let conns = lock(&shared.ws.conns);
    let live: Vec<_> = conns.values().filter(|c| !c.stalled.load(std::sync::atomic::Ordering::Relaxed) && !*c.gone.borrow()).collect();
    if live.is_empty() {
        return None;
    }
    let index = (lock(&shared.rng).next_u64() % live.len() as u64) as usize;
    let conn = live[index];
    Some(Target { tx: conn.tx.clone(), stalled: conn.stalled.clone(), gone: conn.gone.clone(), service_id: conn.service_id })
}

/// Answers `POST /_sandbox/events` with `"via": "ws"`.
pub(crate) async fn deliver(shared: &Shared, request: &Value) -> Reply {
    let request: WsEventRequest = match serde_json::from_value(request.clone()) {
        Ok(request) => request,
        Err(error) => return Reply::control_error(400, format!("invalid event request: {error}")),
    };
    if request.via != "ws" {
        return Reply::control_error(400, format!("via {:?} is not \"ws\" (leave it out and give \"url\" for a webhook)", request.via));
    }
    if request.split == 0 || request.split > MAX_SPLIT {
        return Reply::control_error(400, format!("split {} is not between 1 and {MAX_SPLIT}", request.split));
    }
    let drop = match request.drop_connection.as_deref() {
        None => None,
        Some("before_ack") => Some(Drop::BeforeAck),
        Some("after_ack") => Some(Drop::AfterAck),
        Some("stall") => Some(Drop::Stall),
        Some(other) => return Reply::control_error(400, format!("drop_connection {other:?} is not before_ack, after_ack or stall")),
    };
    let event = request.event.clone().unwrap_or_else(|| event_body(shared, &request.event_type));
    let token = request.token.clone().unwrap_or_else(|| shared.config.verification_token.clone());
    let event_id = request.event_id.clone().unwrap_or_else(|| shared.ids.hex32());
    let payload = crate::events::envelope(shared, &request.event_type, &event_id, &token, event).to_string().into_bytes();
    let kind = if matches!(request.event_type.as_str(), "card.action.trigger" | "url.preview.get") { "card" } else { "event" };
    let message_id = shared.ids.hex32();
    let trace_id = shared.ids.hex32();
    let ack_timeout = request.ack_timeout_ms.map_or(ACK_TIMEOUT, Duration::from_millis);
    let deadline = Instant::now() + request.timeout_ms.map_or(DELIVERY_TIMEOUT, Duration::from_millis);
    let parts = split(&payload, request.split);
    let mut attempts: u64 = 0;
    loop {
        let Some(mut target) = pick(shared) else {
            if attempts == 0 {
                return Reply::control_error(409, "no long-connection client is connected");
            }
            if Instant::now() >= deadline {
                lock(&shared.ws.pending).remove(&message_id);
                return Reply::control_error(504, format!("no ack after {attempts} pushes"));
            }
            tokio::time::sleep(RECHECK).await;
            continue;
        };
        attempts += 1;
        let (ack_tx, mut ack_rx) = oneshot::channel();
        lock(&shared.ws.pending).insert(message_id.clone(), ack_tx);
        let log_id = lock(&shared.rng).next_u64();
        for (seq, part) in parts.iter().enumerate() {
            let frame = Frame { seq_id: attempts, log_id, service: target.service_id, method: METHOD_DATA, payload: Some(part.to_vec()), ..Frame::default() }
                .with_header("type", kind)
                .with_header("message_id", message_id.clone())
                .with_header("sum", parts.len().to_string())
                .with_header("seq", seq.to_string())
                .with_header("trace_id", trace_id.clone())
                .with_header("timestamp", now_millis().to_string());
            let _ = target.tx.send(Out::Frame(frame.encode_to_vec()));
        }
        if attempts == 1 {
            match drop {
                Some(Drop::BeforeAck) => {
                    let _ = target.tx.send(Out::Close);
                }
                Some(Drop::Stall) => target.stalled.store(true, std::sync::atomic::Ordering::Relaxed),
                _ => {}
            }
        }
        let wait = ack_timeout.min(deadline.saturating_duration_since(Instant::now()));
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
            if drop == Some(Drop::AfterAck) && attempts == 1 {
                let _ = target.tx.send(Out::Close);
            }
            return Reply::plain_json(
                200,
                json!({ "status": ack.code, "body": ack.data, "attempts": attempts, "message_id": message_id, "event_id": event_id }),
            );
        }
        if Instant::now() >= deadline {
            lock(&shared.ws.pending).remove(&message_id);
            return Reply::control_error(504, format!("no ack after {attempts} pushes"));
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
