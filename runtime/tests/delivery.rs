//! Delivery guarantees (issue 24, items 1–3 and 6): a cancelled delivery
//! releases its keys and a webhook client that hangs up cancels nothing, a
//! stuck handler times out and its copies wait a bounded time, the store is
//! claimed in two phases so that a dead holder's claim lapses, messages
//! deduplicate by message id, handlers get a stable idempotency key, and
//! callback tokens stay out of `Debug`. Time is tokio's paused clock.

#![cfg(feature = "events")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use feishu_runtime::events::{
    self, CallbackContext, CardActionTrigger, Channel, DEFAULT_CLAIM_LEASE, DEFAULT_COPY_WAIT,
    DedupStore, Dispatcher, EventContext, EventEnvelope, HandlerTimeout, InMemoryDedup, Outcome,
    Webhook, WebhookConfig,
};
use serde_json::{Value, json};
use support::MessageReceived;
use tokio::time::Instant;

const TOKEN: &str = "delivery-token";

fn message_json(event_id: &str, message_id: &str) -> Value {
    json!({
        "schema": "2.0",
        "header": {"event_id": event_id, "event_type": "im.message.receive_v1", "token": TOKEN},
        "event": {"message": {"message_id": message_id}},
    })
}

fn message(event_id: &str, message_id: &str) -> EventEnvelope {
    events::parse_event(message_json(event_id, message_id).to_string().as_bytes()).unwrap()
}

/// How a handler run behaves, by run number (1 for the first).
type Script = fn(u32) -> Behaviour;

#[derive(Clone, Copy)]
enum Behaviour {
    /// Succeeds after this long.
    Succeed(Duration),
    /// Never ends.
    Hang,
}

/// A dispatcher whose receive_v1 handler records each run's context (at its
/// start) and each success (at its end), and behaves as `script` says.
struct Recorder {
    started: Arc<Mutex<Vec<EventContext>>>,
    finished: Arc<Mutex<u32>>,
}

impl Recorder {
    fn new() -> Self {
        Self { started: Arc::default(), finished: Arc::default() }
    }

    fn dispatcher(&self, store: Option<Arc<dyn DedupStore>>, script: Script) -> Dispatcher {
        let (started, finished) = (Arc::clone(&self.started), Arc::clone(&self.finished));
        let mut builder = Dispatcher::builder();
        builder
            .on(move |ctx, _ev: MessageReceived| {
                let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
                async move {
                    let run = {
                        let mut started = started.lock().unwrap();
                        started.push(ctx);
                        started.len() as u32
                    };
                    match script(run) {
                        Behaviour::Succeed(after) => tokio::time::sleep(after).await,
                        Behaviour::Hang => std::future::pending().await,
                    }
                    *finished.lock().unwrap() += 1;
                    Ok(())
                }
            })
            .unwrap();
        if let Some(store) = store {
            builder.dedup_store(store);
        }
        builder.build()
    }

    fn runs(&self) -> usize {
        self.started.lock().unwrap().len()
    }

    fn finished(&self) -> u32 {
        *self.finished.lock().unwrap()
    }
}

/// Lets spawned tasks (a release after a cancellation) run.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

// Item 1: a delivery that ends without finishing releases its keys.
#[tokio::test(start_paused = true)]
async fn a_cancelled_delivery_releases_its_keys_and_the_next_push_runs_it() {
    let recorder = Recorder::new();
    let dispatcher = recorder.dispatcher(None, |_| Behaviour::Succeed(Duration::from_secs(5)));
    // The platform gives up at 3 s; whoever awaited the delivery drops it.
    let cancelled = tokio::time::timeout(
        Duration::from_secs(3),
        dispatcher.dispatch(message("e1", "om_1"), Channel::LongConnection),
    )
    .await;
    assert!(cancelled.is_err(), "the delivery was cut short");
    settle().await;
    // The retry comes well within the claim's lease: only the release lets it run.
    let retry = dispatcher.dispatch(message("e1", "om_1"), Channel::LongConnection).await;
    assert!(matches!(retry, Outcome::Handled { .. }), "{retry:?}");
    assert_eq!((recorder.runs(), recorder.finished()), (2, 1));
}

