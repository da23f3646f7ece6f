//! The neutral Feishu API spec as an OpenAPI 3.1 document, so that other
//! ecosystems' tools (validators, client generators, API browsers) can take it.
//!
//! [`openapi`] maps every [`Endpoint`] to an operation: the path with
//! `{name}` templates, path, query and header parameters, the request body's
//! JSON Schema (required lists, nested objects and arrays, lengths, counts,
//! ranges, documented values, defaults, examples), the success response inside
//! the `{code, msg, data}` envelope, the documented error codes grouped by HTTP
//! status, and bearer security schemes for the access tokens. What OpenAPI has
//! no word for is kept in `x-feishu-…` extensions: rate limits, scopes, token
//! types, app types, error codes with their hints. Events become `webhooks`.
//!
//! The output is deterministic: keys come in a fixed order (serde_json's
//! `preserve_order`), paths sorted, methods in the usual order.
//!
//! Schemas follow the generated crate's reading of the docs: request values
//! are closed (`enum`, `required`), because the crate validates them before
//! sending; response values are open (documented values only described,
//! nothing `required`), because the platform leaves fields out and adds values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use feishu_spec::{
    AppType, ContentType, Endpoint, ErrorCode, Event, Field, FieldType, Method,
    ResponseContentType, Scope, Spec,
};
use serde_json::{Map, Value, json};

/// The server the paths are relative to.
pub const SERVER: &str = "https://open.feishu.cn";

/// Something that makes the spec impossible to write as one OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Two endpoints share a method and a path (paths that differ only in
    /// their parameters' names are the same path to OpenAPI).
    SameRoute {
        /// The method, e.g. `POST`.
        method: String,
        /// The path templates as the endpoints give them.
        paths: Vec<String>,
        /// The endpoints' ids.
        ids: Vec<String>,
    },
    /// Endpoints of different methods spell one path with different parameter
    /// names (`:spreadsheetToken` and `:spreadsheet_token`): one OpenAPI path
    /// item cannot hold both.
    PathSpellings {
        /// The path templates as the endpoints give them.
        paths: Vec<String>,
        /// The endpoints' ids.
        ids: Vec<String>,
    },
    /// Two endpoints share an id, which would be one `operationId`.
    SameId {
        /// The id.
        id: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::SameRoute { method, paths, ids } => {
                write!(
                    f,
                    "{method} {} is documented by more than one endpoint: {}",
                    paths.join(" and "),
                    ids.join(", ")
                )
            }
            Problem::PathSpellings { paths, ids } => {
                write!(
                    f,
                    "{} are one path with different parameter names, used by {}",
                    paths.join(" and "),
                    ids.join(", ")
                )
            }
            Problem::SameId { id } => write!(f, "more than one endpoint has the id `{id}`"),
        }
    }
}

/// The problems that stop the export, each naming the endpoints at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What collides.
    pub problems: Vec<Problem>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        write!(f, "the spec cannot be one OpenAPI document: {}", lines.join("; "))
    }
}

impl std::error::Error for Error {}

