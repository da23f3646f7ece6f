//! The IM endpoints with a behaviour of their own: send, reply, get, list,
//! recall, reactions and follow-ups, over the [`Store`](crate::store::Store).

use std::time::Instant;

use feishu_spec::{Constraints, EnumValue, Field, FieldType};
use serde_json::{Value, json};

use crate::call::Call;
use crate::ids::now_millis;
use crate::limits;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::store::{Chat, Message, Reaction, Sender, Store};
use crate::validate::{Violation, invalid_param};

/// The message types the sandbox accepts.
pub(crate) const MSG_TYPES: [&str; 10] = [
    "text",
    "post",
    "image",
    "file",
    "audio",
    "media",
    "sticker",
    "interactive",
    "share_chat",
    "share_user",
];

/// The id kinds a message can be sent to.
const RECEIVE_ID_TYPES: [&str; 5] = ["open_id", "user_id", "union_id", "email", "chat_id"];

/// Byte limits of `content`: text 150 KB, post and interactive 30 KB.
const TEXT_LIMIT: usize = 150 * 1024;
const CARD_LIMIT: usize = 30 * 1024;

/// A follow-up can only be added this long after the message was sent.
const FOLLOW_UP_WINDOW_MS: i64 = 600_000;

/// The fields checked for an endpoint the spec knows only by name.
#[derive(Debug, Default)]
pub(crate) struct BuiltinFields {
    pub path: Vec<Field>,
    pub query: Vec<Field>,
    pub body: Vec<Field>,
}

/// Fields for the endpoints this module serves, used when the spec has no detail page for them.
pub(crate) fn builtin_fields(endpoint_id: &str) -> Option<BuiltinFields> {
    let message_id = || vec![string("message_id", true)];
    let fields = match endpoint_id {
        "im.v1.message.create" => BuiltinFields {
            query: vec![one_of(string("receive_id_type", true), &RECEIVE_ID_TYPES)],
            body: vec![
                string("receive_id", true),
                one_of(string("msg_type", true), &MSG_TYPES),
                string("content", true),
                max_length(string("uuid", false), 50),
            ],
            ..BuiltinFields::default()
        },
        "im.v1.message.reply" => BuiltinFields {
            path: message_id(),
            body: vec![
                one_of(string("msg_type", true), &MSG_TYPES),
                string("content", true),
                Field {
                    name: "reply_in_thread".into(),
                    field_type: FieldType::Boolean,
                    ..Field::default()
                },
                max_length(string("uuid", false), 50),
            ],
            ..BuiltinFields::default()
        },
        "im.v1.message.list" => BuiltinFields {
            query: vec![
                one_of(string("container_id_type", true), &["chat", "thread"]),
                string("container_id", true),
                string("start_time", false),
                string("end_time", false),
                one_of(string("sort_type", false), &["ByCreateTimeAsc", "ByCreateTimeDesc"]),
                Field {
                    name: "page_size".into(),
                    field_type: FieldType::Integer,
                    constraints: Constraints {
                        minimum: Some(1.into()),
                        maximum: Some(50.into()),
                        ..Constraints::default()
                    },
                    ..Field::default()
                },
                string("page_token", false),
            ],
            ..BuiltinFields::default()
        },
        "im.v1.message.get" | "im.v1.message.delete" => {
            BuiltinFields { path: message_id(), ..BuiltinFields::default() }
        }
        "im.v1.message_reaction.create" => BuiltinFields {
            path: message_id(),
            body: vec![Field {
                name: "reaction_type".into(),
                field_type: FieldType::Object,
                required: true,
                children: vec![string("emoji_type", true)],
                ..Field::default()
            }],
            ..BuiltinFields::default()
        },
        "im.v1.message.push_follow_up" => BuiltinFields {
            path: message_id(),
            body: vec![Field {
                name: "follow_ups".into(),
                field_type: FieldType::Array,
                item_type: Some(FieldType::Object),
                required: true,
                constraints: Constraints {
                    min_items: Some(1),
                    max_items: Some(3),
                    ..Constraints::default()
                },
                children: vec![Field {
                    constraints: Constraints {
                        min_length: Some(1),
                        max_length: Some(200),
                        ..Constraints::default()
                    },
                    ..string("content", true)
                }],
                ..Field::default()
            }],
            ..BuiltinFields::default()
        },
        _ => return None,
    };
    Some(fields)
}

