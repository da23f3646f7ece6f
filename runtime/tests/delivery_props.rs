//! A property test over the dispatcher (issue 24): random interleavings of
//! deliveries, duplicate deliveries, handlers that succeed, fail, panic or
//! time out, cancellations and crashed processes, with one or two
//! dispatchers sharing one store, on tokio's paused clock. Invariants:
//!
//! - a committed event never runs again (and never runs twice at once);
//! - a failed, timed-out or cancelled delivery lets a later delivery run
//!   (once nothing else holds the event, and a crashed holder's lease ran out);
//! - no key stays claimed past its holder: a claim is held by a delivery
//!   still running, or by a crashed one whose lease has not run out yet.

#![cfg(feature = "events")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_runtime::events::{
    self, Channel, DEFAULT_CLAIM_LEASE, DedupStore, Dispatcher, EventBody, InMemoryDedup,
};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const EVENTS: usize = 2;
const HANDLER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Succeed(u64),
    Fail(u64),
    Panic,
    Hang,
}

#[derive(Clone, Debug)]
enum Op {
    /// Delivers event `event` (again, maybe) to dispatcher `to`.
    Deliver { to: usize, event: usize, behaviour: Behaviour },
    /// Lets this many milliseconds pass.
    Advance(u64),
    /// Drops the `n`-th delivery still running (modulo their number).
    Cancel(usize),
    /// Delivers `event` to dispatcher `to`, whose process then dies
    /// mid-handler: its delivery is never polled again nor dropped, and a
    /// fresh dispatcher on the same store takes its place.
    Crash { to: usize, event: usize },
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        (0..3000u64).prop_map(Behaviour::Succeed),
        (0..3000u64).prop_map(Behaviour::Fail),
        Just(Behaviour::Panic),
        Just(Behaviour::Hang),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..EVENTS, behaviour())
            .prop_map(|(to, event, behaviour)| Op::Deliver { to, event, behaviour }),
        3 => prop_oneof![0..2000u64, 2000..40_000u64].prop_map(Op::Advance),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => (0..2usize, 0..EVENTS).prop_map(|(to, event)| Op::Crash { to, event }),
    ]
}

#[derive(Debug, Deserialize)]
struct Body {
    message: Msg,
    plan: String,
}

#[derive(Debug, Deserialize)]
struct Msg {
    message_id: String,
}

impl EventBody for Body {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}

/// What the handlers saw, per event index.
#[derive(Default)]
struct Log {
    starts: [u32; EVENTS],
    successes: [u32; EVENTS],
    running: [u32; EVENTS],
    violations: Vec<String>,
}

/// Counts a handler run as running until it ends, however it ends.
struct Running(Arc<Mutex<Log>>, usize);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.lock().unwrap().running[self.1] -= 1;
    }
}

fn event_index(message_id: &str) -> usize {
    message_id.trim_start_matches('m').parse().unwrap()
}

fn dispatcher(store: &Arc<InMemoryDedup>, log: &Arc<Mutex<Log>>) -> Dispatcher {
    let log = Arc::clone(log);
    let mut builder = Dispatcher::builder();
    builder
        .on(move |_ctx, body: Body| {
            let log = Arc::clone(&log);
            async move {
                let e = event_index(&body.message.message_id);
                {
                    let mut log = log.lock().unwrap();
                    if log.successes[e] > 0 {
                        log.violations.push(format!("event {e} ran again after it was handled"));
                    }
                    if log.running[e] > 0 {
                        log.violations.push(format!("event {e} ran twice at once"));
                    }
                    log.starts[e] += 1;
                    log.running[e] += 1;
                }
                let _running = Running(Arc::clone(&log), e);
                let (kind, ms) = body.plan.split_once(':').unwrap();
                let ms: u64 = ms.parse().unwrap();
                match kind {
                    "ok" => {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        log.lock().unwrap().successes[e] += 1;
                        Ok(())
                    }
                    "fail" => {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        Err("planned failure".into())
                    }
                    "panic" => panic!("planned panic"),
                    _ => std::future::pending().await,
                }
            }
        })
        .unwrap();
    builder.dedup_store(Arc::clone(store) as Arc<dyn DedupStore>).handler_timeout(HANDLER_TIMEOUT);
    builder.build()
}