/// The OpenAPI 3.1 document of `spec`, or the collisions that prevent one.
pub fn openapi(spec: &Spec) -> Result<Value, Error> {
    check(spec)?;
    let mut paths: BTreeMap<String, Vec<(Method, Value)>> = BTreeMap::new();
    let mut tags = BTreeSet::new();
    for endpoint in &spec.endpoints {
        tags.insert(tag(endpoint));
        paths
            .entry(endpoint.template().to_openapi())
            .or_default()
            .push((endpoint.method, operation(endpoint)));
    }
    let mut path_items = Map::new();
    for (path, mut operations) in paths {
        operations.sort_by_key(|(method, _)| method_order(*method));
        let item: Map<String, Value> = operations
            .into_iter()
            .map(|(method, op)| (method.as_str().to_ascii_lowercase(), op))
            .collect();
        path_items.insert(path, Value::Object(item));
    }
    let mut webhooks = Map::new();
    for event in &spec.events {
        webhooks.insert(event.event_type.clone(), json!({ "post": webhook(event) }));
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Feishu Open Platform API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Generated from the Feishu (Lark) doc pages by `cargo xtask openapi`; do not edit. Every response comes in the `{code, msg, data}` envelope: `code` 0 is success, any other value an error. Rate limits, scopes and token types are in the `x-feishu-` extensions.",
        },
        "servers": [{ "url": SERVER }],
        "tags": tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "paths": path_items,
    });
    if !webhooks.is_empty() {
        doc["webhooks"] = Value::Object(webhooks);
    }
    doc["components"] = json!({
        "securitySchemes": {
            "tenant_access_token": bearer("`tenant_access_token` (`t-…`): the app acting for a tenant."),
            "user_access_token": bearer("`user_access_token` (`u-…`): the app acting for a signed-in user."),
            "app_access_token": bearer("`app_access_token` (`a-…`): the app itself."),
        },
        "schemas": {
            "ErrorEnvelope": {
                "type": "object",
                "description": "The envelope of a failed call: `code` says what went wrong, `msg` in words.",
                "properties": {
                    "code": { "type": "integer", "description": "The error code; never 0." },
                    "msg": { "type": "string", "description": "The error message." },
                },
                "required": ["code", "msg"],
            },
        },
    });
    Ok(doc)
}

fn bearer(description: &str) -> Value {
    json!({ "type": "http", "scheme": "bearer", "description": description })
}

/// Finds endpoints that would share an operation or an operationId.
fn check(spec: &Spec) -> Result<(), Error> {
    let mut routes: BTreeMap<(String, &str), Vec<&Endpoint>> = BTreeMap::new();
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for endpoint in &spec.endpoints {
        routes
            .entry((endpoint.template().shape(), endpoint.method.as_str()))
            .or_default()
            .push(endpoint);
        *ids.entry(endpoint.id.as_str()).or_default() += 1;
    }
    let mut problems = Vec::new();
    for ((_, method), endpoints) in routes {
        if endpoints.len() > 1 {
            let mut paths: Vec<String> = endpoints.iter().map(|e| e.path.clone()).collect();
            paths.dedup();
            problems.push(Problem::SameRoute {
                method: method.to_string(),
                paths,
                ids: endpoints.iter().map(|e| e.id.clone()).collect(),
            });
        }
    }
    for (id, count) in ids {
        if count > 1 {
            problems.push(Problem::SameId { id: id.to_string() });
        }
    }
    // Paths that differ only in parameter names must be written one way.
    let mut spellings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for endpoint in &spec.endpoints {
        spellings
            .entry(endpoint.template().shape())
            .or_default()
            .insert(endpoint.template().to_openapi());
    }
    let reported: BTreeSet<String> = problems
        .iter()
        .flat_map(|p| match p {
            Problem::SameRoute { ids, .. } => ids.clone(),
            _ => Vec::new(),
        })
        .collect();
    for (_, names) in spellings {
        if names.len() > 1 {
            let ids: Vec<String> = spec
                .endpoints
                .iter()
                .filter(|e| names.contains(&e.template().to_openapi()))
                .map(|e| e.id.clone())
                .collect();
            // Same-method clashes are already said; this is about the others.
            let methods: BTreeSet<Method> = spec
                .endpoints
                .iter()
                .filter(|e| names.contains(&e.template().to_openapi()))
                .map(|e| e.method)
                .collect();
            if methods.len() > 1 || ids.iter().any(|id| !reported.contains(id)) {
                problems.push(Problem::PathSpellings { paths: names.into_iter().collect(), ids });
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Error { problems }) }
}

fn method_order(method: Method) -> u8 {
    match method {
        Method::Get => 0,
        Method::Put => 1,
        Method::Post => 2,
        Method::Delete => 3,
        Method::Patch => 4,
    }
}

fn tag(endpoint: &Endpoint) -> String {
    format!("{}.{}", endpoint.service, endpoint.resource)
}

fn scopes(scopes: &[Scope]) -> Value {
    scopes.iter().map(|s| json!({ "name": s.name, "description": s.description })).collect()
}

fn operation(endpoint: &Endpoint) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), endpoint.id.clone().into());
    op.insert(
        "summary".into(),
        if endpoint.title.is_empty() { endpoint.id.clone() } else { endpoint.title.clone() }.into(),
    );
    if !endpoint.description.is_empty() {
        op.insert("description".into(), endpoint.description.clone().into());
    }
    op.insert("tags".into(), json!([tag(endpoint)]));
    if let Some(url) = &endpoint.doc_url {
        op.insert("externalDocs".into(), json!({ "url": url }));
    }
    let parameters = parameters(endpoint);
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = request_body(endpoint) {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), responses(endpoint));
    if !endpoint.access_tokens.is_empty() {
        let security: Vec<Value> =
            endpoint.access_tokens.iter().map(|t| json!({ t.as_str(): [] })).collect();
        op.insert("security".into(), Value::Array(security));
    }
    op.insert("x-feishu-detailed".into(), endpoint.detailed.into());
    op.insert(
        "x-feishu-access-tokens".into(),
        endpoint.access_tokens.iter().map(|t| t.as_str()).collect(),
    );
    op.insert("x-feishu-scopes".into(), scopes(&endpoint.scopes));
    if !endpoint.field_scopes.is_empty() {
        op.insert("x-feishu-field-scopes".into(), scopes(&endpoint.field_scopes));
    }
    if !endpoint.app_types.is_empty() {
        let names: Vec<&str> = endpoint
            .app_types
            .iter()
            .map(|a| if *a == AppType::Custom { "custom" } else { "isv" })
            .collect();
        op.insert("x-feishu-app-types".into(), json!(names));
    }
    if let Some(limit) = &endpoint.rate_limit {
        let mut map = Map::new();
        for (key, value) in [
            ("per_second", limit.per_second),
            ("per_minute", limit.per_minute),
            ("per_receiver_per_second", limit.per_receiver_per_second),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), value.into());
            }
        }
        map.insert("text".into(), limit.text.clone().into());
        op.insert("x-feishu-rate-limit".into(), Value::Object(map));
    }
    Value::Object(op)
}