fn string(name: &str, required: bool) -> Field {
    Field { name: name.into(), field_type: FieldType::String, required, ..Field::default() }
}

fn one_of(mut field: Field, values: &[&str]) -> Field {
    field.constraints.enum_values = values
        .iter()
        .map(|v| EnumValue { value: (*v).into(), description: String::new() })
        .collect();
    field
}

fn max_length(mut field: Field, max: u64) -> Field {
    field.constraints.max_length = Some(max);
    field
}

/// Serves `call` if its endpoint has a behaviour here.
pub(crate) fn handle(shared: &Shared, call: &Call<'_>) -> Option<Reply> {
    let reply = match call.endpoint.id.as_str() {
        "im.v1.message.create" => send(shared, call),
        "im.v1.message.reply" => reply(shared, call),
        "im.v1.message.get" => get(shared, call),
        "im.v1.message.list" => list(shared, call),
        "im.v1.message.delete" => recall(shared, call),
        "im.v1.message_reaction.create" => react(shared, call),
        "im.v1.message.push_follow_up" => push_follow_up(shared, call),
        _ => return None,
    };
    Some(reply.unwrap_or_else(|error| error))
}

fn invalid(call: &Call<'_>, field: &str, rule: impl Into<String>) -> Reply {
    invalid_param(call.endpoint, &Violation { field: field.into(), rule: rule.into() })
}

fn required_str<'a>(call: &'a Call<'_>, name: &str) -> Result<&'a str, Reply> {
    call.str_field(name).ok_or_else(|| invalid(call, name, "is required"))
}

/// Checks `msg_type` and `content` (shape, then size); answers them.
fn message_content<'a>(call: &'a Call<'_>) -> Result<(&'a str, &'a str), Reply> {
    let msg_type = required_str(call, "msg_type")?;
    let content = required_str(call, "content")?;
    if !MSG_TYPES.contains(&msg_type) {
        return Err(invalid(
            call,
            "msg_type",
            format!("{msg_type:?} is not one of {}", MSG_TYPES.join(", ")),
        ));
    }
    let limit = match msg_type {
        "text" => Some(TEXT_LIMIT),
        "post" | "interactive" => Some(CARD_LIMIT),
        _ => None,
    };
    if let Some(limit) = limit
        && content.len() > limit
    {
        return Err(Reply::error(
            230025,
            format!(
                "The length of the message content reaches its limit: {} bytes, at most {limit} for {msg_type}",
                content.len()
            ),
        ));
    }
    if let Err(rule) = content_shape(msg_type, content) {
        return Err(invalid(call, "content", rule));
    }
    Ok((msg_type, content))
}

/// Whether `content` is a JSON object of the shape `msg_type` needs.
pub(crate) fn content_shape(msg_type: &str, content: &str) -> Result<(), String> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(content) else {
        return Err("must be a JSON object serialised as a string".into());
    };
    let needs_string = |key: &str| match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err(format!("{msg_type} content needs a non-empty string {key:?}")),
    };
    match msg_type {
        "text" => match object.get("text") {
            Some(Value::String(_)) => Ok(()),
            _ => Err("text content needs a string \"text\"".into()),
        },
        "post" => {
            let is_post = |value: &Value| value.get("content").is_some_and(Value::is_array);
            let inner = object.get("post").and_then(Value::as_object).unwrap_or(&object);
            if is_post(&Value::Object(inner.clone())) || inner.values().any(is_post) {
                Ok(())
            } else {
                Err("post content needs {\"title\", \"content\": [[…]]} or a language key such as \"zh_cn\" holding one".into())
            }
        }
        "image" => needs_string("image_key"),
        "file" | "audio" | "media" | "sticker" => needs_string("file_key"),
        "share_chat" => needs_string("chat_id"),
        "share_user" => needs_string("user_id"),
        "interactive" if object.is_empty() => Err("interactive content needs a card object".into()),
        _ => Ok(()),
    }
}

