//! Which examples `cargo xtask examples` puts through the generated crate:
//! every response, event and request example of a typed operation or event,
//! with what the checker gets of it (`data`, the `event` body, the request
//! body). Examples that cannot be checked are counted apart, never as passes:
//! `unusable` (not JSON, or with `...` placeholders) and `untyped` (the
//! crate gives the operation or event no type to decode into).

use std::collections::BTreeMap;

use feishu_model::{Location, Model, OperationKind};
use serde_json::Value;

use super::program::Check;

/// The three kinds of example, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Responses,
    Events,
    Requests,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Responses, Kind::Events, Kind::Requests];

    /// The report's key.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Responses => "responses",
            Kind::Events => "events",
            Kind::Requests => "requests",
        }
    }
}

/// One example to check.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub kind: Kind,
    /// The page, relative to the docs folder.
    pub page: String,
    /// The operation id or event type.
    pub item: String,
    /// What the checker decodes or builds.
    pub value: Value,
}

/// Everything to check, and what is counted apart.
#[derive(Debug, Default)]
pub struct Plan {
    pub cases: Vec<Case>,
    /// Case `i` runs `checks[i]`.
    pub checks: Vec<Check>,
    /// Examples that are not JSON or hold `...` placeholders, per kind.
    pub unusable: BTreeMap<Kind, usize>,
    /// Examples of operations or events without a type to check against, per kind.
    pub untyped: BTreeMap<Kind, usize>,
}

/// True when `value` holds a `...` placeholder (as a key or a string),
/// which stands for values the page left out.
pub fn has_placeholder(value: &Value) -> bool {
    let dots = |s: &str| {
        let s = s.trim();
        !s.is_empty() && s.chars().all(|c| c == '.' || c == '…') && (s.len() >= 3 || s == "…")
    };
    match value {
        Value::String(s) => dots(s),
        Value::Array(items) => items.iter().any(has_placeholder),
        Value::Object(map) => map.iter().any(|(k, v)| dots(k) || has_placeholder(v)),
        _ => false,
    }
}

/// The `data` of a response example: the envelope's `data` (`null` when
/// the envelope has none), or the whole example when it is not an
/// envelope (a page that shows only what is inside `data`).
pub fn response_data(example: &Value) -> Value {
    match example.as_object() {
        Some(map) if map.contains_key("code") || map.contains_key("data") => {
            map.get("data").cloned().unwrap_or(Value::Null)
        }
        _ => example.clone(),
    }
}

/// The body of an event example: its `event`, or the whole example when it
/// has none.
pub fn event_body(example: &Value) -> Value {
    example.get("event").cloned().unwrap_or_else(|| example.clone())
}

/// The kind of example an `invalid_example` diagnostic is about, from its
/// message (`request example is not JSON: …`).
fn invalid_kind(message: &str) -> Option<Kind> {
    if message.starts_with("request example") {
        Some(Kind::Requests)
    } else if message.starts_with("response example") {
        Some(Kind::Responses)
    } else if message.starts_with("event example") {
        Some(Kind::Events)
    } else {
        None
    }
}

/// The plan for `spec`, whose crate is printed from `model`.
pub fn plan(
    spec: &feishu_spec::Spec,
    model: &Model,
    diagnostics: &[feishu_docs::Diagnostic],
) -> Plan {
    let mut plan = Plan::default();
    for kind in Kind::ALL {
        plan.unusable.insert(kind, 0);
        plan.untyped.insert(kind, 0);
    }
    for d in diagnostics.iter().filter(|d| d.kind == feishu_docs::DiagnosticKind::InvalidExample) {
        if let Some(kind) = invalid_kind(&d.message) {
            *plan.unusable.entry(kind).or_default() += 1;
        }
    }
    let endpoints: BTreeMap<&str, &feishu_spec::Endpoint> =
        spec.endpoints.iter().map(|e| (e.id.as_str(), e)).collect();
    for service in model.services.values() {
        for resource in service.resources.values() {
            for op in &resource.operations {
                let Some(endpoint) = endpoints.get(op.id.as_str()) else { continue };
                let page = endpoint.sources.first().cloned().unwrap_or_default();
                let typed = match &op.kind {
                    OperationKind::Typed(typed) => Some(typed),
                    OperationKind::Catalogue { .. } => None,
                };
                if let Some(example) = &endpoint.response_example {
                    let check = typed.map(|t| Check::Response {
                        path: format!(
                            "feishu::{}::{}::{}",
                            service.module, resource.module, t.response.name
                        ),
                    });
                    plan.add(
                        Kind::Responses,
                        &page,
                        &op.id,
                        example,
                        response_data(example),
                        check,
                    );
                }
                if let Some(example) = &endpoint.request_example {
                    let check =
                        typed.filter(|t| t.json_body && t.form.is_none()).map(|t| Check::Request {
                            path: format!(
                                "feishu::{}::{}::{}",
                                service.module, resource.module, t.request.name
                            ),
                            parameters: t
                                .request
                                .fields
                                .iter()
                                .filter(|f| f.location != Location::Body)
                                .map(|f| f.wire_name.clone())
                                .collect(),
                        });
                    plan.add(Kind::Requests, &page, &op.id, example, example.clone(), check);
                }
            }
        }
    }
    let mut bodies = BTreeMap::new();
    for service in model.services.values() {
        for event in &service.events {
            bodies.insert(event.event_type.as_str(), (service.module.as_str(), &event.body.name));
        }
    }
    for event in &spec.events {
        let Some(example) = &event.example else { continue };
        let page = event.sources.first().cloned().unwrap_or_default();
        let check = bodies.get(event.event_type.as_str()).map(|(service, name)| Check::Event {
            path: format!("feishu::{service}::events::{name}"),
        });
        plan.add(Kind::Events, &page, &event.event_type, example, event_body(example), check);
    }
    plan
}

impl Plan {
    fn add(
        &mut self,
        kind: Kind,
        page: &str,
        item: &str,
        example: &Value,
        value: Value,
        check: Option<Check>,
    ) {
        if has_placeholder(example) {
            *self.unusable.entry(kind).or_default() += 1;
            return;
        }
        let Some(check) = check else {
            *self.untyped.entry(kind).or_default() += 1;
            return;
        };
        self.cases.push(Case { kind, page: page.to_owned(), item: item.to_owned(), value });
        self.checks.push(check);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_dots_standing_alone() {
        assert!(has_placeholder(&json!({"items": ["..."]})));
        assert!(has_placeholder(&json!({"a": {"…": 1}})));
        assert!(!has_placeholder(&json!({"text": "wait..."})));
        assert!(!has_placeholder(&json!({"version": "1.0", "dot": "."})));
    }

    #[test]
    fn data_comes_from_the_envelope_or_is_the_example() {
        assert_eq!(
            response_data(&json!({"code": 0, "msg": "ok", "data": {"a": 1}})),
            json!({"a": 1})
        );
        assert_eq!(response_data(&json!({"code": 0, "msg": "ok"})), Value::Null);
        assert_eq!(response_data(&json!({"user": {"id": "u"}})), json!({"user": {"id": "u"}}));
        assert_eq!(event_body(&json!({"header": {}, "event": {"x": 1}})), json!({"x": 1}));
    }
}
