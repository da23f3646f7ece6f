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

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::validate::{Validate, ValidationError};

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

/// The content of a `post` (rich text) message.
///
/// Sent posts carry one body per language (`{"zh_cn": {"title": …,
/// "content": …}}`); received posts carry a single body without a language
/// key (`{"title": …, "content": …}`). Both are kept as they came, so
/// that [`MessageContent::from_parts`] and
/// [`MessageContent::to_content_string`] round-trip.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum PostContent {
    /// Bodies by language: `zh_cn`, `en_us`, `ja_jp`, …
    Localized(BTreeMap<String, PostBody>),
    /// A single body without a language, as received.
    Single(PostBody),
}

impl PostContent {
    /// A post with one body in language `lang` (`"zh_cn"`, `"en_us"`,
    /// `"ja_jp"`, …).
    pub fn new(lang: impl Into<String>, body: PostBody) -> Self {
        Self::Localized(BTreeMap::from([(lang.into(), body)]))
    }

    /// A post in simplified Chinese (`zh_cn`).
    pub fn zh_cn(body: PostBody) -> Self {
        Self::new("zh_cn", body)
    }

    /// A post in English (`en_us`).
    pub fn en_us(body: PostBody) -> Self {
        Self::new("en_us", body)
    }

    /// Adds (or replaces) the body of language `lang`. A
    /// [`Single`](Self::Single) post becomes a localized one with only the
    /// new body.
    pub fn with_language(self, lang: impl Into<String>, body: PostBody) -> Self {
        match self {
            Self::Localized(mut map) => {
                map.insert(lang.into(), body);
                Self::Localized(map)
            }
            Self::Single(_) => Self::new(lang, body),
        }
    }

    /// The body in language `lang`; a [`Single`](Self::Single) post returns
    /// its body for any language.
    pub fn get(&self, lang: &str) -> Option<&PostBody> {
        match self {
            Self::Localized(map) => map.get(lang),
            Self::Single(body) => Some(body),
        }
    }

    /// Every body, in language order.
    pub fn bodies(&self) -> impl Iterator<Item = &PostBody> {
        let (many, one) = match self {
            Self::Localized(map) => (Some(map.values()), None),
            Self::Single(body) => (None, Some(body)),
        };
        many.into_iter().flatten().chain(one)
    }
}

impl<'de> Deserialize<'de> for PostContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.get("content").is_some_and(Value::is_array) {
            PostBody::deserialize(value).map(Self::Single).map_err(D::Error::custom)
        } else {
            BTreeMap::<String, PostBody>::deserialize(value)
                .map(Self::Localized)
                .map_err(D::Error::custom)
        }
    }
}

/// One language's rich text: a title and lines (paragraphs) of elements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PostBody {
    /// The title; may be empty.
    #[serde(default)]
    pub title: String,
    /// The lines, each a list of inline elements.
    #[serde(default)]
    pub content: Vec<Vec<PostElement>>,
}

impl PostBody {
    /// A body with a title and no lines yet.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), content: Vec::new() }
    }

    /// Appends a line of elements.
    pub fn line(mut self, elements: Vec<PostElement>) -> Self {
        self.content.push(elements);
        self
    }
}

/// An inline element of a post line, tagged by its `tag`.
///
/// Elements with a tag not listed here (or a listed tag in an unexpected
/// shape) are kept as [`PostElement::Other`], unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tag")]
#[non_exhaustive]
pub enum PostElement {
    /// `text`: plain text.
    #[serde(rename = "text")]
    Text {
        /// The text.
        text: String,
        /// Whether to unescape HTML entities in `text`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        un_escape: Option<bool>,
        /// Styles: `bold`, `underline`, `lineThrough`, `italic`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        style: Vec<String>,
    },
    /// `a`: a link.
    #[serde(rename = "a")]
    Link {
        /// The link text.
        text: String,
        /// The URL.
        href: String,
        /// Styles, as for [`PostElement::Text`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        style: Vec<String>,
    },
    /// `at`: a mention.
    #[serde(rename = "at")]
    At {
        /// The user's open_id / user_id, or `all`; a placeholder such as
        /// `@_user_1` in received posts.
        user_id: String,
        /// The user's name, in received posts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_name: Option<String>,
        /// Styles, as for [`PostElement::Text`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        style: Vec<String>,
    },
    /// `img`: an uploaded image.
    #[serde(rename = "img")]
    Image {
        /// The image's key.
        image_key: String,
    },
    /// `media`: an uploaded video.
    #[serde(rename = "media")]
    Media {
        /// The video's key.
        file_key: String,
        /// The cover image's key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_key: Option<String>,
    },
    /// `emotion`: an emoji.
    #[serde(rename = "emotion")]
    Emotion {
        /// The emoji's name, e.g. `SMILE`.
        emoji_type: String,
    },
    /// `code_block`: a block of code.
    #[serde(rename = "code_block")]
    CodeBlock {
        /// The language, e.g. `GO`, `PYTHON`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// The code.
        text: String,
    },
    /// `hr`: a horizontal rule.
    #[serde(rename = "hr")]
    Hr,
    /// `md`: Markdown (send only; must be alone on its line).
    #[serde(rename = "md")]
    Markdown {
        /// The Markdown text.
        text: String,
    },
    /// Any other element, as received.
    #[serde(untagged)]
    Other(Value),
}

