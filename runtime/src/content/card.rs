//! The content of an `interactive` message: card JSON as it is, or a card
//! template filled with variables.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

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
