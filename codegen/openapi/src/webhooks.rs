//! One event as an OpenAPI webhook: the v2 envelope around its body.

use super::schemas::{SchemaOf, object};
use super::scopes;
use feishu_spec::Event;
use serde_json::{Map, Value, json};

pub(super) fn webhook(event: &Event) -> Value {
    let body = if event.body.is_empty() {
        json!({ "type": "object" })
    } else {
        object(&event.body, SchemaOf::Response)
    };
    let mut media = Map::new();
    media.insert(
        "schema".into(),
        json!({
            "type": "object",
            "properties": {
                "schema": { "type": "string", "const": "2.0" },
                "header": {
                    "type": "object",
                    "properties": {
                        "event_id": { "type": "string" },
                        "event_type": { "type": "string", "const": event.event_type },
                        "create_time": { "type": "string" },
                        "token": { "type": "string" },
                        "app_id": { "type": "string" },
                        "tenant_key": { "type": "string" },
                    },
                },
                "event": body,
            },
        }),
    );
    if let Some(example) = &event.example {
        media.insert("example".into(), example.clone());
    }
    let mut op = Map::new();
    op.insert("operationId".into(), format!("event.{}", event.event_type).into());
    op.insert(
        "summary".into(),
        if event.title.is_empty() { event.event_type.clone() } else { event.title.clone() }.into(),
    );
    if !event.description.is_empty() {
        op.insert("description".into(), event.description.clone().into());
    }
    if let Some(url) = &event.doc_url {
        op.insert("externalDocs".into(), json!({ "url": url }));
    }
    op.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": media } }),
    );
    op.insert(
        "responses".into(),
        json!({ "200": { "description": "The delivery was received." } }),
    );
    op.insert("x-feishu-scopes".into(), scopes(&event.scopes));
    Value::Object(op)
}
