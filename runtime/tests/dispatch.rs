//! The dispatcher behind both transports, fed through the webhook
//! (`Webhook::respond`): typed handlers, callbacks and their answers, the
//! fallback, deduplication through an async store, failures, registration
//! errors, and the webhook's checks kept in front of it.

#![cfg(feature = "events")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_runtime::events::{
    self, BoxFuture, CallbackCard, CardActionResponse, CardActionTrigger, CardTemplate, Channel,
    Claim, DedupStore, Dispatcher, DispatcherBuilder, EventBody, HandlerError, RegisterError,
    StoreError, Toast, ToastKind, UrlPreviewGet, UrlPreviewResponse, Webhook, WebhookConfig,
};
use serde::Deserialize;
use serde_json::{Value, json};

const KEY: &str = "ENCRYPT-KEY-77aa";
const TOKEN: &str = "VERIFY-TOKEN-19bf";
const NOW_SECS: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

#[derive(Debug, Deserialize)]
struct MessageReceived {
    message: Msg,
}

#[derive(Debug, Deserialize)]
struct Msg {
    message_id: String,
}

impl EventBody for MessageReceived {
    const EVENT_TYPE: &'static str = "im.message.receive_v1";
}

fn envelope(event_id: &str, event_type: &str, event: Value) -> Value {
    json!({
        "schema": "2.0",
        "header": {"event_id": event_id, "event_type": event_type, "token": TOKEN, "create_time": "1", "app_id": "cli_1", "tenant_key": "tk"},
        "event": event,
    })
}

fn message(event_id: &str, message_id: &str) -> Value {
    envelope(event_id, "im.message.receive_v1", json!({"message": {"message_id": message_id}}))
}

/// `plain` encrypted and signed as Feishu sends it: `(headers, body)`.
fn signed(plain: &Value) -> (Vec<(String, String)>, Vec<u8>) {
    let body = json!({"encrypt": events::encrypt(KEY, plain.to_string().as_bytes(), [3; 16])})
        .to_string()
        .into_bytes();
    let ts = NOW_SECS.to_string();
    let headers = vec![
        ("X-Lark-Request-Timestamp".to_owned(), ts.clone()),
        ("X-Lark-Request-Nonce".to_owned(), "n".to_owned()),
        ("X-Lark-Signature".to_owned(), events::signature(&ts, "n", KEY, &body)),
    ];
    (headers, body)
}

fn webhook() -> Webhook {
    Webhook::new(WebhookConfig::new().verification_token(TOKEN).encrypt_key(KEY)).unwrap()
}

async fn post(dispatcher: &Dispatcher, plain: &Value) -> (u16, Value) {
    let (headers, body) = signed(plain);
    let answer = webhook().respond(dispatcher, headers, &body, now()).await;
    (answer.status, serde_json::from_str(&answer.body).unwrap())
}

/// Records the message ids handled, by transport.
fn recording(log: &Arc<Mutex<Vec<(String, Channel)>>>) -> DispatcherBuilder {
    let mut builder = Dispatcher::builder();
    let log = Arc::clone(log);
    builder
        .on(move |ctx, ev: MessageReceived| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().push((ev.message.message_id, ctx.channel));
                Ok(())
            }
        })
        .unwrap();
    builder
}

#[tokio::test]
async fn typed_events_reach_their_handler_once() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let dispatcher = recording(&log).build();
    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await, (200, json!({})));
    // The platform's retry of the same event, and the same message under a new event id.
    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await, (200, json!({})));
    assert_eq!(post(&dispatcher, &message("e2", "om_1")).await, (200, json!({})));
    assert_eq!(post(&dispatcher, &message("e3", "om_2")).await, (200, json!({})));
    assert_eq!(
        *log.lock().unwrap(),
        [("om_1".to_owned(), Channel::Webhook), ("om_2".to_owned(), Channel::Webhook)]
    );
}

