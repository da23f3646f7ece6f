//! One event pushed over the long connection until it is acked: the
//! request it is built from ([`WsEventRequest`]), the connection picked at
//! random ([`pick`]), the frames (split in fragments) and the wait for the
//! ack ([`push_until_acked`]), for single and bulk deliveries alike.
//!
//! Cluster mode, as the platform delivers to an app's several connections:
//! each push goes to one connection at random; a first push may go to
//! several at once (`connections`); and with a redelivery ladder
//! (`ladder_ms`) only an ack with code 200 within the ack deadline counts,
//! and a push that gets none is followed by the next one after the ladder's
//! next interval.

use std::time::Duration;

use prost::Message as _;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::frame::{Frame, METHOD_DATA};
use crate::bodies::event_body;
use crate::ids::now_millis;
use crate::state::hub::{Ack, Out};
use crate::state::{Shared, lock};

/// How often a delivery looks for a connection when none is left.
const RECHECK: Duration = Duration::from_millis(10);

/// `POST /_sandbox/events` with `"via": "ws"`, as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WsEventRequest {
    pub(super) via: String,
    pub(super) event_type: String,
    pub(super) event: Option<Value>,
    pub(super) event_id: Option<String>,
    pub(super) token: Option<String>,
    #[serde(default = "one")]
    pub(super) split: usize,
    pub(super) drop_connection: Option<String>,
    pub(super) ack_timeout_ms: Option<u64>,
    pub(super) timeout_ms: Option<u64>,
    /// How many events (a bulk delivery above 1); checked by [`bounded`].
    pub(super) count: Option<Value>,
    /// How many events of a bulk delivery may await their ack at once.
    pub(super) in_flight: Option<Value>,
    /// To how many connections at once the first push goes (1 unless set).
    pub(super) connections: Option<Value>,
    /// The redelivery ladder: after a push that got no ack 200 in time, the
    /// wait before the next one, from the push (milliseconds).
    pub(super) ladder_ms: Option<Value>,
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
    pick_some(shared, 1).pop()
}

/// `n` distinct connected, not stalled clients at random (all of them when
/// fewer are connected).
fn pick_some(shared: &Shared, n: usize) -> Vec<Target> {
    let conns = lock(&shared.ws.conns);
    let mut live: Vec<_> = conns
        .values()
        .filter(|c| !c.stalled.load(std::sync::atomic::Ordering::Relaxed) && !*c.gone.borrow())
        .collect();
    let mut picked = Vec::new();
    while picked.len() < n && !live.is_empty() {
        let index = (lock(&shared.rng).next_u64() % live.len() as u64) as usize;
        let conn = live.swap_remove(index);
        picked.push(Target {
            tx: conn.tx.clone(),
            stalled: conn.stalled.clone(),
            gone: conn.gone.clone(),
            service_id: conn.service_id,
        });
    }
    picked
}

/// The answer when no client is connected.
pub(super) const NO_CLIENT: &str = "no long-connection client is connected";

/// How a push waits for its ack.
#[derive(Clone)]
pub(super) struct Policy {
    /// How long one push waits for its ack before the event is pushed again.
    pub(super) ack_timeout: Duration,
    /// How long the event keeps being pushed (or waits for a client), from
    /// its first try; `None`: until the ladder runs out.
    pub(super) timeout: Option<Duration>,
    pub(super) drop: Option<Drop>,
    /// Whether an event finding no client waits for one (until `timeout`)
    /// rather than failing at once with [`Pushed::NoClient`].
    pub(super) wait_for_client: bool,
    /// To how many connections at once the first push goes.
    pub(super) connections: usize,
    /// The redelivery ladder (see [`WsEventRequest::ladder_ms`]); `None`: any
    /// ack ends the delivery, and a push without one is followed at once.
    pub(super) ladder: Option<std::sync::Arc<[Duration]>>,
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
        /// Every ack read, in order (`ack` among them).
        acks: Vec<Ack>,
    },
    /// No client was connected for the first push (and the policy does not wait).
    NoClient,
    /// No ack before the policy's timeout.
    TimedOut { attempts: u64 },
}

