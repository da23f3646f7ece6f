//! The IM endpoints with a behaviour of their own: send, reply, get, list,
//! recall, reactions and follow-ups, over the [`Store`](crate::store::Store);
//! one module each for the endpoints (`messages`), `content` checks, the
//! `builtin` fields and the control API's messages (`seed`).

mod builtin;
mod content;
mod messages;
mod seed;

use std::time::Instant;

use crate::call::Call;
use crate::ids::now_millis;
use crate::limits;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::store::{Message, Sender};
use crate::validate::{Violation, invalid_param};
pub(crate) use builtin::builtin_fields;
use messages::{get, list, push_follow_up, react, recall, reply, send};
pub(crate) use seed::{seed, user_message_event};

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
fn chat_limit(shared: &Shared, chat_id: &str, at: Instant) -> Result<(), Reply> {
    if !shared.config.rate_limits {
        return Ok(());
    }
    match lock(&shared.limits).hit(
        &format!("chat:{chat_id}"),
        &limits::chat_rules(&shared.config.spec),
        at,
    ) {
        Ok(()) => Ok(()),
        Err(exceeded) => {
            shared.count_rate_limited();
            Err(Reply::rate_limited(99991400, exceeded.limit, exceeded.reset_secs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::content::content_shape;
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
