//! The message endpoints: send, reply, get, list, recall, reactions, and
//! follow-ups within their window.

use serde_json::{Value, json};

use super::builtin::RECEIVE_ID_TYPES;
use super::content::message_content;
use super::{chat_limit, invalid, new_message, required_str};
use crate::call::Call;
use crate::ids::now_millis;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::store::{Chat, Message, Reaction, Sender, Store};

/// A follow-up can only be added this long after the message was sent.
pub(super) const FOLLOW_UP_WINDOW_MS: i64 = 600_000;

pub(super) fn send(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
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
    chat_limit(shared, &chat_id, call.at)?;
    let message = new_message(shared, &chat_id, msg_type, content, uuid);
    Ok(Reply::success(store.insert(message).api_json()))
}

pub(super) fn reply(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
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
    chat_limit(shared, &chat_id, call.at)?;
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

pub(super) fn get(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
    let message_id = call.path_param("message_id");
    let tenant_store = shared.store_for(&call.tenant_key);
    let store = lock(&tenant_store);
    let message = store.get(message_id).ok_or_else(|| {
        invalid(call, "message_id", format!("message {message_id:?} does not exist"))
    })?;
    Ok(Reply::success(json!({ "items": [message.api_json()] })))
}

pub(super) fn list(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
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

pub(super) fn recall(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
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

pub(super) fn react(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
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

pub(super) fn push_follow_up(shared: &Shared, call: &Call<'_>) -> Result<Reply, Reply> {
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
pub(super) fn follow_up_allowed(
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