fn new_message(
    shared: &Shared,
    chat_id: &str,
    msg_type: &str,
    content: &str,
    uuid: Option<&str>,
) -> Message {
    let now = now_millis();
    Message {
        seq: 0,
        message_id: shared.ids.with_prefix("om_"),
        root_id: None,
        parent_id: None,
        thread_id: None,
        chat_id: chat_id.into(),
        msg_type: msg_type.into(),
        content: content.into(),
        uuid: uuid.map(Into::into),
        sender: Sender::App,
        sender_id: shared.config.app_id.clone(),
        create_time: now,
        update_time: now,
        deleted: false,
        follow_ups: Vec::new(),
        reactions: Vec::new(),
    }
}

/// The per-chat limit of message sends and replies; called with the store locked.
fn chat_limit(shared: &Shared, chat_id: &str) -> Result<(), Reply> {
    if !shared.config.rate_limits {
        return Ok(());
    }
    match lock(&shared.limits).hit(
        &format!("chat:{chat_id}"),
        &limits::chat_rules(&shared.config.spec),
        Instant::now(),
    ) {
        Ok(()) => Ok(()),
        Err(exceeded) => {
            shared.count_rate_limited();
            Err(Reply::rate_limited(99991400, exceeded.limit, exceeded.reset_secs))
        }
    }
}

fn send(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let id_type = call
        .query("receive_id_type")
        .ok_or_else(|| invalid(call, "receive_id_type", "is required"))?;
    if !RECEIVE_ID_TYPES.contains(&id_type) {
        return Err(invalid(
            call,
            "receive_id_type",
            format!("{id_type:?} is not one of {}", RECEIVE_ID_TYPES.join(", ")),
        ));
    }
    let receive_id = required_str(call, "receive_id")?;
    let (msg_type, content) = message_content(call)?;
    let uuid = call.str_field("uuid");
    let tenant_store = shared.store_for(&call.tenant_key);
    let mut store = lock(&tenant_store);
    if let Some(first) = uuid.and_then(|u| store.by_uuid(u)) {
        return Ok(Reply::success(first.api_json()));
    }
    let chat_id = if id_type == "chat_id" {
        match store.chat(receive_id) {
            Some(chat) => chat.chat_id.clone(),
            None => {
                return Err(invalid(
                    call,
                    "receive_id",
                    format!("chat {receive_id:?} does not exist"),
                ));
            }
        }
    } else if let Some(chat) = store.p2p_chat_with(id_type, receive_id) {
        chat.chat_id.clone()
    } else {
        let chat_id = shared.ids.with_prefix("oc_");
        store.add_p2p_chat(
            id_type,
            receive_id,
            Chat { chat_id: chat_id.clone(), p2p: true, user: Some(receive_id.into()) },
        );
        chat_id
    };
    chat_limit(shared, &chat_id)?;
    let message = new_message(shared, &chat_id, msg_type, content, uuid);
    Ok(Reply::success(store.insert(message).api_json()))
}

fn reply(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let parent_id = call.path_param("message_id");
    let (msg_type, content) = message_content(call)?;
    let uuid = call.str_field("uuid");
    let in_thread = call.field("reply_in_thread").and_then(Value::as_bool).unwrap_or(false);
    let tenant_store = shared.store_for(&call.tenant_key);
    let mut store = lock(&tenant_store);
    if let Some(first) = uuid.and_then(|u| store.by_uuid(u)) {
        return Ok(Reply::success(first.api_json()));
    }
    let parent = store.get(parent_id).ok_or_else(|| {
        invalid(call, "message_id", format!("message {parent_id:?} does not exist"))
    })?;
    if parent.deleted {
        return Err(Reply::error(230011, "The message is recalled."));
    }
    let chat_id = parent.chat_id.clone();
    let root_id = parent.root_id.clone().unwrap_or_else(|| parent.message_id.clone());
    let thread_id = match (&parent.thread_id, in_thread) {
        (Some(thread), _) => Some(thread.clone()),
        (None, true) => Some(format!("omt_{}", &shared.ids.hex32()[..16])),
        (None, false) => None,
    };
    chat_limit(shared, &chat_id)?;
    if let (Some(thread), Some(root)) = (&thread_id, store.get_mut(&root_id))
        && root.thread_id.is_none()
    {
        root.thread_id = Some(thread.clone());
    }
    let mut message = new_message(shared, &chat_id, msg_type, content, uuid);
    message.root_id = Some(root_id);
    message.parent_id = Some(parent_id.to_string());
    message.thread_id = thread_id;
    Ok(Reply::success(store.insert(message).api_json()))
}

