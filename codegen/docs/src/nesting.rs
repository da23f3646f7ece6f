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

/// A row placed by guess: neither the example nor the table says where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// The row's line.
    pub line: usize,
    /// The field's name.
    pub name: String,
    /// The dotted path of the field it was placed in; empty for the top level.
    pub parent: String,
}

/// A settled field tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// The fields.
    pub tree: Vec<Field>,
    /// How the tree was settled.
    pub how: Settled,
    /// The rows of a rebuilt tree that were placed by guess.
    pub guesses: Vec<Guess>,
}

/// Builds the field tree of a table, using `example` (the JSON object the
/// table describes) to rebuild nesting the table lost.
pub fn settle(rows: &[RawField], example: Option<&Value>) -> Settlement {
    let mut settled = settle_shape(rows, example);
    objects_hold_fields(&mut settled.tree);
    settled
}

fn settle_shape(rows: &[RawField], example: Option<&Value>) -> Settlement {
    let stated = tree_by_levels(rows);
    let has_levels = rows.iter().any(|r| r.level.is_some_and(|l| l > 0));
    let as_stated = |tree| Settlement { tree, how: Settled::AsStated, guesses: Vec::new() };
    let example = example.and_then(Value::as_object);
    if let Some(example) = example {
        let (rebuilt, guesses) = by_example(rows, example);
        if misfit(&rebuilt, &[example]) < misfit(&stated, &[example]) {
            return Settlement { tree: rebuilt, how: Settled::FromExample, guesses };
        }
        return as_stated(stated);
    }
    let lost =
        !has_levels && rows.iter().take(rows.len().saturating_sub(1)).any(RawField::is_container);
    if lost {
        return Settlement { tree: greedy(rows), how: Settled::Guessed, guesses: Vec::new() };
    }
    as_stated(stated)
}

/// A container being filled.
struct Open<'a> {
    /// Its index path in the tree; empty for the top level.
    path: Vec<usize>,
    /// The objects the example shows in it (an array's items merged): the keys it may hold.
    objects: Vec<&'a Map<String, Value>>,
    /// True when the example gives the container a value (perhaps `[]` or a string).
    shown: bool,
    /// True for arrays.
    array: bool,
}

impl<'a> Open<'a> {
    fn holds(&self, name: &str) -> bool {
        self.objects.iter().any(|m| m.contains_key(name))
    }

    /// The example objects of the child `name` (the object itself, or an
    /// array's objects), and whether the example gives the child a value.
    fn child(&self, name: &str) -> (Vec<&'a Map<String, Value>>, bool) {
        let values: Vec<&'a Value> = self.objects.iter().filter_map(|m| m.get(name)).collect();
        let objects = values.iter().flat_map(|v| objects_of(v)).collect();
        (objects, !values.is_empty())
    }
}

