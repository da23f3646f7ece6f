//! One small function per Chinese rule sentence of a description (示例值,
//! 默认值, 可选值有, 长度范围 …), in the style of tg-bot-api's sentence rules.
//!
//! Input is a description after [`crate::text::clean`]-style normalisation, but
//! the pages disagree on everything else: bold may or may not wrap the keyword,
//! colons are full-width or ASCII, and flattened pages put every rule on one
//! line. So a keyword only counts as a rule when it looks like one (bold, or
//! followed by a colon), and a value on a shared line stops at the next rule.
//! Every scanner slices only at offsets returned by `find`/`char_indices` or at
//! ASCII bytes, so no input can make it panic.
//!
//! One module per kind of rule: `values` (示例值, 默认值, 固定值, 值格式),
//! `enums` (可选值有), `ranges` (lengths and numbers), `limits` (rate
//! limits), `access` (app types, tokens, scopes), all over the keyword
//! scanner in `scan`.

mod access;
mod enums;
mod limits;
mod ranges;
mod scan;
mod values;

pub use access::{access_tokens, app_types, field_scopes, scopes};
pub use enums::enum_values;
pub use limits::{per_receiver_limit, rate_limit};
pub use ranges::{Range, Unit, length_range, value_range};
pub use values::{default_value, example_value, fixed_value, value_format};

use feishu_spec::{EnumValue, Scope};

/// Everything the rule functions find in one description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// [`example_value`].
    pub example: Option<String>,
    /// [`default_value`].
    pub default: Option<String>,
    /// [`fixed_value`].
    pub fixed: Option<String>,
    /// [`enum_values`].
    pub enum_values: Vec<EnumValue>,
    /// [`length_range`].
    pub length: Option<Range>,
    /// [`value_range`].
    pub values: Option<Range>,
    /// [`field_scopes`].
    pub field_scopes: Vec<Scope>,
}

/// Runs every description rule over `text`.
pub fn read(text: &str) -> Rules {
    Rules {
        example: example_value(text),
        default: default_value(text),
        fixed: fixed_value(text),
        enum_values: enum_values(text),
        length: length_range(text),
        values: value_range(text),
        field_scopes: field_scopes(text),
    }
}

#[cfg(test)]
mod tests;
