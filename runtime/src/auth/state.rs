//! The token caches and stores of one client, and the choice of the token
//! each call carries (the rules are in the [module docs](super)).

use std::fmt;
use std::sync::Arc;

use http::header::HeaderValue;

use super::app_ticket::{AppTicketStore, MemoryAppTicketStore};
use super::shared::{SharedTokenCache, TokenKey};
use super::tenant::Marketplace;
use super::token::{Fetcher, TokenCache, TokenKind, bearer, fetch, internal_body};
use super::user::{MemoryUserTokenStore, UserTokenStore, Users};
use crate::config::Config;
use crate::error::{ApiError, AuthError, Error, codes};
use crate::request::{ApiRequest, Auth};
use crate::secret::Secret;
use crate::transport::{BaseUri, Http};
use crate::validate::{ValidationError, rules};

/// What kind of app the client is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppType {
    /// An app built by and for one tenant: tokens from the `…/internal`
    /// endpoints with the app id and secret.
    #[default]
    SelfBuilt,
    /// A marketplace (ISV) app installed by many tenants: an app token from
    /// the app id, secret and app_ticket, then a token per tenant. Every
    /// tenant-token call names its tenant with
    /// [`RequestOptions::tenant_key`](crate::RequestOptions::tenant_key).
    Marketplace,
}

/// The settings of [`ClientBuilder`](crate::ClientBuilder) this module reads.
#[derive(Clone, Default)]
pub(crate) struct AuthSettings {
    pub(crate) app_type: AppType,
    pub(crate) tickets: Option<Arc<dyn AppTicketStore>>,
    pub(crate) users: Option<Arc<dyn UserTokenStore>>,
    pub(crate) shared: Option<Arc<dyn SharedTokenCache>>,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("app_type", &self.app_type)
            .field("custom_ticket_store", &self.tickets.is_some())
            .field("custom_user_token_store", &self.users.is_some())
            .field("shared_token_cache", &self.shared.is_some())
            .finish()
    }
}

/// Every token cache of one client, and the stores.
pub(crate) struct AuthState {
    pub(crate) app_type: AppType,
    tenant: Arc<TokenCache>,
    app: Arc<TokenCache>,
    marketplace: Marketplace,
    pub(crate) tickets: Arc<dyn AppTicketStore>,
    pub(crate) users: Users,
    shared: Option<Arc<dyn SharedTokenCache>>,
}

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Auth");
        s.field("app_type", &self.app_type);
        match self.app_type {
            AppType::SelfBuilt => {
                s.field("tenant_token", &self.tenant).field("app_token", &self.app)
            }
            AppType::Marketplace => s.field("marketplace", &self.marketplace),
        };
        s.finish_non_exhaustive()
    }
}

/// A client's link to the platform as tokens need it: its settings, base
/// URL, HTTP client and token caches. The client and each of its
/// [`UserAuth`](super::UserAuth) handles share one behind an `Arc`.
pub(crate) struct Session {
    pub(crate) config: Config,
    /// `config.base_url`, parsed once.
    pub(crate) base: BaseUri,
    pub(crate) http: Http,
    pub(crate) tokens: AuthState,
}