// Item 1: the webhook's handling runs in its own task.
#[tokio::test(start_paused = true)]
async fn a_webhook_client_that_hangs_up_does_not_cancel_the_handler() {
    let recorder = Recorder::new();
    let dispatcher = recorder.dispatcher(None, |_| Behaviour::Succeed(Duration::from_secs(5)));
    let webhook = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    let body = message_json("e1", "om_1").to_string();
    let headers = Vec::<(String, String)>::new();
    // An HTTP server drops the request's future when the client hangs up at 3 s.
    let hung_up = tokio::time::timeout(
        Duration::from_secs(3),
        webhook.respond(&dispatcher, headers.clone(), body.as_bytes(), SystemTime::now()),
    )
    .await;
    assert!(hung_up.is_err());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(recorder.finished(), 1, "the handler ran to its end");
    // The platform's retry is answered from the store: 200, nothing runs.
    let retry = webhook.respond(&dispatcher, headers, body.as_bytes(), SystemTime::now()).await;
    assert_eq!((retry.status, retry.body.as_str()), (200, "{}"));
    assert_eq!(recorder.runs(), 1);
}

// Item 2: a per-handler timeout; a timed-out delivery is a failed one.
#[tokio::test(start_paused = true)]
async fn a_stuck_handler_times_out_fails_and_its_retry_runs() {
    let recorder = Recorder::new();
    let store = Arc::new(InMemoryDedup::default());
    let dispatcher = {
        let mut builder = Dispatcher::builder();
        let started = Arc::clone(&recorder.started);
        builder
            .on(move |ctx, _ev: MessageReceived| {
                let started = Arc::clone(&started);
                async move {
                    let first = {
                        let mut started = started.lock().unwrap();
                        started.push(ctx);
                        started.len() == 1
                    };
                    if first {
                        std::future::pending::<()>().await;
                    }
                    Ok(())
                }
            })
            .unwrap();
        builder.dedup_store(store.clone()).handler_timeout(Duration::from_secs(10));
        builder.build()
    };
    let started = Instant::now();
    let stuck = dispatcher.dispatch(message("e1", "om_1"), Channel::LongConnection).await;
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(stuck.status(), 500);
    let Outcome::Failed(error) = stuck else { panic!("{stuck:?}") };
    assert!(error.downcast_ref::<HandlerTimeout>().is_some(), "{error}");
    assert_eq!(store.live_claims(Instant::now()), Vec::<String>::new(), "keys released");
    let retry = dispatcher.dispatch(message("e1", "om_1"), Channel::LongConnection).await;
    assert!(matches!(retry, Outcome::Handled { .. }), "{retry:?}");
    assert_eq!(recorder.runs(), 2);
}

// Item 2: a copy of an in-flight event waits a bounded time, then is "not yet".
#[tokio::test(start_paused = true)]
async fn a_copy_of_an_event_in_flight_waits_a_bounded_time() {
    let recorder = Recorder::new();
    let dispatcher = recorder.dispatcher(None, |_| Behaviour::Hang);
    let first = tokio::spawn({
        let dispatcher = dispatcher.clone();
        async move { dispatcher.dispatch(message("e1", "om_1"), Channel::LongConnection).await }
    });
    settle().await;
    assert_eq!(recorder.runs(), 1);
    let started = Instant::now();
    let copy = dispatcher.dispatch(message("e1", "om_1"), Channel::LongConnection).await;
    assert!(matches!(copy, Outcome::InProgress), "{copy:?}");
    assert_eq!(copy.status(), 503);
    assert_eq!(started.elapsed(), DEFAULT_COPY_WAIT);
    assert_eq!(recorder.runs(), 1, "the copy ran nothing");
    first.abort();
}