#[tokio::test]
async fn the_webhook_checks_stay_in_front_of_the_dispatcher() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let dispatcher = recording(&log).build();
    // A wrong signature, a stale timestamp, a wrong token: refused, nothing handled.
    let (mut headers, body) = signed(&message("e1", "om_1"));
    headers[2].1 = "0".repeat(64);
    assert_eq!(webhook().respond(&dispatcher, headers, &body, now()).await.status, 401);
    let (headers, body) = signed(&message("e1", "om_1"));
    assert_eq!(
        webhook()
            .respond(&dispatcher, headers, &body, now() + Duration::from_secs(600))
            .await
            .status,
        401
    );
    let mut forged = message("e1", "om_1");
    forged["header"]["token"] = json!("not-the-token");
    assert_eq!(post(&dispatcher, &forged).await.0, 401);
    assert_eq!(
        webhook()
            .respond(
                &dispatcher,
                Vec::<(String, String)>::new(),
                &message("e1", "om_1").to_string().into_bytes(),
                now()
            )
            .await
            .status,
        401
    );
    assert!(log.lock().unwrap().is_empty());
    // The challenge is answered without the dispatcher.
    let challenge = json!({"challenge": "c-1", "token": TOKEN, "type": "url_verification"});
    let answer = webhook()
        .respond(
            &dispatcher,
            Vec::<(String, String)>::new(),
            challenge.to_string().as_bytes(),
            now(),
        )
        .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, r#"{"challenge":"c-1"}"#));
    // A v1 event_callback reaches the same handler.
    let v1 = json!({"uuid": "u1", "token": TOKEN, "ts": "1", "type": "event_callback", "event": {"type": "im.message.receive_v1", "message": {"message_id": "om_v1"}}});
    assert_eq!(post(&dispatcher, &v1).await, (200, json!({})));
    assert_eq!(log.lock().unwrap().len(), 1);
}

/// A card callback: `ou_9` pressed a button.
fn button_pressed() -> Value {
    envelope(
        "c1",
        "card.action.trigger",
        json!({"operator": {"open_id": "ou_9"}, "action": {"tag": "button", "value": {}}}),
    )
}

#[tokio::test]
async fn card_callbacks_answer_with_their_response() {
    let mut builder = Dispatcher::builder();
    builder
        .on_callback(|_ctx, action: CardActionTrigger| async move {
            let toast = Toast::new(ToastKind::Warning, format!("{} pressed", action.action.tag));
            let card = CallbackCard::Template(
                CardTemplate::new("tpl_1")
                    .variables(json!({"by": action.operator.open_id}))
                    .version("1.0.0"),
            );
            Ok(CardActionResponse::toast(toast).with_card(card))
        })
        .unwrap()
        .on_callback(|_ctx, preview: UrlPreviewGet| async move {
            Ok(UrlPreviewResponse {
                inline: Some(events::InlinePreview {
                    title: preview.context.url.unwrap_or_default(),
                    ..Default::default()
                }),
                card: None,
            })
        })
        .unwrap();
    let dispatcher = builder.build();
    let action = button_pressed();
    assert_eq!(
        post(&dispatcher, &action).await,
        (
            200,
            json!({
                "toast": {"type": "warning", "content": "button pressed"},
                "card": {"type": "template", "data": {"template_id": "tpl_1", "template_variable": {"by": "ou_9"}, "template_version_name": "1.0.0"}},
            })
        )
    );
    let preview =
        envelope("p1", "url.preview.get", json!({"context": {"url": "https://example.com/x"}}));
    assert_eq!(
        post(&dispatcher, &preview).await,
        (200, json!({"inline": {"title": "https://example.com/x"}}))
    );
}

