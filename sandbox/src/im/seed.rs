//! Messages made by the control API: a seeded message
//! (`POST /_sandbox/messages`) and a user's message delivered as an event in
//! one call (`POST /_sandbox/events` with `user_message`).

use serde_json::{Value, json};

use super::new_message;
use crate::state::{Shared, lock};
use crate::store::Sender;

/// Seeds a message for `POST /_sandbox/messages`: no limits, any sender, any age.
pub(crate) fn seed(shared: &Shared, request: &Value) -> Result<Value, String> {
    let text = |name: &str| request.get(name).and_then(Value::as_str);
    let chat_id = text("chat_id").ok_or("chat_id is required")?;
    let msg_type = text("msg_type").unwrap_or("text");
    let content = match request.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(value @ Value::Object(_)) => value.to_string(),
        _ => {
            return Err(
                "content is required: a JSON string (or an object, which is serialised)".into()
            );
        }
    };
    let sender = match text("sender_type").unwrap_or("app") {
        "app" => Sender::App,
        "user" => Sender::User,
        other => return Err(format!("sender_type {other:?} is not app or user")),
    };
    let age = match request.get("age_seconds") {
        None | Some(Value::Null) => 0.0,
        Some(value) => {
            value.as_f64().filter(|a| *a >= 0.0).ok_or("age_seconds must be a number ≥ 0")?
        }
    };
    let mut store = lock(&shared.store);
    let chat = store.chat(chat_id).ok_or_else(|| {
        format!("chat {chat_id:?} does not exist; create it with POST /_sandbox/chats")
    })?;
    let user = chat.user.clone();
    let mut message = new_message(shared, chat_id, msg_type, &content, text("uuid"));
    message.create_time -= (age * 1000.0) as i64;
    message.update_time = message.create_time;
    if sender == Sender::User {
        message.sender = Sender::User;
        message.sender_id = user.unwrap_or_else(|| crate::store::DEFAULT_USER.into());
    }
    if let Some(parent_id) = text("parent_id") {
        let parent = store
            .get(parent_id)
            .ok_or_else(|| format!("parent message {parent_id:?} does not exist"))?;
        message.root_id = Some(parent.root_id.clone().unwrap_or_else(|| parent.message_id.clone()));
        message.parent_id = Some(parent_id.into());
    }
    Ok(store.insert(message).control_json())
}

/// `POST /_sandbox/events` with `user_message: {chat_id, text}`: stores the
/// user's text message in the chat (as `POST /_sandbox/messages` with
/// `sender_type: user` would) and returns `request` with the complete
/// `im.message.receive_v1` body of that message in its place, ready to deliver.
pub(crate) fn user_message_event(shared: &Shared, request: &Value) -> Result<Value, String> {
    let message = &request["user_message"];
    let chat_id =
        message.get("chat_id").and_then(Value::as_str).ok_or("user_message.chat_id is required")?;
    let text =
        message.get("text").and_then(Value::as_str).ok_or("user_message.text is required")?;
    let stored = seed(
        shared,
        &json!({ "chat_id": chat_id, "msg_type": "text", "content": { "text": text }, "sender_type": "user" }),
    )?;
    let store = lock(&shared.store);
    let message_id = stored["message_id"].as_str().unwrap_or_default();
    let message = store.get(message_id).ok_or("the stored message went missing")?;
    let p2p = store.chat(chat_id).is_some_and(|chat| chat.p2p);
    let event = json!({
        "sender": {
            "sender_id": { "open_id": message.sender_id },
            "sender_type": "user",
            "tenant_key": crate::store::TENANT_KEY,
        },
        "message": {
            "message_id": message.message_id,
            "root_id": message.root_id,
            "parent_id": message.parent_id,
            "create_time": message.create_time.to_string(),
            "update_time": message.update_time.to_string(),
            "chat_id": message.chat_id,
            "chat_type": if p2p { "p2p" } else { "group" },
            "message_type": message.msg_type,
            "content": message.content,
            "mentions": [],
        },
    });
    let mut request = request.clone();
    let fields = request.as_object_mut().ok_or("the request is not a JSON object")?;
    fields.remove("user_message");
    fields.insert("event_type".into(), "im.message.receive_v1".into());
    fields.insert("event".into(), event);
    Ok(request)
}