impl Session {
    /// What fetching a token needs, borrowed.
    pub(crate) fn fetcher(&self) -> Fetcher<'_> {
        Fetcher { http: &self.http, base: &self.base, config: &self.config }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .field("auth", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// The token a request went out with, so that a refusal evicts exactly
/// that one.
pub(crate) enum UsedToken {
    /// A token from one of the client's caches (and the tenant it is for,
    /// for a marketplace app's tenant token).
    Cached(Arc<TokenCache>, HeaderValue, Option<String>),
    /// A stored user token.
    User(String, HeaderValue),
    /// No token, or one the caller passed in.
    Other,
}

/// Codes that refuse a user token which a refresh may cure: invalid
/// (99991668, and 99991663, which some gateways answer for every kind of
/// token) and expired (99991677). The first two also answer a user token
/// sent to an endpoint that does not accept one: [`not_accepted`] tells.
const USER_TOKEN_REFUSED: [i64; 3] = [
    codes::INVALID_TENANT_ACCESS_TOKEN,
    codes::INVALID_ACCESS_TOKEN,
    codes::USER_ACCESS_TOKEN_EXPIRED,
];

/// Whether a refusal's message says the endpoint does not take this kind of
/// token at all (99991668's "user access token not support"), rather than
/// that the token is bad: then no new token helps, and refreshing a user
/// token would spend its single-use refresh token for nothing.
fn not_accepted(msg: &str) -> bool {
    msg.to_ascii_lowercase().contains("not support")
}

/// Whether `code` refuses a cached token of `kind`: 99991663 and 99991668
/// any of them, 99991664 ("invalid app token") the app's, 99991665 ("invalid
/// tenant code") a tenant's.
fn refuses(kind: TokenKind, code: i64) -> bool {
    match code {
        codes::INVALID_TENANT_ACCESS_TOKEN | codes::INVALID_ACCESS_TOKEN => true,
        codes::INVALID_APP_ACCESS_TOKEN => {
            matches!(kind, TokenKind::App | TokenKind::MarketplaceApp)
        }
        codes::ILLEGAL_TENANT_ACCESS_TOKEN => {
            matches!(kind, TokenKind::Tenant | TokenKind::MarketplaceTenant)
        }
        _ => false,
    }
}

impl AuthState {
    pub(crate) fn new(settings: AuthSettings) -> Self {
        AuthState {
            app_type: settings.app_type,
            tenant: Arc::new(TokenCache::new(TokenKind::Tenant)),
            app: Arc::new(TokenCache::new(TokenKind::App)),
            marketplace: Marketplace::default(),
            tickets: settings.tickets.unwrap_or_else(|| Arc::new(MemoryAppTicketStore::default())),
            users: Users::new(
                settings.users.unwrap_or_else(|| Arc::new(MemoryUserTokenStore::default())),
            ),
            shared: settings.shared,
        }
    }

    /// The `Authorization` header for `request`, chosen as the module docs
    /// say.
    pub(crate) async fn authorization(
        &self,
        f: Fetcher<'_>,
        request: &ApiRequest,
    ) -> Result<(Option<HeaderValue>, UsedToken), Error> {
        let options = &request.options;
        let endpoint = || request.endpoint.unwrap_or(request.path.as_str()).to_owned();
        let user = match (&options.user_access_token, &options.user_key) {
            (Some(_), Some(_)) => return Err(AuthError::ConflictingUserCredentials.into()),
            (Some(token), None) => Some(Ok(token)),
            (None, Some(key)) => Some(Err(key)),
            (None, None) => None,
        };
        let refuse = |allowed, given| {
            Err(AuthError::TokenNotAccepted { endpoint: endpoint(), allowed, given }.into())
        };
        let given = |user: &Result<&Secret, &String>| {
            if user.is_ok() { "user_access_token" } else { "user key (a user_access_token)" }
        };
        match (request.auth, user) {
            (Auth::None, Some(user)) => refuse("no access token", given(&user)),
            (Auth::Tenant, Some(user)) => refuse("the tenant_access_token", given(&user)),
            (Auth::App, Some(user)) => refuse("the app_access_token", given(&user)),
            (Auth::User | Auth::TenantOrUser, Some(Ok(token))) => Ok((Some(bearer(token)?), UsedToken::Other)),
            (Auth::User | Auth::TenantOrUser, Some(Err(key))) => {
                let header = self.users.header(f, key).await?;
                Ok((Some(header.clone()), UsedToken::User(key.clone(), header)))
            }
            (Auth::User, None) => Err(Error::Validation(ValidationError::new(
                "user_access_token",
                rules::REQUIRED,
                "this endpoint accepts a user access token only: set RequestOptions::user_key or ::user_token",
            ))),
            (Auth::None, None) if options.tenant_key.is_some() => {
                Err(AuthError::TenantKeyNotUsed { endpoint: endpoint(), reason: "the operation takes no access token" }.into())
            }
            (Auth::None, None) => Ok((None, UsedToken::Other)),
            (Auth::Tenant | Auth::TenantOrUser, None) => {
                let cache = match (self.app_type, &options.tenant_key) {
                    (AppType::SelfBuilt, None) => self.tenant.clone(),
                    (AppType::SelfBuilt, Some(_)) => {
                        return Err(AuthError::TenantKeyNotUsed { endpoint: endpoint(), reason: "a self-built app has a single tenant" }.into());
                    }
                    (AppType::Marketplace, None) => return Err(AuthError::TenantKeyRequired { endpoint: endpoint() }.into()),
                    (AppType::Marketplace, Some(key)) => self.marketplace.tenant_cache(key),
                };
                let tenant_key = options.tenant_key.as_deref();
                let header = self.cached_header(f, &cache, tenant_key).await?;
                let tenant_key = tenant_key.map(str::to_owned);
                Ok((Some(header.clone()), UsedToken::Cached(cache, header, tenant_key)))
            }
            (Auth::App, None) if options.tenant_key.is_some() => Err(AuthError::TenantKeyNotUsed {
                endpoint: endpoint(),
                reason: "the operation takes the app_access_token, which is the same for every tenant",
            }
            .into()),
            (Auth::App, None) => {
                let cache = self.app_cache();
                let header = self.cached_header(f, &cache, None).await?;
                Ok((Some(header.clone()), UsedToken::Cached(cache, header, None)))
            }
        }
    }

    fn app_cache(&self) -> Arc<TokenCache> {
        match self.app_type {
            AppType::SelfBuilt => self.app.clone(),
            AppType::Marketplace => self.marketplace.app.clone(),
        }
    }

    async fn cached_header(
        &self,
        f: Fetcher<'_>,
        cache: &TokenCache,
        tenant_key: Option<&str>,
    ) -> Result<HeaderValue, Error> {
        cache.header_with(|| self.fetch_token(f, cache.kind(), tenant_key)).await
    }

    /// Fetches a token of `kind` (for `tenant_key`, a marketplace app's
    /// tenant), through the shared cache when there is one.
    async fn fetch_token(
        &self,
        f: Fetcher<'_>,
        kind: TokenKind,
        tenant_key: Option<&str>,
    ) -> Result<(Secret, std::time::Duration), Error> {
        let direct = async move {
            match (self.app_type, tenant_key) {
                (AppType::SelfBuilt, _) => fetch(f, kind, internal_body(f.config)).await,
                (AppType::Marketplace, None) => {
                    self.marketplace.fetch_app_token(f, &*self.tickets).await
                }
                (AppType::Marketplace, Some(key)) => {
                    self.marketplace.fetch_tenant_token(f, &*self.tickets, key).await
                }
            }
        };
        match &self.shared {
            None => direct.await,
            Some(shared) => {
                shared.get_or_fetch(self.token_key(f, kind, tenant_key), Box::pin(direct)).await
            }
        }
    }

    fn token_key<'a>(
        &self,
        f: Fetcher<'a>,
        kind: TokenKind,
        tenant_key: Option<&'a str>,
    ) -> TokenKey<'a> {
        TokenKey {
            token_type: kind.name(),
            marketplace: self.app_type == AppType::Marketplace,
            app_id: &f.config.app_id,
            tenant_key,
            app_secret: &f.config.app_secret,
        }
    }