#[tokio::test]
async fn other_events_go_to_the_fallback_or_are_acknowledged() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut builder = Dispatcher::builder();
    {
        let seen = Arc::clone(&seen);
        builder
            .fallback(move |ctx, event| {
                let seen = Arc::clone(&seen);
                async move {
                    seen.lock().unwrap().push((ctx.event_type, event));
                    Ok(())
                }
            })
            .unwrap();
    }
    assert_eq!(
        builder.fallback(|_, _| async { Ok(()) }).unwrap_err(),
        RegisterError::DuplicateFallback
    );
    let dispatcher = builder.build();
    assert_eq!(
        post(&dispatcher, &envelope("x1", "drive.file.created_v1", json!({"file_token": "f"})))
            .await
            .0,
        200
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [("drive.file.created_v1".to_owned(), json!({"file_token": "f"}))]
    );
    // No fallback at all: still 200, so that the platform does not push it again.
    let empty = Dispatcher::builder().build();
    assert_eq!(
        post(&empty, &envelope("x2", "drive.file.created_v1", json!({}))).await,
        (200, json!({}))
    );
}

/// A dispatcher whose receive_v1 handler counts its runs in `calls`, lets
/// the runtime run once, then ends as `end` says for that run's number.
fn counting(calls: &Arc<Mutex<u32>>, end: fn(u32) -> Result<(), HandlerError>) -> Dispatcher {
    let mut builder = Dispatcher::builder();
    let calls = Arc::clone(calls);
    builder
        .on(move |_ctx, _ev: MessageReceived| {
            let calls = Arc::clone(&calls);
            async move {
                let run = {
                    let mut calls = calls.lock().unwrap();
                    *calls += 1;
                    *calls
                };
                tokio::task::yield_now().await;
                end(run)
            }
        })
        .unwrap();
    builder.build()
}

#[tokio::test]
async fn a_failed_handler_answers_500_and_its_retry_is_handled() {
    let calls = Arc::new(Mutex::new(0));
    let dispatcher = counting(&calls, |run| if run == 1 { Err("not now".into()) } else { Ok(()) });
    let (status, body) = post(&dispatcher, &message("e1", "om_1")).await;
    assert_eq!(status, 500);
    assert!(body["msg"].as_str().unwrap().contains("not now"), "{body}");
    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await.0, 200);
    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await.0, 200);
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_its_retry_is_handled() {
    let calls = Arc::new(Mutex::new(0));
    let dispatcher = counting(&calls, |run| {
        assert!(run > 1, "a handler bug");
        Ok(())
    });
    let (status, body) = post(&dispatcher, &message("e1", "om_1")).await;
    assert_eq!(status, 500);
    assert!(body["msg"].as_str().unwrap().contains("panicked: a handler bug"), "{body}");
    // Released like a failure: the retry runs the handler, later copies are duplicates.
    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await.0, 200);
    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await.0, 200);
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[test]
fn registering_an_event_type_twice_is_an_error() {
    let mut builder = Dispatcher::builder();
    builder.on(|_, _: MessageReceived| async { Ok(()) }).unwrap();
    let error = builder.on(|_, _: MessageReceived| async { Ok(()) }).unwrap_err();
    assert_eq!(error, RegisterError::Duplicate("im.message.receive_v1".to_owned()));
    assert!(error.to_string().contains("im.message.receive_v1"));
    let error = builder.on_callback(|_, _: MessageReceived| async { Ok(json!({})) }).unwrap_err();
    assert_eq!(error, RegisterError::Duplicate("im.message.receive_v1".to_owned()));
    let dispatcher = builder.build();
    assert!(dispatcher.handles("im.message.receive_v1"));
    assert!(!dispatcher.handles("card.action.trigger"));
}

/// An async store standing in for Redis: it records what was asked, and
/// answers after yielding. Keys map to `claim:<owner>` or `done`, as in
/// Redis; leases and TTLs are not kept (the tests here do not wait).
#[derive(Default)]
struct SharedStore {
    keys: Mutex<BTreeMap<String, String>>,
    calls: Mutex<Vec<String>>,
}

