//! Spec-driven checks of path, query and JSON body against [`Field`] trees:
//! required, JSON type, string length in characters, item counts, numeric
//! range and enum values. The first violation wins, in spec order.

use std::fmt;

use feishu_spec::Endpoint;
use feishu_spec::{Field, FieldType};
use serde_json::{Map, Value, json};

use crate::reply::Reply;

/// One broken rule: the field's path (`follow_ups[0].content`) and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    pub field: String,
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

fn violation(field: &str, rule: impl Into<String>) -> Violation {
    Violation { field: field.to_string(), rule: rule.into() }
}

/// Checks path parameters: each is required whatever the spec says, since an
/// empty path segment can never be right.
pub(crate) fn check_path(fields: &[Field], params: &[(String, String)]) -> Result<(), Violation> {
    for field in fields {
        let value = params
            .iter()
            .find(|(name, _)| *name == field.name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if value.is_empty() {
            return Err(violation(&field.name, "is required"));
        }
        check_text(field, &field.name, value, field.field_type)?;
    }
    Ok(())
}

/// Checks query parameters; array fields take every repetition of the name.
pub(crate) fn check_query(fields: &[Field], query: &[(String, String)]) -> Result<(), Violation> {
    for field in fields {
        let values: Vec<&str> =
            query.iter().filter(|(name, _)| *name == field.name).map(|(_, v)| v.as_str()).collect();
        if values.is_empty() {
            if field.required {
                return Err(violation(&field.name, "is required"));
            }
            continue;
        }
        if field.field_type == FieldType::Array {
            check_items_count(field, &field.name, values.len())?;
            let item_type = field.item_type.unwrap_or(FieldType::String);
            for (i, value) in values.iter().enumerate() {
                check_text(field, &format!("{}[{i}]", field.name), value, item_type)?;
            }
        } else {
            if values.len() > 1 {
                return Err(violation(&field.name, "is given more than once"));
            }
            check_text(field, &field.name, values[0], field.field_type)?;
        }
    }
    Ok(())
}

/// Checks a query or path value (text) as a value of type `ty`.
fn check_text(field: &Field, path: &str, text: &str, ty: FieldType) -> Result<(), Violation> {
    let value = match ty {
        FieldType::Integer => match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => return Err(violation(path, format!("must be an integer, got {text:?}"))),
        },
        FieldType::Number => {
            match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(n) => Value::Number(n),
                None => return Err(violation(path, format!("must be a number, got {text:?}"))),
            }
        }
        FieldType::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(violation(path, format!("must be true or false, got {text:?}"))),
        },
        _ => Value::String(text.to_string()),
    };
    check_scalar(field, path, &value)
}

/// Checks a JSON body against the spec's top-level fields.
pub(crate) fn check_body(fields: &[Field], body: Option<&Value>) -> Result<(), Violation> {
    if fields.is_empty() {
        return Ok(());
    }
    let empty = Map::new();
    let object = match body {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(violation(
                "body",
                format!("must be a JSON object, got {}", type_name(other)),
            ));
        }
    };
    check_object(fields, "", object)
}

fn check_object(
    fields: &[Field],
    prefix: &str,
    object: &Map<String, Value>,
) -> Result<(), Violation> {
    for field in fields {
        let path =
            if prefix.is_empty() { field.name.clone() } else { format!("{prefix}.{}", field.name) };
        match object.get(&field.name) {
            None | Some(Value::Null) => {
                if field.required {
                    return Err(violation(&path, "is required"));
                }
            }
            Some(value) => check_value(field, &path, value, field.field_type)?,
        }
    }
    Ok(())
}