fn envelope(event: usize, behaviour: Behaviour) -> events::EventEnvelope {
    let plan = match behaviour {
        Behaviour::Succeed(ms) => format!("ok:{ms}"),
        Behaviour::Fail(ms) => format!("fail:{ms}"),
        Behaviour::Panic => "panic:0".to_owned(),
        Behaviour::Hang => "hang:0".to_owned(),
    };
    let body = json!({
        "schema": "2.0",
        "header": {"event_id": format!("e{event}"), "event_type": "im.message.receive_v1"},
        "event": {"message": {"message_id": format!("m{event}")}, "plan": plan},
    });
    events::parse_event(body.to_string().as_bytes()).unwrap()
}

/// Lets every task that can run, run (a release spawned by a cancellation).
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn run(two_dispatchers: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = Arc::new(InMemoryDedup::default());
        let log = Arc::new(Mutex::new(Log::default()));
        let mut dispatchers = [dispatcher(&store, &log), dispatcher(&store, &log)];
        let mut tasks: Vec<(usize, JoinHandle<()>)> = Vec::new();
        // Per event: until when a crashed holder's claims may live.
        let mut crashed_until: BTreeMap<usize, Instant> = BTreeMap::new();
        for op in ops {
            tasks.retain(|(_, task)| !task.is_finished());
            match op {
                Op::Deliver { to, event, behaviour } => {
                    let to = if two_dispatchers { to } else { 0 };
                    let (starts, handled) = {
                        let log = log.lock().unwrap();
                        (log.starts[event], log.successes[event] > 0)
                    };
                    let free = !handled
                        && !tasks.iter().any(|(e, _)| *e == event)
                        && crashed_until.get(&event).is_none_or(|until| Instant::now() >= *until);
                    let dispatcher = dispatchers[to].clone();
                    let envelope = envelope(event, behaviour);
                    tasks.push((
                        event,
                        tokio::spawn(async move {
                            dispatcher.dispatch(envelope, Channel::LongConnection).await;
                        }),
                    ));
                    settle().await;
                    if free {
                        let now = log.lock().unwrap().starts[event];
                        prop_assert_eq!(
                            now,
                            starts + 1,
                            "event {} was free (not handled, not held) and its delivery did not run",
                            event
                        );
                    }
                }
                Op::Advance(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    settle().await;
                }
                Op::Cancel(n) => {
                    if !tasks.is_empty() {
                        let (_, task) = tasks.remove(n % tasks.len());
                        task.abort();
                        settle().await;
                    }
                }
                Op::Crash { to, event } => {
                    let to = if two_dispatchers { to } else { 0 };
                    let dispatcher = dispatchers[to].clone();
                    let envelope = envelope(event, Behaviour::Hang);
                    let mut dying = Box::pin(async move {
                        dispatcher.dispatch(envelope, Channel::LongConnection).await
                    });
                    let starts = log.lock().unwrap().starts[event];
                    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                    if dying.as_mut().poll(&mut cx).is_pending() {
                        // The process dies: nothing of it runs again, nothing is dropped.
                        std::mem::forget(dying);
                        let mut seen = log.lock().unwrap();
                        if seen.starts[event] > starts {
                            seen.running[event] -= 1;
                        }
                        drop(seen);
                        crashed_until.insert(event, Instant::now() + DEFAULT_CLAIM_LEASE);
                        dispatchers[to] = self::dispatcher(&store, &log);
                    }
                }
            }
            tasks.retain(|(_, task)| !task.is_finished());
            let violations = std::mem::take(&mut log.lock().unwrap().violations);
            prop_assert!(violations.is_empty(), "{:?}", violations);
            let now = Instant::now();
            for key in store.live_claims(now) {
                let event: usize = key.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap();
                let running = tasks.iter().any(|(e, _)| *e == event);
                let crashed = crashed_until.get(&event).is_some_and(|until| now < *until);
                prop_assert!(
                    running || crashed,
                    "{} is claimed with no delivery of event {} running and no crashed holder's lease left",
                    key,
                    event
                );
            }
        }
        for (_, task) in tasks.drain(..) {
            task.abort();
        }
        settle().await;
        tokio::time::sleep(DEFAULT_CLAIM_LEASE).await;
        prop_assert_eq!(store.live_claims(Instant::now()), Vec::<String>::new());
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_dispatcher_keeps_its_delivery_guarantees(
        two_dispatchers in any::<bool>(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        run(two_dispatchers, ops)?;
    }
}
