//! The two callbacks whose answer the platform shows to the user: a card's
//! button or form (`card.action.trigger`) and a link preview
//! (`url.preview.get`), with their typed requests and answers.
//!
//! The requests decode leniently (every field defaults), like responses:
//! the platform adds fields over time. Register their handlers with
//! [`DispatcherBuilder::on_callback`](super::DispatcherBuilder::on_callback).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::body::EventBody;

/// Who acted.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Operator {
    /// The tenant of the user.
    pub tenant_key: Option<String>,
    /// The user's user_id (needs the scope that grants it).
    pub user_id: Option<String>,
    /// The user's open_id.
    pub open_id: Option<String>,
    /// The user's union_id.
    pub union_id: Option<String>,
}

/// Where the card or link is. `Debug` shows the preview token as `***`.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CallbackContext {
    /// The link (`url.preview.get`).
    pub url: Option<String>,
    /// The preview's token (`url.preview.get`).
    pub preview_token: Option<String>,
    /// The message holding the card or link.
    pub open_message_id: Option<String>,
    /// The chat of that message.
    pub open_chat_id: Option<String>,
}

/// What the user did on the card.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CardAction {
    /// The `value` the card's component carries (any JSON).
    pub value: Value,
    /// The component's tag, e.g. `button`, `select_static`, `input`.
    pub tag: String,
    /// The component's name, when it has one.
    pub name: Option<String>,
    /// The chosen option (selects).
    pub option: Option<String>,
    /// The chosen options (multi-selects).
    pub options: Vec<String>,
    /// The time zone of date pickers.
    pub timezone: Option<String>,
    /// The form's values, by component name (form submits).
    pub form_value: Option<Value>,
    /// The text typed (inputs).
    pub input_value: Option<String>,
    /// The checker's state.
    pub checked: Option<bool>,
}

/// The `card.action.trigger` callback: a user acted on an interactive card.
/// `Debug` shows the token as `***`: it lets whoever holds it update the
/// card.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CardActionTrigger {
    /// Who acted.
    pub operator: Operator,
    /// The token for updating the card later (valid 30 minutes, twice).
    pub token: Option<String>,
    /// What was done.
    pub action: CardAction,
    /// Where the card is shown, e.g. `im_message`.
    pub host: Option<String>,
    /// How the card was delivered, e.g. `url_preview`.
    pub delivery_type: Option<String>,
    /// The message and chat.
    pub context: CallbackContext,
}

/// `***` for a token that is there, `None` for one that is not.
fn redacted(token: &Option<String>) -> Option<&'static str> {
    token.as_ref().map(|_| "***")
}

impl fmt::Debug for CallbackContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackContext")
            .field("url", &self.url)
            .field("preview_token", &redacted(&self.preview_token))
            .field("open_message_id", &self.open_message_id)
            .field("open_chat_id", &self.open_chat_id)
            .finish()
    }
}

impl fmt::Debug for CardActionTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardActionTrigger")
            .field("operator", &self.operator)
            .field("token", &redacted(&self.token))
            .field("action", &self.action)
            .field("host", &self.host)
            .field("delivery_type", &self.delivery_type)
            .field("context", &self.context)
            .finish()
    }
}

impl EventBody for CardActionTrigger {
    const EVENT_TYPE: &'static str = "card.action.trigger";
}

/// The `url.preview.get` callback: a link of a registered domain is shown.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UrlPreviewGet {
    /// Who looks at the link.
    pub operator: Operator,
    /// Where the link is shown, e.g. `im_message`.
    pub host: Option<String>,
    /// The link, its preview token, the message and chat.
    pub context: CallbackContext,
}

impl EventBody for UrlPreviewGet {
    const EVENT_TYPE: &'static str = "url.preview.get";
}

/// The kind of a [`Toast`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToastKind {
    /// Neutral.
    Info,
    /// Green.
    Success,
    /// Red.
    Error,
    /// Orange.
    Warning,
}

/// A short message shown to the user who acted: `{type, content, i18n}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Toast {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: ToastKind,
    /// The text.
    pub content: String,
    /// The text per locale (`zh_cn`, `en_us`, `ja_jp`), which wins over
    /// `content` where it has the user's locale.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub i18n: BTreeMap<String, String>,
}

