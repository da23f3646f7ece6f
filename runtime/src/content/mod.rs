//! Typed message content: the `msg_type` and `content` fields of a message.
//!
//! The messaging API takes a message as two fields: `msg_type` (`"text"`,
//! `"post"`, …) and `content`, a JSON object *serialized into a string*.
//! [`MessageContent`] ties the two together, so that a caller neither picks a
//! `msg_type` that does not match the content nor escapes JSON by hand:
//!
//! ```
//! use feishu_runtime::content::{MessageContent, TextContent};
//!
//! let content = MessageContent::text(format!("hi {}", TextContent::at("ou_1", "Tom")));
//! assert_eq!(content.msg_type(), "text");
//! assert_eq!(
//!     content.to_content_string(),
//!     r#"{"text":"hi <at user_id=\"ou_1\">Tom</at>"}"#,
//! );
//! ```
//!
//! Received messages (events, message reads) come back through
//! [`MessageContent::from_parts`]; message types this module does not know
//! are kept as [`MessageContent::Unknown`] rather than refused.

mod card;
mod media;
mod post;
mod text;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::validate::{Validate, ValidationError};

pub use card::{CardContent, TemplateCard};
pub use media::{
    AudioContent, FileContent, ImageContent, MediaContent, ShareChatContent, ShareUserContent,
    StickerContent,
};
pub use post::{PostBody, PostContent, PostElement};
pub use text::TextContent;

/// The [`ValidationError::rule`] of content that is larger than the platform
/// accepts. (`validate::rules` has no size rule; this one lives here.)
pub const MAX_SIZE: &str = "max_size";

/// Largest `content` of a `text` message, in bytes (150 KB).
pub const TEXT_MAX_BYTES: usize = 153_600;

/// Largest `content` of a `post` message, in bytes (30 KB).
pub const POST_MAX_BYTES: usize = 30_720;

/// Largest `content` of an `interactive` (card) message, in bytes (30 KB).
pub const INTERACTIVE_MAX_BYTES: usize = 30_720;

/// A received `content` string could not be read as its `msg_type`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The content is not JSON, or not JSON of the shape `msg_type` has.
    #[error("malformed `{msg_type}` message content: {source}")]
    Malformed {
        /// The `msg_type` the content was read as.
        msg_type: String,
        /// What the JSON parser found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// The content of a message, tagged with its type.
///
/// Build one with the constructors ([`MessageContent::text`],
/// [`MessageContent::image`], [`MessageContent::card`], …), send it as
/// [`msg_type`](Self::msg_type) and
/// [`to_content_string`](Self::to_content_string), and read received ones
/// with [`from_parts`](Self::from_parts).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MessageContent {
    /// `text`: plain text, with `<at>` mentions.
    Text(TextContent),
    /// `post`: rich text with a title and lines of elements.
    Post(PostContent),
    /// `image`: an uploaded image.
    Image(ImageContent),
    /// `file`: an uploaded file.
    File(FileContent),
    /// `audio`: an uploaded voice message.
    Audio(AudioContent),
    /// `media`: an uploaded video with an optional cover image.
    Media(MediaContent),
    /// `sticker`: a sticker.
    Sticker(StickerContent),
    /// `interactive`: a message card, as card JSON or a card template.
    Interactive(CardContent),
    /// `share_chat`: a group's card.
    ShareChat(ShareChatContent),
    /// `share_user`: a user's card.
    ShareUser(ShareUserContent),
    /// A `msg_type` this module does not model (the platform adds types,
    /// e.g. `system`, `merge_forward`, `location`); the content is kept as
    /// parsed JSON.
    Unknown {
        /// The message type as received.
        msg_type: String,
        /// The content, parsed but not interpreted.
        content: Value,
    },
}