impl SharedStore {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl DedupStore for SharedStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        _lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.log(format!("claim {key}"));
            let mut keys = self.keys.lock().unwrap();
            Ok(match keys.get(key).map(String::as_str) {
                Some("done") => Claim::Committed,
                Some(_) => Claim::Held,
                None => {
                    keys.insert(key.to_owned(), format!("claim:{owner}"));
                    Claim::Acquired
                }
            })
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        _lease: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let held = self.keys.lock().unwrap().get(key) == Some(&format!("claim:{owner}"));
            Ok(held)
        })
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        _owner: &'a str,
        _ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.log(format!("commit {key}"));
            self.keys.lock().unwrap().insert(key.to_owned(), "done".to_owned());
            Ok(())
        })
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.log(format!("release {key}"));
            let mut keys = self.keys.lock().unwrap();
            if keys.get(key) == Some(&format!("claim:{owner}")) {
                keys.remove(key);
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn deduplication_goes_through_the_store() {
    let store = Arc::new(SharedStore::default());
    let log = Arc::new(Mutex::new(Vec::new()));
    // Two instances sharing one store handle an event once between them.
    let first = recording(&log).dedup_store(store.clone()).build();
    let second = recording(&log).dedup_store(store.clone()).build();
    assert_eq!(post(&first, &message("e1", "om_1")).await.0, 200);
    assert_eq!(post(&second, &message("e1", "om_1")).await.0, 200);
    assert_eq!(log.lock().unwrap().len(), 1);
    assert_eq!(
        *store.calls.lock().unwrap(),
        [
            "claim event:e1",
            "claim message:om_1",
            "commit event:e1",
            "commit message:om_1",
            "claim event:e1"
        ]
    );
}

#[tokio::test]
async fn a_copy_arriving_while_the_event_is_handled_waits_for_it() {
    let runs = Arc::new(Mutex::new(0));
    let mut builder = Dispatcher::builder();
    {
        let runs = Arc::clone(&runs);
        builder
            .on_callback(move |_ctx, _action: CardActionTrigger| {
                let runs = Arc::clone(&runs);
                async move {
                    let run = {
                        let mut runs = runs.lock().unwrap();
                        *runs += 1;
                        *runs
                    };
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if run == 1 {
                        Ok(CardActionResponse::toast(Toast::new(ToastKind::Success, "saved")))
                    } else {
                        Err("the second run fails".into())
                    }
                }
            })
            .unwrap();
    }
    let dispatcher = builder.build();
    let action = |id: &str| {
        events::parse_event(
            envelope(id, "card.action.trigger", json!({"action": {"tag": "button"}}))
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    };
    let (first, copy) =
        tokio::join!(dispatcher.dispatch(action("c1"), Channel::LongConnection), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            dispatcher.dispatch(action("c1"), Channel::LongConnection).await
        });
    let toast = json!({"toast": {"type": "success", "content": "saved"}});
    assert!(matches!(&first, events::Outcome::Handled { .. }), "{first:?}");
    assert!(matches!(&copy, events::Outcome::Duplicate { .. }), "{copy:?}");
    assert_eq!(
        (first.response(), copy.response()),
        (Some(&toast), Some(&toast)),
        "the copy is answered like the first"
    );
    // After the first run ended, a copy is a plain duplicate.
    let late = dispatcher.dispatch(action("c1"), Channel::Webhook).await;
    assert!(matches!(late, events::Outcome::Duplicate { response: None }), "{late:?}");
    assert_eq!(*runs.lock().unwrap(), 1);

    // A failing run fails its waiting copy too, and releases the event for the platform's retry.
    let (first, copy) =
        tokio::join!(dispatcher.dispatch(action("c2"), Channel::LongConnection), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            dispatcher.dispatch(action("c2"), Channel::LongConnection).await
        });
    assert_eq!((first.status(), copy.status()), (500, 500));
    assert_eq!(*runs.lock().unwrap(), 2);
    let retry = dispatcher.dispatch(action("c2"), Channel::LongConnection).await;
    assert_eq!(retry.status(), 500, "ran again (and failed again, as the third run does too)");
    assert_eq!(*runs.lock().unwrap(), 3);
}