fn parameters(endpoint: &Endpoint) -> Vec<Value> {
    let mut out = Vec::new();
    // The path's placeholders are what is sent; the documented rows describe them.
    for name in endpoint.template().params() {
        let documented = endpoint.path_params.iter().find(|f| f.name == name);
        let field = documented
            .cloned()
            .unwrap_or_else(|| Field { name: name.to_string(), ..Field::default() });
        out.push(parameter(&field, "path", true));
    }
    for field in Field::distinct(&endpoint.query_params) {
        out.push(parameter(field, "query", field.required));
    }
    // OpenAPI ignores these three as header parameters: security and media types say them.
    let ignored = ["authorization", "content-type", "accept"];
    for field in Field::distinct(&endpoint.headers)
        .filter(|f| !ignored.contains(&f.name.to_ascii_lowercase().as_str()))
    {
        out.push(parameter(field, "header", field.required));
    }
    out
}

fn parameter(field: &Field, location: &str, required: bool) -> Value {
    let mut p = Map::new();
    p.insert("name".into(), field.name.clone().into());
    p.insert("in".into(), location.into());
    p.insert("required".into(), required.into());
    if !field.description.is_empty() {
        p.insert("description".into(), field.description.clone().into());
    }
    let mut schema = schema(field, SchemaOf::Request);
    if let Value::Object(map) = &mut schema {
        // The description is the parameter's.
        map.shift_remove("description");
    }
    p.insert("schema".into(), schema);
    Value::Object(p)
}

/// Which values a schema describes: requests are closed (only the
/// documented fields), responses open (the platform adds fields).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SchemaOf {
    /// What the client sends.
    Request,
    /// What the platform answers.
    Response,
}