impl MessageContent {
    /// A `text` message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextContent::new(text))
    }

    /// A `post` (rich text) message.
    pub fn post(post: PostContent) -> Self {
        Self::Post(post)
    }

    /// An `image` message of an uploaded image.
    pub fn image(image_key: impl Into<String>) -> Self {
        Self::Image(ImageContent::new(image_key))
    }

    /// A `file` message of an uploaded file.
    pub fn file(file_key: impl Into<String>) -> Self {
        Self::File(FileContent::new(file_key))
    }

    /// An `audio` message of an uploaded voice file.
    pub fn audio(file_key: impl Into<String>) -> Self {
        Self::Audio(AudioContent::new(file_key))
    }

    /// A `media` message of an uploaded video with its cover image; use
    /// `MessageContent::Media(MediaContent::new(file_key))` for none.
    pub fn media(file_key: impl Into<String>, image_key: impl Into<String>) -> Self {
        Self::Media(MediaContent::new(file_key).with_cover(image_key))
    }

    /// A `sticker` message.
    pub fn sticker(file_key: impl Into<String>) -> Self {
        Self::Sticker(StickerContent::new(file_key))
    }

    /// An `interactive` message of card JSON (`{"elements": …}` or a
    /// card entity reference).
    pub fn card(card: Value) -> Self {
        Self::Interactive(CardContent::Card(card))
    }

    /// An `interactive` message from a card template built in the card
    /// builder. `variables` fills its variables; `Value::Null` leaves them
    /// out.
    pub fn template(template_id: impl Into<String>, variables: Value) -> Self {
        let mut template = TemplateCard::new(template_id);
        if !variables.is_null() {
            template.template_variable = Some(variables);
        }
        Self::Interactive(CardContent::Template(template))
    }

    /// A `share_chat` message sharing a group.
    pub fn share_chat(chat_id: impl Into<String>) -> Self {
        Self::ShareChat(ShareChatContent { chat_id: chat_id.into() })
    }

    /// A `share_user` message sharing a user.
    pub fn share_user(user_id: impl Into<String>) -> Self {
        Self::ShareUser(ShareUserContent { user_id: user_id.into() })
    }

    /// The `msg_type` to send with this content. For
    /// [`Unknown`](Self::Unknown) content it is the type as received,
    /// which is why this borrows from `self`.
    pub fn msg_type(&self) -> &str {
        match self {
            Self::Text(_) => "text",
            Self::Post(_) => "post",
            Self::Image(_) => "image",
            Self::File(_) => "file",
            Self::Audio(_) => "audio",
            Self::Media(_) => "media",
            Self::Sticker(_) => "sticker",
            Self::Interactive(_) => "interactive",
            Self::ShareChat(_) => "share_chat",
            Self::ShareUser(_) => "share_user",
            Self::Unknown { msg_type, .. } => msg_type,
        }
    }

    /// The JSON string the API's `content` field expects, e.g.
    /// `{"text":"hi"}`.
    pub fn to_content_string(&self) -> String {
        let json = match self {
            Self::Text(c) => serde_json::to_string(c),
            Self::Post(c) => serde_json::to_string(c),
            Self::Image(c) => serde_json::to_string(c),
            Self::File(c) => serde_json::to_string(c),
            Self::Audio(c) => serde_json::to_string(c),
            Self::Media(c) => serde_json::to_string(c),
            Self::Sticker(c) => serde_json::to_string(c),
            Self::Interactive(c) => serde_json::to_string(c),
            Self::ShareChat(c) => serde_json::to_string(c),
            Self::ShareUser(c) => serde_json::to_string(c),
            Self::Unknown { content, .. } => serde_json::to_string(content),
        };
        // Every payload is a tree of strings, numbers, string-keyed maps and
        // JSON values, none of which can fail to serialize.
        json.expect("message content always serializes to JSON")
    }

    /// The `(msg_type, content)` pair to put into a request.
    pub fn to_parts(&self) -> (String, String) {
        (self.msg_type().to_owned(), self.to_content_string())
    }

    /// Reads a received message's `msg_type` and `content` fields.
    ///
    /// A `msg_type` this module does not know becomes
    /// [`Unknown`](Self::Unknown) (its content must still be JSON). Content
    /// that is not JSON, or lacks what its type needs (an `image` without
    /// `image_key`), is an error naming the `msg_type`.
    pub fn from_parts(msg_type: &str, content: &str) -> Result<Self, ContentError> {
        fn parse<T: DeserializeOwned>(msg_type: &str, content: &str) -> Result<T, ContentError> {
            serde_json::from_str(content)
                .map_err(|source| ContentError::Malformed { msg_type: msg_type.to_owned(), source })
        }
        Ok(match msg_type {
            "text" => Self::Text(parse(msg_type, content)?),
            "post" => Self::Post(parse(msg_type, content)?),
            "image" => Self::Image(parse(msg_type, content)?),
            "file" => Self::File(parse(msg_type, content)?),
            "audio" => Self::Audio(parse(msg_type, content)?),
            "media" => Self::Media(parse(msg_type, content)?),
            "sticker" => Self::Sticker(parse(msg_type, content)?),
            "interactive" => Self::Interactive(parse(msg_type, content)?),
            "share_chat" => Self::ShareChat(parse(msg_type, content)?),
            "share_user" => Self::ShareUser(parse(msg_type, content)?),
            other => {
                Self::Unknown { msg_type: other.to_owned(), content: parse(msg_type, content)? }
            }
        })
    }
}

