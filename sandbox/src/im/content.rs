//! A message's `content` checked against its `msg_type`: JSON of the right
//! shape, within the documented byte limits.

use serde_json::Value;

use super::builtin::MSG_TYPES;
use super::{invalid, required_str};
use crate::call::Call;
use crate::reply::Reply;

/// Byte limits of `content`: text 150 KB, post and interactive 30 KB.
pub(super) const TEXT_LIMIT: usize = 150 * 1024;

pub(super) const CARD_LIMIT: usize = 30 * 1024;

/// Checks `msg_type` and `content` (shape, then size); answers them.
pub(super) fn message_content<'a>(call: &'a Call<'_>) -> Result<(&'a str, &'a str), Reply> {
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
