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

mod operations;
mod schemas;
mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use feishu_spec::{Endpoint, Method, Scope, Spec};
use serde_json::{Map, Value, json};

use operations::operation;
use webhooks::webhook;

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

#[cfg(test)]
mod tests {
    use super::schemas::SchemaOf;
    use super::schemas::{schema, typed};
    use super::*;
    use feishu_spec::{
        AccessToken, Constraints, ContentType, EnumValue, ErrorCode, Field, FieldType, RateLimit,
    };

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
        assert_eq!(super::schemas::schema(&late, SchemaOf::Request)["x-feishu-example"], "31");
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
