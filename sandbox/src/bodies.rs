//! The `event` object of a delivered event when the caller gives none:
//! the spec's example, else a value built from the spec's documented body
//! fields, else the sandbox's own shape for the two card callbacks.

use feishu_spec::{Field, FieldType};
use serde_json::{Map, Value, json};

use crate::state::Shared;
use crate::store::TENANT_KEY;

/// The event body for `event_type`, from the spec where it can.
pub(crate) fn event_body(shared: &Shared, event_type: &str) -> Value {
    let spec = shared.config.spec.events.iter().find(|e| e.event_type == event_type);
    if let Some(event) =
        spec.and_then(|e| e.example.as_ref()).and_then(|example| example.get("event"))
    {
        return event.clone();
    }
    if let Some(spec) = spec.filter(|e| !e.body.is_empty()) {
        return object(&spec.body);
    }
    match event_type {
        "card.action.trigger" => json!({
            "operator": { "tenant_key": TENANT_KEY, "open_id": shared.ids.with_prefix("ou_"), "union_id": shared.ids.with_prefix("on_") },
            "token": shared.ids.with_prefix("c-"),
            "action": { "value": { "key": "value" }, "tag": "button" },
            "host": "im_message",
            "context": { "open_message_id": shared.ids.with_prefix("om_"), "open_chat_id": shared.ids.with_prefix("oc_") },
        }),
        "url.preview.get" => json!({
            "operator": { "tenant_key": TENANT_KEY, "open_id": shared.ids.with_prefix("ou_") },
            "host": "im_message",
            "context": { "url": "https://example.com/page", "preview_token": shared.ids.hex32(), "open_message_id": shared.ids.with_prefix("om_"), "open_chat_id": shared.ids.with_prefix("oc_") },
        }),
        _ => json!({}),
    }
}

/// An object with every documented field, each with its example (or a
/// value of its type).
fn object(fields: &[Field]) -> Value {
    let mut map = Map::new();
    for field in fields {
        map.insert(field.name.clone(), value(field));
    }
    Value::Object(map)
}

fn value(field: &Field) -> Value {
    let example = field.example.as_deref();
    match field.field_type {
        FieldType::Object => object(&field.children),
        FieldType::Array if !field.children.is_empty() => json!([object(&field.children)]),
        FieldType::Array => match field.item_type {
            Some(FieldType::Integer | FieldType::Number) => json!([0]),
            Some(FieldType::Boolean) => json!([false]),
            _ => json!([example.unwrap_or("")]),
        },
        FieldType::Integer => {
            example.and_then(|e| e.parse::<i64>().ok()).map_or(json!(0), Value::from)
        }
        FieldType::Number => {
            example.and_then(|e| e.parse::<f64>().ok()).map_or(json!(0), Value::from)
        }
        FieldType::Boolean => Value::Bool(example == Some("true")),
        FieldType::String | FieldType::File => Value::String(example.unwrap_or("").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_from_fields() {
        let field = |name: &str, field_type, example: Option<&str>, children| Field {
            name: name.into(),
            field_type,
            example: example.map(Into::into),
            children,
            ..Field::default()
        };
        let body = vec![
            field(
                "message",
                FieldType::Object,
                None,
                vec![
                    field("message_id", FieldType::String, Some("om_1"), vec![]),
                    field("n", FieldType::Integer, Some("7"), vec![]),
                ],
            ),
            field(
                "mentions",
                FieldType::Array,
                None,
                vec![field("key", FieldType::String, Some("@_user_1"), vec![])],
            ),
            field("flag", FieldType::Boolean, Some("true"), vec![]),
        ];
        assert_eq!(
            object(&body),
            json!({"message": {"message_id": "om_1", "n": 7}, "mentions": [{"key": "@_user_1"}], "flag": true})
        );
    }
}
