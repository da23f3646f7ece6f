//! Which request fields carry a typed id instead of a `String`.
//!
//! Feishu ids say what they name by their prefix (`om_` a message, `oc_` a
//! chat, `ou_` a user's open id, `on_` a union id), and the docs' example
//! values show it. A request field whose documented example has such a
//! prefix takes the runtime's id newtype (`feishu_runtime::ids::MessageId`,
//! …), so that two ids passed in the wrong order do not compile. The
//! newtypes are defined once in the runtime: a field pays nothing in
//! generated code but its type name. Fields without such an example stay
//! `String` (a `receive_id` names a user or a chat by its `receive_id_type`,
//! which no type can tell).

/// The kind of id a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdKind {
    /// `om_…`: a message.
    Message,
    /// `oc_…`: a chat.
    Chat,
    /// `ou_…`: a user, by open id.
    Open,
    /// `on_…`: a user, by union id.
    Union,
}

/// The prefixes and the kinds they mean.
const PREFIXES: [(&str, IdKind); 4] = [
    ("om_", IdKind::Message),
    ("oc_", IdKind::Chat),
    ("ou_", IdKind::Open),
    ("on_", IdKind::Union),
];

impl IdKind {
    /// The runtime's type, in `feishu_runtime::ids`.
    pub fn type_name(self) -> &'static str {
        match self {
            IdKind::Message => "MessageId",
            IdKind::Chat => "ChatId",
            IdKind::Open => "OpenId",
            IdKind::Union => "UnionId",
        }
    }

    /// The kind a documented example value shows, if any. The docs quote
    /// some examples (`"om_…"`), so quotes are ignored.
    pub fn of_example(example: &str) -> Option<IdKind> {
        let example = example.trim().trim_matches(|c| c == '"' || c == '\\');
        PREFIXES
            .iter()
            .find(|(prefix, _)| example.starts_with(prefix) && example.len() > prefix.len())
            .map(|(_, kind)| *kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_name_their_kind() {
        assert_eq!(
            IdKind::of_example("om_dc13264520392913993dd051dba21dcf"),
            Some(IdKind::Message)
        );
        assert_eq!(IdKind::of_example("\"oc_5ad11d72b830411d72b836c20\""), Some(IdKind::Chat));
        assert_eq!(IdKind::of_example("om_a8f2294b*********"), Some(IdKind::Message));
        assert_eq!(
            IdKind::of_example("ou_7d8a6e6df7621556ce0d21922b676706ccs"),
            Some(IdKind::Open)
        );
        assert_eq!(IdKind::of_example("on_94a1ee5551019f18cd73d9f111898cf2"), Some(IdKind::Union));
        for other in ["om_", "6962652154946633732", "open_id", "", "xom_1"] {
            assert_eq!(IdKind::of_example(other), None, "{other}");
        }
        assert_eq!(IdKind::Message.type_name(), "MessageId");
    }
}
