//! Typed event bodies: each event whose page documents the fields of its
//! `event` object becomes a struct of its service's `events` module.
//!
//! The struct's nested objects and enums join the service's type space,
//! where responses put theirs (received types are decoded the same lenient
//! way), so that a `UserId` an event and a response share is one type. An
//! event known only from a catalogue has no body and stays untyped: the
//! crate's `Event` enum keeps it as `Unknown` until its page is added.

use std::collections::BTreeMap;

use crate::fields::{Direction, struct_fields};
use crate::names;
use crate::{Scope, Service, StructDef};

/// The home (`src/<service>/types/<home>.rs`) of the shared types that an
/// event body brings first. Not a resource's module name unless a resource
/// is called `events`, which the model renames (`events_2`) since the
/// service's `events` module holds the event structs.
pub const TYPES_HOME: &str = "events";

/// An event whose page documents its body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventBodyDef {
    /// The event type on the wire, e.g. `im.message.receive_v1`.
    pub event_type: String,
    /// The module name of the struct's own file, `src/<service>/events/<module>.rs`.
    pub module: String,
    /// The struct of the `event` object; its name is the Rust name of the
    /// event, e.g. `MessageReceiveV1`.
    pub body: StructDef,
    /// The page title.
    pub title: String,
    /// When it fires.
    pub description: String,
    /// The doc page.
    pub doc_url: Option<String>,
    /// Any one of these scopes allows receiving it.
    pub scopes: Vec<Scope>,
}

/// Where the typed body of an event lives, for the crate-wide `Event` enum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventBodyRef {
    /// The service's module name.
    pub service: String,
    /// The Cargo feature that enables the service.
    pub feature: String,
    /// The struct's Rust name (in `crate::<service>::events`).
    pub name: String,
}

/// Whether the generated crate types the event: its page documented the
/// fields of its body.
pub fn typed(event: &feishu_spec::Event) -> bool {
    !event.body.is_empty() && !event.service.is_empty()
}

/// The Rust name of an event's struct: the event type without its service
/// (which names the module it is in already), in UpperCamelCase, so that
/// `im.message.receive_v1` is `MessageReceiveV1` in `feishu::im::events`.
/// An event type that does not start with its service (the docs' older,
/// v1 names such as `p2p_chat_create`) keeps every word.
pub fn struct_name(event_type: &str, service: &str) -> String {
    let rest = event_type
        .strip_prefix(service)
        .and_then(|r| r.strip_prefix('.'))
        .filter(|r| !r.is_empty())
        .unwrap_or(event_type);
    names::pascal(rest, "Event")
}

/// Adds the typed events of `service` (from `events`, in the spec's order:
/// by event type) to it. Colliding struct names (`a.b_c_v1` and `a.b.c_v1`)
/// get numeric suffixes in event-type order (after an `_`, as they end in a
/// version: `MessageReceiveV1_2`); the new shared types get the home
/// [`TYPES_HOME`] and file modules from `type_modules`.
pub(crate) fn add_events(
    service: &mut Service,
    events: &[feishu_spec::Event],
    type_modules: &mut names::Scope,
) {
    let mut struct_names = names::Scope::new();
    let mut modules = names::Scope::new();
    for event in events.iter().filter(|e| e.service == service.wire_name && typed(e)) {
        let name = struct_names.claim_versioned(struct_name(&event.event_type, &event.service));
        let module = modules.claim(names::snake(&name, "event"));
        let fields = struct_fields(&event.body, Direction::Received, &name, &mut service.types);
        service.events.push(EventBodyDef {
            event_type: event.event_type.clone(),
            module,
            body: StructDef { name, doc: event.description.clone(), fields },
            title: event.title.clone(),
            description: event.description.clone(),
            doc_url: event.doc_url.clone(),
            scopes: event.scopes.clone(),
        });
    }
    service.types.home_new_types(TYPES_HOME, type_modules);
}