    /// Handles the refusal `e` of `used`: evicts the refused token and says
    /// whether sending again with a fresh one may help.
    pub(crate) async fn refused(&self, f: Fetcher<'_>, used: &UsedToken, e: &ApiError) -> bool {
        match used {
            UsedToken::Cached(cache, header, tenant_key) if refuses(cache.kind(), e.code) => {
                cache.invalidate_if(header);
                let token = header.to_str().ok().and_then(|h| h.strip_prefix("Bearer "));
                if let (Some(shared), Some(token)) = (&self.shared, token) {
                    let key = self.token_key(f, cache.kind(), tenant_key.as_deref());
                    shared.evict(key, &Secret::new(token)).await;
                }
                true
            }
            UsedToken::User(key, header)
                if USER_TOKEN_REFUSED.contains(&e.code) && !not_accepted(&e.msg) =>
            {
                self.users.expire_if(key, header).await
            }
            _ => false,
        }
    }

    /// The tenant token for `tenant_key` (marketplace) or the app's own.
    pub(crate) async fn tenant_token(
        &self,
        f: Fetcher<'_>,
        tenant_key: Option<&str>,
    ) -> Result<Secret, Error> {
        let endpoint = || "Client::tenant_access_token".to_owned();
        match (self.app_type, tenant_key) {
            (AppType::SelfBuilt, None) => {
                self.tenant.get_with(|| self.fetch_token(f, TokenKind::Tenant, None)).await
            }
            (AppType::SelfBuilt, Some(_)) => Err(AuthError::TenantKeyNotUsed {
                endpoint: endpoint(),
                reason: "a self-built app has a single tenant",
            }
            .into()),
            (AppType::Marketplace, None) => {
                Err(AuthError::TenantKeyRequired { endpoint: endpoint() }.into())
            }
            (AppType::Marketplace, Some(key)) => {
                self.marketplace
                    .tenant_cache(key)
                    .get_with(|| self.fetch_token(f, TokenKind::MarketplaceTenant, Some(key)))
                    .await
            }
        }
    }

    /// The app token (the marketplace one for a marketplace app).
    pub(crate) async fn app_token(&self, f: Fetcher<'_>) -> Result<Secret, Error> {
        match self.app_type {
            AppType::SelfBuilt => {
                self.app.get_with(|| self.fetch_token(f, TokenKind::App, None)).await
            }
            AppType::Marketplace => {
                self.marketplace
                    .app
                    .get_with(|| self.fetch_token(f, TokenKind::MarketplaceApp, None))
                    .await
            }
        }
    }

    /// Forgets every cached app and tenant token.
    pub(crate) fn invalidate(&self) {
        self.tenant.invalidate();
        self.app.invalidate();
        self.marketplace.invalidate();
    }
}
