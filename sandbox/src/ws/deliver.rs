//! `POST /_sandbox/events` with `"via": "ws"`: push an event (or card
//! callback) to one connected client at random, in `split` fragments, push
//! it again until an ack arrives, and report the ack; with `"count"` above 1
//! a bulk delivery ([`super::bulk`]). The push itself is [`super::push`].

use std::time::Duration;

use serde_json::{Value, json};

use super::MAX_CONNECTIONS;
use super::bulk;
use super::push::{Drop, NO_CLIENT, Outgoing, Policy, Pushed, WsEventRequest, push_until_acked};
use crate::reply::Reply;
use crate::state::Shared;

/// The most fragments a delivery may be split into.
const MAX_SPLIT: usize = 64;
/// How long the platform waits for an ack before pushing again.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a delivery keeps trying, unless the request says otherwise (or
/// gives a ladder).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// The most waits a redelivery ladder may have.
const MAX_RUNGS: usize = 16;
/// The longest wait of a ladder: the platform's last is 6 h.
const MAX_RUNG: Duration = Duration::from_secs(24 * 3600);
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
    let connections = match bounded("connections", request.connections.as_ref(), 1, MAX_CONNECTIONS)
    {
        Ok(connections) => connections,
        Err(why) => return Reply::control_error(400, why),
    };
    let ladder = match request.ladder_ms.as_ref().map(ladder) {
        None => None,
        Some(Ok(ladder)) => Some(ladder),
        Some(Err(why)) => return Reply::control_error(400, why),
    };
    // A ladder runs to its end unless the call sets a timeout.
    let timeout = match (request.timeout_ms, &ladder) {
        (Some(ms), _) => Some(Duration::from_millis(ms)),
        (None, Some(_)) => None,
        (None, None) => Some(DELIVERY_TIMEOUT),
    };
    let laddered = ladder.is_some();
    let policy = Policy {
        ack_timeout: request.ack_timeout_ms.map_or(ACK_TIMEOUT, Duration::from_millis),
        timeout,
        drop,
        wait_for_client: false,
        connections,
        ladder,
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
        return bulk::deliver(
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
        Pushed::Acked { ack, attempts, acks } => Reply::plain_json(
            200,
            json!({
                "status": ack.code, "body": ack.data, "attempts": attempts,
                "message_id": event.message_id, "event_id": event.event_id,
                "acks": acks.iter().map(|a| json!({ "status": a.code, "body": a.data })).collect::<Vec<_>>(),
            }),
        ),
        Pushed::NoClient => Reply::control_error(409, NO_CLIENT),
        Pushed::TimedOut { attempts } if laddered => Reply::control_error(
            504,
            format!("no ack with code 200 after {attempts} pushes: the ladder ran out"),
        ),
        Pushed::TimedOut { attempts } => {
            Reply::control_error(504, format!("no ack after {attempts} pushes"))
        }
    }
}

/// `ladder_ms`: 1 to [`MAX_RUNGS`] waits of 1 ms to [`MAX_RUNG`] each.
fn ladder(value: &Value) -> Result<std::sync::Arc<[Duration]>, String> {
    let why = || {
        format!(
            "ladder_ms must be a list of 1 to {MAX_RUNGS} whole numbers of milliseconds from 1 to {}, not {value}",
            MAX_RUNG.as_millis()
        )
    };
    let rungs = value.as_array().ok_or_else(why)?;
    if rungs.is_empty() || rungs.len() > MAX_RUNGS {
        return Err(why());
    }
    rungs
        .iter()
        .map(|rung| match rung.as_u64().map(Duration::from_millis) {
            Some(wait) if !wait.is_zero() && wait <= MAX_RUNG => Ok(wait),
            _ => Err(why()),
        })
        .collect()
}

/// `value` of the request's `name` as a whole number from 1 to `max`, or `default` when absent.
fn bounded(name: &str, value: Option<&Value>, default: usize, max: usize) -> Result<usize, String> {
    let Some(value) = value else { return Ok(default) };
    match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{name} must be a whole number from 1 to {max}, not {value}")),
    }
}
