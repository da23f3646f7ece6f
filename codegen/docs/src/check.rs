//! Checking JSON examples against extracted field trees.

use std::collections::{BTreeMap, BTreeSet};

use feishu_spec::Field;
use serde_json::Value;

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
}