/// Checks `value` as a value of type `ty` under `field`'s rules.
fn check_value(field: &Field, path: &str, value: &Value, ty: FieldType) -> Result<(), Violation> {
    match ty {
        FieldType::Object => match value {
            Value::Object(map) => check_object(&field.children, path, map),
            other => Err(violation(path, format!("must be an object, got {}", type_name(other)))),
        },
        FieldType::Array => {
            let Value::Array(items) = value else {
                return Err(violation(path, format!("must be an array, got {}", type_name(value))));
            };
            check_items_count(field, path, items.len())?;
            let item_type = field.item_type.unwrap_or(if field.children.is_empty() {
                FieldType::String
            } else {
                FieldType::Object
            });
            if item_type == FieldType::Array {
                return Ok(());
            }
            for (i, item) in items.iter().enumerate() {
                check_value(field, &format!("{path}[{i}]"), item, item_type)?;
            }
            Ok(())
        }
        FieldType::File => Ok(()),
        _ => check_scalar_typed(field, path, value, ty),
    }
}

fn check_scalar_typed(
    field: &Field,
    path: &str,
    value: &Value,
    ty: FieldType,
) -> Result<(), Violation> {
    let fits = match ty {
        FieldType::String => value.is_string(),
        FieldType::Integer => value.is_i64() || value.is_u64(),
        FieldType::Number => value.is_number(),
        FieldType::Boolean => value.is_boolean(),
        _ => true,
    };
    if !fits {
        let wanted = match ty {
            FieldType::String => "a string",
            FieldType::Integer => "an integer",
            FieldType::Number => "a number",
            _ => "a boolean",
        };
        return Err(violation(path, format!("must be {wanted}, got {}", type_name(value))));
    }
    check_scalar(field, path, value)
}

/// Length, range and enum rules of a string or number.
fn check_scalar(field: &Field, path: &str, value: &Value) -> Result<(), Violation> {
    let rules = &field.constraints;
    if let Value::String(text) = value {
        let length = text.chars().count() as u64;
        if let Some(min) = rules.min_length
            && length < min
        {
            return Err(violation(
                path,
                format!("length {length} is below the minimum of {min} characters"),
            ));
        }
        if let Some(max) = rules.max_length
            && length > max
        {
            return Err(violation(
                path,
                format!("length {length} is above the maximum of {max} characters"),
            ));
        }
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = rules.minimum.as_ref().and_then(serde_json::Number::as_f64)
            && number < min
        {
            return Err(violation(path, format!("{value} is below the minimum of {min}")));
        }
        if let Some(max) = rules.maximum.as_ref().and_then(serde_json::Number::as_f64)
            && number > max
        {
            return Err(violation(path, format!("{value} is above the maximum of {max}")));
        }
    }
    if !rules.enum_values.is_empty() {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !rules.enum_values.iter().any(|e| e.value == text) {
            let allowed: Vec<&str> = rules.enum_values.iter().map(|e| e.value.as_str()).collect();
            return Err(violation(path, format!("{text:?} is not one of {}", allowed.join(", "))));
        }
    }
    Ok(())
}

