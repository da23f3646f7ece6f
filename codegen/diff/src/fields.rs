//! What changed in a field tree: fields added and removed, types and shapes,
//! required-ness, and each constraint (lengths, ranges, enum values, defaults).

use feishu_spec::{Field, FieldType};

use super::{ChangeKind, Changes, by_key};
use crate::rules::{self, Bound, Direction, FieldPlace};

/// The Rust type a field gets in the generated crate, as far as a change to it
/// matters (as `feishu-model` decides), in words.
pub(super) fn shape(field: &Field) -> String {
    let has_enum = !field.constraints.enum_values.is_empty();
    let object = |f: &Field| {
        let name: String = f
            .type_name
            .trim_end_matches("[]")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if name.is_empty() || name == "object" {
            "object".to_string()
        } else {
            format!("object {name}")
        }
    };
    match field.field_type {
        FieldType::String if has_enum => "enum".to_string(),
        FieldType::String => "string".to_string(),
        FieldType::Integer => "integer".to_string(),
        FieldType::Number => "number".to_string(),
        FieldType::Boolean => "boolean".to_string(),
        FieldType::File => "file".to_string(),
        FieldType::Object if field.children.is_empty() => "untyped object".to_string(),
        FieldType::Object => object(field),
        FieldType::Array => {
            let item = match field.item_type {
                Some(FieldType::Object) if !field.children.is_empty() => object(field),
                Some(FieldType::String) | None if has_enum => "enum".to_string(),
                Some(FieldType::String) => "string".to_string(),
                Some(FieldType::Integer) => "integer".to_string(),
                Some(FieldType::Number) => "number".to_string(),
                Some(FieldType::Boolean) => "boolean".to_string(),
                _ => "untyped JSON".to_string(),
            };
            format!("array of {item}")
        }
    }
}

/// Whether the field becomes a Rust enum (string values), not a checked value list.
pub(super) fn rust_enum(field: &Field) -> bool {
    !field.constraints.enum_values.is_empty()
        && (field.field_type == FieldType::String
            || (field.field_type == FieldType::Array
                && matches!(field.item_type, Some(FieldType::String) | None)))
}

pub(super) fn fields(
    place: FieldPlace,
    prefix: &str,
    old: &[Field],
    new: &[Field],
    typed: bool,
    out: &mut Changes,
) {
    let old_by = by_key(old, |f| f.name.as_str());
    let new_by = by_key(new, |f| f.name.as_str());
    let label = place.label();
    // Old order first, then the new fields in the new page's order.
    let mut names: Vec<&str> = Vec::new();
    for f in old.iter().chain(new) {
        if !names.contains(&f.name.as_str()) {
            names.push(f.name.as_str());
        }
    }
    for name in names {
        let path = format!("{prefix}{name}");
        match (old_by.get(name), new_by.get(name)) {
            (None, Some(f)) => {
                let required = f.required || place == FieldPlace::Path;
                let how = match place {
                    FieldPlace::Response | FieldPlace::Event => String::new(),
                    _ if required => ", required".to_string(),
                    _ => ", optional".to_string(),
                };
                out.push(
                    ChangeKind::FieldAdded,
                    rules::field_added(place, required, typed),
                    format!("{label} `{path}` added ({}{how})", shape(f)),
                );
            }
            (Some(_), None) => out.push(
                ChangeKind::FieldRemoved,
                rules::field_removed(place, typed),
                format!("{label} `{path}` removed"),
            ),
            (Some(a), Some(b)) => field(place, &path, a, b, typed, out),
            (None, None) => {}
        }
    }
}

pub(super) fn field(
    place: FieldPlace,
    path: &str,
    old: &Field,
    new: &Field,
    typed: bool,
    out: &mut Changes,
) {
    let label = place.label();
    let (old_shape, new_shape) = (shape(old), shape(new));
    if old_shape != new_shape {
        out.push(
            ChangeKind::FieldRetyped,
            rules::field_retyped(place, typed),
            format!("{label} `{path}`: type `{old_shape}` → `{new_shape}`"),
        );
        return;
    }
    if old.required != new.required && place != FieldPlace::Path {
        let line = if new.required {
            format!("{label} `{path}`: now required")
        } else {
            format!("{label} `{path}`: no longer required")
        };
        out.push(ChangeKind::RequiredChanged, rules::required_changed(place, typed), line);
    }
    constraints(place, path, old, new, typed, out);
    if old.default != new.default {
        let line = match (&old.default, &new.default) {
            (None, Some(b)) => format!("{label} `{path}`: default `{b}` added"),
            (Some(a), None) => format!("{label} `{path}`: default `{a}` removed"),
            (a, b) => format!(
                "{label} `{path}`: default `{}` → `{}`",
                a.as_deref().unwrap_or(""),
                b.as_deref().unwrap_or("")
            ),
        };
        out.push(ChangeKind::DefaultChanged, rules::default_changed(), line);
    }
    let child_prefix =
        if new.field_type == FieldType::Array { format!("{path}[].") } else { format!("{path}.") };
    fields(place, &child_prefix, &old.children, &new.children, typed, out);
}

