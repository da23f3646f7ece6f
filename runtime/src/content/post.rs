//! The content of a `post` (rich text) message: one body per language, each
//! a title and lines of inline elements.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The content of a `post` (rich text) message.
///
/// Sent posts carry one body per language (`{"zh_cn": {"title": …,
/// "content": …}}`); received posts carry a single body without a language
/// key (`{"title": …, "content": …}`). Both are kept as they came, so
/// that [`MessageContent::from_parts`](super::MessageContent::from_parts) and
/// [`MessageContent::to_content_string`](super::MessageContent::to_content_string) round-trip.
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