// Item 3: claim / commit / release; a dead holder's claim lapses with its lease.
#[tokio::test(start_paused = true)]
async fn a_claim_of_a_process_that_died_lapses_and_a_commit_is_final() {
    let recorder = Recorder::new();
    let store: Arc<dyn DedupStore> = Arc::new(InMemoryDedup::default());
    let instance_a = recorder.dispatcher(Some(Arc::clone(&store)), |_| Behaviour::Hang);
    let instance_b = recorder
        .dispatcher(Some(Arc::clone(&store)), |_| Behaviour::Succeed(Duration::from_millis(10)));
    // Instance A takes the event and dies mid-handler: its future is never
    // polled again and never dropped, as in a killed process.
    let mut dying = Box::pin(instance_a.dispatch(message("e1", "om_1"), Channel::Webhook));
    assert!(poll_once(&mut dying).await.is_none());
    assert_eq!(recorder.runs(), 1);
    std::mem::forget(dying);
    // The platform's retry on instance B meets a live claim: "not yet".
    let not_yet = instance_b.dispatch(message("e1", "om_1"), Channel::Webhook).await;
    assert!(matches!(not_yet, Outcome::InProgress), "{not_yet:?}");
    assert_eq!(not_yet.status(), 503);
    // After the lease, B runs it; then it is committed, and no copy runs again.
    tokio::time::sleep(DEFAULT_CLAIM_LEASE).await;
    let handled = instance_b.dispatch(message("e1", "om_1"), Channel::Webhook).await;
    assert!(matches!(handled, Outcome::Handled { .. }), "{handled:?}");
    tokio::time::sleep(Duration::from_secs(7 * 3600)).await;
    let instance_c = recorder.dispatcher(Some(Arc::clone(&store)), |_| Behaviour::Hang);
    for (id, dispatcher) in [("e1", &instance_b), ("e2", &instance_b), ("e1", &instance_c)] {
        // e2: the same message under another event id.
        let copy = dispatcher.dispatch(message(id, "om_1"), Channel::Webhook).await;
        assert!(matches!(copy, Outcome::Duplicate { .. }), "{id}: {copy:?}");
        assert_eq!(copy.status(), 200);
    }
    assert_eq!(recorder.runs(), 2);
}

/// Polls `future` once; `Some` if it finished.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut *future).poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

// Item 3: the same message under another event id is not run twice, and
// the handler gets a key for its effects that both deliveries share.
#[tokio::test(start_paused = true)]
async fn handlers_get_an_idempotency_key_stable_across_deliveries_of_a_message() {
    let recorder = Recorder::new();
    let dispatcher = recorder.dispatcher(None, |run| {
        if run == 1 { Behaviour::Hang } else { Behaviour::Succeed(Duration::ZERO) }
    });
    let cancelled = tokio::time::timeout(
        Duration::from_secs(1),
        dispatcher.dispatch(message("e1", "om_1"), Channel::Webhook),
    )
    .await;
    assert!(cancelled.is_err());
    settle().await;
    // The platform sends the message again under a new event id.
    let again = dispatcher.dispatch(message("e2", "om_1"), Channel::LongConnection).await;
    assert!(matches!(again, Outcome::Handled { .. }), "{again:?}");
    let other = dispatcher.dispatch(message("e3", "om_2"), Channel::Webhook).await;
    assert!(matches!(other, Outcome::Handled { .. }), "{other:?}");
    let copy = dispatcher.dispatch(message("e4", "om_2"), Channel::Webhook).await;
    assert!(matches!(copy, Outcome::Duplicate { .. }), "the message id deduplicates: {copy:?}");
    let started = recorder.started.lock().unwrap();
    let keys: Vec<String> = started.iter().map(EventContext::idempotency_key).collect();
    assert_eq!(started[0].message_id.as_deref(), Some("om_1"));
    assert_eq!(keys[0], keys[1], "one message, one key");
    assert_ne!(keys[1], keys[2]);
    assert_ne!(started[0].idempotency_key_for("reaction"), keys[0]);
    let uuid = &keys[0];
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_eq!(uuid.matches('-').count(), 4, "{uuid}");
    assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{uuid}");
}

// Item 6: callback tokens are redacted in Debug.
#[test]
fn callback_tokens_stay_out_of_debug() {
    let action: CardActionTrigger = serde_json::from_value(json!({
        "token": "c-CARD-TOKEN-71ab",
        "action": {"tag": "button"},
        "context": {"url": "https://x", "preview_token": "PREVIEW-TOKEN-3c9d"},
    }))
    .unwrap();
    assert_eq!(action.token.as_deref(), Some("c-CARD-TOKEN-71ab"));
    let shown = format!("{action:?} {:#?}", action.context);
    assert!(!shown.contains("CARD-TOKEN") && !shown.contains("PREVIEW-TOKEN"), "{shown}");
    assert!(shown.contains("token: Some(\"***\")"), "{shown}");
    assert!(shown.contains("https://x"), "the rest is shown: {shown}");
    let empty = format!("{:?}", CallbackContext::default());
    assert!(empty.contains("preview_token: None"), "{empty}");
}
