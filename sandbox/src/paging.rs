//! A control switch that makes list answers break the paging rules, so that
//! clients' guards against looping and short lists can be tested against a
//! server.

use serde_json::Value;

/// How list answers hand out their next token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum TokenMode {
    /// As the list computes it.
    #[default]
    Normal,
    /// A page fetched with a token says `has_more: true` and hands out that
    /// same token again (the first page is left alone).
    Repeat,
    /// Every page says `has_more: true` with `page_token: ""`.
    Empty,
}

impl TokenMode {
    /// Reads `{"token": "normal"|"repeat"|"empty"}`.
    pub(crate) fn from_request(request: &Value) -> Result<TokenMode, String> {
        match request.get("token").and_then(Value::as_str) {
            Some("normal") => Ok(TokenMode::Normal),
            Some("repeat") => Ok(TokenMode::Repeat),
            Some("empty") => Ok(TokenMode::Empty),
            _ => Err("token must be \"normal\", \"repeat\" or \"empty\"".into()),
        }
    }

    /// Rewrites a list answer's `data` fetched with `token`.
    pub(crate) fn apply(self, token: Option<&str>, data: &mut Value) {
        match (self, token.filter(|t| !t.is_empty())) {
            (TokenMode::Normal, _) | (TokenMode::Repeat, None) => {}
            (TokenMode::Repeat, Some(token)) => {
                data["has_more"] = true.into();
                data["page_token"] = token.into();
            }
            (TokenMode::Empty, _) => {
                data["has_more"] = true.into();
                data["page_token"] = "".into();
            }
        }
    }
}
