//! Our long-connection client (`feishu_runtime::ws`) against the sandbox's
//! long connection: deliveries, fragments, card callbacks, unknown events,
//! failures, a 1,000-event run with dropped and half-dead sockets, shutdown
//! mid-run, the connection limit and refused credentials.

mod sandbox_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_runtime::events::{
    CardActionResponse, CardActionTrigger, Dispatcher, DispatcherBuilder, EventBody, Toast,
    ToastKind,
};
use feishu_runtime::ws::{LongConnection, Status, WsError};
use sandbox_support::{APP_ID, APP_SECRET, Env, wait_until};
use serde::Deserialize;
use serde_json::{Value, json};

const RECEIVE: &str = "im.message.receive_v1";

/// The part of `im.message.receive_v1` these tests read.
#[derive(Debug, Deserialize)]
struct MessageReceived {
    message: Received,
}

#[derive(Debug, Deserialize)]
struct Received {
    message_id: String,
    content: String,
}

impl EventBody for MessageReceived {
    const EVENT_TYPE: &'static str = RECEIVE;
}

/// Event ids (from the context) and message ids seen by the handler, with
/// how often each was handled.
#[derive(Default)]
struct Seen {
    events: Mutex<BTreeMap<String, u32>>,
    messages: Mutex<BTreeMap<String, u32>>,
}

impl Seen {
    fn count(&self, event_id: &str) -> u32 {
        self.events.lock().unwrap().get(event_id).copied().unwrap_or(0)
    }
}

/// A dispatcher recording every receive_v1 it handles into `seen`, after
/// `delay`.
fn recording(seen: &Arc<Seen>, delay: Duration) -> DispatcherBuilder {
    let mut builder = Dispatcher::builder();
    let seen = Arc::clone(seen);
    builder
        .on(move |ctx, ev: MessageReceived| {
            let seen = Arc::clone(&seen);
            async move {
                tokio::time::sleep(delay).await;
                *seen.events.lock().unwrap().entry(ctx.event_id).or_default() += 1;
                *seen.messages.lock().unwrap().entry(ev.message.message_id).or_default() += 1;
                Ok(())
            }
        })
        .unwrap();
    builder
}

/// A client for the sandbox with test-sized intervals.
fn client(env: &Env, dispatcher: Dispatcher) -> LongConnection {
    client_with(env, dispatcher, |b| b)
}

/// Starts `client` in a task; waits until it is connected.
async fn run(client: &LongConnection) -> tokio::task::JoinHandle<Result<(), WsError>> {
    let mut status = client.status();
    let task = tokio::spawn({
        let client = client.clone();
        async move { client.start().await }
    });
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| matches!(s, Status::Connected { .. })),
    )
    .await
    .expect("connected in time")
    .unwrap();
    task
}

