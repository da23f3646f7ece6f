//! The contents that point to something stored elsewhere by its key or id:
//! an image, a file, audio, video (`media`), a sticker, a shared chat or
//! user.

use serde::{Deserialize, Serialize};

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
