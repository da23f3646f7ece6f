//! Rebuilding nesting a table lost: from the page's JSON example, or from its
//! "类型额外说明" type notes.
//!
//! Some pages flatten the tree (every row at the top, or every nested row
//! marked with one `└` whatever its depth). The example still has the shape:
//! each row goes into the deepest open object whose example holds its name.

use std::collections::BTreeMap;

use feishu_spec::{Field, FieldType};
use serde_json::{Map, Value};

use crate::fields::{RawField, children_at, is_container, tree_by_levels};

/// How a tree was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The levels the table states fit the example (or there is no reason to doubt them).
    AsStated,
    /// The example gave a better tree than the stated levels.
    FromExample,
    /// The table has no levels, objects in it, and nothing to rebuild from: containers took the rows after them.
    Guessed,
}

/// Builds the field tree of a table, using `example` (the JSON object the
/// table describes) to rebuild nesting the table lost.
pub fn settle(rows: &[RawField], example: Option<&Value>) -> (Vec<Field>, Settled) {
    let (mut tree, how) = settle_shape(rows, example);
    objects_hold_fields(&mut tree);
    (tree, how)
}

fn settle_shape(rows: &[RawField], example: Option<&Value>) -> (Vec<Field>, Settled) {
    let stated = tree_by_levels(rows);
    let has_levels = rows.iter().any(|r| r.level.is_some_and(|l| l > 0));
    let example = example.and_then(Value::as_object);
    if let Some(example) = example {
        let rebuilt = by_example(rows, example);
        if misfit(&rebuilt, example) < misfit(&stated, example) {
            return (rebuilt, Settled::FromExample);
        }
        return (stated, Settled::AsStated);
    }
    let lost =
        !has_levels && rows.iter().take(rows.len().saturating_sub(1)).any(RawField::is_container);
    if lost {
        return (greedy(rows), Settled::Guessed);
    }
    (stated, Settled::AsStated)
}

/// A container being filled: its index path, and the example object of its items.
type OpenContainer<'a> = (Vec<usize>, Option<&'a Map<String, Value>>);

/// Places each row in the deepest open container whose example holds its name.
fn by_example(rows: &[RawField], example: &Map<String, Value>) -> Vec<Field> {
    let mut roots: Vec<Field> = Vec::new();
    // Open containers: index path and the example object of their items.
    let mut stack: Vec<OpenContainer<'_>> = vec![(Vec::new(), Some(example))];
    for (i, row) in rows.iter().enumerate() {
        let name = row.field.name.as_str();
        let holder_of =
            |name: &str| stack.iter().rposition(|(_, ex)| ex.is_some_and(|m| m.contains_key(name)));
        let depth = match holder_of(name) {
            Some(d) => d,
            // Unknown to the example: trust a stated level; else go where the
            // next row the example knows goes (an example that omits a field
            // still shows where its siblings are); else stay.
            None => row.level.map_or_else(
                || {
                    rows[i + 1..]
                        .iter()
                        .find_map(|next| holder_of(&next.field.name))
                        .unwrap_or(stack.len() - 1)
                },
                |l| l.min(stack.len() - 1),
            ),
        };
        stack.truncate(depth + 1);
        let (path, parent_example) = stack[depth].clone();
        let siblings = children_at(&mut roots, &path);
        siblings.push(row.field.clone());
        let mut child_path = path;
        child_path.push(siblings.len() - 1);
        // The example can know better than the type name (`enum` fields that are `{enum_name}` objects).
        let child_example = parent_example.and_then(|m| m.get(name)).and_then(object_of);
        if row.is_container() || child_example.is_some() {
            stack.push((child_path, child_example));
        }
    }
    roots
}

/// Fields that turned out to hold fields are objects (or arrays of objects),
/// whatever primitive type name the page gave them.
pub fn objects_hold_fields(fields: &mut [Field]) {
    for field in fields {
        if !field.children.is_empty() && !crate::fields::is_container(field) {
            if field.field_type == FieldType::Array {
                field.item_type = Some(FieldType::Object);
            } else {
                field.field_type = FieldType::Object;
            }
        }
        objects_hold_fields(&mut field.children);
    }
}

/// The example object of a field: the object itself, or an array's first object.
fn object_of(value: &Value) -> Option<&Map<String, Value>> {
    match value {
        Value::Object(m) => Some(m),
        Value::Array(items) => items.iter().find_map(Value::as_object),
        _ => None,
    }
}

/// How badly a tree fits an example: fields where the example has no such
/// key, plus example keys with no field.
fn misfit(fields: &[Field], example: &Map<String, Value>) -> usize {
    let mut bad = 0;
    for field in fields {
        match example.get(&field.name) {
            None => bad += 1 + field.children.len(),
            Some(value) => {
                if let Some(inner) = object_of(value)
                    && !field.children.is_empty()
                {
                    bad += misfit(&field.children, inner);
                }
            }
        }
    }
    bad + example.keys().filter(|k| !fields.iter().any(|f| &f.name == *k)).count()
}

