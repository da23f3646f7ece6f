//! Bulk delivery over the long connection: `POST /_sandbox/events` with
//! `"via": "ws"` and `"count": N` pushes N distinct events, at most
//! `in_flight` of them awaiting their ack at once, each through the same
//! push-and-await as a single delivery, and answers once with a tally.
//!
//! It exists for load: a benchmark of a client's event handling that makes
//! one HTTP call per event mostly measures the calls. Memory stays bounded
//! by `in_flight`: an event is built only when a slot frees up.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::push::{NO_CLIENT, Outgoing, Policy, Pushed, WsEventRequest, pick, push_until_acked};
use crate::reply::Reply;
use crate::state::Shared;

/// The most events one call delivers.
pub(super) const MAX_COUNT: usize = 100_000;
/// Events awaiting their ack at once, unless the call says otherwise.
pub(super) const DEFAULT_IN_FLIGHT: usize = 16;
/// The most events a call may keep awaiting their ack at once.
pub(super) const MAX_IN_FLIGHT: usize = 1024;

/// How the events of one call ended.
#[derive(Debug, Default)]
struct Tally {
    acked: u64,
    /// Pushes beyond each event's first.
    repushed: u64,
    /// Events without an ack before their timeout.
    failed: u64,
    /// Events never pushed, because an earlier one had failed.
    not_sent: u64,
    /// Acks whose code is not 200.
    non_200: u64,
    first_non_200: Option<Value>,
    first_failure: Option<String>,
}

/// Delivers `count` events as `request` describes, `in_flight` at a time.
pub(super) async fn deliver(
    shared: &Shared,
    request: &WsEventRequest,
    count: usize,
    in_flight: usize,
    policy: Policy,
) -> Reply {
    // Only the start needs a client; later events wait for one (a client
    // that reconnects mid-way), as re-pushes do.
    if pick(shared).is_none() {
        return Reply::control_error(409, NO_CLIENT);
    }
    // After the first failure no new event is pushed: the call is failing
    // anyway, and a missing client would otherwise cost each remaining event
    // its whole timeout.
    let stop = AtomicBool::new(false);
    let outcomes = futures_util::stream::iter(0..count)
        .map(|_| async {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let event = Outgoing::build(shared, request, true);
            let pushed = push_until_acked(shared, &event, &policy).await;
            if !matches!(pushed, Pushed::Acked { .. }) {
                stop.store(true, Ordering::Relaxed);
            }
            Some((event.event_id, pushed))
        })
        .buffer_unordered(in_flight);
    let tally = outcomes
        .fold(Tally::default(), |mut tally, outcome| async move {
            tally.record(outcome);
            tally
        })
        .await;
    let mut answer = json!({
        "count": count,
        "in_flight": in_flight,
        "acked": tally.acked,
        "repushed": tally.repushed,
        "non_200": tally.non_200,
        "first_non_200": tally.first_non_200,
    });
    match &tally.first_failure {
        None => Reply::plain_json(200, answer),
        Some(first) => {
            answer["failed"] = tally.failed.into();
            answer["not_sent"] = tally.not_sent.into();
            answer["error"] =
                format!("{} of {count} events were acked, {} were not ({first}), {} were not pushed after that", tally.acked, tally.failed, tally.not_sent)
                    .into();
            Reply::plain_json(504, answer)
        }
    }
}

impl Tally {
    fn record(&mut self, outcome: Option<(String, Pushed)>) {
        match outcome {
            None => self.not_sent += 1,
            Some((event_id, Pushed::Acked { ack, attempts, .. })) => {
                self.acked += 1;
                self.repushed += attempts.saturating_sub(1);
                if ack.code != 200 {
                    self.non_200 += 1;
                    self.first_non_200
                        .get_or_insert_with(|| json!({ "status": ack.code, "event_id": event_id }));
                }
            }
            Some((event_id, Pushed::TimedOut { attempts })) => {
                self.failed += 1;
                self.repushed += attempts.saturating_sub(1);
                self.first_failure.get_or_insert_with(|| {
                    format!("first: {event_id}, no ack after {attempts} pushes")
                });
            }
            Some((event_id, Pushed::NoClient)) => {
                self.failed += 1;
                self.first_failure.get_or_insert_with(|| format!("first: {event_id}, {NO_CLIENT}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::hub::Ack;

    #[test]
    fn the_tally_counts_each_ending_once() {
        let mut tally = Tally::default();
        tally.record(Some((
            "a".into(),
            Pushed::Acked {
                ack: Ack { code: 200, data: Value::Null },
                attempts: 1,
                acks: Vec::new(),
            },
        )));
        tally.record(Some((
            "b".into(),
            Pushed::Acked {
                ack: Ack { code: 500, data: Value::Null },
                attempts: 3,
                acks: Vec::new(),
            },
        )));
        tally.record(Some((
            "c".into(),
            Pushed::Acked {
                ack: Ack { code: 503, data: Value::Null },
                attempts: 1,
                acks: Vec::new(),
            },
        )));
        assert_eq!((tally.acked, tally.repushed, tally.non_200), (3, 2, 2));
        assert_eq!(tally.first_non_200, Some(json!({"status": 500, "event_id": "b"})));
        assert!(tally.first_failure.is_none());
        tally.record(Some(("d".into(), Pushed::TimedOut { attempts: 4 })));
        tally.record(Some(("e".into(), Pushed::NoClient)));
        tally.record(None);
        assert_eq!((tally.failed, tally.not_sent, tally.repushed), (2, 1, 5));
        assert_eq!(tally.first_failure.as_deref(), Some("first: d, no ack after 4 pushes"));
    }
}
