//! Checking JSON examples against extracted field trees.

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
}