/// Places each row in the deepest open container whose example holds its
/// name, by three rules:
///
/// 1. A stated level is a floor: a row is never placed shallower than its
///    mark says, so a name the example holds higher up is another field.
/// 2. A row the example does not hold keeps its stated level; without one it
///    goes where the next row the example knows goes (an example that omits a
///    field still shows where its siblings are).
/// 3. Otherwise it is a guess (returned, to be reported): it leaves an array
///    whose items the example shows without it, and else stays in the
///    container the table's order put it in.
fn by_example(rows: &[RawField], example: &Map<String, Value>) -> (Vec<Field>, Vec<Guess>) {
    let mut roots: Vec<Field> = Vec::new();
    let mut guesses = Vec::new();
    let mut stack: Vec<Open<'_>> =
        vec![Open { path: Vec::new(), objects: vec![example], shown: true, array: false }];
    let mut opened = false;
    for (i, row) in rows.iter().enumerate() {
        let name = row.field.name.as_str();
        let holder_of = |stack: &[Open<'_>], name: &str, floor: usize| {
            stack.iter().rposition(|open| open.holds(name)).filter(|&d| d >= floor)
        };
        let depth = if let Some(d) = holder_of(&stack, name, row.level.unwrap_or(0)) {
            d
        } else if let Some(level) = row.level {
            level.min(stack.len() - 1)
        } else if let Some(d) = rows[i + 1..]
            .iter()
            .find_map(|next| holder_of(&stack, &next.field.name, next.level.unwrap_or(0)))
        {
            d
        } else {
            let d = guessed_depth(&stack);
            // Once a container has opened, it could have taken the row too.
            if opened {
                guesses.push(Guess {
                    line: row.line,
                    name: name.to_string(),
                    parent: path_name(&roots, &stack[d].path),
                });
            }
            d
        };
        stack.truncate(depth + 1);
        let parent = &stack[depth];
        let (objects, shown) = parent.child(name);
        let mut child_path = parent.path.clone();
        let siblings = children_at(&mut roots, &parent.path);
        siblings.push(row.field.clone());
        child_path.push(siblings.len() - 1);
        // The example can know better than the type name (`enum` fields that
        // are `{enum_name}` objects), and so can the next row's deeper level.
        let deeper_next = rows
            .get(i + 1)
            .and_then(|next| next.level)
            .is_some_and(|next| next > row.level.unwrap_or(0));
        if row.is_container() || !objects.is_empty() || deeper_next {
            let array = row.field.field_type == FieldType::Array;
            stack.push(Open { path: child_path, objects, shown, array });
            opened = true;
        }
    }
    (roots, guesses)
}

/// Where a row goes that neither the example nor the table places (rule 3 of `by_example`).
fn guessed_depth(stack: &[Open<'_>]) -> usize {
    // An array whose items the example shows without the row: the row follows the array.
    let deepest = stack.len() - 1;
    if stack[deepest].array && stack[deepest].shown {
        return deepest.saturating_sub(1);
    }
    deepest
}

/// The dotted names along an index path.
fn path_name(roots: &[Field], path: &[usize]) -> String {
    let mut names = Vec::new();
    let mut list = roots;
    for &i in path {
        let Some(field) = list.get(i) else { break };
        names.push(field.name.as_str());
        list = &field.children;
    }
    names.join(".")
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

/// The example objects of a value: the object itself, or an array's objects
/// (an array's items together show the keys its items may have).
fn objects_of(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => items.iter().flat_map(objects_of).collect(),
        _ => Vec::new(),
    }
}

/// How badly a tree fits an example: fields where the example has no such
/// key, a name twice in one object, and example keys with no field.
fn misfit(fields: &[Field], objects: &[&Map<String, Value>]) -> usize {
    let mut bad = 0;
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].iter().any(|f| f.name == field.name) {
            bad += 1;
        }
        let values: Vec<&Value> = objects.iter().filter_map(|m| m.get(&field.name)).collect();
        if values.is_empty() {
            bad += 1 + field.children.len();
            continue;
        }
        let inner: Vec<&Map<String, Value>> = values.into_iter().flat_map(objects_of).collect();
        if !inner.is_empty() && !field.children.is_empty() {
            bad += misfit(&field.children, &inner);
        }
    }
    let keys: std::collections::BTreeSet<&String> = objects.iter().flat_map(|m| m.keys()).collect();
    bad + keys.into_iter().filter(|k| !fields.iter().any(|f| &f.name == *k)).count()
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
        let Settlement { tree, how, .. } = settle(&rows, Some(&example));
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
        let Settlement { tree, how, .. } = settle(&rows, Some(&example));
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
        let Settlement { tree, .. } = settle(&rows, Some(&example));
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
        let Settlement { tree, .. } = settle(&rows, Some(&example));
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
        let Settlement { tree, how, .. } = settle(&rows, Some(&example));
        assert_eq!(how, Settled::AsStated);
        assert_eq!(shape(&tree), "data(sender(id))");
    }

    #[test]
    fn no_example_no_levels_guesses() {
        let rows = [raw("a", "obj", None), raw("b", "string", None)];
        let Settlement { tree, how, .. } = settle(&rows, None);
        assert_eq!(how, Settled::Guessed);
        assert_eq!(shape(&tree), "a(b)");
        let Settlement { how, .. } =
            settle(&[raw("a", "string", None), raw("b", "string", None)], None);
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