fn message_event(n: usize) -> Value {
    json!({
        "sender": {"sender_id": {"open_id": "ou_sender"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
        "message": {
            "message_id": format!("om_ws_{n}"),
            "chat_id": "oc_ws",
            "chat_type": "p2p",
            "message_type": "text",
            "content": json!({"text": format!("hello {n}")}).to_string(),
        },
    })
}

/// Delivers receive_v1 number `n` over the long connection, merged with
/// `extra`; returns the HTTP status and the sandbox's answer.
async fn deliver(env: &Env, n: usize, extra: Value) -> (u16, Value) {
    let mut request = json!({"via": "ws", "event_type": RECEIVE, "event_id": format!("ev_{n}"), "event": message_event(n)});
    if let (Some(request), Value::Object(extra)) = (request.as_object_mut(), extra) {
        request.extend(extra);
    }
    env.try_control(reqwest::Method::POST, "events", Some(request)).await
}

#[tokio::test]
async fn events_are_delivered_acked_and_handled_once() {
    let env = Env::start().await;
    let seen = Arc::new(Seen::default());
    let client = client(&env, recording(&seen, Duration::ZERO).build());
    let task = run(&client).await;

    let (status, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"], Value::Null);
    assert_eq!(answer["attempts"], 1);
    assert_eq!(seen.count("ev_1"), 1);

    // The same event id again (a platform retry): acked 200, not handled again.
    let (_, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!(answer["status"], 200);
    assert_eq!(seen.count("ev_1"), 1);

    // Another event id for the same message: deduplicated by message_id.
    let mut again = json!({"event_id": "ev_1_copy"});
    again["event"] = message_event(1);
    let (_, answer) = deliver(&env, 1, again).await;
    assert_eq!(answer["status"], 200);
    assert_eq!(seen.count("ev_1_copy"), 0);
    assert_eq!(seen.messages.lock().unwrap()["om_ws_1"], 1);

    client.shutdown().await;
    task.await.unwrap().unwrap();
    assert_eq!(*client.status().borrow(), Status::Disconnected { error: None });
}

/// A connection built with `intervals` on top of the test-sized ones.
fn client_with(
    env: &Env,
    dispatcher: Dispatcher,
    intervals: impl FnOnce(
        feishu_runtime::ws::LongConnectionBuilder,
    ) -> feishu_runtime::ws::LongConnectionBuilder,
) -> LongConnection {
    let builder = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(dispatcher)
        .ping_interval(Duration::from_millis(50))
        .liveness_timeout(Duration::from_millis(200))
        .reconnect_nonce(Duration::from_millis(20))
        .reconnect_interval(Duration::from_millis(20))
        .shutdown_grace(Duration::from_secs(10));
    intervals(builder).build().unwrap()
}

/// `Duration::MAX` says "never" (issue 24 item 13): a ping interval and a
/// liveness timeout of it panicked when added to now, on the first ping.
#[tokio::test]
async fn a_ping_interval_of_duration_max_does_not_panic() {
    let env = Env::start().await;
    let seen = Arc::new(Seen::default());
    let client = client_with(&env, recording(&seen, Duration::ZERO).build(), |b| {
        b.ping_interval(Duration::MAX).liveness_timeout(Duration::MAX)
    });
    let task = run(&client).await;

    let (status, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    assert_eq!(seen.count("ev_1"), 1);
    client.shutdown().await;
    task.await.expect("the connection task did not panic").unwrap();
}

/// `shutdown_grace(Duration::MAX)` (wait for handlers as long as they take)
/// panicked when the shutdown added it to now.
#[tokio::test]
async fn a_shutdown_grace_of_duration_max_does_not_panic() {
    let env = Env::start().await;
    let seen = Arc::new(Seen::default());
    let client = client_with(&env, recording(&seen, Duration::ZERO).build(), |b| {
        b.shutdown_grace(Duration::MAX)
    });
    let task = run(&client).await;
    let (status, _) = deliver(&env, 1, json!({})).await;
    assert_eq!(status, 200);

    // A connection task that panics never says it stopped: the shutdown
    // would wait for ever, so the task's end is watched too. `start` says
    // it stopped before it returns, so once the task has ended the shutdown
    // is ready too: polled first (`biased`), it wins that tie, which an
    // unbiased select would break at random.
    let mut task = task;
    tokio::select! {
        biased;
        () = client.shutdown() => {}
        ended = &mut task => panic!("the connection ended during its shutdown: {ended:?}"),
    }
    task.await.expect("the connection task did not panic").unwrap();
    assert_eq!(*client.status().borrow(), Status::Disconnected { error: None });
}

/// One stuck handler cannot wedge the long connection (issue 24 item 2):
/// its delivery times out and is acked 500, the platform's re-pushes of it
/// (copies of an event in flight) wait a bounded time, and even with one
/// handler slot every other event is still handled and acked 200 on the
/// same socket (without the timeout the slot would be held for good).
#[tokio::test]
async fn one_stuck_handler_cannot_wedge_the_connection() {
    let env = Arc::new(Env::start().await);
    let seen = Arc::new(Seen::default());
    let mut builder = Dispatcher::builder();
    builder.handler_timeout(Duration::from_millis(500));
    builder
        .on({
            let seen = Arc::clone(&seen);
            move |ctx, ev: MessageReceived| {
                let seen = Arc::clone(&seen);
                async move {
                    if ev.message.content.contains("hello 0") {
                        std::future::pending::<()>().await;
                    }
                    *seen.events.lock().unwrap().entry(ctx.event_id).or_default() += 1;
                    Ok(())
                }
            }
        })
        .unwrap();
    let client = client_with(&env, builder.build(), |b| b.max_handlers(1));
    let task = run(&client).await;
    let mut status = client.status();
    status.borrow_and_update();

    // Event 0 never finishes; the sandbox pushes it again every 100 ms
    // until it is acked.
    let stuck = tokio::spawn({
        let env = Arc::clone(&env);
        async move { deliver(&env, 0, json!({"ack_timeout_ms": 100, "timeout_ms": 20_000})).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let others: Vec<_> = (1..=10)
        .map(|n| {
            let env = Arc::clone(&env);
            tokio::spawn(async move {
                deliver(&env, n, json!({"ack_timeout_ms": 20_000, "timeout_ms": 20_000})).await
            })
        })
        .collect();

    let (code, answer) = stuck.await.unwrap();
    assert_eq!(code, 200, "{answer}");
    assert_ne!(
        answer["status"], 200,
        "the stuck handler's delivery is not acked as done: {answer}"
    );
    for other in others {
        let (code, answer) = other.await.unwrap();
        assert_eq!((code, &answer["status"]), (200, &json!(200)), "{answer}");
    }
    let handled = seen.events.lock().unwrap().clone();
    assert_eq!(handled.len(), 10, "every other event was handled: {handled:?}");
    assert!(handled.values().all(|&n| n == 1), "{handled:?}");
    assert!(!status.has_changed().unwrap(), "no reconnect: {:?}", *status.borrow());
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn fragmented_events_are_joined() {
    let env = Env::start().await;
    let seen = Arc::new(Seen::default());
    let contents = Arc::new(Mutex::new(Vec::new()));
    let mut builder = Dispatcher::builder();
    {
        let (seen, contents) = (Arc::clone(&seen), Arc::clone(&contents));
        builder
            .on(move |ctx, ev: MessageReceived| {
                let (seen, contents) = (Arc::clone(&seen), Arc::clone(&contents));
                async move {
                    *seen.events.lock().unwrap().entry(ctx.event_id).or_default() += 1;
                    contents.lock().unwrap().push(ev.message.content);
                    Ok(())
                }
            })
            .unwrap();
    }
    let client = client(&env, builder.build());
    let task = run(&client).await;
    for (n, split) in [(1, 2), (2, 7), (3, 64)] {
        let (status, answer) = deliver(&env, n, json!({"split": split})).await;
        assert_eq!((status, &answer["status"]), (200, &json!(200)), "split {split}: {answer}");
        assert_eq!(seen.count(&format!("ev_{n}")), 1);
    }
    assert_eq!(
        *contents.lock().unwrap(),
        ["{\"text\":\"hello 1\"}", "{\"text\":\"hello 2\"}", "{\"text\":\"hello 3\"}"]
    );
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_card_callbacks_toast_comes_back_in_the_ack() {
    let env = Env::start().await;
    let mut builder = Dispatcher::builder();
    builder
        .on_callback(|ctx, action: CardActionTrigger| async move {
            let choice = action.action.value["choice"].as_str().unwrap_or("nothing").to_owned();
            Ok(CardActionResponse::toast(
                Toast::new(ToastKind::Success, format!("you chose {choice}"))
                    .i18n("en_us", format!("{} chose {choice}", ctx.event_id)),
            ))
        })
        .unwrap();
    let client = client(&env, builder.build());
    let task = run(&client).await;

    let event = json!({"operator": {"open_id": "ou_1"}, "action": {"tag": "button", "value": {"choice": "blue"}}, "context": {"open_message_id": "om_1"}});
    let (status, answer) = env
        .try_control(
            reqwest::Method::POST,
            "events",
            Some(json!({"via": "ws", "event_type": "card.action.trigger", "event_id": "card_1", "event": event, "split": 3})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], 200);
    assert_eq!(
        answer["body"],
        json!({"toast": {"type": "success", "content": "you chose blue", "i18n": {"en_us": "card_1 chose blue"}}})
    );

    // The sandbox builds a card callback body itself when none is given.
    let (_, answer) = env
        .try_control(
            reqwest::Method::POST,
            "events",
            Some(json!({"via": "ws", "event_type": "card.action.trigger"})),
        )
        .await;
    assert_eq!(answer["body"]["toast"]["content"], "you chose nothing");

    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn unknown_events_are_acked_200_and_reach_the_fallback() {
    let env = Env::start().await;
    let fallback = Arc::new(Mutex::new(Vec::new()));
    let mut builder = recording(&Arc::new(Seen::default()), Duration::ZERO);
    {
        let fallback = Arc::clone(&fallback);
        builder
            .fallback(move |ctx, event| {
                let fallback = Arc::clone(&fallback);
                async move {
                    fallback.lock().unwrap().push((ctx.event_type, event));
                    Ok(())
                }
            })
            .unwrap();
    }
    let client = client(&env, builder.build());
    let task = run(&client).await;
    let request = json!({"via": "ws", "event_type": "contact.user.created_v3", "event": {"object": {"open_id": "ou_new"}}});
    let (_, answer) = env.try_control(reqwest::Method::POST, "events", Some(request)).await;
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["attempts"], 1, "acked the first time, so never pushed again");
    assert_eq!(
        *fallback.lock().unwrap(),
        [("contact.user.created_v3".to_owned(), json!({"object": {"open_id": "ou_new"}}))]
    );
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_failed_handler_is_acked_500_and_its_retry_handled() {
    let env = Env::start().await;
    let calls = Arc::new(Mutex::new(0));
    let mut builder = Dispatcher::builder();
    {
        let calls = Arc::clone(&calls);
        builder
            .on(move |_ctx, _ev: MessageReceived| {
                let calls = Arc::clone(&calls);
                async move {
                    let mut calls = calls.lock().unwrap();
                    *calls += 1;
                    if *calls == 1 { Err("the database is down".into()) } else { Ok(()) }
                }
            })
            .unwrap();
    }
    let client = client(&env, builder.build());
    let task = run(&client).await;
    let (_, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!(answer["status"], 500);
    let (_, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!(answer["status"], 200);
    assert_eq!(*calls.lock().unwrap(), 2, "the retry was not taken for a duplicate");
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn without_a_client_the_sandbox_answers_409() {
    let env = Env::start().await;
    let (status, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!(status, 409, "{answer}");
}

#[tokio::test]
async fn a_half_dead_socket_is_detected_and_replaced() {
    let env = Env::start().await;
    let seen = Arc::new(Seen::default());
    let client = client(&env, recording(&seen, Duration::ZERO).build());
    let task = run(&client).await;
    let status = client.status();
    // The sandbox stops answering anything on the socket, pings included,
    // without closing it; the ack can only come over a new connection.
    let (code, answer) =
        deliver(&env, 1, json!({"drop_connection": "stall", "ack_timeout_ms": 300})).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["status"], 200);
    assert!(answer["attempts"].as_u64().unwrap() >= 2, "{answer}");
    assert_eq!(seen.count("ev_1"), 1, "handled once although pushed twice");
    assert!(status.has_changed().unwrap(), "the client reconnected");
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

/// 1,000 events to two clients (cluster mode) sharing one dispatcher:
/// sockets dropped before and after acks, and half-dead ones, at random.
/// Every event is handled exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_through_dropped_and_half_dead_sockets_are_each_handled_once() {
    const EVENTS: usize = 1000;
    let env = Arc::new(Env::start().await);
    let seen = Arc::new(Seen::default());
    let dispatcher = recording(&seen, Duration::ZERO).build();
    let clients = [client(&env, dispatcher.clone()), client(&env, dispatcher)];
    let mut tasks = Vec::new();
    for client in &clients {
        tasks.push(run(client).await);
    }
    let mut plan: Vec<Value> = Vec::with_capacity(EVENTS);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..EVENTS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let extra = match state % 100 {
            0..=5 => json!({"drop_connection": "before_ack"}),
            6..=11 => json!({"drop_connection": "after_ack"}),
            12..=13 => json!({"drop_connection": "stall"}),
            14..=23 => json!({"split": 1 + state % 5}),
            _ => json!({}),
        };
        plan.push(extra);
    }
    let plan = Arc::new(plan);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (env, plan, next) = (Arc::clone(&env), Arc::clone(&plan), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= EVENTS {
                    return answers;
                }
                let mut extra = plan[n].clone();
                extra["ack_timeout_ms"] = json!(400);
                // Both clients may be reconnecting at the moment: 409, try again.
                let mut tries = 0;
                let (status, answer) = loop {
                    let (status, answer) = deliver(&env, n, extra.clone()).await;
                    tries += 1;
                    if status != 409 || tries == 500 {
                        break (status, answer);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                };
                answers.push((n, status, answer));
            }
        }));
    }
    let mut pushes = 0;
    for worker in workers {
        for (n, status, answer) in worker.await.unwrap() {
            assert_eq!(status, 200, "event {n}: {answer}");
            assert_eq!(answer["status"], 200, "event {n}: {answer}");
            pushes += answer["attempts"].as_u64().unwrap();
        }
    }
    let events = seen.events.lock().unwrap().clone();
    assert_eq!(events.len(), EVENTS);
    let twice: Vec<_> = events.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert!(pushes > EVENTS as u64, "some events were pushed again ({pushes} pushes)");
    for client in &clients {
        client.shutdown().await;
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

/// Shutting down while events arrive: every event the sandbox saw acked was
/// handled, and only events caught by the shutdown itself were handled
/// without their ack reaching the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_run_loses_no_acked_event() {
    let env = Arc::new(Env::start().await);
    let seen = Arc::new(Seen::default());
    let client = client(&env, recording(&seen, Duration::from_millis(30)).build());
    let task = run(&client).await;
    let mut deliveries = Vec::new();
    // Spaced out, so that at shutdown some events are being handled and
    // some not yet pushed. A push waits 10 s for its ack, so every ack the
    // client sends is counted; a delivery without a client gives up after 3 s.
    for n in 0..200 {
        if n == 60 {
            wait_until("some events handled", Duration::from_secs(10), || async {
                !seen.events.lock().unwrap().is_empty()
            })
            .await;
            let client = client.clone();
            tokio::spawn(async move { client.shutdown().await });
        }
        let env = Arc::clone(&env);
        deliveries.push(tokio::spawn(async move {
            (n, deliver(&env, n, json!({"ack_timeout_ms": 10_000, "timeout_ms": 3000})).await)
        }));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    task.await.unwrap().unwrap();
    let mut acked = BTreeSet::new();
    for delivery in deliveries {
        let (n, (status, answer)) = delivery.await.unwrap();
        if status == 200 {
            assert_eq!(answer["status"], 200, "{answer}");
            acked.insert(format!("ev_{n}"));
        }
    }
    let handled: BTreeSet<String> = seen.events.lock().unwrap().keys().cloned().collect();
    assert!(!acked.is_empty() && acked.len() < 200, "{} acked", acked.len());
    // The contract: no event the platform saw acked is lost.
    let lost: Vec<&String> = acked.difference(&handled).collect();
    assert!(lost.is_empty(), "acked but never handled: {lost:?}");
    // And the other way round: shutdown sends every finished handler's ack
    // and reads on until the sandbox closes, so no ack is lost to a reset.
    let unacked: Vec<&String> = handled.difference(&acked).collect();
    assert!(unacked.is_empty(), "handled but never acked: {unacked:?}");
}

/// With at most K handlers and slow handlers, never more than K run at
/// once, every event is handled once and acked on its first push, and the
/// connection outlives, at the cap, several liveness timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_cap_holds_and_the_connection_survives_it() {
    const CAP: usize = 3;
    const EVENTS: usize = 12;
    let env = Arc::new(Env::start().await);
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::new(Seen::default());
    let mut builder = Dispatcher::builder();
    builder
        .on({
            let (running, most, seen) =
                (Arc::clone(&running), Arc::clone(&most), Arc::clone(&seen));
            move |ctx, _: MessageReceived| {
                let (running, most, seen) =
                    (Arc::clone(&running), Arc::clone(&most), Arc::clone(&seen));
                async move {
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    // 4 rounds of 300 ms: the cap lasts 1.2 s, 6 liveness timeouts.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    *seen.events.lock().unwrap().entry(ctx.event_id).or_default() += 1;
                    Ok(())
                }
            }
        })
        .unwrap();
    let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(builder.build())
        .ping_interval(Duration::from_millis(50))
        .liveness_timeout(Duration::from_millis(200))
        .reconnect_nonce(Duration::from_millis(20))
        .reconnect_interval(Duration::from_millis(20))
        .max_handlers(CAP)
        .build()
        .unwrap();
    let task = run(&client).await;
    let mut status = client.status();
    status.borrow_and_update();
    let deliveries: Vec<_> = (0..EVENTS)
        .map(|n| {
            let env = Arc::clone(&env);
            tokio::spawn(async move {
                deliver(&env, n, json!({"ack_timeout_ms": 20_000, "timeout_ms": 20_000})).await
            })
        })
        .collect();
    for delivery in deliveries {
        let (status, answer) = delivery.await.unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], 200, "{answer}");
        // Pushed once: the socket it went to was never lost.
        assert_eq!(answer["attempts"], 1, "{answer}");
    }
    assert_eq!(
        most.load(std::sync::atomic::Ordering::SeqCst),
        CAP,
        "at most, and at the busiest exactly, {CAP} handlers at once"
    );
    let handled = seen.events.lock().unwrap().clone();
    assert_eq!(handled.len(), EVENTS, "{handled:?}");
    assert!(handled.values().all(|&n| n == 1), "{handled:?}");
    assert!(!status.has_changed().unwrap(), "no reconnect: {:?}", *status.borrow());
    client.shutdown().await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_fatal_at_once() {
    let env = Env::start().await;
    let client = feishu_runtime::Client::builder(APP_ID, "wrong-secret")
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(Dispatcher::builder().build())
        .build()
        .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(5), client.start())
        .await
        .expect("no retry loop")
        .unwrap_err();
    // The refusal is the runtime's Error::Api, with its code (and log id:
    // runtime/tests/long_connection.rs), and the message names the host.
    let WsError::Bootstrap { host, source: feishu_runtime::Error::Api(refusal) } = &error else {
        panic!("not a refused bootstrap: {error:?}")
    };
    assert_eq!(refusal.code, 514, "{error}");
    assert_eq!(host, &env.url().trim_start_matches("http://").to_owned());
    assert!(error.to_string().contains(host.as_str()), "{error}");
    assert!(!error.is_retryable());
    assert!(!error.to_string().contains("wrong-secret"), "{error}");
}

/// The long connection honours the client's proxy: the bootstrap goes to
/// the proxy, and the socket through a CONNECT tunnel of it; events flow.
#[tokio::test]
async fn the_long_connection_goes_through_the_clients_proxy() {
    let env = Env::start().await;
    let proxy = feishu_testkit::ForwardProxy::start().await;
    let seen = Arc::new(Seen::default());
    let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .proxy(proxy.url())
        .build()
        .unwrap()
        .long_connection(recording(&seen, Duration::ZERO).build())
        .build()
        .unwrap();
    let task = run(&client).await;
    let (status, answer) = deliver(&env, 1, json!({})).await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    assert_eq!(seen.events.lock().unwrap().len(), 1);
    client.shutdown().await;
    task.await.unwrap().unwrap();
    let authority = env.url().trim_start_matches("http://").to_owned();
    let lines: Vec<String> = proxy.requests().into_iter().map(|r| r.line).collect();
    assert!(
        lines.contains(&format!("POST http://{authority}/callback/ws/endpoint HTTP/1.1")),
        "the bootstrap did not go through the proxy: {lines:?}"
    );
    assert!(
        lines.contains(&format!("CONNECT {authority} HTTP/1.1")),
        "the socket did not tunnel through the proxy: {lines:?}"
    );
}

#[tokio::test]
async fn a_51st_connection_is_refused_with_1000040350() {
    let env = Env::start().await;
    let mut clients = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
            .base_url(env.url())
            .build()
            .unwrap()
            .long_connection(Dispatcher::builder().build())
            .build()
            .unwrap();
        tasks.push(run(&client).await);
        clients.push(client);
    }
    let extra = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(env.url())
        .build()
        .unwrap()
        .long_connection(Dispatcher::builder().build())
        .build()
        .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(5), extra.start())
        .await
        .expect("no retry loop")
        .unwrap_err();
    assert!(
        matches!(&error, WsError::Bootstrap { source: feishu_runtime::Error::Api(refusal), .. } if refusal.code == 1_000_040_350),
        "{error:?}"
    );
    for client in &clients {
        client.shutdown().await;
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn reconnect_count_bounds_the_attempts() {
    let env = Env::start().await;
    let url = env.url();
    drop(env); // nothing listens there any more
    let client = feishu_runtime::Client::builder(APP_ID, APP_SECRET)
        .base_url(url.clone())
        .build()
        .unwrap()
        .long_connection(Dispatcher::builder().build())
        .reconnect_count(2)
        .reconnect_nonce(Duration::from_millis(5))
        .reconnect_interval(Duration::from_millis(5))
        .build()
        .unwrap();
    let error =
        tokio::time::timeout(Duration::from_secs(10), client.start()).await.unwrap().unwrap_err();
    assert!(matches!(error, WsError::GaveUp { attempts: 2, .. }), "{error:?}");
    // Every failure names the host it could not reach.
    let host = url.trim_start_matches("http://");
    assert!(error.to_string().contains(host), "{error}");
}

/// A handler slower than the ack window holds up no other event; the
/// platform's re-pushes of its event wait for it instead of running it
/// again, and are acked when it is done.
#[tokio::test]
async fn a_slow_handler_blocks_no_other_event() {
    let env = Arc::new(Env::start().await);
    let seen = Arc::new(Seen::default());
    // The slow handler says when it starts, and ends when the test lets it.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let release = Arc::new(tokio::sync::Notify::new());
    let mut builder = Dispatcher::builder();
    {
        let (seen, release) = (Arc::clone(&seen), Arc::clone(&release));
        builder
            .on(move |ctx, _ev: MessageReceived| {
                let (seen, release) = (Arc::clone(&seen), Arc::clone(&release));
                let slow = ctx.event_id == "ev_0";
                let started = if slow { started_tx.lock().unwrap().take() } else { None };
                async move {
                    if slow {
                        let released = release.notified();
                        started.expect("ev_0's handler runs once").send(()).unwrap();
                        released.await;
                    }
                    *seen.events.lock().unwrap().entry(ctx.event_id).or_default() += 1;
                    Ok(())
                }
            })
            .unwrap();
    }
    let client = client(&env, builder.build());
    let task = run(&client).await;
    let slow = tokio::spawn({
        let env = Arc::clone(&env);
        async move { deliver(&env, 0, json!({"ack_timeout_ms": 300})).await }
    });
    // The slow handler runs before the others are pushed: a dispatcher
    // running one handler at a time would handle none of them now.
    started_rx.await.expect("the slow handler started");
    let started = tokio::time::Instant::now();
    for n in 1..=5 {
        let (_, answer) = deliver(&env, n, json!({})).await;
        assert_eq!(answer["status"], 200);
        assert_eq!(seen.count(&format!("ev_{n}")), 1);
    }
    assert_eq!(seen.count("ev_0"), 0, "the slow handler was not held");
    // Held well past the 300 ms ack window (the sandbox's clock, real
    // time), so that the platform pushes ev_0 again meanwhile.
    tokio::time::sleep_until(started + Duration::from_millis(1500)).await;
    release.notify_one();
    let (status, answer) = slow.await.unwrap();
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    assert!(
        answer["attempts"].as_u64().unwrap() >= 2,
        "pushed again after the ack window: {answer}"
    );
    assert_eq!(seen.count("ev_0"), 1, "acked once the handler was done");
    client.shutdown().await;
    task.await.unwrap().unwrap();
    assert_eq!(seen.count("ev_0"), 1);
}

#[tokio::test]
async fn a_panicking_handler_is_acked_500_its_retry_runs_and_the_connection_stays_up() {
    let env = Env::start().await;
    let seen = Arc::new(Seen::default());
    let calls = Arc::new(Mutex::new(BTreeMap::<String, u32>::new()));
    let mut builder = Dispatcher::builder();
    {
        let (seen, calls) = (Arc::clone(&seen), Arc::clone(&calls));
        builder
            .on(move |ctx, _ev: MessageReceived| {
                let (seen, calls) = (Arc::clone(&seen), Arc::clone(&calls));
                async move {
                    let call = {
                        let mut calls = calls.lock().unwrap();
                        let call = calls.entry(ctx.event_id.clone()).or_default();
                        *call += 1;
                        *call
                    };
                    // On its first delivery ev_0 panics in the handler's first
                    // step (run on the connection's task), ev_1 after waiting
                    // (in a spawned task).
                    if ctx.event_id == "ev_0" && call == 1 {
                        panic!("a handler bug");
                    }
                    tokio::task::yield_now().await;
                    if ctx.event_id == "ev_1" && call == 1 {
                        panic!("a later handler bug");
                    }
                    *seen.events.lock().unwrap().entry(ctx.event_id).or_default() += 1;
                    Ok(())
                }
            })
            .unwrap();
    }
    let client = client(&env, builder.build());
    let mut status = client.status();
    let task = run(&client).await;
    status.borrow_and_update();
    for n in 0..2 {
        let (_, answer) = deliver(&env, n, json!({})).await;
        assert_eq!(answer["status"], 500, "ev_{n}: {answer}");
        // Released like a failed event: the platform's next push runs the handler again.
        let (_, answer) = deliver(&env, n, json!({})).await;
        assert_eq!(answer["status"], 200, "ev_{n}: {answer}");
        assert_eq!(seen.count(&format!("ev_{n}")), 1);
    }
    let (_, answer) = deliver(&env, 2, json!({})).await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(seen.count("ev_2"), 1);
    assert!(
        !status.has_changed().unwrap(),
        "the connection was never lost: {:?}",
        *status.borrow()
    );
    client.shutdown().await;
    task.await.unwrap().unwrap();
}
