//! Building a [`Client`]: its settings, proxy, app type and token stores,
//! checked once by [`ClientBuilder::build`].

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AppTicketStore, AppType, AuthSettings, SharedTokenCache, UserTokenStore};
use crate::client::Client;
use crate::config::{Config, LARK_BASE_URL};
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::transport::{BaseUri, Http, Proxy};

/// Time limit for opening a connection; a host that does not answer within
/// it is treated as unreachable, which is always safe to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Client {
    /// A builder for the given app.
    pub fn builder(app_id: impl Into<String>, app_secret: impl Into<Secret>) -> ClientBuilder {
        ClientBuilder::new(app_id, app_secret)
    }

    /// A client for Feishu with default settings.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<Secret>) -> Result<Self, Error> {
        Self::builder(app_id, app_secret).build()
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
    /// App type and token stores.
    auth: AuthSettings,
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
    pub fn shared_limiter(mut self, limiter: Arc<dyn crate::limit::SharedLimiter>) -> Self {
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
        crate::transport::install_tls_provider();
        let http = Http::new(CONNECT_TIMEOUT.min(self.config.timeout), &self.proxy)?;
        Ok(C::from(Client::from_parts(self.config, base, http, self.auth, self.shared_limiter.0)))
    }
}

impl<C> ClientBuilder<C> {
    /// Sets the kind of app (self-built by default).
    pub fn app_type(mut self, app_type: AppType) -> Self {
        self.auth.app_type = app_type;
        self
    }

    /// Keeps the marketplace app's app_ticket in `store` (shared between
    /// processes, say) instead of in memory.
    pub fn app_ticket_store(mut self, store: Arc<dyn AppTicketStore>) -> Self {
        self.auth.tickets = Some(store);
        self
    }

    /// Keeps user tokens in `store` instead of in memory.
    pub fn user_token_store(mut self, store: Arc<dyn UserTokenStore>) -> Self {
        self.auth.users = Some(store);
        self
    }

    /// Shares the tenant and app tokens through `cache` with the other
    /// processes of the app, so that the fleet fetches each token once. The
    /// client's own cache stays in front of it.
    pub fn shared_token_cache(mut self, cache: Arc<dyn SharedTokenCache>) -> Self {
        self.auth.shared = Some(cache);
        self
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
    }
}
