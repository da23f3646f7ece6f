//! The generated `feishu::events::Event` on the checked-in spec: an event
//! the spec knows only from a catalogue (the seeds list their five events
//! so) and one it does not know decode as `Event::Unknown`, with the body
//! kept as sent.

use std::path::Path;
use std::time::SystemTime;

use feishu::events::{Delivery, Event, Webhook, WebhookConfig};
use serde_json::{Value, json};

/// The event types of the checked-in spec that have no documented body.
fn catalogue_only_events() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/im");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for event in spec["events"].as_array().into_iter().flatten() {
            if event["body"].as_array().is_none_or(Vec::is_empty) {
                found.push(event["type"].as_str().unwrap().to_owned());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn catalogue_only_events_stay_unknown() {
    let body = json!({"message": {"message_id": "om_1", "content": "{\"text\":\"hi\"}"}, "sender": {"sender_type": "user"}});
    let mut event_types = catalogue_only_events();
    assert!(!event_types.is_empty(), "the IM catalogue lists events without pages");
    event_types.push("not.in.the_docs_v1".to_owned());
    for event_type in &event_types {
        match Event::decode(event_type, body.clone()).unwrap() {
            Event::Unknown { event_type: kept, raw } => {
                assert_eq!(&kept, event_type);
                assert_eq!(raw, body);
            }
            other => panic!("{event_type} decoded as {other:?}"),
        }
    }
}

#[test]
fn a_delivered_envelope_decodes_and_keeps_its_header() {
    let envelope = json!({
        "schema": "2.0",
        "header": {"event_id": "ev_typed_1", "event_type": "not.in.the_docs_v1", "create_time": "1700000000000", "app_id": "cli_a", "tenant_key": "t_1"},
        "event": {"message": {"message_id": "om_2"}},
    });
    let webhook = Webhook::new(WebhookConfig::new().insecure_no_verification()).unwrap();
    let Delivery::Event(delivered) = webhook
        .handle(
            [("Content-Type", "application/json")],
            envelope.to_string().as_bytes(),
            SystemTime::now(),
        )
        .unwrap()
    else {
        panic!("not an event delivery");
    };
    let event = Event::from_envelope(&delivered).unwrap();
    assert_eq!(event.event_type(), "not.in.the_docs_v1");
    assert!(
        matches!(&event, Event::Unknown { raw, .. } if raw["message"]["message_id"] == "om_2"),
        "{event:?}"
    );
    assert_eq!(delivered.event_id, "ev_typed_1");
    assert_eq!(delivered.tenant_key.as_deref(), Some("t_1"));
}

#[test]
fn a_v1_event_callback_decodes_by_its_inner_type() {
    let callback = json!({
        "uuid": "ev_v1_1",
        "token": "",
        "ts": "1700000000.1",
        "type": "event_callback",
        "event": {"type": "message", "app_id": "cli_a", "tenant_key": "t_1", "text": "hi"},
    });
    let webhook = Webhook::new(WebhookConfig::new().insecure_no_verification()).unwrap();
    let Delivery::Event(delivered) = webhook
        .handle(
            [("Content-Type", "application/json")],
            callback.to_string().as_bytes(),
            SystemTime::now(),
        )
        .unwrap()
    else {
        panic!("not an event delivery");
    };
    let event = Event::from_envelope(&delivered).unwrap();
    assert!(
        matches!(&event, Event::Unknown { event_type, raw } if event_type == "message" && raw["text"] == "hi"),
        "{event:?}"
    );
    assert_eq!(delivered.event_id, "ev_v1_1");
}
