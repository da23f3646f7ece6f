//! Checking JSON examples against extracted field trees.

use std::collections::{BTreeMap, BTreeSet};

use feishu_spec::{Field, FieldType};
use serde_json::Value;

use crate::fields;

/// The dotted paths of keys in `example` that are not fields of `fields`
/// (array items are written `name[]`). Only objects whose fields are known
/// are checked: a field without children may hold anything.
pub fn unknown_keys(fields: &[Field], example: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(fields, example, "", &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(fields: &[Field], value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                match fields.iter().find(|f| &f.name == key) {
                    None => out.push(path),
                    Some(field) if !field.children.is_empty() => {
                        walk(&field.children, inner, &path, out)
                    }
                    Some(_) => {}
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(fields, item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Every field path in a tree (`a`, `a.b`), for comparing two readings of one endpoint.
pub fn field_paths(fields: &[Field]) -> Vec<String> {
    let mut out = Vec::new();
    fn go(fields: &[Field], prefix: &str, out: &mut Vec<String>) {
        for f in fields {
            let path =
                if prefix.is_empty() { f.name.clone() } else { format!("{prefix}.{}", f.name) };
            out.push(path.clone());
            go(&f.children, &path, out);
        }
    }
    go(fields, "", &mut out);
    out.sort();
    out
}

/// The paths of fields whose place the example contradicts. A field is
/// misplaced when a sibling before it has its name (an object cannot hold a
/// key twice), or when the example shows the object the field sits in without
/// the field's name while it holds that name somewhere no field covers. A field
/// the example says nothing about (its object, or its name, is absent) is not
/// counted: there is no evidence either way.
pub fn misplaced(fields: &[Field], example: &Value) -> Vec<String> {
    // Object path → the keys the example shows there (array items merged);
    // and every key path with its name.
    let mut shown: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut keys: Vec<(String, &str)> = Vec::new();
    fn objects<'a>(
        value: &'a Value,
        path: &str,
        shown: &mut BTreeMap<String, BTreeSet<&'a str>>,
        keys: &mut Vec<(String, &'a str)>,
    ) {
        match value {
            Value::Object(map) => {
                let here = shown.entry(path.to_string()).or_default();
                here.extend(map.keys().map(String::as_str));
                for (key, inner) in map {
                    let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    keys.push((child.clone(), key.as_str()));
                    objects(inner, &child, shown, keys);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| objects(i, path, shown, keys)),
            _ => {}
        }
    }
    objects(example, "", &mut shown, &mut keys);
    let covered: BTreeSet<String> = field_paths(fields).into_iter().collect();
    let stray: BTreeSet<&str> =
        keys.iter().filter(|(path, _)| !covered.contains(path)).map(|(_, name)| *name).collect();
    let mut out = Vec::new();
    fn go(
        fields: &[Field],
        prefix: &str,
        shown: &BTreeMap<String, BTreeSet<&str>>,
        stray: &BTreeSet<&str>,
        out: &mut Vec<String>,
    ) {
        for (i, f) in fields.iter().enumerate() {
            let path =
                if prefix.is_empty() { f.name.clone() } else { format!("{prefix}.{}", f.name) };
            let twice = fields[..i].iter().any(|g| g.name == f.name);
            let elsewhere = shown.get(prefix).is_some_and(|keys| !keys.contains(f.name.as_str()))
                && stray.contains(f.name.as_str());
            if twice || elsewhere {
                out.push(path.clone());
            }
            go(&f.children, &path, shown, stray, out);
        }
    }
    go(fields, "", &shown, &stray, &mut out);
    out
}

/// Turns into arrays of objects the fields whose type cell names no type
/// (`-`, `/`, empty) and that the example shows as an array of objects: such
/// a cell leaves the shape to the rows below it, and they describe one item.
/// A documented type (`object`, `message_body`) is never overruled: there the
/// table wins. Returns the dotted paths of the fields changed.
pub fn arrays_shown(fields: &mut [Field], example: &Value) -> Vec<String> {
    let mut out = Vec::new();
    shape(fields, example, "", &mut out);
    out.sort();
    out.dedup();
    out
}

fn shape(fields: &mut [Field], value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for field in fields.iter_mut() {
                let Some(inner) = map.get(&field.name) else { continue };
                let path = if prefix.is_empty() {
                    field.name.clone()
                } else {
                    format!("{prefix}.{}", field.name)
                };
                let objects =
                    |items: &Vec<Value>| !items.is_empty() && items.iter().all(Value::is_object);
                if field.field_type == FieldType::Object
                    && !field.children.is_empty()
                    && fields::names_no_type(&field.type_name)
                    && matches!(inner, Value::Array(items) if objects(items))
                {
                    field.field_type = FieldType::Array;
                    field.item_type = Some(FieldType::Object);
                    out.push(path.clone());
                }
                shape(&mut field.children, inner, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                shape(fields, item, prefix, out);
            }
        }
        _ => {}
    }
}

/// The places where the example's value has another JSON type than the
/// table says, each as (path, what the example shows, what the table says):
/// `("items[].kind", "the string \"1\"", "int")`. The spec follows the
/// table; these are the page contradicting itself. `null` fits any field,
/// and a field without a type of its own (an object without rows) fits
/// any value.
pub fn mistyped_values(fields: &[Field], example: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    compare(fields, example, "", &mut out);
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn compare(fields: &[Field], value: &Value, prefix: &str, out: &mut Vec<(String, String, String)>) {
    let Value::Object(map) = value else { return };
    for field in fields {
        let Some(inner) = map.get(&field.name) else { continue };
        let path =
            if prefix.is_empty() { field.name.clone() } else { format!("{prefix}.{}", field.name) };
        let table = if field.type_name.trim().is_empty() {
            format!("{:?}", field.field_type).to_lowercase()
        } else {
            field.type_name.trim().to_owned()
        };
        match (field.field_type, inner) {
            (_, Value::Null) => {}
            (FieldType::Array, Value::Array(items)) => {
                for item in items {
                    match (field.item_type, item) {
                        (Some(FieldType::Object) | None, Value::Object(_)) => {
                            compare(&field.children, item, &format!("{path}[]"), out)
                        }
                        (Some(kind), item) if !fits(kind, !field.children.is_empty(), item) => {
                            out.push((format!("{path}[]"), shown(item), table.clone()))
                        }
                        _ => {}
                    }
                }
            }
            (FieldType::Object, Value::Object(_)) => compare(&field.children, inner, &path, out),
            (kind, inner) if !fits(kind, !field.children.is_empty(), inner) => {
                out.push((path, shown(inner), table))
            }
            _ => {}
        }
    }
}

/// True when a JSON value is of a field type's kind. An object without
/// rows of its own may hold anything, as may a file part.
fn fits(kind: FieldType, has_rows: bool, value: &Value) -> bool {
    match kind {
        FieldType::String => value.is_string(),
        FieldType::Integer => value.is_i64() || value.is_u64(),
        FieldType::Number => value.is_number(),
        FieldType::Boolean => value.is_boolean(),
        FieldType::Object => !has_rows || value.is_object(),
        FieldType::Array => value.is_array(),
        FieldType::File => true,
    }
}

/// A value as a diagnostic shows it: its kind, and scalars themselves.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => {
            let short: String = text.chars().take(40).collect();
            format!("the string {short:?}")
        }
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::Null => "null".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, children: Vec<Field>) -> Field {
        Field { name: name.into(), children, ..Field::default() }
    }

    #[test]
    fn finds_keys_that_are_not_fields() {
        let fields = vec![field("a", vec![field("b", vec![])]), field("free", vec![])];
        let example: Value =
            serde_json::from_str(r#"{"a":[{"b":1,"c":2}],"free":{"x":1},"z":0}"#).unwrap();
        assert_eq!(unknown_keys(&fields, &example), ["a[].c", "z"]);
        assert_eq!(field_paths(&fields), ["a", "a.b", "free"]);
    }

    #[test]
    fn misplaced_fields_are_those_the_example_puts_elsewhere() {
        let example: Value =
            serde_json::from_str(r#"{"list":[{"id":1,"owner":{"id":2,"mail":"m"}}],"total":3}"#)
                .unwrap();
        // `mail` sits in `list` items, which the example shows without it, and
        // the example's `list.owner.mail` has no field: misplaced.
        let wrong = vec![
            field(
                "list",
                vec![
                    field("id", vec![]),
                    field("owner", vec![field("id", vec![])]),
                    field("mail", vec![]),
                ],
            ),
            field("total", vec![]),
        ];
        assert_eq!(misplaced(&wrong, &example), ["list.mail"]);
        // The same name twice in one object is misplaced wherever it is.
        let twice = vec![field("total", vec![]), field("total", vec![])];
        assert_eq!(misplaced(&twice, &example), ["total"]);
        // Right, or about something the example does not show: nothing.
        let right = vec![
            field(
                "list",
                vec![
                    field("id", vec![]),
                    field("owner", vec![field("id", vec![]), field("mail", vec![])]),
                ],
            ),
            field("total", vec![]),
            field("has_more", vec![]),
        ];
        assert!(misplaced(&right, &example).is_empty());
    }

    #[test]
    fn an_untyped_object_the_example_shows_as_a_list_becomes_a_list() {
        let typed = |name: &str, type_name: &str, children: Vec<Field>| Field {
            type_name: type_name.into(),
            field_type: FieldType::Object,
            ..field(name, children)
        };
        let mut fields = vec![
            typed("results", "-", vec![typed("cell", "/", vec![field("x", vec![])])]),
            typed("owner", "object", vec![field("id", vec![])]),
            typed("single", "", vec![field("id", vec![])]),
            typed("empty", "-", vec![field("id", vec![])]),
        ];
        let example: Value = serde_json::from_str(
            r#"{"results":[{"cell":[{"x":1}]},{"cell":[{"x":2}]}],
                "owner":[{"id":"a"}],"single":{"id":"b"},"empty":[]}"#,
        )
        .unwrap();
        assert_eq!(arrays_shown(&mut fields, &example), ["results", "results.cell"]);
        assert_eq!(fields[0].field_type, FieldType::Array);
        assert_eq!(fields[0].item_type, Some(FieldType::Object));
        assert_eq!(fields[0].children[0].field_type, FieldType::Array);
        // A documented `object` stays one (the table wins); an object shown
        // as an object, or an empty list that shows nothing, stays too.
        for kept in &fields[1..] {
            assert_eq!(kept.field_type, FieldType::Object, "{}", kept.name);
        }
    }

    #[test]
    fn values_of_another_type_than_the_table_says_are_named_with_both_sides() {
        let typed = |name: &str, field_type, type_name: &str, children| Field {
            field_type,
            type_name: type_name.into(),
            ..field(name, children)
        };
        let fields = vec![
            typed(
                "leaders",
                FieldType::Array,
                "leader[]",
                vec![typed("leader_type", FieldType::Integer, "int", vec![])],
            ),
            typed("id", FieldType::String, "string", vec![]),
            typed("rule", FieldType::String, "string", vec![]),
            typed("size", FieldType::Number, "float", vec![]),
            typed("free", FieldType::Object, "map", vec![]),
            typed("gone", FieldType::Integer, "int", vec![]),
            Field {
                item_type: Some(FieldType::Integer),
                ..typed("levels", FieldType::Array, "int[]", vec![])
            },
        ];
        let example: Value = serde_json::from_str(
            r#"{"leaders":[{"leader_type":"1"},{"leader_type":2}],"id":6953903108179099667,
                "rule":{"op":1},"size":3,"free":[1],"gone":null,"levels":[1,"2"]}"#,
        )
        .unwrap();
        let found = mistyped_values(&fields, &example);
        let found: Vec<String> =
            found.iter().map(|(p, shows, says)| format!("{p}: {shows} / {says}")).collect();
        assert_eq!(
            found,
            [
                "id: the number 6953903108179099667 / string",
                "leaders[].leader_type: the string \"1\" / int",
                "levels[]: the string \"2\" / int[]",
                "rule: an object / string",
            ]
        );
    }
}