impl Toast {
    /// A toast of `kind` saying `content`.
    pub fn new(kind: ToastKind, content: impl Into<String>) -> Self {
        Self { kind, content: content.into(), i18n: BTreeMap::new() }
    }

    /// Adds the text for a locale, e.g. `en_us`.
    pub fn i18n(mut self, locale: impl Into<String>, content: impl Into<String>) -> Self {
        self.i18n.insert(locale.into(), content.into());
        self
    }
}

/// A card to show instead of the current one: its JSON (`raw`), or a card
/// template from the card builder (`template`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum CallbackCard {
    /// The card's JSON.
    Raw(Value),
    /// A template and its variables.
    Template(CardTemplate),
}

/// A card template reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CardTemplate {
    /// The template's id, e.g. `AAqk…`.
    pub template_id: String,
    /// The variables, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_variable: Option<Value>,
    /// The version to use; the latest published one when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_version_name: Option<String>,
}

impl CardTemplate {
    /// The latest version of template `template_id`, without variables.
    pub fn new(template_id: impl Into<String>) -> Self {
        Self {
            template_id: template_id.into(),
            template_variable: None,
            template_version_name: None,
        }
    }

    /// Sets the variables.
    pub fn variables(mut self, variables: Value) -> Self {
        self.template_variable = Some(variables);
        self
    }

    /// Pins a version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.template_version_name = Some(version.into());
        self
    }
}

/// The answer to a [`CardActionTrigger`]: a toast, a new card, both or
/// neither (`{}` leaves the card as it is).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CardActionResponse {
    /// Shown to the user who acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toast: Option<Toast>,
    /// Replaces the card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CallbackCard>,
}

impl CardActionResponse {
    /// An answer with only a toast.
    pub fn toast(toast: Toast) -> Self {
        Self { toast: Some(toast), card: None }
    }

    /// Adds a card.
    pub fn with_card(mut self, card: CallbackCard) -> Self {
        self.card = Some(card);
        self
    }
}

/// The inline preview of a link: its title (and per-locale titles) and an
/// image.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InlinePreview {
    /// The title.
    pub title: String,
    /// The title per locale.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub i18n_title: BTreeMap<String, String>,
    /// An uploaded image's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_key: Option<String>,
}

/// The answer to a [`UrlPreviewGet`]: an inline preview, a card, or both.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UrlPreviewResponse {
    /// The inline preview.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline: Option<InlinePreview>,
    /// The preview card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CallbackCard>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_have_the_documented_shape() {
        let answer =
            CardActionResponse::toast(Toast::new(ToastKind::Success, "done").i18n("en_us", "done"))
                .with_card(CallbackCard::Template(
                    CardTemplate::new("AAq1").variables(json!({"n": 1})).version("1.0.2"),
                ));
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            json!({
                "toast": {"type": "success", "content": "done", "i18n": {"en_us": "done"}},
                "card": {"type": "template", "data": {"template_id": "AAq1", "template_variable": {"n": 1}, "template_version_name": "1.0.2"}},
            })
        );
        let raw = CardActionResponse {
            toast: None,
            card: Some(CallbackCard::Raw(json!({"elements": []}))),
        };
        assert_eq!(
            serde_json::to_value(raw).unwrap(),
            json!({"card": {"type": "raw", "data": {"elements": []}}})
        );
        assert_eq!(serde_json::to_value(CardActionResponse::default()).unwrap(), json!({}));
    }

    #[test]
    fn requests_decode_leniently() {
        let request: CardActionTrigger = serde_json::from_value(json!({
            "operator": {"open_id": "ou_1", "extra": true},
            "action": {"value": {"k": "v"}, "tag": "button"},
            "context": {"open_message_id": "om_1", "open_chat_id": "oc_1"},
            "new_field": 5,
        }))
        .unwrap();
        assert_eq!(request.operator.open_id.as_deref(), Some("ou_1"));
        assert_eq!(request.action.value, json!({"k": "v"}));
        assert_eq!(request.context.open_message_id.as_deref(), Some("om_1"));
        let empty: UrlPreviewGet = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty, UrlPreviewGet::default());
    }
}