fn check_items_count(field: &Field, path: &str, count: usize) -> Result<(), Violation> {
    let count = count as u64;
    let rules = &field.constraints;
    if let Some(min) = rules.min_items
        && count < min
    {
        return Err(violation(path, format!("has {count} items, below the minimum of {min}")));
    }
    if let Some(max) = rules.max_items
        && count > max
    {
        return Err(violation(path, format!("has {count} items, above the maximum of {max}")));
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The endpoint's "invalid parameter" answer naming the field and rule.
pub(crate) fn invalid_param(endpoint: &Endpoint, violation: &Violation) -> Reply {
    let code = if endpoint.service == "im" { 230001 } else { 99992402 };
    let mut value = json!({
        "code": code,
        "msg": format!("invalid request parameter: {violation}"),
        "error": { "field_violations": [{ "field": violation.field, "description": violation.rule }] },
    });
    if code == 99992402 {
        value["msg"] = format!("field validation failed: {violation}").into();
    }
    Reply::json(400, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use feishu_spec::{Constraints, EnumValue};
    use serde_json::json;

    fn field(name: &str, ty: FieldType, required: bool) -> Field {
        Field { name: name.into(), field_type: ty, required, ..Field::default() }
    }

    fn follow_ups() -> Vec<Field> {
        let content = Field {
            constraints: Constraints {
                min_length: Some(1),
                max_length: Some(3),
                ..Constraints::default()
            },
            ..field("content", FieldType::String, true)
        };
        let language = Field {
            constraints: Constraints {
                enum_values: vec![EnumValue { value: "en_us".into(), description: String::new() }],
                ..Constraints::default()
            },
            ..field("language", FieldType::String, false)
        };
        vec![Field {
            item_type: Some(FieldType::Object),
            constraints: Constraints {
                min_items: Some(1),
                max_items: Some(2),
                ..Constraints::default()
            },
            children: vec![content, language],
            ..field("follow_ups", FieldType::Array, true)
        }]
    }

    fn body_error(body: Value) -> String {
        check_body(&follow_ups(), Some(&body)).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_valid_body() {
        assert_eq!(
            check_body(
                &follow_ups(),
                Some(&json!({"follow_ups": [{"content": "你好吗", "language": "en_us"}]}))
            ),
            Ok(())
        );
    }

    #[test]
    fn names_the_field_and_the_rule() {
        assert_eq!(
            check_body(&follow_ups(), None).unwrap_err().to_string(),
            "follow_ups: is required"
        );
        assert_eq!(
            body_error(json!({"follow_ups": {}})),
            "follow_ups: must be an array, got an object"
        );
        assert_eq!(
            body_error(json!({"follow_ups": []})),
            "follow_ups: has 0 items, below the minimum of 1"
        );
        assert_eq!(
            body_error(
                json!({"follow_ups": [{"content": "a"}, {"content": "a"}, {"content": "a"}]})
            ),
            "follow_ups: has 3 items, above the maximum of 2"
        );
        assert_eq!(body_error(json!({"follow_ups": [{}]})), "follow_ups[0].content: is required");
        assert_eq!(
            body_error(json!({"follow_ups": [{"content": 5}]})),
            "follow_ups[0].content: must be a string, got a number"
        );
        assert_eq!(
            body_error(json!({"follow_ups": [{"content": "四个字符"}]})),
            "follow_ups[0].content: length 4 is above the maximum of 3 characters"
        );
        assert_eq!(
            body_error(json!({"follow_ups": [{"content": ""}]})),
            "follow_ups[0].content: length 0 is below the minimum of 1 characters"
        );
        assert!(
            body_error(json!({"follow_ups": [{"content": "a", "language": "xx"}]}))
                .starts_with("follow_ups[0].language: \"xx\" is not one of en_us")
        );
        assert_eq!(body_error(json!([1])), "body: must be a JSON object, got an array");
    }

    #[test]
    fn checks_query_text() {
        let page_size = Field {
            constraints: Constraints {
                minimum: Some(1.into()),
                maximum: Some(50.into()),
                ..Constraints::default()
            },
            ..field("page_size", FieldType::Integer, false)
        };
        let fields = vec![field("type", FieldType::String, true), page_size];
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        assert_eq!(check_query(&fields, &q(&[("type", "x")])), Ok(()));
        assert_eq!(check_query(&fields, &q(&[])).unwrap_err().to_string(), "type: is required");
        assert_eq!(
            check_query(&fields, &q(&[("type", "x"), ("page_size", "a")])).unwrap_err().to_string(),
            "page_size: must be an integer, got \"a\""
        );
        assert_eq!(
            check_query(&fields, &q(&[("type", "x"), ("page_size", "51")]))
                .unwrap_err()
                .to_string(),
            "page_size: 51 is above the maximum of 50"
        );
        assert_eq!(
            check_path(&[field("message_id", FieldType::String, false)], &q(&[("message_id", "")]))
                .unwrap_err()
                .to_string(),
            "message_id: is required"
        );
    }
}