/// Without levels or example: each container takes the rows after it.
fn greedy(rows: &[RawField]) -> Vec<Field> {
    let mut roots: Vec<Field> = Vec::new();
    let mut path: Vec<usize> = Vec::new();
    for row in rows {
        let siblings = children_at(&mut roots, &path);
        siblings.push(row.field.clone());
        if row.is_container() {
            path.push(siblings.len() - 1);
        }
    }
    roots
}

/// Type notes: type name → its fields, read from a "类型额外说明" block.
pub type TypeNotes = BTreeMap<String, Vec<Field>>;

/// Reads a type-notes block:
///
/// ```text
/// - **follow_up** 类型说明:
///   基本属性:
///    content: string <br>
///   - **i18n_contents** (array):
///     - **i18n_content** 类型说明:
///       基本属性:
///        content: string <br> language: string <br>
/// ```
pub fn type_notes(text: &str) -> TypeNotes {
    let mut notes = TypeNotes::new();
    // Open scopes by indentation: a type being described, or an array property awaiting its item type.
    enum Open {
        Type(String),
        ArrayProp { owner: String, name: String },
    }
    let mut stack: Vec<(usize, Open)> = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim().trim_start_matches("- ").trim();
        if t.is_empty() || t.starts_with("基本属性") {
            continue;
        }
        let bold = t.strip_prefix("**").and_then(|r| r.split_once("**"));
        while stack.last().is_some_and(|(i, _)| *i >= indent && bold.is_some()) {
            stack.pop();
        }
        let owner = stack
            .iter()
            .rev()
            .find_map(|(_, o)| if let Open::Type(n) = o { Some(n.clone()) } else { None });
        if let Some((name, rest)) = bold {
            let name = name.trim().to_string();
            if rest.contains("类型说明") {
                if let Some((_, Open::ArrayProp { owner, name: prop })) = stack.last() {
                    // The array property's items are of this type.
                    if let Some(field) =
                        notes.get_mut(owner).and_then(|fs| fs.iter_mut().find(|f| &f.name == prop))
                    {
                        field.type_name = format!("{name}[]");
                    }
                }
                notes.entry(name.clone()).or_default();
                stack.push((indent, Open::Type(name)));
            } else if let Some(owner) = owner {
                let is_array = rest.contains("array");
                let field = Field {
                    name: name.clone(),
                    field_type: if is_array { FieldType::Array } else { FieldType::Object },
                    item_type: is_array.then_some(FieldType::Object),
                    type_name: if is_array { format!("{name}[]") } else { name.clone() },
                    ..Field::default()
                };
                notes.entry(owner.clone()).or_default().push(field);
                stack.push((indent, Open::ArrayProp { owner, name }));
            }
            continue;
        }
        let Some(owner) = owner else { continue };
        for part in t.split("<br>") {
            if let Some((name, kind)) = part.split_once(':') {
                let (name, kind) = (name.trim(), kind.trim());
                if !name.is_empty() && !name.contains(' ') && !kind.is_empty() {
                    let (field_type, item_type) = crate::fields::json_type(kind);
                    let field = Field {
                        name: name.to_string(),
                        field_type,
                        item_type,
                        type_name: kind.to_string(),
                        ..Field::default()
                    };
                    notes.entry(owner.clone()).or_default().push(field);
                }
            }
        }
    }
    notes
}

/// Gives fields of a noted type that have no children the noted fields.
/// Returns the names of the fields it filled.
pub fn apply_notes(fields: &mut [Field], notes: &TypeNotes) -> Vec<String> {
    let mut filled = Vec::new();
    apply_notes_at(fields, notes, 0, &mut filled);
    filled
}

