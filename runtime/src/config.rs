//! What a [`Client`](crate::Client) is built from.

use std::marker::PhantomData;
use std::time::Duration;

use crate::client::Client;
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::transport::{BaseUri, Http, Proxy};

/// Base URL of Feishu, the mainland-China platform; the default.
pub const FEISHU_BASE_URL: &str = "https://open.feishu.cn";

/// Base URL of Lark, the international platform with the same API.
pub const LARK_BASE_URL: &str = "https://open.larksuite.com";

/// Time limit for a whole request, response body included, unless changed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Time limit for opening a connection; a host that does not answer within
/// it is treated as unreachable, which is always safe to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Builds a [`Client`]; start with [`Client::builder`].
///
/// `C` is what [`build`](Self::build) returns: the runtime's [`Client`],
/// or a client type wrapping it (the generated crate's, whose methods
/// lead to every operation).
#[derive(Debug)]
pub struct ClientBuilder<C = Client> {
    config: Config,
    proxy: Proxy,
    /// App type and token stores; set in `crate::auth`.
    pub(crate) auth: crate::auth::AuthSettings,
    /// A rate limiter shared with the app's other processes.
    shared_limiter: crate::limit::SharedSlot,
    output: PhantomData<fn() -> C>,
}

impl ClientBuilder {
    /// A builder for the given app, with every other setting at its default.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<Secret>) -> Self {
        Self::from_config(Config::new(app_id, app_secret))
    }

    /// A builder starting from complete settings.
    pub fn from_config(config: Config) -> Self {
        Self {
            config,
            proxy: Proxy::default(),
            auth: Default::default(),
            shared_limiter: Default::default(),
            output: PhantomData,
        }
    }
}

impl<C> ClientBuilder<C> {
    /// The same settings, building a `D` (any type made from a [`Client`]).
    pub fn building<D: From<Client>>(self) -> ClientBuilder<D> {
        ClientBuilder {
            config: self.config,
            proxy: self.proxy,
            auth: self.auth,
            shared_limiter: self.shared_limiter,
            output: PhantomData,
        }
    }

    /// The app the client is for.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// Sets the base URL (see [`Config::base_url`]).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config.base_url = base_url.into();
        self
    }

    /// Targets Lark ([`LARK_BASE_URL`]) instead of Feishu.
    pub fn lark(self) -> Self {
        self.base_url(LARK_BASE_URL)
    }

    /// Sets the time limit of every request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Sets how failed calls are retried ([`RetryPolicy::none`] turns
    /// retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Turns the client-side rate limiter on or off (see
    /// [`Config::rate_limiting`]).
    pub fn rate_limiting(mut self, on: bool) -> Self {
        self.config.rate_limiting = on;
        self
    }

    /// Holds calls to the documented rate limits together with the app's
    /// other processes through `limiter` (see [`SharedLimiter`]), instead of
    /// per process. Needs [`Config::rate_limiting`] on (the default); when
    /// `limiter` fails, calls wait for the in-process limiter instead.
    ///
    /// [`SharedLimiter`]: crate::SharedLimiter
    pub fn shared_limiter(mut self, limiter: std::sync::Arc<dyn crate::SharedLimiter>) -> Self {
        self.shared_limiter = crate::limit::SharedSlot(Some(limiter));
        self
    }

    /// Sends every request through this HTTP proxy
    /// (`http://[user:password@]host[:port]`; `https://` targets through a
    /// `CONNECT` tunnel) instead of the one the environment names. Checked
    /// by [`build`](Self::build).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Proxy::Through(Secret::new(url.into()));
        self
    }

    /// Connects directly, whatever proxy the environment names. By default
    /// the client uses the one `HTTPS_PROXY`, `HTTP_PROXY` or `ALL_PROXY`
    /// names, minus the hosts `NO_PROXY` lists, as curl does.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = Proxy::Direct;
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// Fails with [`Error::Config`] on an unusable base URL or proxy URL, and with
    /// [`Error::Transport`] if the default HTTP client cannot be built.
    pub fn build(self) -> Result<C, Error>
    where
        C: From<Client>,
    {
        let base = BaseUri::parse(self.config.base_url.trim_end_matches('/'))?;
        install_tls_provider();
        let http = Http::new(CONNECT_TIMEOUT.min(self.config.timeout), &self.proxy)?;
        Ok(C::from(Client::from_parts(self.config, base, http, self.auth, self.shared_limiter.0)))
    }
}

/// With the `rustls-ring` feature (and not `rustls-aws-lc`), makes ring the
/// process's rustls crypto provider unless the program installed one
/// already. Installing is idempotent and never replaces a choice.
///
/// The client's own TLS is given its provider directly and needs none of
/// this (the long connection's socket included: the transport opens it);
/// libraries that read the process default do (a reqwest built without a
/// provider in the same program). Building a client calls it; a program that builds such
/// clients of its own before any Feishu client should call it first.
pub fn install_tls_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_base_url_fails_the_build() {
        for bad in ["open.feishu.cn", "ftp://x", "https://x/?a=b"] {
            assert!(
                matches!(
                    ClientBuilder::new("cli_1", "s").base_url(bad).build(),
                    Err(Error::Config(_))
                ),
                "{bad}"
            );
        }
        assert!(
            ClientBuilder::new("cli_1", "s").base_url("http://127.0.0.1:8080/").build().is_ok()
        );
    }

    /// Building a client installs ring as the process default, for the
    /// libraries that read it (see [`install_tls_provider`]).
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    #[test]
    fn building_a_client_installs_the_ring_provider() {
        ClientBuilder::new("cli_1", "s").build().expect("the client builds with rustls and ring");
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }

    #[test]
    fn builder_sets_fields() {
        let b = ClientBuilder::new("cli_1", "s").lark().timeout(Duration::from_secs(3));
        assert_eq!(b.config.base_url, LARK_BASE_URL);
        assert_eq!(b.config.timeout, Duration::from_secs(3));
        assert_eq!(Config::new("a", "b").base_url, FEISHU_BASE_URL);
        assert_eq!(Config::new("a", "b").timeout, DEFAULT_TIMEOUT);
    }
}
