//! One endpoint as an OpenAPI operation: its parameters, request body and
//! responses (the success inside the `{code, msg, data}` envelope, the error
//! codes grouped by HTTP status).

use std::collections::{BTreeMap, BTreeSet};

use super::schemas::{SchemaOf, object, schema};
use super::{scopes, tag};
use feishu_spec::{AppType, ContentType, Endpoint, ErrorCode, Field, Method, ResponseContentType};
use serde_json::{Map, Value, json};

pub(super) fn operation(endpoint: &Endpoint) -> Value {
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

pub(super) fn parameters(endpoint: &Endpoint) -> Vec<Value> {
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

pub(super) fn parameter(field: &Field, location: &str, required: bool) -> Value {
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

pub(super) fn request_body(endpoint: &Endpoint) -> Option<Value> {
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

pub(super) fn responses(endpoint: &Endpoint) -> Value {
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

pub(super) fn error_response(heading: &str, errors: &[&ErrorCode]) -> Value {
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

pub(super) fn error_codes(errors: &[&ErrorCode]) -> Value {
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
