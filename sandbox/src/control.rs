//! The `/_sandbox` control API for tests: inspect, seed, inject faults, deliver events, reset.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::paging::TokenMode;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::store::Chat;
use crate::{events, im};

/// Answers one control call.
pub(crate) async fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Reply {
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(error) => {
                return Reply::control_error(400, format!("the body is not valid JSON: {error}"));
            }
        }
    };
    let call = path.trim_start_matches("/_sandbox").trim_matches('/');
    match (method, call) {
        ("GET", "messages") => {
            let messages: Vec<Value> =
                lock(&shared.store).messages().iter().map(|m| m.control_json()).collect();
            Reply::plain_json(200, json!({ "messages": messages }))
        }
        ("POST", "messages") => match im::seed(shared, &request) {
            Ok(message) => Reply::plain_json(200, message),
            Err(error) => Reply::control_error(400, error),
        },
        ("GET", "requests") => {
            let requests: Vec<Value> =
                lock(&shared.requests).iter().map(|(_, r)| r.clone()).collect();
            Reply::plain_json(200, json!({ "requests": requests }))
        }
        ("DELETE", "requests") => {
            lock(&shared.requests).clear();
            ok()
        }
        ("POST", "chats") => create_chat(shared, &request),
        ("GET", "faults") => Reply::plain_json(200, lock(&shared.faults).to_json()),
        ("POST", "faults") => match lock(&shared.faults).add(&request) {
            Ok(id) => Reply::plain_json(200, json!({ "id": id })),
            Err(error) => Reply::control_error(400, error),
        },
        ("DELETE", "faults") => {
            lock(&shared.faults).clear();
            ok()
        }
        ("GET", "files") => Reply::plain_json(200, lock(&shared.files).control_json()),
        ("POST", "pagination") => match TokenMode::from_request(&request) {
            Ok(mode) => {
                *lock(&shared.paging) = mode;
                ok()
            }
            Err(error) => Reply::control_error(400, error),
        },
        ("POST", "expire_tokens") => {
            lock(&shared.tokens).expire_all();
            ok()
        }
        ("POST", "events") if request.get("user_message").is_some() => {
            match im::user_message_event(shared, &request) {
                Ok(request) if request.get("via").is_some() => {
                    crate::ws::deliver(shared, &request).await
                }
                Ok(request) => events::deliver(shared, &request).await,
                Err(error) => Reply::control_error(400, error),
            }
        }
        ("POST", "events") if request.get("via").is_some() => {
            crate::ws::deliver(shared, &request).await
        }
        ("POST", "events") => events::deliver(shared, &request).await,
        (_, "portal" | "portal/answers") => crate::portal::control(shared, method, call, &request),
        ("POST", "reset") => {
            shared.portal.reset();
            lock(&shared.store).clear();
            crate::tenants::reset(shared);
            lock(&shared.requests).clear();
            lock(&shared.faults).clear();
            lock(&shared.limits).clear();
            lock(&shared.files).clear();
            *lock(&shared.paging) = TokenMode::Normal;
            for counter in
                [&shared.stats.requests, &shared.stats.rate_limited, &shared.stats.faults_injected]
            {
                counter.store(0, Ordering::Relaxed);
            }
            ok()
        }
        ("GET", "stats") => {
            let messages = lock(&shared.store).messages().len();
            Reply::plain_json(
                200,
                json!({
                    "requests": shared.stats.requests.load(Ordering::Relaxed),
                    "rate_limited": shared.stats.rate_limited.load(Ordering::Relaxed),
                    "faults_injected": shared.stats.faults_injected.load(Ordering::Relaxed),
                    "messages": messages,
                    "ws_connections": shared.ws.connections(),
                    "ws_acks": shared.ws.acks(),
                }),
            )
        }
        _ => match crate::tenants::control(shared, method, call, &request)
            .await
            .or_else(|| crate::oauth::control(shared, method, call, &request))
        {
            Some(reply) => reply,
            None => Reply::control_error(404, format!("no control call {method} /_sandbox/{call}")),
        },
    }
}

fn ok() -> Reply {
    Reply::plain_json(200, json!({ "ok": true }))
}

/// `POST /_sandbox/chats`: a p2p chat with a user (the existing one if there is one), or a group.
fn create_chat(shared: &Shared, request: &Value) -> Reply {
    let user = request.get("user_open_id").and_then(Value::as_str);
    let mut store = lock(&shared.store);
    let chat = match request.get("chat_type").and_then(Value::as_str) {
        Some("p2p") => {
            let user = user.map(str::to_string).unwrap_or_else(|| shared.ids.with_prefix("ou_"));
            match store.p2p_chat_with("open_id", &user) {
                Some(existing) => existing.clone(),
                None => {
                    let chat = Chat {
                        chat_id: shared.ids.with_prefix("oc_"),
                        p2p: true,
                        user: Some(user),
                    };
                    store.add_chat(chat.clone());
                    chat
                }
            }
        }
        Some("group") => {
            let chat = Chat { chat_id: shared.ids.with_prefix("oc_"), p2p: false, user: None };
            store.add_chat(chat.clone());
            chat
        }
        _ => return Reply::control_error(400, "chat_type must be \"p2p\" or \"group\""),
    };
    Reply::plain_json(
        200,
        json!({ "chat_id": chat.chat_id, "chat_type": if chat.p2p { "p2p" } else { "group" }, "user_open_id": chat.user }),
    )
}