fn request_body(endpoint: &Endpoint) -> Option<Value> {
    let multipart = endpoint.request_content_type == Some(ContentType::Multipart);
    let media = if multipart { "multipart/form-data" } else { "application/json" };
    if !endpoint.detailed {
        if endpoint.method == Method::Get {
            return None;
        }
        return Some(json!({
            "description": "Not documented in detail: a JSON object as the docs describe it.",
            "content": { media: { "schema": { "type": "object" } } },
        }));
    }
    if endpoint.request_content_type.is_none() && endpoint.request_body.is_empty() {
        return None;
    }
    let mut content = Map::new();
    content.insert("schema".into(), object(&endpoint.request_body, SchemaOf::Request));
    if let Some(example) = &endpoint.request_example {
        content.insert("example".into(), example.clone());
    }
    let required = endpoint.request_body.iter().any(|f| f.required);
    Some(json!({ "required": required, "content": { media: content } }))
}

fn responses(endpoint: &Endpoint) -> Value {
    let mut by_status: BTreeMap<u16, Vec<&ErrorCode>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    let mut seen = BTreeSet::new();
    for error in endpoint.errors.iter().filter(|e| seen.insert(e.code)) {
        match error.http_status {
            Some(status) if (100..=599).contains(&status) => {
                by_status.entry(status).or_default().push(error)
            }
            _ => unplaced.push(error),
        }
    }
    let mut responses = Map::new();
    let with_200 = by_status.remove(&200).unwrap_or_default();
    let mut ok = Map::new();
    ok.insert("description".into(), "Success: `code` is 0 and `data` holds the result.".into());
    if endpoint.response_content_type == ResponseContentType::Binary {
        ok.insert(
            "description".into(),
            "Success: the file's bytes. Errors come as the JSON envelope.".into(),
        );
        ok.insert("content".into(), json!({ "application/octet-stream": {} }));
    } else {
        let data = if endpoint.detailed {
            object(&endpoint.response_body, SchemaOf::Response)
        } else {
            json!({ "type": "object" })
        };
        let code = if with_200.is_empty() {
            json!({ "type": "integer", "const": 0, "description": "0 on success." })
        } else {
            json!({ "type": "integer", "description": "0 on success; the codes in `x-feishu-error-codes` also come with HTTP 200." })
        };
        let mut media = Map::new();
        media.insert(
            "schema".into(),
            json!({
                "type": "object",
                "properties": { "code": code, "msg": { "type": "string" }, "data": data },
                "required": ["code", "msg"],
            }),
        );
        if let Some(example) = &endpoint.response_example {
            media.insert("example".into(), example.clone());
        }
        ok.insert("content".into(), json!({ "application/json": media }));
    }
    if !with_200.is_empty() {
        ok.insert("x-feishu-error-codes".into(), error_codes(&with_200));
    }
    responses.insert("200".into(), Value::Object(ok));
    for (status, errors) in by_status {
        responses.insert(status.to_string(), error_response(&format!("HTTP {status}"), &errors));
    }
    let mut default = if unplaced.is_empty() {
        json!({
            "description": "Any other error, in the envelope.",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } },
        })
    } else {
        error_response("Documented without an HTTP status", &unplaced)
    };
    if !unplaced.is_empty() {
        default["description"] = format!(
            "Any other error, in the envelope. {}",
            default["description"].as_str().unwrap_or_default()
        )
        .into();
        default["content"]["application/json"]["schema"]["properties"]["code"] =
            json!({ "type": "integer" });
    }
    responses.insert("default".into(), default);
    Value::Object(responses)
}

fn error_response(heading: &str, errors: &[&ErrorCode]) -> Value {
    let codes: Vec<i64> = errors.iter().map(|e| e.code).collect();
    let lines: Vec<String> =
        errors.iter().map(|e| format!("- `{}`: {}", e.code, e.message.trim())).collect();
    json!({
        "description": format!("{heading}, with one of these codes:\n{}", lines.join("\n")),
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": { "code": { "type": "integer", "enum": codes }, "msg": { "type": "string" } },
                    "required": ["code", "msg"],
                },
            },
        },
        "x-feishu-error-codes": error_codes(errors),
    })
}

fn error_codes(errors: &[&ErrorCode]) -> Value {
    errors
        .iter()
        .map(|e| {
            let mut map = Map::new();
            map.insert("code".into(), e.code.into());
            map.insert("message".into(), e.message.clone().into());
            if !e.hint.is_empty() {
                map.insert("hint".into(), e.hint.clone().into());
            }
            if !e.sub_errors.is_empty() {
                let subs: Vec<Value> = e
                    .sub_errors
                    .iter()
                    .map(|s| json!({ "code": s.code, "message": s.message, "hint": s.hint }))
                    .collect();
                map.insert("sub_errors".into(), subs.into());
            }
            Value::Object(map)
        })
        .collect()
}

