//! Turning wire names into Rust identifiers.
//!
//! Every identifier the emitter prints comes from here, so that keywords,
//! leading digits, non-ASCII names and collisions are handled in one place.
//! The rules are deterministic: the same input always gives the same name.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Words Rust reserves (strict and reserved, 2024 edition), plus `Self`.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Type names a generated type must not take, because the generated code
/// (or the prelude) already uses them unqualified.
const RESERVED_TYPES: &[&str] = &[
    "Option", "Result", "String", "Vec", "Box", "Some", "None", "Ok", "Err", "Self", "Default",
    "Client", "Error", "Value",
];

/// Keeps ASCII letters, digits and `_`, turning everything else into `_`;
/// the case converters then drop the separators.
fn ascii_words(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// A snake_case identifier (fields, functions, modules) for `text`, or
/// `fallback` when `text` has no ASCII letters or digits (e.g. `名称`).
/// Keywords get a trailing `_` (raw identifiers cannot spell `self` or
/// `crate`, and `type_` reads better in a setter than `r#type`); a leading
/// digit gets an `n` prefix.
pub fn snake(text: &str, fallback: &str) -> String {
    let mut name = ascii_words(text).to_snake_case();
    if name.is_empty() {
        name = fallback.to_snake_case();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'n');
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// An UpperCamelCase identifier (types, variants) for `text`, or `fallback`
/// when it has no ASCII letters or digits. A leading digit gets a `V`
/// prefix (`1` → `V1`), and reserved names get a trailing `_`.
pub fn pascal(text: &str, fallback: &str) -> String {
    let mut name = ascii_words(text).to_upper_camel_case();
    if name.is_empty() {
        name = fallback.to_upper_camel_case();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    if KEYWORDS.contains(&name.as_str()) || RESERVED_TYPES.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// The name of a type documented as `type_name` (`follow_up[]`, `message_body`)
/// on the field `field`: the doc's type name when it is a real name, otherwise
/// the field's name.
pub fn type_name(type_name: &str, field: &str) -> String {
    let base = type_name.trim_end_matches("[]");
    let generic = [
        "", "object", "string", "int", "integer", "boolean", "bool", "number", "float", "map",
        "list", "array",
    ];
    if generic.contains(&base.to_ascii_lowercase().as_str()) {
        pascal(field, "Object")
    } else {
        pascal(base, &pascal(field, "Object"))
    }
}

/// Returns `name`, or `name` with the smallest numeric suffix (`2`, `3`, …,
/// after a `_` for snake case names) that is not in `taken`, and records it.
pub fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let separator =
        if name.contains('_') || name.chars().all(|c| !c.is_ascii_uppercase()) { "_" } else { "" };
    let base = name.trim_end_matches('_');
    (2..)
        .map(|n| format!("{base}{separator}{n}"))
        .find(|candidate| taken.insert(candidate.clone()))
        .expect("an unused suffix always exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake("msg_type", "field"), "msg_type");
        assert_eq!(snake("receiveIdType", "field"), "receive_id_type");
        assert_eq!(snake("Content-Type", "field"), "content_type");
        assert_eq!(snake("type", "field"), "type_");
        assert_eq!(snake("self", "field"), "self_");
        assert_eq!(snake("move", "field"), "move_");
        assert_eq!(snake("1st", "field"), "n1st");
        assert_eq!(snake("名称", "field_3"), "field_3");
    }

    #[test]
    fn pascal_case_names() {
        assert_eq!(pascal("en_us", "Value"), "EnUs");
        assert_eq!(pascal("share_chat", "Value"), "ShareChat");
        assert_eq!(pascal("1", "Value"), "V1");
        assert_eq!(pascal("英文", "Value3"), "Value3");
        assert_eq!(pascal("self", "Value"), "Self_");
        assert_eq!(pascal("option", "Value"), "Option_");
        assert_eq!(pascal("error", "Value"), "Error_");
        assert_eq!(pascal("im.message.receive_v1", "Event"), "ImMessageReceiveV1");
    }

    #[test]
    fn type_names_prefer_the_docs_name() {
        assert_eq!(type_name("follow_up[]", "follow_ups"), "FollowUp");
        assert_eq!(type_name("message_body", "body"), "MessageBody");
        assert_eq!(type_name("object", "sender"), "Sender");
        assert_eq!(type_name("object[]", "items"), "Items");
        assert_eq!(type_name("用户", "owner"), "Owner");
    }

    #[test]
    fn collisions_get_numeric_suffixes() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique("list".into(), &mut taken), "list");
        assert_eq!(unique("list".into(), &mut taken), "list_2");
        assert_eq!(unique("list".into(), &mut taken), "list_3");
        assert_eq!(unique("Emoji".into(), &mut taken), "Emoji");
        assert_eq!(unique("Emoji".into(), &mut taken), "Emoji2");
        assert_eq!(unique("type_".into(), &mut taken), "type_");
        assert_eq!(unique("type_".into(), &mut taken), "type_2");
    }
}
