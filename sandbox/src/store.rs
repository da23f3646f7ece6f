//! The in-memory state of the IM service: chats, messages, uuid keys,
//! reactions and follow-ups.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a `uuid` keeps answering with its first message.
pub(crate) const UUID_TTL: Duration = Duration::from_secs(3600);

/// The tenant every sandbox app belongs to.
pub(crate) const TENANT_KEY: &str = "sandbox-tenant";

/// The open_id that user messages come from when the chat names no user.
pub(crate) const DEFAULT_USER: &str = "ou_sandbox_user";

/// A chat the bot is in.
#[derive(Debug, Clone)]
pub(crate) struct Chat {
    pub chat_id: String,
    pub p2p: bool,
    /// For a p2p chat, the user's id (as it was given).
    pub user: Option<String>,
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    /// The bot itself.
    App,
    /// A person in the chat.
    User,
}

/// A reaction on a message.
#[derive(Debug, Clone)]
pub(crate) struct Reaction {
    pub reaction_id: String,
    pub emoji_type: String,
    pub action_time: i64,
}

/// A stored message.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub seq: u64,
    pub message_id: String,
    pub root_id: Option<String>,
    pub parent_id: Option<String>,
    pub thread_id: Option<String>,
    pub chat_id: String,
    pub msg_type: String,
    pub content: String,
    pub uuid: Option<String>,
    pub sender: Sender,
    pub sender_id: String,
    pub create_time: i64,
    pub update_time: i64,
    pub deleted: bool,
    pub follow_ups: Vec<Value>,
    pub reactions: Vec<Reaction>,
}

impl Message {
    /// The message as the Feishu API shows it.
    pub(crate) fn api_json(&self) -> Value {
        let (id_type, sender_type) = match self.sender {
            Sender::App => ("app_id", "app"),
            Sender::User => ("open_id", "user"),
        };
        let mut value = json!({
            "message_id": self.message_id,
            "root_id": self.root_id,
            "parent_id": self.parent_id,
            "msg_type": self.msg_type,
            "create_time": self.create_time.to_string(),
            "update_time": self.update_time.to_string(),
            "deleted": self.deleted,
            "updated": self.update_time != self.create_time,
            "chat_id": self.chat_id,
            "sender": { "id": self.sender_id, "id_type": id_type, "sender_type": sender_type, "tenant_key": TENANT_KEY },
            "body": { "content": self.content },
        });
        if let Some(map) = value.as_object_mut() {
            if self.root_id.is_none() {
                map.remove("root_id");
            }
            if self.parent_id.is_none() {
                map.remove("parent_id");
            }
            if let Some(thread_id) = &self.thread_id {
                map.insert("thread_id".into(), thread_id.clone().into());
            }
        }
        value
    }

