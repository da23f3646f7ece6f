//! The settings a [`Client`](crate::Client) is built from, and the
//! platforms it can talk to.

use std::time::Duration;

use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Base URL of Feishu, the mainland-China platform; the default.
pub const FEISHU_BASE_URL: &str = "https://open.feishu.cn";

/// Base URL of Lark, the international platform with the same API.
pub const LARK_BASE_URL: &str = "https://open.larksuite.com";

/// Time limit for a whole request, response body included, unless changed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The settings of a client.
///
/// `Debug` shows the app secret as `Secret(***)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The app's ID (`cli_...`).
    pub app_id: String,
    /// The app's secret.
    pub app_secret: Secret,
    /// Scheme, host and optional port, without a path, e.g.
    /// [`FEISHU_BASE_URL`], [`LARK_BASE_URL`] or `http://127.0.0.1:8080` in
    /// tests. A trailing `/` is ignored.
    pub base_url: String,
    /// Time limit of each attempt, token requests included.
    pub timeout: Duration,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// Whether calls wait for the client-side rate limiter (documented
    /// per-endpoint and per-receiver limits, and pauses the server asks
    /// for). On by default; turn it off only when something else in front
    /// of the client already limits the rate.
    pub rate_limiting: bool,
}

impl Config {
    /// Settings for Feishu with the default timeout.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<Secret>) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            base_url: FEISHU_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            rate_limiting: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(Config::new("a", "b").base_url, FEISHU_BASE_URL);
        assert_eq!(Config::new("a", "b").timeout, DEFAULT_TIMEOUT);
    }
}
