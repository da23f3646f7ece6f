//! Field tables: rows become [`RawField`]s, and raw fields become spec
//! [`Field`]s with their types and rules.

use feishu_spec::{Constraints, Field, FieldType};

use crate::blocks::{Row, Table};
use crate::diag::{DiagnosticKind, Diagnostics, quote};
use crate::rules::{self, Unit};
use crate::text;

/// A field row before nesting is settled.
#[derive(Debug, Clone, PartialEq)]
pub struct RawField {
    /// The row's line.
    pub line: usize,
    /// The depth the markup states, if any.
    pub level: Option<usize>,
    /// The finished field, without children.
    pub field: Field,
}

impl RawField {
    /// True when the field can hold fields: objects and arrays of objects.
    pub fn is_container(&self) -> bool {
        is_container(&self.field)
    }
}

/// True when `field` can hold fields.
pub fn is_container(field: &Field) -> bool {
    field.field_type == FieldType::Object || field.item_type == Some(FieldType::Object)
}

/// Which column holds what, from the header.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    name: usize,
    kind: Option<usize>,
    required: Option<usize>,
    description: Option<usize>,
}

impl Columns {
    /// Reads a field table's header (`名称 | 类型 | 必填 | 描述`, `参数名 | 类型 | 描述`…);
    /// `None` when the header is not a field table's.
    pub fn of(header: &[String]) -> Option<Columns> {
        let find = |words: &[&str]| header.iter().position(|h| words.iter().any(|w| h.contains(w)));
        let name = find(&["名称", "参数名", "参数", "字段", "属性", "Name", "name"])?;
        let kind = find(&["类型", "Type", "type"]);
        kind?;
        Some(Columns {
            name,
            kind,
            required: find(&["必填", "必选", "是否必须", "Required", "required"]),
            description: find(&["描述", "说明", "Description", "description"]),
        })
    }
}

/// Reads the rows of a field table. Rows without a name become diagnostics.
pub fn raw_fields(table: &Table, columns: Columns, diags: &mut Diagnostics) -> Vec<RawField> {
    let mut out = Vec::new();
    for row in &table.rows {
        match raw_field(row, columns) {
            Some(field) => out.push(field),
            None => diags.push(
                row.line,
                DiagnosticKind::UnreadableRow,
                format!("field row without a name: {}", row_text(row)),
            ),
        }
    }
    out
}

/// The row's cells joined, for diagnostics.
pub fn row_text(row: &Row) -> String {
    quote(&row.cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" | "))
}

fn raw_field(row: &Row, columns: Columns) -> Option<RawField> {
    let cell = |i: Option<usize>| i.and_then(|i| row.cells.get(i));
    let name = text::name(&cell(Some(columns.name))?.text);
    if name.is_empty() || name.contains('\n') {
        return None;
    }
    let type_name = cell(columns.kind).map(|c| text::name(&c.text)).unwrap_or_default();
    let description_cell = cell(columns.description);
    let description = description_cell.map(|c| c.text.clone()).unwrap_or_default();
    let required = cell(columns.required).is_some_and(|c| is_yes(&c.text));
    let (field_type, item_type) = json_type(&type_name);
    let mut field = Field { name, field_type, item_type, type_name, required, ..Field::default() };
    apply_rules(&mut field, &description);
    if let Some(cell) = description_cell
        && !cell.enum_values.is_empty()
    {
        field.constraints.enum_values = cell.enum_values.clone();
    }
    field.description = description;
    Some(RawField { line: row.line, level: row.level, field })
}

fn is_yes(text: &str) -> bool {
    matches!(
        text::plain(text).as_str(),
        "是" | "必填" | "必选" | "true" | "True" | "Y" | "yes" | "Yes" | "required"
    )
}

/// Fills a field's example, default, fixed value and constraints from the rule
/// sentences of its description. Lengths count items on arrays, characters on strings.
pub fn apply_rules(field: &mut Field, description: &str) {
    let found = rules::read(description);
    field.example = found.example;
    field.default = found.default;
    field.fixed = found.fixed;
    field.scopes = found.field_scopes;
    let mut constraints = Constraints { enum_values: found.enum_values, ..Constraints::default() };
    if let Some(range) = found.length {
        let as_u64 = |n: &Option<serde_json::Number>| {
            n.as_ref().and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)))
        };
        if field.field_type == FieldType::Array && range.unit != Unit::Chars {
            constraints.min_items = as_u64(&range.min);
            constraints.max_items = as_u64(&range.max);
        } else {
            constraints.min_length = as_u64(&range.min);
            constraints.max_length = as_u64(&range.max);
        }
    }
    if let Some(range) = found.values {
        constraints.minimum = range.min;
        constraints.maximum = range.max;
    }
    field.constraints = constraints;
}

/// Maps a doc type name to a JSON type and, for arrays, the item type.
pub fn json_type(type_name: &str) -> (FieldType, Option<FieldType>) {
    let t = type_name.trim();
    if let Some(base) = t.strip_suffix("[]") {
        return (FieldType::Array, Some(json_type(base).0));
    }
    let lower = t.to_ascii_lowercase();
    for prefix in ["array<", "list<"] {
        if let Some(inner) = lower.strip_prefix(prefix) {
            return (FieldType::Array, Some(json_type(inner.trim_end_matches('>')).0));
        }
    }
    if lower == "array" || lower == "list" {
        return (FieldType::Array, Some(FieldType::String));
    }
    let kind = match lower.as_str() {
        "string" | "str" | "enum" | "text" | "date" | "datetime" => FieldType::String,
        "int" | "int32" | "int64" | "integer" | "long" | "uint" | "int8" | "int16" | "uint32"
        | "uint64" => FieldType::Integer,
        "float" | "double" | "number" | "decimal" | "number(float)" | "float64" | "float32" => {
            FieldType::Number
        }
        "bool" | "boolean" => FieldType::Boolean,
        "file" | "binary" => FieldType::File,
        _ => FieldType::Object,
    };
    (kind, None)
}