fn get(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let message_id = call.path_param("message_id");
    let tenant_store = shared.store_for(&call.tenant_key);
    let store = lock(&tenant_store);
    let message = store.get(message_id).ok_or_else(|| {
        invalid(call, "message_id", format!("message {message_id:?} does not exist"))
    })?;
    Ok(Reply::success(json!({ "items": [message.api_json()] })))
}

fn list(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let container_type = call
        .query("container_id_type")
        .ok_or_else(|| invalid(call, "container_id_type", "is required"))?;
    let container_id =
        call.query("container_id").ok_or_else(|| invalid(call, "container_id", "is required"))?;
    let page_size = match call.query("page_size") {
        None => 20,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => n,
            _ => {
                return Err(invalid(
                    call,
                    "page_size",
                    format!("{text:?} is not an integer from 1 to 50"),
                ));
            }
        },
    };
    let offset = match call.query("page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token.parse::<usize>().map_err(|_| {
            invalid(
                call,
                "page_token",
                format!("{token:?} is not a page token this sandbox gave out"),
            )
        })?,
    };
    let seconds = |name: &str| -> Result<Option<i64>, Reply> {
        match call.query(name).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(text) => text
                .parse::<i64>()
                .map(Some)
                .map_err(|_| invalid(call, name, format!("{text:?} is not a time in seconds"))),
        }
    };
    let (start, end) = (seconds("start_time")?, seconds("end_time")?);
    let tenant_store = shared.store_for(&call.tenant_key);
    let store = lock(&tenant_store);
    let mut messages: Vec<&Message> = match container_type {
        "chat" => {
            if store.chat(container_id).is_none() {
                return Err(invalid(
                    call,
                    "container_id",
                    format!("chat {container_id:?} does not exist"),
                ));
            }
            store.chat_messages(container_id)
        }
        "thread" => store
            .messages()
            .iter()
            .filter(|m| m.thread_id.as_deref() == Some(container_id))
            .collect(),
        other => {
            return Err(invalid(
                call,
                "container_id_type",
                format!("{other:?} is not one of chat, thread"),
            ));
        }
    };
    messages.sort_by_key(|m| (m.create_time, m.seq));
    messages.retain(|m| {
        start.is_none_or(|s| m.create_time >= s * 1000)
            && end.is_none_or(|e| m.create_time <= e * 1000)
    });
    if call.query("sort_type") == Some("ByCreateTimeDesc") {
        messages.reverse();
    }
    let items: Vec<Value> =
        messages.iter().skip(offset).take(page_size).map(|m| m.api_json()).collect();
    let has_more = offset + page_size < messages.len();
    let mut data = json!({ "has_more": has_more, "items": items });
    if has_more {
        data["page_token"] = (offset + page_size).to_string().into();
    }
    lock(&shared.paging).apply(call.query("page_token"), &mut data);
    Ok(Reply::success(data))
}

fn recall(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let message_id = call.path_param("message_id");
    let tenant_store = shared.store_for(&call.tenant_key);
    let mut store = lock(&tenant_store);
    let message = store.get_mut(message_id).ok_or_else(|| {
        invalid(call, "message_id", format!("message {message_id:?} does not exist"))
    })?;
    if message.deleted {
        return Err(Reply::error(230011, "The message is recalled."));
    }
    message.deleted = true;
    Ok(Reply::success(json!({})))
}

fn react(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let message_id = call.path_param("message_id");
    let emoji_type = call
        .field("reaction_type")
        .and_then(|r| r.get("emoji_type"))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(call, "reaction_type.emoji_type", "is required"))?;
    let tenant_store = shared.store_for(&call.tenant_key);
    let mut store = lock(&tenant_store);
    let message = match store.get_mut(message_id) {
        Some(message) if !message.deleted => message,
        _ => {
            return Err(Reply::error(
                231003,
                "The message is not found, maybe not exist or deleted.",
            ));
        }
    };
    let reaction = Reaction {
        reaction_id: shared.ids.hex32(),
        emoji_type: emoji_type.into(),
        action_time: now_millis(),
    };
    let data = json!({
        "reaction_id": reaction.reaction_id,
        "operator": { "operator_id": shared.config.app_id, "operator_type": "app" },
        "action_time": reaction.action_time.to_string(),
        "reaction_type": { "emoji_type": reaction.emoji_type },
    });
    message.reactions.push(reaction);
    Ok(Reply::success(data))
}