/// `with_state`: every kind of handler gets the shared value as its last
/// argument, with no clone written by the user, and registering a type
/// twice is still refused.
#[tokio::test]
async fn handlers_with_state_share_it_without_cloning_it_themselves() {
    type Log = Arc<Mutex<Vec<String>>>;
    let log: Log = Arc::default();
    let mut builder = Dispatcher::builder();
    builder
        .with_state(Arc::clone(&log))
        .on(|_ctx, ev: MessageReceived, log: Log| async move {
            log.lock().unwrap().push(ev.message.message_id);
            Ok(())
        })
        .unwrap()
        .on_callback(|_ctx, action: CardActionTrigger, log: Log| async move {
            let seen = log.lock().unwrap().join(",");
            Ok(CardActionResponse::toast(Toast::new(
                ToastKind::Info,
                format!("{} after {seen}", action.action.tag),
            )))
        })
        .unwrap()
        .fallback(|ctx, _event, log: Log| async move {
            log.lock().unwrap().push(ctx.event_type);
            Ok(())
        })
        .unwrap();
    let mut again = builder.with_state(0_u8);
    let twice = again.on(|_ctx, _ev: MessageReceived, _n| async { Ok(()) }).map(|_| ());
    assert!(matches!(twice, Err(RegisterError::Duplicate(_))), "{twice:?}");
    let dispatcher = builder.build();

    assert_eq!(post(&dispatcher, &message("e1", "om_1")).await, (200, json!({})));
    assert_eq!(post(&dispatcher, &message("e2", "om_2")).await, (200, json!({})));
    let other = envelope("o1", "im.chat.disbanded_v1", json!({}));
    assert_eq!(post(&dispatcher, &other).await, (200, json!({})));
    let action = button_pressed();
    assert_eq!(
        post(&dispatcher, &action).await,
        (
            200,
            json!({"toast": {"type": "info", "content": "button after om_1,om_2,im.chat.disbanded_v1"}})
        )
    );
}

/// `on_error`: a program without a tracing subscriber sees each failed
/// delivery (an error, a panic, a timeout, a body of the wrong shape) with
/// its event, and nothing for one handled.
#[tokio::test(start_paused = true)]
async fn every_failed_delivery_reaches_the_error_hook() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut builder = Dispatcher::builder();
    builder
        .on(|_ctx, ev: MessageReceived| async move {
            match ev.message.message_id.as_str() {
                "om_fail" => Err("the model is down".into()),
                "om_panic" => panic!("handler bug"),
                "om_slow" => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok(())
                }
                _ => Ok(()),
            }
        })
        .unwrap()
        .handler_timeout(Duration::from_millis(50))
        .on_error({
            let seen = Arc::clone(&seen);
            move |failure| {
                seen.lock().unwrap().push(format!(
                    "{} {} {:?}: {}",
                    failure.event_type, failure.event_id, failure.channel, failure.error
                ));
            }
        });
    let dispatcher = builder.build();
    for (event_id, message_id) in
        [("e1", "om_ok"), ("e2", "om_fail"), ("e3", "om_panic"), ("e4", "om_slow")]
    {
        post(&dispatcher, &message(event_id, message_id)).await;
    }
    let wrong_shape = envelope("e5", "im.message.receive_v1", json!({"message": "user text 9f3e"}));
    assert_eq!(post(&dispatcher, &wrong_shape).await.0, 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    let receive = "im.message.receive_v1";
    assert_eq!(seen[0], format!("{receive} e2 Webhook: the model is down"));
    assert!(
        seen[1].starts_with(&format!("{receive} e3 Webhook: ")) && seen[1].contains("handler bug"),
        "{}",
        seen[1]
    );
    assert!(
        seen[2].starts_with(&format!("{receive} e4 Webhook: ")) && seen[2].contains("timeout"),
        "{}",
        seen[2]
    );
    assert!(
        seen[3].starts_with(&format!("{receive} e5 Webhook: "))
            && seen[3].contains("does not decode"),
        "{}",
        seen[3]
    );
    assert!(!seen[3].contains("9f3e"), "the body is not quoted: {}", seen[3]);
}
