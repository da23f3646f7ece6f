//! Spec → model.

use std::collections::{BTreeMap, BTreeSet};

use feishu_spec::{Endpoint, Field, Piece};

use crate::conventions;
use crate::events;
use crate::fields::{self, Direction};
use crate::names;
use crate::*;

/// Module names the crate root already uses.
const ROOT_MODULES: &[&str] = &["error", "events", "types", "default"];

pub(crate) fn build(spec: &feishu_spec::Spec) -> Model {
    let mut spec = spec.clone();
    spec.sort();

    // Group endpoints by service and resource first, so that module names are
    // assigned in wire-name order regardless of endpoint order.
    let mut grouped: BTreeMap<&str, BTreeMap<&str, Vec<&Endpoint>>> = BTreeMap::new();
    for endpoint in &spec.endpoints {
        grouped
            .entry(&endpoint.service)
            .or_default()
            .entry(&endpoint.resource)
            .or_default()
            .push(endpoint);
    }
    for event in spec.events.iter().filter(|e| events::typed(e)) {
        grouped.entry(&event.service).or_default();
    }

    let mut model = Model::default();
    let mut service_modules = names::Scope::reserving(ROOT_MODULES.iter().copied());
    for (service_name, resources) in grouped {
        let module = service_modules.claim(names::snake(service_name, "misc"));
        let mut service = Service {
            wire_name: service_name.to_owned(),
            feature: module.clone(),
            module: module.clone(),
            ..Service::default()
        };
        // `types` holds the service's shared types, `events` its event structs.
        let mut resource_modules = names::Scope::reserving(["types", "events"]);
        // The files of the service's types, one per type.
        let mut type_modules = names::Scope::new();
        for (resource_name, endpoints) in resources {
            let module = resource_modules.claim(names::snake(resource_name, "misc"));
            let mut resource =
                Resource { wire_name: resource_name.to_owned(), module, ..Resource::default() };
            let mut fn_names = names::Scope::new();
            for endpoint in endpoints {
                let mut fn_name = names::snake(&endpoint.name, "call");
                if fn_names.contains(&fn_name) {
                    // Another version of the same operation: say which.
                    fn_name = format!("{fn_name}_{}", names::snake(&endpoint.version, "v"));
                }
                let fn_name = fn_names.claim(fn_name);
                let op = operation(endpoint, fn_name, &mut service.types);
                resource.operations.push(op);
            }
            // Types are only ever added, so the new ones are this resource's.
            service.types.home_new_types(&resource.module, &mut type_modules);
            service.resources.insert(resource.module.clone(), resource);
        }
        events::add_events(&mut service, &spec.events, &mut type_modules);
        service.types.uses = type_uses(&service);
        model.services.insert(service.module.clone(), service);
    }

    let mut variants = names::Scope::new();
    for event in &spec.events {
        model.events.push(EventDef {
            event_type: event.event_type.clone(),
            variant: variants.claim(names::pascal(&event.event_type, "Event")),
            title: event.title.clone(),
            description: event.description.clone(),
            doc_url: event.doc_url.clone(),
            body: events::body_ref(&model.services, &event.event_type),
        });
    }
    model
}

/// How the service's typed operations use each of its named types.
fn type_uses(service: &Service) -> BTreeMap<String, TypeUse> {
    let types = &service.types;
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    for op in service.resources.values().flat_map(|r| &r.operations) {
        if let OperationKind::Typed(d) = &op.kind {
            // Any request field, not only the JSON body's: the request
            // struct derives `PartialEq` and so must every type it holds.
            sent.extend(d.request.fields.iter().map(|f| &f.ty));
            received.extend(d.response.fields.iter().map(|f| &f.ty));
        }
    }
    received.extend(service.events.iter().flat_map(|e| &e.body.fields).map(|f| &f.ty));
    // The named types reachable from `roots`, through struct fields.
    let reach = |roots: Vec<&TypeRef>| {
        let mut seen = BTreeSet::new();
        let mut stack = roots;
        while let Some(ty) = stack.pop() {
            match ty {
                TypeRef::Array(item) => stack.push(item),
                TypeRef::Enum(name) => {
                    seen.insert(name.clone());
                }
                TypeRef::Struct(name) => {
                    if seen.insert(name.clone())
                        && let Some(def) = types.structs.get(name)
                    {
                        stack.extend(def.fields.iter().map(|f| &f.ty));
                    }
                }
                _ => {}
            }
        }
        seen
    };
    let (sent, received) = (reach(sent), reach(received));
    // Structs with something to check, directly or through nested structs;
    // grown to a fixed point because types may be recursive.
    let mut checked: BTreeSet<&str> = BTreeSet::new();
    loop {
        let before = checked.len();
        for def in types.structs.values() {
            if !checked.contains(def.name.as_str())
                && def
                    .fields
                    .iter()
                    .any(|f| f.has_own_checks() || type_is_checked(&f.ty, &|n| checked.contains(n)))
            {
                checked.insert(&def.name);
            }
        }
        if checked.len() == before {
            break;
        }
    }
    types
        .structs
        .keys()
        .chain(types.enums.keys())
        .map(|name| {
            let use_ = TypeUse {
                sent: sent.contains(name),
                received: received.contains(name),
                validated: sent.contains(name) && checked.contains(name.as_str()),
            };
            (name.clone(), use_)
        })
        .collect()
}

