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

/// The names taken in one namespace of the generated code (the modules of
/// the crate or of a service, the functions of a resource, the fields of a
/// struct, the variants of an enum), which hands each name out once.
///
/// Every namespace gets its own scope where it is built, so that which
/// names can collide is written in one place rather than threaded through
/// the build as a set. A claimed name that is taken gets the smallest
/// numeric suffix from 2 on that is free: after a `_` for snake_case names
/// (`list_2`, `type_2`), directly for CamelCase ones (`Emoji2`).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    /// A scope with nothing taken.
    pub fn new() -> Scope {
        Scope::default()
    }

    /// A scope where `names` are taken already, by items the namespace
    /// holds besides the ones claimed here.
    pub fn reserving<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Scope {
        Scope { taken: names.into_iter().map(Into::into).collect() }
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// `name` if it is free, else `name` with the smallest free numeric
    /// suffix; the name returned is taken from now on.
    pub fn claim(&mut self, name: impl Into<String>) -> String {
        let name = name.into();
        let separator = if name.contains('_') || name.chars().all(|c| !c.is_ascii_uppercase()) {
            "_"
        } else {
            ""
        };
        let base = name.trim_end_matches('_').to_owned();
        self.claim_with(name, &base, separator)
    }

    /// Like [`Scope::claim`], for CamelCase names that may end in a version
    /// (`ReceiveV1`): there the suffix follows an `_` (`ReceiveV1_2`, still a
    /// CamelCase name to rustc) rather than reading as another version (`V12`).
    pub fn claim_versioned(&mut self, name: impl Into<String>) -> String {
        let name = name.into();
        if !name.ends_with(|c: char| c.is_ascii_digit()) {
            return self.claim(name);
        }
        let base = name.clone();
        self.claim_with(name, &base, "_")
    }

    fn claim_with(&mut self, name: String, base: &str, separator: &str) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        (2..)
            .map(|n| format!("{base}{separator}{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .expect("an unused suffix always exists")
    }
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
        let mut scope = Scope::new();
        assert_eq!(scope.claim("list"), "list");
        assert_eq!(scope.claim("list"), "list_2");
        assert_eq!(scope.claim("list"), "list_3");
        assert_eq!(scope.claim("Emoji"), "Emoji");
        assert_eq!(scope.claim("Emoji"), "Emoji2");
        assert_eq!(scope.claim("type_"), "type_");
        assert_eq!(scope.claim("type_"), "type_2");
        // A claimed suffix is taken too.
        assert_eq!(scope.claim("list_2"), "list_2_2");
    }

    #[test]
    fn reserved_names_are_never_handed_out() {
        let mut scope = Scope::reserving(["types", "events"]);
        assert!(scope.contains("types") && !scope.contains("message"));
        assert_eq!(scope.claim("events"), "events_2");
        assert_eq!(scope.claim("message"), "message");
        assert!(scope.contains("message"));
    }

    #[test]
    fn versioned_names_take_their_suffix_after_an_underscore() {
        let mut scope = Scope::new();
        assert_eq!(scope.claim_versioned("ReceiveV1"), "ReceiveV1");
        assert_eq!(scope.claim_versioned("ReceiveV1"), "ReceiveV1_2");
        assert_eq!(scope.claim_versioned("ReceiveV1"), "ReceiveV1_3");
        assert_eq!(scope.claim_versioned("Message"), "Message");
        assert_eq!(scope.claim_versioned("Message"), "Message2");
    }
}