fn push_follow_up(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let message_id = call.path_param("message_id");
    let follow_ups = call
        .field("follow_ups")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| invalid(call, "follow_ups", "is required"))?;
    let tenant_store = shared.store_for(&call.tenant_key);
    let mut store = lock(&tenant_store);
    follow_up_allowed(&store, call, message_id, now_millis())?;
    if let Some(message) = store.get_mut(message_id) {
        message.follow_ups = follow_ups;
    }
    Ok(Reply::success(json!({})))
}

/// The rules of push_follow_up, in the order they are checked.
fn follow_up_allowed(
    store: &Store,
    call: &Call<'_>,
    message_id: &str,
    now: i64,
) -> Result<(), Reply> {
    let message = match store.get(message_id) {
        Some(message) if !message.deleted => message,
        _ => {
            return Err(invalid(
                call,
                "message_id",
                format!("message {message_id:?} does not exist or was recalled"),
            ));
        }
    };
    if !store.chat(&message.chat_id).is_some_and(|c| c.p2p) {
        return Err(Reply::error(230003, "only support p2p chat."));
    }
    if message.sender != Sender::App {
        return Err(invalid(call, "message_id", "the message was not sent by the bot"));
    }
    if store
        .latest_in_chat(&message.chat_id)
        .is_some_and(|latest| latest.message_id != message.message_id)
    {
        return Err(Reply::error(230006, "only support latest message."));
    }
    if now - message.create_time >= FOLLOW_UP_WINDOW_MS {
        return Err(Reply::error(230002, "expired message."));
    }
    if !message.follow_ups.is_empty() {
        return Err(Reply::error(230008, "follow up already exist."));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_shapes() {
        assert!(content_shape("text", r#"{"text":"hi"}"#).is_ok());
        assert!(content_shape("text", r#"{"txt":"hi"}"#).is_err());
        assert!(content_shape("text", r#""hi""#).is_err());
        assert!(content_shape("text", "not json").is_err());
        assert!(
            content_shape(
                "post",
                r#"{"zh_cn":{"title":"t","content":[[{"tag":"text","text":"x"}]]}}"#
            )
            .is_ok()
        );
        assert!(content_shape("post", r#"{"title":"t","content":[]}"#).is_ok());
        assert!(content_shape("post", r#"{"post":{"en_us":{"content":[]}}}"#).is_ok());
        assert!(content_shape("post", r#"{"title":"t"}"#).is_err());
        assert!(content_shape("image", r#"{"image_key":"img_1"}"#).is_ok());
        assert!(content_shape("image", r#"{"file_key":"f"}"#).is_err());
        for t in ["file", "audio", "media", "sticker"] {
            assert!(content_shape(t, r#"{"file_key":"f"}"#).is_ok());
            assert!(content_shape(t, r#"{"file_key":""}"#).is_err());
        }
        assert!(
            content_shape("interactive", r#"{"type":"template","data":{"template_id":"x"}}"#)
                .is_ok()
        );
        assert!(content_shape("interactive", r#"{}"#).is_err());
        assert!(content_shape("share_chat", r#"{"chat_id":"oc_1"}"#).is_ok());
        assert!(content_shape("share_user", r#"{"user_id":"ou_1"}"#).is_ok());
        assert!(content_shape("share_user", r#"{"chat_id":"oc_1"}"#).is_err());
    }

    #[test]
    fn builtin_fields_cover_the_served_endpoints() {
        for id in [
            "im.v1.message.create",
            "im.v1.message.reply",
            "im.v1.message.list",
            "im.v1.message.get",
            "im.v1.message.delete",
            "im.v1.message_reaction.create",
            "im.v1.message.push_follow_up",
        ] {
            assert!(builtin_fields(id).is_some(), "{id}");
        }
        assert!(builtin_fields("im.v1.pin.create").is_none());
    }
}