/// True when a type cell says nothing of the type (`-`, `/`, empty): no
/// letter or digit in it. The rows below such a field give its shape.
pub fn names_no_type(type_name: &str) -> bool {
    !type_name.chars().any(char::is_alphanumeric)
}

/// True when a type name maps to [`FieldType::Object`] only by default: not a
/// documented object name (`message_body`, `map<string, string>`), nor a cell
/// that [names no type](names_no_type).
pub fn is_odd_type_name(type_name: &str) -> bool {
    let t = type_name.trim_end_matches("[]");
    !(names_no_type(t)
        || t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        || t.starts_with("map<")
        || t.starts_with("array<")
        || t.starts_with("list<")
        || t.starts_with("number("))
}

/// Builds a tree from the levels the rows state (no level counts as 0).
pub fn tree_by_levels(rows: &[RawField]) -> Vec<Field> {
    let mut roots: Vec<Field> = Vec::new();
    // The path of indices from the roots to the last placed field.
    let mut path: Vec<usize> = Vec::new();
    for row in rows {
        let level = row.level.unwrap_or(0).min(path.len());
        path.truncate(level);
        let siblings = children_at(&mut roots, &path);
        siblings.push(row.field.clone());
        path.push(siblings.len() - 1);
    }
    roots
}

/// The child list at an index path.
pub fn children_at<'a>(roots: &'a mut Vec<Field>, path: &[usize]) -> &'a mut Vec<Field> {
    let mut list = roots;
    for &i in path {
        list = &mut list[i].children;
    }
    list
}

/// Number of fields in a tree.
pub fn count(fields: &[Field]) -> usize {
    fields.iter().map(|f| 1 + count(&f.children)).sum()
}

/// Flags type names read only by guess.
pub fn check_types(rows: &[RawField], diags: &mut Diagnostics) {
    for row in rows {
        if is_odd_type_name(&row.field.type_name) {
            diags.push(
                row.line,
                DiagnosticKind::UnknownType,
                format!(
                    "`{}` has type `{}`, read as an object",
                    row.field.name, row.field.type_name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::Cell;

    #[test]
    fn maps_type_names() {
        assert_eq!(json_type("follow_up[]"), (FieldType::Array, Some(FieldType::Object)));
        assert_eq!(json_type("string[]"), (FieldType::Array, Some(FieldType::String)));
        assert_eq!(json_type("int"), (FieldType::Integer, None));
        assert_eq!(json_type("number(float)"), (FieldType::Number, None));
        assert_eq!(json_type("boolean"), (FieldType::Boolean, None));
        assert_eq!(json_type("message_body"), (FieldType::Object, None));
        assert_eq!(json_type("map<string, string>"), (FieldType::Object, None));
        assert_eq!(json_type("array<int64>"), (FieldType::Array, Some(FieldType::Integer)));
        assert_eq!(json_type("file"), (FieldType::File, None));
        assert!(!is_odd_type_name("message.reaction"));
        assert!(is_odd_type_name("一个元素"));
        assert!(!is_odd_type_name("/") && !is_odd_type_name("-") && !is_odd_type_name(""));
        assert!(names_no_type(" / ") && !names_no_type("object") && !names_no_type("数组"));
    }

    #[test]
    fn reads_columns_of_each_header() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let c = Columns::of(&h(&["名称", "类型", "必填", "描述"])).unwrap();
        assert_eq!((c.name, c.kind, c.required, c.description), (0, Some(1), Some(2), Some(3)));
        let c = Columns::of(&h(&["参数名", "类型", "描述"])).unwrap();
        assert_eq!((c.required, c.description), (None, Some(2)));
        assert!(Columns::of(&h(&["HTTP状态码", "错误码", "描述", "排查建议"])).is_none());
    }

    #[test]
    fn builds_trees_from_levels() {
        let raw = |name: &str, level: Option<usize>| RawField {
            line: 1,
            level,
            field: Field { name: name.into(), ..Field::default() },
        };
        let tree = tree_by_levels(&[
            raw("a", Some(0)),
            raw("b", Some(1)),
            raw("c", Some(2)),
            raw("d", Some(1)),
            raw("e", None),
        ]);
        assert_eq!(tree.len(), 2);
        assert_eq!(
            tree[0].children.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["b", "d"]
        );
        assert_eq!(tree[0].children[0].children[0].name, "c");
        assert_eq!(count(&tree), 5);
    }

    #[test]
    fn reads_a_row_with_rules() {
        let row = Row {
            line: 7,
            level: None,
            keyed: false,
            cells: [
                "follow_ups",
                "follow_up[]",
                "是",
                "跟随气泡列表。\n**数据校验规则**：\n- 长度范围：`1` ～ `3`",
            ]
            .map(|t| Cell::text(t.into()))
            .to_vec(),
        };
        let columns =
            Columns::of(&["名称".into(), "类型".into(), "必填".into(), "描述".into()]).unwrap();
        let field = raw_field(&row, columns).unwrap().field;
        assert!(field.required);
        assert_eq!(field.field_type, FieldType::Array);
        assert_eq!((field.constraints.min_items, field.constraints.max_items), (Some(1), Some(3)));
        assert_eq!(field.constraints.max_length, None);
    }
}