/// Where the body of `event_type` is typed, if it is.
pub(crate) fn body_ref(
    services: &BTreeMap<String, Service>,
    event_type: &str,
) -> Option<EventBodyRef> {
    services.values().find_map(|service| {
        let def = service.events.iter().find(|e| e.event_type == event_type)?;
        Some(EventBodyRef {
            service: service.module.clone(),
            feature: service.feature.clone(),
            name: def.body.name.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use feishu_spec::{Endpoint, Event, Field, FieldType, Method, Spec};

    use super::*;
    use crate::{Model, TypeRef};

    #[test]
    fn struct_names_drop_the_service() {
        assert_eq!(struct_name("im.message.receive_v1", "im"), "MessageReceiveV1");
        assert_eq!(struct_name("im.message.reaction.created_v1", "im"), "MessageReactionCreatedV1");
        assert_eq!(
            struct_name("application.application.visibility.added_v6", "application"),
            "ApplicationVisibilityAddedV6"
        );
        // Older names without the service keep all their words.
        assert_eq!(struct_name("p2p_chat_create", "p2p_chat_create"), "P2pChatCreate");
        assert_eq!(struct_name("message", "im"), "Message");
        // Only a whole first segment is the service.
        assert_eq!(struct_name("imx.thing_v1", "im"), "ImxThingV1");
        assert_eq!(struct_name("事件", "im"), "Event");
    }

    fn string(name: &str) -> Field {
        Field { name: name.into(), type_name: "string".into(), ..Field::default() }
    }

    fn object(name: &str, type_name: &str, children: Vec<Field>) -> Field {
        Field {
            name: name.into(),
            field_type: FieldType::Object,
            type_name: type_name.into(),
            children,
            ..Field::default()
        }
    }

    fn event(event_type: &str, body: Vec<Field>) -> Event {
        let service = event_type.split('.').next().unwrap().to_owned();
        Event {
            event_type: event_type.into(),
            service,
            resource: "message".into(),
            title: "标题".into(),
            body,
            ..Event::default()
        }
    }

    #[test]
    fn documented_bodies_become_structs_and_catalogue_events_do_not() {
        let user = || object("user_id", "user_id", vec![string("open_id"), string("union_id")]);
        let response = Endpoint {
            id: "im.v1.message.get".into(),
            service: "im".into(),
            version: "v1".into(),
            resource: "message".into(),
            name: "get".into(),
            method: Method::Get,
            path: "/open-apis/im/v1/messages/:message_id".into(),
            response_body: vec![user()],
            detailed: true,
            ..Endpoint::default()
        };
        let spec = Spec {
            endpoints: vec![response],
            events: vec![
                event(
                    "im.message.receive_v1",
                    vec![
                        user(),
                        object("message", "event_message", vec![string("message_id")]),
                        string("message_id"),
                    ],
                ),
                event("im.message.read_v1", vec![]),
                // Collides with the first once the dots are gone.
                event("im.message_receive_v1", vec![string("x")]),
                // A service without endpoints gets a module for its events.
                event("elearning.course.created_v2", vec![user()]),
            ],
        };
        let model = Model::build(&spec);
        let im = &model.services["im"];
        let names: Vec<_> =
            im.events.iter().map(|e| (e.body.name.as_str(), e.module.as_str())).collect();
        assert_eq!(
            names,
            [
                ("MessageReceiveV1", "message_receive_v1"),
                ("MessageReceiveV1_2", "message_receive_v1_2")
            ]
        );
        let body = &im.events[0].body;
        // Shared with the response: one type, homed where the response put it.
        assert_eq!(body.fields[0].ty, TypeRef::Struct("UserId".into()));
        assert_eq!(im.types.homes["UserId"].resource, "message");
        assert_eq!(im.types.homes["EventMessage"].resource, TYPES_HOME);
        assert!(body.fields.iter().all(|f| !f.required), "received fields are all optional");
        assert!(im.types.use_of("EventMessage").received && !im.types.use_of("EventMessage").sent);

        let elearning = &model.services["elearning"];
        assert!(elearning.resources.is_empty());
        assert_eq!(elearning.events[0].body.name, "CourseCreatedV2");
        assert_eq!(elearning.types.homes["UserId"].resource, TYPES_HOME);

        let refs: Vec<_> = model
            .events
            .iter()
            .map(|e| e.body.as_ref().map(|b| (b.service.as_str(), b.name.as_str())))
            .collect();
        assert_eq!(
            refs,
            [
                Some(("elearning", "CourseCreatedV2")),
                None,
                Some(("im", "MessageReceiveV1")),
                Some(("im", "MessageReceiveV1_2"))
            ]
        );
        assert_eq!(Model::build(&spec), model, "deterministic");
    }

    #[test]
    fn nested_names_that_clash_take_the_event_prefix() {
        let spec = Spec {
            endpoints: vec![],
            events: vec![
                event("im.a_v1", vec![object("sender", "object", vec![string("id")])]),
                event("im.b_v1", vec![object("sender", "object", vec![string("name")])]),
            ],
        };
        let im = &Model::build(&spec).services["im"];
        assert_eq!(im.types.structs.keys().collect::<Vec<_>>(), ["BV1Sender", "Sender"]);
    }

    #[test]
    fn a_resource_named_events_is_renamed() {
        let endpoint = Endpoint {
            id: "im.v1.events.list".into(),
            service: "im".into(),
            resource: "events".into(),
            name: "list".into(),
            path: "/open-apis/im/v1/events".into(),
            ..Endpoint::default()
        };
        let model = Model::build(&Spec { endpoints: vec![endpoint], events: vec![] });
        assert_eq!(model.services["im"].resources.keys().collect::<Vec<_>>(), ["events_2"]);
    }
}