fn webhook(event: &Event) -> Value {
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

/// An object schema of `fields`.
fn object(fields: &[Field], side: SchemaOf) -> Value {
    let mut object = Map::new();
    object.insert("type".into(), "object".into());
    let properties: Map<String, Value> =
        Field::distinct(fields).map(|f| (f.name.clone(), schema(f, side))).collect();
    if !properties.is_empty() {
        object.insert("properties".into(), Value::Object(properties));
    }
    let required: Vec<&str> =
        Field::distinct(fields).filter(|f| f.required).map(|f| f.name.as_str()).collect();
    if side == SchemaOf::Request && !required.is_empty() {
        object.insert("required".into(), json!(required));
    }
    Value::Object(object)
}

/// The JSON Schema of one field, with its rules, default, example and description.
fn schema(field: &Field, side: SchemaOf) -> Value {
    let c = &field.constraints;
    let mut schema = match field.field_type {
        FieldType::Array => {
            let items = match field.item_type {
                Some(FieldType::Object) | None if !field.children.is_empty() => {
                    object(&field.children, side)
                }
                Some(FieldType::Object) => json!({ "type": "object" }),
                Some(scalar) => scalar_schema(field, scalar, side),
                None if !c.enum_values.is_empty() => scalar_schema(field, FieldType::String, side),
                None => json!({}),
            };
            let mut map = Map::new();
            map.insert("type".into(), "array".into());
            map.insert("items".into(), items);
            if let Some(n) = c.min_items {
                map.insert("minItems".into(), n.into());
            }
            if let Some(n) = c.max_items {
                map.insert("maxItems".into(), n.into());
            }
            Value::Object(map)
        }
        FieldType::Object if !field.children.is_empty() => object(&field.children, side),
        FieldType::Object => json!({ "type": "object" }),
        scalar => scalar_schema(field, scalar, side),
    };
    let Value::Object(map) = &mut schema else { return schema };
    if !field.description.is_empty() {
        map.insert("description".into(), field.description.clone().into());
    }
    // Validators check these values against the schema: one the docs give in
    // another type or outside the rules is kept as text in an extension.
    for (key, text, wrap) in [
        ("const", &field.fixed, false),
        ("default", &field.default, false),
        ("examples", &field.example, true),
    ] {
        let Some(text) = text else { continue };
        let value = typed(text, field.field_type);
        if fits(&value, map) {
            map.insert(key.into(), if wrap { json!([value]) } else { value });
        } else {
            let extension = match key {
                "const" => "x-feishu-fixed",
                "default" => "x-feishu-default",
                _ => "x-feishu-example",
            };
            map.insert(extension.into(), text.clone().into());
        }
    }
    if !field.scopes.is_empty() {
        map.insert("x-feishu-scopes".into(), scopes(&field.scopes));
    }
    schema
}

/// A string, number or boolean schema with the field's value rules; for an
/// array field, the schema of its items.
fn scalar_schema(field: &Field, ty: FieldType, side: SchemaOf) -> Value {
    let c = &field.constraints;
    let mut map = Map::new();
    match ty {
        FieldType::Integer => map.insert("type".into(), "integer".into()),
        FieldType::Number => map.insert("type".into(), "number".into()),
        FieldType::Boolean => map.insert("type".into(), "boolean".into()),
        FieldType::File => {
            map.insert("type".into(), "string".into());
            map.insert("contentMediaType".into(), "application/octet-stream".into())
        }
        _ => map.insert("type".into(), "string".into()),
    };
    if matches!(ty, FieldType::String) {
        if let Some(n) = c.min_length {
            map.insert("minLength".into(), n.into());
        }
        if let Some(n) = c.max_length {
            map.insert("maxLength".into(), n.into());
        }
    }
    if matches!(ty, FieldType::Integer | FieldType::Number) {
        if let Some(n) = &c.minimum {
            map.insert("minimum".into(), Value::Number(n.clone()));
        }
        if let Some(n) = &c.maximum {
            map.insert("maximum".into(), Value::Number(n.clone()));
        }
    }
    if !c.enum_values.is_empty() {
        let values: Vec<Value> = c.enum_values.iter().map(|v| typed(&v.value, ty)).collect();
        // A value that does not fit the type cannot be an `enum` member.
        let fits = values.iter().all(|v| {
            matches!(
                (ty, v),
                (FieldType::Integer | FieldType::Number, Value::Number(_))
                    | (FieldType::Boolean, Value::Bool(_))
                    | (FieldType::String | FieldType::File, Value::String(_))
            )
        });
        if side == SchemaOf::Request && fits {
            let mut unique = Vec::new();
            for value in values {
                if !unique.contains(&value) {
                    unique.push(value);
                }
            }
            map.insert("enum".into(), Value::Array(unique));
        }
        let described: Map<String, Value> =
            c.enum_values.iter().map(|v| (v.value.clone(), v.description.clone().into())).collect();
        map.insert("x-enum-descriptions".into(), Value::Object(described));
    }
    Value::Object(map)
}

/// Whether `value` satisfies the schema's type, `enum`, lengths and range.
fn fits(value: &Value, schema: &Map<String, Value>) -> bool {
    let type_ok = match schema.get("type").and_then(Value::as_str) {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        _ => true,
    };
    let enum_ok =
        schema.get("enum").and_then(Value::as_array).is_none_or(|values| values.contains(value));
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let length_ok = value.as_str().is_none_or(|text| {
        let n = text.chars().count() as f64;
        bound("minLength").is_none_or(|min| n >= min)
            && bound("maxLength").is_none_or(|max| n <= max)
    });
    let items_ok = value.as_array().is_none_or(|items| {
        let n = items.len() as f64;
        bound("minItems").is_none_or(|min| n >= min) && bound("maxItems").is_none_or(|max| n <= max)
    });
    let range_ok = value.as_f64().is_none_or(|x| {
        bound("minimum").is_none_or(|min| x >= min) && bound("maximum").is_none_or(|max| x <= max)
    });
    type_ok && enum_ok && length_ok && items_ok && range_ok
}

/// A documented value as JSON of the field's type, or as text when it does not parse.
fn typed(text: &str, ty: FieldType) -> Value {
    let text = text.trim();
    let parsed = match ty {
        FieldType::Integer | FieldType::Number => {
            serde_json::from_str::<serde_json::Number>(text).ok().map(Value::Number)
        }
        FieldType::Boolean => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        FieldType::Object => serde_json::from_str::<Value>(text).ok().filter(Value::is_object),
        FieldType::Array => serde_json::from_str::<Value>(text).ok().filter(Value::is_array),
        FieldType::String | FieldType::File => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use feishu_spec::{AccessToken, Constraints, EnumValue, RateLimit};

    fn endpoint(id: &str, method: Method, path: &str) -> Endpoint {
        Endpoint {
            id: id.into(),
            service: "im".into(),
            resource: "message".into(),
            method,
            path: path.into(),
            detailed: true,
            ..Endpoint::default()
        }
    }

    #[test]
    fn colliding_routes_are_errors() {
        let spec = Spec {
            endpoints: vec![
                endpoint("a", Method::Post, "/x/:id"),
                endpoint("b", Method::Post, "/x/:key"),
                endpoint("a", Method::Get, "/y"),
            ],
            events: vec![],
        };
        let error = openapi(&spec).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("POST /x/:id and /x/:key is documented by more than one endpoint: a, b"),
            "{text}"
        );
        assert!(text.contains("more than one endpoint has the id `a`"), "{text}");
        assert!(!text.contains("one path with different parameter names"), "{text}");
        let spec = Spec {
            endpoints: vec![
                endpoint("a", Method::Post, "/x/:id"),
                endpoint("b", Method::Get, "/x/:key"),
            ],
            events: vec![],
        };
        let text = openapi(&spec).unwrap_err().to_string();
        assert!(
            text.contains(
                "/x/{id} and /x/{key} are one path with different parameter names, used by a, b"
            ),
            "{text}"
        );
    }

    #[test]
    fn request_fields_carry_their_rules() {
        let mut e = endpoint("im.v1.message.reply", Method::Post, "/m/:message_id/reply");
        e.request_content_type = Some(ContentType::Json);
        e.access_tokens = vec![AccessToken::TenantAccessToken];
        e.rate_limit = Some(RateLimit {
            per_second: Some(50),
            per_minute: Some(1000),
            per_receiver_per_second: None,
            text: "1000 次/分钟、50 次/秒".into(),
        });
        e.request_body = vec![
            Field {
                name: "uuid".into(),
                constraints: Constraints { max_length: Some(50), ..Constraints::default() },
                ..Field::default()
            },
            Field {
                name: "msg_type".into(),
                required: true,
                constraints: Constraints {
                    enum_values: vec![EnumValue {
                        value: "text".into(),
                        description: "文本".into(),
                    }],
                    ..Constraints::default()
                },
                ..Field::default()
            },
            Field {
                name: "flag".into(),
                field_type: FieldType::Boolean,
                default: Some("false".into()),
                ..Field::default()
            },
        ];
        e.errors = vec![ErrorCode {
            http_status: Some(400),
            code: 230001,
            message: "bad".into(),
            ..ErrorCode::default()
        }];
        let doc = openapi(&Spec { endpoints: vec![e], events: vec![] }).unwrap();
        let op = &doc["paths"]["/m/{message_id}/reply"]["post"];
        assert_eq!(op["operationId"], "im.v1.message.reply");
        assert_eq!(op["parameters"][0]["name"], "message_id");
        assert_eq!(op["parameters"][0]["required"], true);
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(schema["required"], json!(["msg_type"]));
        assert_eq!(schema["properties"]["uuid"]["maxLength"], 50);
        assert_eq!(schema["properties"]["msg_type"]["enum"], json!(["text"]));
        assert_eq!(schema["properties"]["flag"]["default"], false);
        assert_eq!(
            op["responses"]["400"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"],
            json!([230001])
        );
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["code"]["const"],
            0
        );
        assert_eq!(op["security"], json!([{ "tenant_access_token": [] }]));
        assert_eq!(
            op["x-feishu-rate-limit"],
            json!({ "per_second": 50, "per_minute": 1000, "text": "1000 次/分钟、50 次/秒" })
        );
    }

    #[test]
    fn catalogue_endpoints_get_a_generic_body() {
        let mut e = endpoint("im.v1.message.update", Method::Put, "/m/:message_id");
        e.detailed = false;
        let doc = openapi(&Spec { endpoints: vec![e], events: vec![] }).unwrap();
        let op = &doc["paths"]["/m/{message_id}"]["put"];
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"],
            json!({ "type": "object" })
        );
        assert_eq!(op["x-feishu-detailed"], false);
    }

    #[test]
    fn values_that_break_the_rules_are_kept_as_text() {
        let field = Field {
            name: "days".into(),
            field_type: FieldType::Integer,
            default: Some("此刻".into()),
            example: Some("7".into()),
            constraints: Constraints { maximum: Some(30.into()), ..Constraints::default() },
            ..Field::default()
        };
        let schema = schema(&field, SchemaOf::Request);
        assert_eq!(schema["x-feishu-default"], "此刻");
        assert!(schema.get("default").is_none());
        assert_eq!(schema["examples"], json!([7]));
        let late = Field { example: Some("31".into()), ..field };
        assert_eq!(super::schema(&late, SchemaOf::Request)["x-feishu-example"], "31");
    }

    #[test]
    fn values_are_typed_when_they_parse() {
        assert_eq!(typed("3", FieldType::Integer), json!(3));
        assert_eq!(typed("x", FieldType::Integer), json!("x"));
        assert_eq!(typed("true", FieldType::Boolean), json!(true));
        assert_eq!(typed("[]", FieldType::Array), json!([]));
        assert_eq!(typed("12", FieldType::String), json!("12"));
    }
}
