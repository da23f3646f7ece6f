//! The fields the sandbox checks for the IM endpoints the spec knows only by
//! name (no detail page), so that they are validated like documented ones.

use feishu_spec::{Constraints, EnumValue, Field, FieldType};

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
pub(super) const RECEIVE_ID_TYPES: [&str; 5] =
    ["open_id", "user_id", "union_id", "email", "chat_id"];

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

pub(super) fn string(name: &str, required: bool) -> Field {
    Field { name: name.into(), field_type: FieldType::String, required, ..Field::default() }
}

pub(super) fn one_of(mut field: Field, values: &[&str]) -> Field {
    field.constraints.enum_values = values
        .iter()
        .map(|v| EnumValue { value: (*v).into(), description: String::new() })
        .collect();
    field
}

pub(super) fn max_length(mut field: Field, max: u64) -> Field {
    field.constraints.max_length = Some(max);
    field
}