fn operation(endpoint: &Endpoint, fn_name: String, types: &mut TypeSpace) -> Operation {
    let type_stem = names::pascal(&fn_name, "Call");
    let path_parts = path_parts(endpoint);
    let auth = Auth::for_tokens(&endpoint.access_tokens);
    let typed = is_typed(endpoint);
    let kind = if typed {
        let prefix = format!("{}{}", names::pascal(&endpoint.resource, ""), type_stem);
        OperationKind::Typed(Box::new(typed_operation(
            endpoint,
            &type_stem,
            &prefix,
            &path_parts,
            types,
        )))
    } else {
        OperationKind::Catalogue {
            download: conventions::is_download(endpoint),
            takes_body: endpoint.method != Method::Get,
        }
    };
    Operation {
        id: endpoint.id.clone(),
        fn_name,
        type_stem,
        title: endpoint.title.clone(),
        description: endpoint.description.clone(),
        doc_url: endpoint.doc_url.clone(),
        method: endpoint.method,
        path: endpoint.path.clone(),
        path_parts,
        auth,
        access_tokens: endpoint.access_tokens.clone(),
        scopes: endpoint.scopes.clone(),
        rate_limit: endpoint.rate_limit.as_ref().map(|r| r.text.clone()).filter(|t| !t.is_empty()),
        limits: endpoint
            .rate_limit
            .as_ref()
            .map(|r| Limits {
                per_second: r.per_second,
                per_minute: r.per_minute,
                per_receiver_per_second: r.per_receiver_per_second,
            })
            .unwrap_or_default(),
        kind,
    }
}

/// The path as literals and parameters with Rust names. The placeholders of
/// the path, not the documented path parameters, decide: they are what is sent.
fn path_parts(endpoint: &Endpoint) -> Vec<PathPart> {
    let mut scope = names::Scope::new();
    endpoint
        .template()
        .pieces()
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(text) => PathPart::Literal(text),
            Piece::Param(name) => PathPart::Param {
                wire_name: name.to_owned(),
                rust_name: scope.claim(names::snake(name, "param")),
            },
        })
        .collect()
}

fn typed_operation(
    endpoint: &Endpoint,
    stem: &str,
    prefix: &str,
    path: &[PathPart],
    types: &mut TypeSpace,
) -> TypedOperation {
    // Path, query and body fields are one struct: one scope of names.
    let mut scope = names::Scope::new();
    let mut fields = Vec::new();
    for part in path {
        if let PathPart::Param { wire_name, rust_name } = part {
            let documented = endpoint.path_params.iter().find(|f| &f.name == wire_name);
            let spec_field = documented
                .cloned()
                .unwrap_or_else(|| Field { name: wire_name.clone(), ..Field::default() });
            let mut field =
                fields::field_def(&spec_field, Direction::Sent, prefix, types, &mut scope);
            // Path parameters are always needed, whatever the table says.
            field.required = true;
            field.ty = TypeRef::String;
            field.rust_name = rust_name.clone();
            field.location = Location::Path;
            // An empty segment would address another endpoint (`messages//reply`).
            field.checks.min_length = Some(field.checks.min_length.unwrap_or(1).max(1));
            fields.push(field);
        }
    }
    for query in Field::distinct(&endpoint.query_params) {
        let mut field = fields::field_def(query, Direction::Sent, prefix, types, &mut scope);
        field.location = Location::Query;
        fields.push(field);
    }
    for body in Field::distinct(&endpoint.request_body) {
        fields.push(fields::field_def(body, Direction::Sent, prefix, types, &mut scope));
    }
    let request = StructDef { name: format!("{stem}Request"), doc: String::new(), fields };

    let response_fields =
        fields::struct_fields(&endpoint.response_body, Direction::Received, prefix, types);
    let response =
        StructDef { name: format!("{stem}Response"), doc: String::new(), fields: response_fields };

    let variants = crate::errors::variants(&endpoint.errors);

    let idempotency_field = conventions::idempotency_field(&request);
    let receiver_field = conventions::receiver_field(endpoint, &request);
    let message_content = conventions::message_content(&request);
    let multipart = endpoint.request_content_type == Some(feishu_spec::ContentType::Multipart);
    TypedOperation {
        json_body: !multipart
            && (endpoint.request_content_type.is_some() || !endpoint.request_body.is_empty()),
        form: multipart.then(|| crate::upload::form(&request)),
        idempotency_field,
        receiver_field,
        message_content,
        paging: crate::paginate::decide(&request, &response),
        request,
        response,
        error: ErrorDef { name: format!("{stem}Error"), variants },
    }
}