/// Checks this content against the size limit of its type
/// (see [`check_size`]).
impl Validate for MessageContent {
    fn validate(&self) -> Result<(), ValidationError> {
        check_size(self.msg_type(), &self.to_content_string())
    }
}

/// The documented largest `content` of a message type, in bytes of the
/// content string: [`TEXT_MAX_BYTES`] for `text`, [`POST_MAX_BYTES`] for
/// `post`, [`INTERACTIVE_MAX_BYTES`] for `interactive`; `None` for types
/// without a documented limit.
pub fn size_limit(msg_type: &str) -> Option<usize> {
    match msg_type {
        "text" => Some(TEXT_MAX_BYTES),
        "post" => Some(POST_MAX_BYTES),
        "interactive" => Some(INTERACTIVE_MAX_BYTES),
        _ => None,
    }
}

/// Checks a `content` string against [`size_limit`] of its `msg_type`;
/// content exactly at the limit passes. The error names the field
/// `content` and the rule [`MAX_SIZE`].
pub fn check_size(msg_type: &str, content: &str) -> Result<(), ValidationError> {
    match size_limit(msg_type) {
        Some(max) if content.len() > max => Err(ValidationError::new(
            "content",
            MAX_SIZE,
            format!(
                "`{msg_type}` content of {} bytes exceeds the maximum of {max} bytes",
                content.len()
            ),
        )),
        _ => Ok(()),
    }
}

impl From<TextContent> for MessageContent {
    fn from(c: TextContent) -> Self {
        Self::Text(c)
    }
}

impl From<PostContent> for MessageContent {
    fn from(c: PostContent) -> Self {
        Self::Post(c)
    }
}

impl From<CardContent> for MessageContent {
    fn from(c: CardContent) -> Self {
        Self::Interactive(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn at_tags() {
        assert_eq!(TextContent::at("ou_x", "Tom"), r#"<at user_id="ou_x">Tom</at>"#);
        assert_eq!(TextContent::at_all(), r#"<at user_id="all"></at>"#);
    }

    #[test]
    fn post_shapes_are_told_apart() {
        let single: PostContent =
            serde_json::from_value(json!({"title": "t", "content": [[{"tag": "hr"}]]})).unwrap();
        assert!(matches!(single, PostContent::Single(_)));
        let localized: PostContent =
            serde_json::from_value(json!({"en_us": {"title": "t", "content": []}})).unwrap();
        assert_eq!(localized.get("en_us").unwrap().title, "t");
        assert!(localized.get("zh_cn").is_none());
        assert_eq!(localized.bodies().count(), 1);
        assert!(serde_json::from_value::<PostContent>(json!({"zh_cn": 3})).is_err());
    }

    #[test]
    fn unknown_and_misshapen_elements_are_kept() {
        for raw in
            [json!({"tag": "sparkle", "x": 1}), json!({"tag": "img"}), json!({"no_tag": true})]
        {
            let el: PostElement = serde_json::from_value(raw.clone()).unwrap();
            assert_eq!(el, PostElement::Other(raw.clone()));
            assert_eq!(serde_json::to_value(&el).unwrap(), raw);
        }
        let el: PostElement = serde_json::from_value(json!({"tag": "hr"})).unwrap();
        assert_eq!(el, PostElement::Hr);
    }

    #[test]
    fn template_needs_exactly_type_and_data() {
        let v = json!({"type": "template", "data": {"template_id": "AA"}, "extra": 1});
        let c: CardContent = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c, CardContent::Card(v));
        let v = json!({"type": "template", "data": {"template_id": "AA", "more": 2}});
        let c: CardContent = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c, CardContent::Card(v));
        let v = json!({"type": "template", "data": {"template_id": "AA"}});
        let c: CardContent = serde_json::from_value(v).unwrap();
        assert_eq!(c, CardContent::Template(TemplateCard::new("AA")));
    }

    #[test]
    fn size_limits() {
        assert_eq!(size_limit("text"), Some(153_600));
        assert_eq!(size_limit("post"), Some(30_720));
        assert_eq!(size_limit("interactive"), Some(30_720));
        assert_eq!(size_limit("image"), None);
        let e = check_size("post", &"x".repeat(30_721)).unwrap_err();
        assert_eq!((e.field.as_str(), e.rule.as_str()), ("content", MAX_SIZE));
        assert_eq!(
            e.to_string(),
            "content: `post` content of 30721 bytes exceeds the maximum of 30720 bytes"
        );
    }
}