    /// The message as the control API shows it.
    pub(crate) fn control_json(&self) -> Value {
        json!({
            "message_id": self.message_id,
            "root_id": self.root_id,
            "parent_id": self.parent_id,
            "thread_id": self.thread_id,
            "chat_id": self.chat_id,
            "msg_type": self.msg_type,
            "content": self.content,
            "uuid": self.uuid,
            "sender_type": match self.sender { Sender::App => "app", Sender::User => "user" },
            "create_time": self.create_time.to_string(),
            "update_time": self.update_time.to_string(),
            "deleted": self.deleted,
            "follow_ups": self.follow_ups,
            "reactions": self.reactions.iter().map(|r| json!({
                "reaction_id": r.reaction_id,
                "emoji_type": r.emoji_type,
                "action_time": r.action_time.to_string(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Chats, messages and idempotency keys.
#[derive(Debug, Default)]
pub(crate) struct Store {
    chats: HashMap<String, Chat>,
    p2p_by_user: HashMap<String, String>,
    messages: Vec<Message>,
    by_id: HashMap<String, usize>,
    uuids: HashMap<String, (String, Instant)>,
    next_seq: u64,
}

impl Store {
    /// Adds a chat.
    pub(crate) fn add_chat(&mut self, chat: Chat) {
        if chat.p2p
            && let Some(user) = &chat.user
        {
            self.p2p_by_user.insert(user_key("open_id", user), chat.chat_id.clone());
        }
        self.chats.insert(chat.chat_id.clone(), chat);
    }

    /// A chat by id.
    pub(crate) fn chat(&self, chat_id: &str) -> Option<&Chat> {
        self.chats.get(chat_id)
    }

    /// The bot's p2p chat with the user `id` of kind `id_type` (`open_id`, `email`, …), if there is one.
    pub(crate) fn p2p_chat_with(&self, id_type: &str, id: &str) -> Option<&Chat> {
        self.p2p_by_user.get(&user_key(id_type, id)).and_then(|chat_id| self.chats.get(chat_id))
    }

    /// Records `chat` as the bot's p2p chat with user `id` of kind `id_type`.
    pub(crate) fn add_p2p_chat(&mut self, id_type: &str, id: &str, chat: Chat) {
        self.p2p_by_user.insert(user_key(id_type, id), chat.chat_id.clone());
        self.chats.insert(chat.chat_id.clone(), chat);
    }

    /// The message first stored under `uuid` within the last hour.
    pub(crate) fn by_uuid(&self, uuid: &str) -> Option<&Message> {
        let (message_id, at) = self.uuids.get(uuid)?;
        if at.elapsed() >= UUID_TTL {
            return None;
        }
        self.get(message_id)
    }

    /// Stores a message (its `seq` is assigned here) and answers it.
    pub(crate) fn insert(&mut self, mut message: Message) -> &Message {
        self.next_seq += 1;
        message.seq = self.next_seq;
        if let Some(uuid) = &message.uuid {
            let now = Instant::now();
            if self.uuids.len() > 10_000 {
                self.uuids.retain(|_, (_, at)| now.duration_since(*at) < UUID_TTL);
            }
            self.uuids.insert(uuid.clone(), (message.message_id.clone(), now));
        }
        let index = self.messages.len();
        self.by_id.insert(message.message_id.clone(), index);
        self.messages.push(message);
        &self.messages[index]
    }

    /// A message by id.
    pub(crate) fn get(&self, message_id: &str) -> Option<&Message> {
        self.by_id.get(message_id).map(|&i| &self.messages[i])
    }

    /// A message by id, to change it.
    pub(crate) fn get_mut(&mut self, message_id: &str) -> Option<&mut Message> {
        self.by_id.get(message_id).map(|&i| &mut self.messages[i])
    }

    /// A chat's messages, oldest first.
    pub(crate) fn chat_messages(&self, chat_id: &str) -> Vec<&Message> {
        let mut found: Vec<&Message> =
            self.messages.iter().filter(|m| m.chat_id == chat_id).collect();
        found.sort_by_key(|m| (m.create_time, m.seq));
        found
    }

    /// The newest unrecalled message of a chat.
    pub(crate) fn latest_in_chat(&self, chat_id: &str) -> Option<&Message> {
        self.messages
            .iter()
            .filter(|m| m.chat_id == chat_id && !m.deleted)
            .max_by_key(|m| (m.create_time, m.seq))
    }

    /// Every message, in the order stored.
    pub(crate) fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        *self = Store::default();
    }
}

fn user_key(id_type: &str, id: &str) -> String {
    format!("{id_type}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, chat: &str, create_time: i64, uuid: Option<&str>) -> Message {
        Message {
            seq: 0,
            message_id: id.into(),
            root_id: None,
            parent_id: None,
            thread_id: None,
            chat_id: chat.into(),
            msg_type: "text".into(),
            content: "{\"text\":\"hi\"}".into(),
            uuid: uuid.map(Into::into),
            sender: Sender::App,
            sender_id: "cli_sandbox".into(),
            create_time,
            update_time: create_time,
            deleted: false,
            follow_ups: Vec::new(),
            reactions: Vec::new(),
        }
    }

    #[test]
    fn latest_is_by_create_time_then_order() {
        let mut store = Store::default();
        store.insert(message("om_b", "oc_1", 2000, None));
        store.insert(message("om_a", "oc_1", 1000, Some("k")));
        store.insert(message("om_c", "oc_1", 2000, None));
        store.insert(message("om_x", "oc_2", 9000, None));
        assert_eq!(store.latest_in_chat("oc_1").unwrap().message_id, "om_c");
        let order: Vec<&str> =
            store.chat_messages("oc_1").iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(order, ["om_a", "om_b", "om_c"]);
        store.get_mut("om_c").unwrap().deleted = true;
        assert_eq!(store.latest_in_chat("oc_1").unwrap().message_id, "om_b");
        assert_eq!(store.by_uuid("k").unwrap().message_id, "om_a");
        assert!(store.by_uuid("other").is_none());
    }

    #[test]
    fn api_json_leaves_out_missing_ids() {
        let value = message("om_a", "oc_1", 1000, None).api_json();
        assert!(value.get("root_id").is_none());
        assert_eq!(value["create_time"], "1000");
        assert_eq!(value["sender"]["sender_type"], "app");
        assert_eq!(value["body"]["content"], "{\"text\":\"hi\"}");
    }
}