#[cfg(test)]
mod tests {
    use feishu_spec::{
        Constraints, ContentType, EnumValue, ErrorCode, FieldType, ResponseContentType, Spec,
    };

    use super::*;

    fn string(name: &str, required: bool) -> Field {
        Field { name: name.into(), type_name: "string".into(), required, ..Field::default() }
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

    fn endpoint(resource: &str, name: &str, body: Vec<Field>, response: Vec<Field>) -> Endpoint {
        Endpoint {
            id: format!("im.v1.{resource}.{name}"),
            service: "im".into(),
            version: "v1".into(),
            resource: resource.into(),
            name: name.into(),
            method: Method::Post,
            path: format!("/open-apis/im/v1/{resource}s/:message_id/{name}"),
            request_content_type: Some(ContentType::Json),
            request_body: body,
            response_body: response,
            detailed: true,
            ..Endpoint::default()
        }
    }

    #[test]
    fn type_uses_follow_the_direction_and_the_checks() {
        let mut limited = string("text", false);
        limited.constraints.max_length = Some(10);
        let spec = Spec {
            endpoints: vec![
                endpoint(
                    "message",
                    "create",
                    vec![
                        object("bubble", "bubble", vec![limited]),
                        object("plain", "plain", vec![string("a", false)]),
                        object("outer", "outer", vec![object("inner", "bubble2", vec![])]),
                    ],
                    vec![object("plain", "plain", vec![string("a", false)])],
                ),
                endpoint(
                    "message",
                    "get",
                    vec![],
                    vec![object("seen", "seen", vec![string("b", false)])],
                ),
            ],
            events: vec![],
        };
        let model = Model::build(&spec);
        let types = &model.services["im"].types;
        let use_of = |name: &str| {
            let u = types.use_of(name);
            (u.sent, u.received, u.validated)
        };
        assert_eq!(use_of("Bubble"), (true, false, true));
        assert_eq!(use_of("Plain"), (true, true, false));
        assert_eq!(use_of("Outer"), (true, false, false));
        assert_eq!(use_of("Seen"), (false, true, false));
    }

    #[test]
    fn same_name_same_shape_is_one_type() {
        let emoji = || object("reaction_type", "emoji", vec![string("emoji_type", false)]);
        let spec = Spec {
            endpoints: vec![
                endpoint("reaction", "create", vec![emoji()], vec![emoji()]),
                endpoint("reaction", "update", vec![emoji()], vec![]),
            ],
            events: vec![],
        };
        let model = Model::build(&spec);
        let types = &model.services["im"].types;
        assert_eq!(types.structs.keys().collect::<Vec<_>>(), ["Emoji"]);
    }

    #[test]
    fn types_live_with_the_resource_that_uses_them_first() {
        let emoji = || object("reaction_type", "emoji", vec![string("emoji_type", false)]);
        let sender = || object("sender", "object", vec![string("id", false)]);
        let spec = Spec {
            endpoints: vec![
                endpoint("reaction", "create", vec![emoji()], vec![]),
                // Sorted before `reaction`, so it is the first user of `Emoji`.
                endpoint("message", "send", vec![sender()], vec![emoji()]),
                endpoint("reaction", "update", vec![emoji(), sender()], vec![]),
            ],
            events: vec![],
        };
        let model = Model::build(&spec);
        let types = &model.services["im"].types;
        let home = |name: &str| {
            let h = &types.homes[name];
            (h.resource.as_str(), h.module.as_str())
        };
        assert_eq!(home("Emoji"), ("message", "emoji"));
        assert_eq!(home("Sender"), ("message", "sender"));
        let groups = types.by_home();
        assert_eq!(groups.keys().copied().collect::<Vec<_>>(), ["message"]);
        assert_eq!(groups["message"].keys().copied().collect::<Vec<_>>(), ["emoji", "sender"]);
    }

    #[test]
    fn type_modules_are_snake_case_names_that_are_not_keywords() {
        let spec = Spec {
            endpoints: vec![endpoint(
                "reaction",
                "create",
                vec![
                    object("a", "Self", vec![string("x", false)]),
                    object("b", "type", vec![string("y", false)]),
                    object("c", "HTTPServer", vec![string("z", false)]),
                ],
                vec![],
            )],
            events: vec![],
        };
        let model = Model::build(&spec);
        let types = &model.services["im"].types;
        let modules: BTreeMap<&str, &str> =
            types.homes.iter().map(|(name, home)| (name.as_str(), home.module.as_str())).collect();
        assert_eq!(
            modules,
            BTreeMap::from([("HttpServer", "http_server"), ("Self_", "self_"), ("Type", "type_")])
        );
    }

    #[test]
    fn same_name_other_shape_gets_the_operation_prefix() {
        // Required in the request, optional in the response: two shapes.
        let emoji = || object("reaction_type", "emoji", vec![string("emoji_type", true)]);
        let spec = Spec {
            endpoints: vec![endpoint("message_reaction", "create", vec![emoji()], vec![emoji()])],
            events: vec![],
        };
        let model = Model::build(&spec);
        let types = &model.services["im"].types;
        assert_eq!(
            types.structs.keys().collect::<Vec<_>>(),
            ["Emoji", "MessageReactionCreateEmoji"]
        );
        assert!(types.structs["Emoji"].fields[0].required);
        assert!(!types.structs["MessageReactionCreateEmoji"].fields[0].required);
        // Deterministic: building again gives the same model.
        assert_eq!(Model::build(&spec), model);
    }

    #[test]
    fn enums_dedup_by_values() {
        let kind = |values: &[&str]| Field {
            constraints: Constraints {
                enum_values: values
                    .iter()
                    .map(|v| EnumValue { value: v.to_string(), description: String::new() })
                    .collect(),
                ..Constraints::default()
            },
            ..string("id_type", true)
        };
        let spec = Spec {
            endpoints: vec![
                endpoint("message", "a", vec![kind(&["open_id", "user_id"])], vec![]),
                endpoint("message", "b", vec![kind(&["open_id", "user_id"])], vec![]),
                endpoint("message", "c", vec![kind(&["open_id", "1", "其他", "other"])], vec![]),
            ],
            events: vec![],
        };
        let types = Model::build(&spec).services["im"].types.clone();
        assert_eq!(types.enums.keys().collect::<Vec<_>>(), ["IdType", "MessageCIdType"]);
        let names: Vec<_> =
            types.enums["MessageCIdType"].variants.iter().map(|v| v.rust_name.as_str()).collect();
        assert_eq!(names, ["OpenId", "V1", "Value2", "Other_"]);
    }

    #[test]
    fn repeated_rows_and_values_are_dropped() {
        let kind = Field {
            constraints: Constraints {
                enum_values: ["rect", "boundary", "rect"]
                    .iter()
                    .map(|v| EnumValue { value: v.to_string(), description: String::new() })
                    .collect(),
                ..Constraints::default()
            },
            ..string("shape", false)
        };
        let faq = object("faq", "faq", vec![string("id", false), string("id", true), kind]);
        let spec = Spec {
            endpoints: vec![endpoint(
                "faq",
                "search",
                vec![string("query", true), string("query", false)],
                vec![faq],
            )],
            events: vec![],
        };
        let model = Model::build(&spec);
        let im = &model.services["im"];
        let wire =
            |fields: &[FieldDef]| fields.iter().map(|f| f.wire_name.clone()).collect::<Vec<_>>();
        let OperationKind::Typed(d) = &im.resources["faq"].operations[0].kind else {
            panic!("search is typed")
        };
        assert_eq!(wire(&d.request.fields), ["message_id", "query"]);
        assert!(d.request.fields[1].required);
        assert_eq!(wire(&im.types.structs["Faq"].fields), ["id", "shape"]);
        let values: Vec<_> =
            im.types.enums["Shape"].variants.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(values, ["rect", "boundary"]);
    }

    #[test]
    fn operations_modules_and_errors() {
        let mut reply =
            endpoint("message", "reply", vec![string("type", true), string("uuid", false)], vec![]);
        reply.errors = vec![
            ErrorCode {
                code: 230020,
                http_status: Some(400),
                message: "This operation triggers the frequency limit.".into(),
                ..ErrorCode::default()
            },
            ErrorCode { code: 230001, http_status: Some(400), ..ErrorCode::default() },
            ErrorCode { code: 230001, ..ErrorCode::default() },
            ErrorCode { code: 1, http_status: Some(500), ..ErrorCode::default() },
        ];
        let mut v2 = endpoint("message", "reply", vec![], vec![]);
        v2.version = "v2".into();
        v2.id = "im.v2.message.reply".into();
        let types = Endpoint {
            resource: "types".into(),
            name: "get".into(),
            method: Method::Get,
            ..Endpoint::default()
        };
        let spec = Spec {
            endpoints: vec![reply, v2, Endpoint { service: "im".into(), ..types }],
            events: vec![],
        };
        let model = Model::build(&spec);
        let im = &model.services["im"];
        assert_eq!(im.resources.keys().collect::<Vec<_>>(), ["message", "types_2"]);
        let ops = &im.resources["message"].operations;
        assert_eq!(
            ops.iter().map(|o| o.fn_name.as_str()).collect::<Vec<_>>(),
            ["reply", "reply_v2"]
        );
        let OperationKind::Typed(d) = &ops[0].kind else { panic!("reply is typed") };
        let fields: Vec<_> = d
            .request
            .fields
            .iter()
            .map(|f| (f.rust_name.as_str(), f.location, f.required))
            .collect();
        assert_eq!(
            fields,
            [
                ("message_id", Location::Path, true),
                ("type_", Location::Body, true),
                ("uuid", Location::Body, false)
            ]
        );
        let codes: Vec<_> =
            d.error.variants.iter().map(|v| (v.rust_name.as_str(), v.retryable)).collect();
        assert_eq!(
            codes,
            [("Code1", true), ("Code230001", false), ("OperationTriggersFrequencyLimit", true)]
        );
        assert_eq!(d.error.name, "ReplyError");
    }

    #[test]
    fn auth_and_typing_follow_the_spec() {
        use AccessToken::*;
        let auth = |tokens: &[AccessToken]| Auth::for_tokens(tokens);
        assert_eq!(auth(&[TenantAccessToken, UserAccessToken]), Auth::TenantOrUser);
        assert_eq!(auth(&[UserAccessToken, AppAccessToken]), Auth::User);
        assert_eq!(auth(&[AppAccessToken]), Auth::App);
        assert_eq!(auth(&[TenantAccessToken, AppAccessToken]), Auth::Tenant);
        assert_eq!(auth(&[]), Auth::Tenant);
        let json = endpoint("message", "reply", vec![], vec![]);
        assert!(is_typed(&json));
        assert!(!is_typed(&Endpoint { detailed: false, ..json.clone() }));
        // Uploads documented in detail are typed: their file fields take an `UploadFile`.
        assert!(is_typed(&Endpoint {
            request_content_type: Some(feishu_spec::ContentType::Multipart),
            ..json.clone()
        }));
        assert!(!is_typed(&Endpoint {
            response_content_type: ResponseContentType::Binary,
            ..json
        }));
    }

    #[test]
    fn catalogue_downloads_and_paths() {
        let get = Endpoint {
            id: "im.v1.image.get".into(),
            service: "im".into(),
            resource: "image".into(),
            name: "get".into(),
            method: Method::Get,
            path: "/open-apis/im/v1/images/:image_key".into(),
            ..Endpoint::default()
        };
        let model = Model::build(&Spec { endpoints: vec![get], events: vec![] });
        let op = &model.services["im"].resources["image"].operations[0];
        assert_eq!(op.kind, OperationKind::Catalogue { download: true, takes_body: false });
        assert_eq!(
            op.path_parts,
            [
                PathPart::Literal("/open-apis/im/v1/images/".into()),
                PathPart::Param { wire_name: "image_key".into(), rust_name: "image_key".into() }
            ]
        );
    }
}
