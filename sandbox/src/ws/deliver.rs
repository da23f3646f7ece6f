//! `POST /_sandbox/events` with `"via": "ws"`: push an event (or card
//! callback) to one connected client at random, in `split` fragments, push
//! it again until an ack arrives, and report the ack; with `"count"` above 1
//! a bulk delivery ([`super::bulk`]). The push itself is [`super::push`].

use std::time::Duration;

use serde_json::{Value, json};

use super::bulk;
use super::push::{Drop, NO_CLIENT, Outgoing, Policy, Pushed, WsEventRequest, push_until_acked};
use crate::reply::Reply;
use crate::state::Shared;

/// The most fragments a delivery may be split into.
const MAX_SPLIT: usize = 64;
/// How long the platform waits for an ack before pushing again.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a delivery keeps trying, unless the request says otherwise.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
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

/// `value` of the request's `name` as a whole number from 1 to `max`, or `default` when absent.
fn bounded(name: &str, value: Option<&Value>, default: usize, max: usize) -> Result<usize, String> {
    let Some(value) = value else { return Ok(default) };
    match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{name} must be a whole number from 1 to {max}, not {value}")),
    }
}