pub(super) fn constraints(
    place: FieldPlace,
    path: &str,
    old: &Field,
    new: &Field,
    typed: bool,
    out: &mut Changes,
) {
    let label = place.label();
    let (a, b) = (&old.constraints, &new.constraints);
    // A minimum length or count of 0 is no limit.
    let count = |v: Option<u64>, bound: Bound| {
        v.filter(|&n| bound == Bound::Upper || n > 0).map(|n| n as f64)
    };
    let number = |v: &Option<serde_json::Number>| v.as_ref().and_then(|n| n.as_f64());
    let limits = [
        (
            "min length",
            Bound::Lower,
            count(a.min_length, Bound::Lower),
            count(b.min_length, Bound::Lower),
            show(a.min_length),
            show(b.min_length),
        ),
        (
            "max length",
            Bound::Upper,
            count(a.max_length, Bound::Upper),
            count(b.max_length, Bound::Upper),
            show(a.max_length),
            show(b.max_length),
        ),
        (
            "min items",
            Bound::Lower,
            count(a.min_items, Bound::Lower),
            count(b.min_items, Bound::Lower),
            show(a.min_items),
            show(b.min_items),
        ),
        (
            "max items",
            Bound::Upper,
            count(a.max_items, Bound::Upper),
            count(b.max_items, Bound::Upper),
            show(a.max_items),
            show(b.max_items),
        ),
        (
            "minimum",
            Bound::Lower,
            number(&a.minimum),
            number(&b.minimum),
            show(a.minimum.as_ref()),
            show(b.minimum.as_ref()),
        ),
        (
            "maximum",
            Bound::Upper,
            number(&a.maximum),
            number(&b.maximum),
            show(a.maximum.as_ref()),
            show(b.maximum.as_ref()),
        ),
    ];
    for (what, bound, x, y, x_text, y_text) in limits {
        match rules::bound_change(bound, x, y) {
            Some(direction @ Direction::Tighter) => {
                out.push(
                    ChangeKind::ConstraintTightened,
                    rules::constraint_changed(place, direction, typed),
                    format!("{label} `{path}`: {what} {x_text} → {y_text} (tighter)"),
                );
            }
            Some(direction @ Direction::Looser) => {
                out.push(
                    ChangeKind::ConstraintLoosened,
                    rules::constraint_changed(place, direction, typed),
                    format!("{label} `{path}`: {what} {x_text} → {y_text} (looser)"),
                );
            }
            None => {}
        }
    }
    let old_values: Vec<&str> = a.enum_values.iter().map(|v| v.value.as_str()).collect();
    let new_values: Vec<&str> = b.enum_values.iter().map(|v| v.value.as_str()).collect();
    if old_values.is_empty() && !new_values.is_empty() {
        // Only non-string fields get here (a string gaining values is retyped):
        // `validate()` now checks the list.
        let line = format!("{label} `{path}`: now limited to the values {}", quoted(&new_values));
        out.push(
            ChangeKind::ConstraintTightened,
            rules::constraint_changed(place, Direction::Tighter, typed),
            line,
        );
        return;
    }
    if new_values.is_empty() && !old_values.is_empty() {
        let line =
            format!("{label} `{path}`: no longer limited to the values {}", quoted(&old_values));
        out.push(
            ChangeKind::ConstraintLoosened,
            rules::constraint_changed(place, Direction::Looser, typed),
            line,
        );
        return;
    }
    for value in old_values.iter().filter(|v| !new_values.contains(v)) {
        out.push(
            ChangeKind::EnumValueRemoved,
            rules::enum_value_removed(place, rust_enum(old), typed),
            format!("{label} `{path}`: value `{value}` removed"),
        );
    }
    for value in new_values.iter().filter(|v| !old_values.contains(v)) {
        let description = b
            .enum_values
            .iter()
            .find(|e| e.value == *value)
            .map(|e| e.description.trim())
            .unwrap_or("");
        let line = if description.is_empty() {
            format!("{label} `{path}`: value `{value}` added")
        } else {
            format!("{label} `{path}`: value `{value}` added ({description})")
        };
        out.push(ChangeKind::EnumValueAdded, rules::enum_value_added(), line);
    }
}

pub(super) fn quoted(values: &[&str]) -> String {
    values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
}

/// A limit as the report prints it: its value, or `none`.
pub(super) fn show<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "none".to_string())
}