/// Pushes `event` to a connected client at random (the first push to
/// `policy.connections` of them), and again (to a client picked again)
/// until an ack ends it or the policy gives up: without a ladder, any ack,
/// and a push without one within the ack timeout is followed at once until
/// the timeout; with one, only an ack 200, and a push without one is
/// followed after the ladder's next interval, until the ladder runs out.
pub(super) async fn push_until_acked(shared: &Shared, event: &Outgoing, policy: &Policy) -> Pushed {
    let deadline = policy.timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    let expired = || deadline.is_some_and(|d| Instant::now() >= d);
    let parts = split(&event.payload, event.split);
    let mut attempts: u64 = 0;
    let mut acks = Vec::new();
    loop {
        let copies = if attempts == 0 { policy.connections } else { 1 };
        let targets = pick_some(shared, copies);
        if targets.is_empty() && policy.ladder.is_none() {
            if attempts == 0 && !policy.wait_for_client {
                return Pushed::NoClient;
            }
            if expired() {
                lock(&shared.ws.pending).remove(&event.message_id);
                return Pushed::TimedOut { attempts };
            }
            tokio::time::sleep(RECHECK).await;
            continue;
        }
        if targets.is_empty() && attempts == 0 && !policy.wait_for_client {
            return Pushed::NoClient;
        }
        attempts += 1;
        let pushed_at = Instant::now();
        // Each copy has a frame id of its own, so that each ack finds its
        // push. With a ladder each push has new ones too: an ack after the
        // deadline answers a push that counts as failed, and is dropped.
        let ids: Vec<String> = (0..targets.len())
            .map(|copy| {
                if copy == 0 && (policy.ladder.is_none() || attempts == 1) {
                    event.message_id.clone()
                } else {
                    shared.ids.hex32()
                }
            })
            .collect();
        let mut waits = Vec::new();
        for (target, id) in targets.into_iter().zip(&ids) {
            let (ack_tx, ack_rx) = oneshot::channel();
            lock(&shared.ws.pending).insert(id.clone(), ack_tx);
            push_frames(shared, event, &parts, &target, id, attempts);
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
            waits.push((target, ack_rx));
        }
        let wait = match deadline {
            Some(d) => policy.ack_timeout.min(d.saturating_duration_since(Instant::now())),
            None => policy.ack_timeout,
        };
        let (read, first_target) = await_acks(waits, wait, policy.ladder.is_some()).await;
        if policy.ladder.is_some() {
            // The deadline has passed for every copy: late acks are dropped.
            let mut pending = lock(&shared.ws.pending);
            for id in &ids {
                pending.remove(id);
            }
        }
        let chosen = if policy.ladder.is_some() {
            read.iter().find(|ack| ack.code == 200).cloned()
        } else {
            read.iter().find(|ack| ack.code == 200).or(read.first()).cloned()
        };
        acks.extend(read);
        if let Some(ack) = chosen {
            if policy.drop == Some(Drop::AfterAck)
                && attempts == 1
                && let Some(target) = first_target
            {
                let _ = target.tx.send(Out::Close);
            }
            return Pushed::Acked { ack, attempts, acks };
        }
        if expired() {
            lock(&shared.ws.pending).remove(&event.message_id);
            return Pushed::TimedOut { attempts };
        }
        if let Some(ladder) = &policy.ladder {
            let Some(interval) = usize::try_from(attempts - 1).ok().and_then(|i| ladder.get(i))
            else {
                return Pushed::TimedOut { attempts };
            };
            let next = pushed_at + *interval;
            let next = deadline.map_or(next, |d| next.min(d));
            tokio::time::sleep_until(next).await;
        }
    }
}

/// Sends `event`'s frames to `target` under the frame id `id`.
fn push_frames(
    shared: &Shared,
    event: &Outgoing,
    parts: &[&[u8]],
    target: &Target,
    id: &str,
    attempt: u64,
) {
    let log_id = lock(&shared.rng).next_u64();
    for (seq, part) in parts.iter().enumerate() {
        let frame = Frame {
            seq_id: attempt,
            log_id,
            service: target.service_id,
            method: METHOD_DATA,
            payload: Some(part.to_vec()),
            ..Frame::default()
        }
        .with_header("type", event.kind)
        .with_header("message_id", id.to_owned())
        .with_header("sum", parts.len().to_string())
        .with_header("seq", seq.to_string())
        .with_header("trace_id", event.trace_id.clone())
        .with_header("timestamp", now_millis().to_string());
        let _ = target.tx.send(Out::Frame(frame.encode_to_vec()));
    }
}

/// Waits for the acks of one push's copies, each until `wait` runs out or
/// its socket is gone, and returns those read (in order) with the first
/// copy's target. It stops at the first ack 200, or, without a ladder, at
/// the first copy's ack when it has a single copy (as before copies).
async fn await_acks(
    waits: Vec<(Target, oneshot::Receiver<Ack>)>,
    wait: Duration,
    ladder: bool,
) -> (Vec<Ack>, Option<Target>) {
    let single = waits.len() == 1;
    let mut first_target = None;
    let mut pending = futures_util::stream::FuturesUnordered::new();
    for (index, (mut target, mut ack_rx)) in waits.into_iter().enumerate() {
        pending.push(async move {
            let ack = tokio::select! {
                // An ack read just before its socket closed is in the channel
                // before the socket counts as gone: look at it first.
                biased;
                ack = &mut ack_rx => ack.ok(),
                _ = tokio::time::sleep(wait) => ack_rx.try_recv().ok(),
                // No ack can come over a socket that is gone.
                _ = super::conn::until_true(&mut target.gone) => ack_rx.try_recv().ok(),
            };
            (index, target, ack)
        });
    }
    let mut read = Vec::new();
    while let Some((index, target, ack)) = futures_util::StreamExt::next(&mut pending).await {
        if index == 0 {
            first_target = Some(target);
        }
        let Some(ack) = ack else { continue };
        let done = ack.code == 200 || (single && !ladder);
        read.push(ack);
        if done {
            break;
        }
    }
    (read, first_target)
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
