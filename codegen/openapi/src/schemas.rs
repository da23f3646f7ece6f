//! Fields as JSON Schema: objects, arrays and scalars with their constraints,
//! closed for what is sent and open for what is received.

use super::scopes;
use feishu_spec::{Field, FieldType};
use serde_json::{Map, Value, json};

/// Which values a schema describes: requests are closed (only the
/// documented fields), responses open (the platform adds fields).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SchemaOf {
    /// What the client sends.
    Request,
    /// What the platform answers.
    Response,
}

/// An object schema of `fields`.
pub(super) fn object(fields: &[Field], side: SchemaOf) -> Value {
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
pub(super) fn schema(field: &Field, side: SchemaOf) -> Value {
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
pub(super) fn scalar_schema(field: &Field, ty: FieldType, side: SchemaOf) -> Value {
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
pub(super) fn fits(value: &Value, schema: &Map<String, Value>) -> bool {
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
pub(super) fn typed(text: &str, ty: FieldType) -> Value {
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