impl PostElement {
    /// A `text` element.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into(), un_escape: None, style: Vec::new() }
    }

    /// An `a` (link) element.
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Self::Link { text: text.into(), href: href.into(), style: Vec::new() }
    }

    /// An `at` (mention) element; `"all"` mentions everyone.
    pub fn at(user_id: impl Into<String>) -> Self {
        Self::At { user_id: user_id.into(), user_name: None, style: Vec::new() }
    }

    /// An `img` element.
    pub fn image(image_key: impl Into<String>) -> Self {
        Self::Image { image_key: image_key.into() }
    }

    /// A `media` element with an optional cover image.
    pub fn media(file_key: impl Into<String>, image_key: Option<String>) -> Self {
        Self::Media { file_key: file_key.into(), image_key }
    }

    /// An `emotion` element, e.g. `PostElement::emotion("SMILE")`.
    pub fn emotion(emoji_type: impl Into<String>) -> Self {
        Self::Emotion { emoji_type: emoji_type.into() }
    }

    /// A `code_block` element.
    pub fn code_block(language: impl Into<String>, text: impl Into<String>) -> Self {
        Self::CodeBlock { language: Some(language.into()), text: text.into() }
    }

    /// An `hr` element.
    pub fn hr() -> Self {
        Self::Hr
    }

    /// An `md` element.
    pub fn markdown(text: impl Into<String>) -> Self {
        Self::Markdown { text: text.into() }
    }
}

/// The content of an `image` message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageContent {
    /// The key of the uploaded image.
    pub image_key: String,
}

impl ImageContent {
    /// Image content.
    pub fn new(image_key: impl Into<String>) -> Self {
        Self { image_key: image_key.into() }
    }
}

/// The content of a `file` message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContent {
    /// The key of the uploaded file.
    pub file_key: String,
    /// The file's name, in received messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

impl FileContent {
    /// File content.
    pub fn new(file_key: impl Into<String>) -> Self {
        Self { file_key: file_key.into(), file_name: None }
    }
}

/// The content of an `audio` message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioContent {
    /// The key of the uploaded voice file.
    pub file_key: String,
    /// Length in milliseconds, in received messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

impl AudioContent {
    /// Audio content.
    pub fn new(file_key: impl Into<String>) -> Self {
        Self { file_key: file_key.into(), duration: None }
    }
}

/// The content of a `media` (video) message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaContent {
    /// The key of the uploaded video.
    pub file_key: String,
    /// The key of the cover image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_key: Option<String>,
    /// The file's name, in received messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Length in milliseconds, in received messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

impl MediaContent {
    /// Video content without a cover image.
    pub fn new(file_key: impl Into<String>) -> Self {
        Self { file_key: file_key.into(), ..Self::default() }
    }

    /// Sets the cover image.
    pub fn with_cover(mut self, image_key: impl Into<String>) -> Self {
        self.image_key = Some(image_key.into());
        self
    }
}

/// The content of a `sticker` message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickerContent {
    /// The sticker's key (stickers can only be re-sent, not uploaded).
    pub file_key: String,
}

impl StickerContent {
    /// Sticker content.
    pub fn new(file_key: impl Into<String>) -> Self {
        Self { file_key: file_key.into() }
    }
}

/// The content of a `share_chat` message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareChatContent {
    /// The shared group's chat_id.
    pub chat_id: String,
}

/// The content of a `share_user` message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareUserContent {
    /// The shared user's open_id (or other user id).
    pub user_id: String,
}

/// The content of an `interactive` message: a card.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CardContent {
    /// Card JSON, sent and received as is.
    Card(Value),
    /// A card template: `{"type": "template", "data": {…}}`.
    Template(TemplateCard),
}

/// A card built in the card builder, filled with variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateCard {
    /// The template's ID (`AAq…`).
    pub template_id: String,
    /// Values of the template's variables, a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_variable: Option<Value>,
    /// Which published version to use, e.g. `1.0.0`; the latest if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_version_name: Option<String>,
}

impl TemplateCard {
    /// A template without variables, at its latest version.
    pub fn new(template_id: impl Into<String>) -> Self {
        Self { template_id: template_id.into(), ..Self::default() }
    }

    /// Sets the variables (a JSON object).
    pub fn with_variables(mut self, variables: Value) -> Self {
        self.template_variable = Some(variables);
        self
    }

    /// Pins a published version.
    pub fn with_version(mut self, version_name: impl Into<String>) -> Self {
        self.template_version_name = Some(version_name.into());
        self
    }
}

/// `{"type": "template", "data": …}` on the wire.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateWire<T> {
    r#type: String,
    data: T,
}

const TEMPLATE: &str = "template";

impl Serialize for CardContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Card(card) => card.serialize(serializer),
            Self::Template(template) => {
                TemplateWire { r#type: TEMPLATE.to_owned(), data: template }.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for CardContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        // Only a template that reads back exactly as it came is taken as
        // one; anything else stays card JSON, so that nothing is lost.
        if value.get("type").and_then(Value::as_str) == Some(TEMPLATE)
            && let Ok(wire) = TemplateWire::<Value>::deserialize(&value)
            && let Ok(template) = TemplateCard::deserialize(&wire.data)
            && serde_json::to_value(&template).ok().as_ref() == Some(&wire.data)
        {
            return Ok(Self::Template(template));
        }
        Ok(Self::Card(value))
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