fn apply_notes_at(fields: &mut [Field], notes: &TypeNotes, depth: usize, filled: &mut Vec<String>) {
    if depth > 16 {
        return; // Notes that refer to themselves must not recurse forever.
    }
    for field in fields.iter_mut() {
        let base = field.type_name.trim_end_matches("[]");
        if field.children.is_empty()
            && is_container(field)
            && let Some(noted) = notes.get(base).filter(|n| !n.is_empty())
        {
            field.children = noted.clone();
            filled.push(field.name.clone());
        }
        apply_notes_at(&mut field.children, notes, depth + 1, filled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::json_type;

    fn raw(name: &str, type_name: &str, level: Option<usize>) -> RawField {
        let (field_type, item_type) = json_type(type_name);
        RawField {
            line: 1,
            level,
            field: Field {
                name: name.into(),
                type_name: type_name.into(),
                field_type,
                item_type,
                ..Field::default()
            },
        }
    }

    fn shape(fields: &[Field]) -> String {
        fields
            .iter()
            .map(|f| {
                if f.children.is_empty() {
                    f.name.clone()
                } else {
                    format!("{}({})", f.name, shape(&f.children))
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn flat_rows_rebuilt_from_example() {
        let rows = [
            raw("follow_ups", "follow_up[]", None),
            raw("content", "string", None),
            raw("i18n_contents", "i18n_content[]", None),
            raw("content", "string", None),
            raw("language", "string", None),
        ];
        let example: Value = serde_json::from_str(r#"{"follow_ups":[{"content":"你好","i18n_contents":[{"content":"hello","language":"en_us"}]}]}"#).unwrap();
        let (tree, how) = settle(&rows, Some(&example));
        assert_eq!(how, Settled::FromExample);
        assert_eq!(shape(&tree), "follow_ups(content,i18n_contents(content,language))");
    }

    #[test]
    fn one_mark_for_every_depth_rebuilt_from_example() {
        let rows = [
            raw("code", "int", None),
            raw("data", "message.reaction", None),
            raw("reaction_id", "string", Some(1)),
            raw("operator", "operator", Some(1)),
            raw("operator_id", "string", Some(1)),
            raw("action_time", "string", Some(1)),
        ];
        let example: Value = serde_json::from_str(r#"{"code":0,"data":{"reaction_id":"r","operator":{"operator_id":"o"},"action_time":"1"}}"#).unwrap();
        let (tree, how) = settle(&rows, Some(&example));
        assert_eq!(how, Settled::FromExample);
        assert_eq!(shape(&tree), "code,data(reaction_id,operator(operator_id),action_time)");
    }

    #[test]
    fn example_objects_hold_fields_whatever_their_type_name() {
        let rows = [
            raw("identification_type", "enum", None),
            raw("enum_name", "string", None),
            raw("code", "string", None),
        ];
        let example: Value =
            serde_json::from_str(r#"{"identification_type":{"enum_name":"t"},"code":"c"}"#)
                .unwrap();
        let (tree, _) = settle(&rows, Some(&example));
        assert_eq!(shape(&tree), "identification_type(enum_name),code");
        assert_eq!(tree[0].field_type, FieldType::Object);
    }

    #[test]
    fn rows_the_example_omits_follow_their_next_known_sibling() {
        let rows = [
            raw("items", "item[]", None),
            raw("flow_name", "i18n", None),
            raw("zh_cn", "string", None),
            raw("created_time", "string", None),
            raw("id", "string", None),
        ];
        let example: Value =
            serde_json::from_str(r#"{"items":[{"flow_name":{"zh_cn":"x"},"id":"1"}]}"#).unwrap();
        let (tree, _) = settle(&rows, Some(&example));
        assert_eq!(shape(&tree), "items(flow_name(zh_cn),created_time,id)");
    }

    #[test]
    fn stated_levels_kept_when_they_fit() {
        let rows = [
            raw("data", "message", Some(0)),
            raw("sender", "sender", Some(1)),
            raw("id", "string", Some(2)),
        ];
        let example: Value = serde_json::from_str(r#"{"data":{"sender":{"id":"x"}}}"#).unwrap();
        let (tree, how) = settle(&rows, Some(&example));
        assert_eq!(how, Settled::AsStated);
        assert_eq!(shape(&tree), "data(sender(id))");
    }

    #[test]
    fn no_example_no_levels_guesses() {
        let rows = [raw("a", "obj", None), raw("b", "string", None)];
        let (tree, how) = settle(&rows, None);
        assert_eq!(how, Settled::Guessed);
        assert_eq!(shape(&tree), "a(b)");
        let (_, how) = settle(&[raw("a", "string", None), raw("b", "string", None)], None);
        assert_eq!(how, Settled::AsStated);
    }

    #[test]
    fn reads_type_notes_and_applies_them() {
        let text = "- **follow_up** 类型说明:\n\n  基本属性:\n\n   content: string <br>\n  - **i18n_contents** (array):\n    - **i18n_content** 类型说明:\n\n      基本属性:\n\n       content: string <br> language: string <br>\n";
        let notes = type_notes(text);
        assert_eq!(
            notes["follow_up"].iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["content", "i18n_contents"]
        );
        assert_eq!(notes["follow_up"][1].type_name, "i18n_content[]");
        assert_eq!(notes["i18n_content"].len(), 2);
        let mut fields = vec![raw("follow_ups", "follow_up[]", None).field];
        assert_eq!(apply_notes(&mut fields, &notes), ["follow_ups", "i18n_contents"]);
        assert_eq!(shape(&fields), "follow_ups(content,i18n_contents(content,language))");
    }
}
