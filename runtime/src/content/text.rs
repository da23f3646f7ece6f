//! The content of a `text` message: the text, with `<at>` mentions.

use serde::{Deserialize, Serialize};

/// The content of a `text` message: `{"text": "…"}`.
///
/// Mention users inline with [`TextContent::at`] and
/// [`TextContent::at_all`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextContent {
    /// The text, with `<at>` tags for mentions. In received messages,
    /// mentions appear as placeholders such as `@_user_1`.
    pub text: String,
}

impl TextContent {
    /// Text content.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }

    /// The tag that mentions one user: `<at user_id="ou_x">name</at>`.
    /// `user_id` is an open_id, union_id or user_id; the name is shown
    /// only if the platform cannot resolve the id. Neither is escaped.
    pub fn at(user_id: &str, name: &str) -> String {
        format!("<at user_id=\"{user_id}\">{name}</at>")
    }

    /// The tag that mentions everyone in the group: `<at user_id="all"></at>`.
    pub fn at_all() -> String {
        Self::at("all", "")
    }
}

impl From<&str> for TextContent {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for TextContent {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}
