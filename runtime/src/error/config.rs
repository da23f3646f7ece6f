//! Why a setting of the client or of one call cannot be used: the setting,
//! the rule it breaks, and the parser's own error when there is one.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::display::Cause;

/// A setting the client (or one call) cannot use: a base URL that is not
/// http(s), a proxy URL that is not `http://`, a request header that is not
/// a header. Nothing was sent.
///
/// [`setting`](Self::setting) names it (with its value when the value holds
/// no secret), [`rule`](Self::rule) says what it breaks, and
/// [`source`](std::error::Error::source) leads to the parser's error, when
/// one found the fault. It is `Clone` (the cause is shared), like every
/// error a token refresh can hand to its waiters.
#[derive(Clone, Debug)]
pub struct ConfigError {
    setting: Cow<'static, str>,
    rule: &'static str,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl ConfigError {
    /// `setting` breaks `rule`.
    pub(crate) fn new(setting: impl Into<Cow<'static, str>>, rule: &'static str) -> Self {
        Self { setting: setting.into(), rule, source: None }
    }

    /// Keeps the error of the parser that found the fault.
    pub(crate) fn because(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into().into());
        self
    }

    /// The setting, e.g. `base URL "ftp://x"` or `proxy URL` (never a value
    /// that may hold a password or a token).
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// The rule it breaks, e.g. `must use http or https`.
    pub fn rule(&self) -> &str {
        self.rule
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The parser's message goes on the end: alone, "must be a URL" does
        // not say which character was wrong.
        write!(f, "{} {}{}", self.setting, self.rule, Cause(&self.source))
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
