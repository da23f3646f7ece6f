//! Which app the client acts as, and which access token each call carries.
//!
//! Two kinds of app get their own tokens:
//!
//! - a **self-built** app (the default, [`AppType::SelfBuilt`]) belongs to one
//!   tenant and fetches its tokens with its id and secret from the
//!   `…/internal` endpoints;
//! - a **marketplace** app ([`AppType::Marketplace`], an ISV app that many
//!   tenants install) first fetches an `app_access_token` with its id, secret
//!   and the `app_ticket` that the platform pushes to it every hour as the
//!   v1 `app_ticket` event, then one `tenant_access_token` per tenant with
//!   that app token and the tenant's `tenant_key`.
//!
//! Every token is cached inside the [`Client`] that fetched it,
//! per tenant, with one refresh in flight per cache. The caches are never
//! shared between clients or kept process-wide: a client built with a wrong
//! secret starts cold and fails, however warm another client for the same
//! app id is (keying a shared cache by app id alone would let it "work").
//! A fleet of processes can opt into a [`SharedTokenCache`] behind the
//! client's own (the `redis` feature has one), which keys each token by a
//! digest of the secret for that reason.
//!
//! User tokens come from OAuth ([`UserAuth`]) and are kept in a
//! [`UserTokenStore`] under a key the caller chooses.
//!
//! **No silent fallback.** Each generated operation states the token types
//! its documentation allows ([`Auth`]). A call whose options carry a user
//! token (or user key) for an operation that takes only the tenant or app
//! token fails with [`AuthError::TokenNotAccepted`] before anything is sent;
//! a user-only operation without user credentials fails too. A
//! `tenant_key` on a self-built client, or on an operation that takes no
//! tenant token, is refused in the same way rather than ignored. An
//! operation that accepts either token uses the user's when the options
//! carry one (the user token decides the tenant then), else the tenant's.

mod app_ticket;
mod shared;
mod tenant;
mod user;

use std::fmt;
use std::sync::Arc;

use http::header::HeaderValue;

use crate::client::Client;
use crate::config::ClientBuilder;
use crate::error::Error;
use crate::request::{ApiRequest, Auth};
use crate::secret::Secret;
use crate::token::{Fetcher, TokenCache, TokenKind, bearer, fetch, internal_body};
use crate::validate::{ValidationError, rules};

#[cfg(feature = "events")]
pub use app_ticket::AppTicketEvent;
pub use app_ticket::{AppTicketStore, MemoryAppTicketStore};
pub use shared::{SharedTokenCache, TokenKey};
pub use tenant::INVALID_APP_TICKET;
pub use user::{MemoryUserTokenStore, UserAuth, UserToken, UserTokenStore};

/// A boxed future, as the pluggable stores return them (trait methods
/// with `async fn` cannot be called through `dyn`): futures-core's, the
/// one `BoxFuture` of the crate.
pub use futures_core::future::BoxFuture;

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

/// Why the client could not pick or obtain the token a call needs.
///
/// Every variant but [`AuthError::AppTicketNotReceived`] and
/// [`AuthError::Store`] means the call as made cannot succeed; none holds a
/// secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A marketplace app has no app_ticket yet. The client asked the
    /// platform to push one again (`app_ticket/resend`, at most once per
    /// [`RESEND_INTERVAL`]); once the event
    /// handler has passed it to [`Client::set_app_ticket`], calls work.
    #[error(
        "the app_ticket has not been received yet (a resend was requested): hand the app_ticket event to Client::set_app_ticket and try again"
    )]
    AppTicketNotReceived,

    /// A marketplace app called an operation that takes a tenant token
    /// without naming the tenant; nothing was sent.
    #[error(
        "{endpoint} needs a tenant token and a marketplace app has one per tenant: name the tenant with RequestOptions::tenant_key"
    )]
    TenantKeyRequired {
        /// The operation (or path) called.
        endpoint: String,
    },

    /// A `tenant_key` was given where it picks nothing; nothing was sent.
    #[error("{endpoint}: a tenant_key was given, but {reason}")]
    TenantKeyNotUsed {
        /// The operation (or path) called.
        endpoint: String,
        /// Why the key has no use here.
        reason: &'static str,
    },

    /// The call carries a token type the operation does not accept;
    /// nothing was sent.
    #[error("{endpoint} accepts {allowed} only, but the call carries a {given}; nothing was sent")]
    TokenNotAccepted {
        /// The operation (or path) called.
        endpoint: String,
        /// What the operation accepts.
        allowed: &'static str,
        /// What the call carried.
        given: &'static str,
    },

    /// The options carry both a user token and a user key.
    #[error("give either RequestOptions::user_token or RequestOptions::user_key, not both")]
    ConflictingUserCredentials,

    /// No token is stored for this user key: the user has to authorise the
    /// app first ([`UserAuth::authorize_url`], [`UserAuth::exchange_code`]).
    #[error("no user token is stored for user key {user_key:?}: the user has to authorise the app")]
    UserNotAuthorized {
        /// The caller's key for the user.
        user_key: String,
    },

    /// The user's token can no longer be renewed (the refresh token expired,
    /// was used already, or the user revoked consent): send the user through
    /// authorisation again. The stored tokens were forgotten.
    #[error("user {user_key:?} has to authorise the app again: {reason}")]
    ReauthorizationRequired {
        /// The caller's key for the user.
        user_key: String,
        /// The platform's code, when it refused the refresh.
        code: Option<i64>,
        /// What happened.
        reason: String,
    },

    /// A pluggable store failed.
    #[error("token store: {message}")]
    Store {
        /// The store's explanation (never a token).
        message: String,
    },
}

impl AuthError {
    /// Whether the end user has to go through authorisation again.
    pub fn needs_authorization(&self) -> bool {
        matches!(
            self,
            AuthError::UserNotAuthorized { .. } | AuthError::ReauthorizationRequired { .. }
        )
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(e)
    }
}

/// How often a marketplace client asks for the app_ticket to be pushed
/// again while it has none: the platform pushes within seconds, so a call
/// made in between fails fast without asking again.
pub const RESEND_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The settings of [`ClientBuilder`] this module reads.
#[derive(Clone, Default)]
pub(crate) struct AuthSettings {
    app_type: AppType,
    tickets: Option<Arc<dyn AppTicketStore>>,
    users: Option<Arc<dyn UserTokenStore>>,
    shared: Option<Arc<dyn SharedTokenCache>>,
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

/// Every token cache of one client, and the stores.
pub(crate) struct AuthState {
    app_type: AppType,
    tenant: Arc<TokenCache>,
    app: Arc<TokenCache>,
    marketplace: tenant::Marketplace,
    tickets: Arc<dyn AppTicketStore>,
    users: user::Users,
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
/// token) and expired (99991677).
const USER_TOKEN_REFUSED: [i64; 3] = [
    crate::error::codes::INVALID_TENANT_ACCESS_TOKEN,
    crate::error::codes::INVALID_ACCESS_TOKEN,
    99991677,
];

impl AuthState {
    pub(crate) fn new(settings: AuthSettings) -> Self {
        AuthState {
            app_type: settings.app_type,
            tenant: Arc::new(TokenCache::new(TokenKind::Tenant)),
            app: Arc::new(TokenCache::new(TokenKind::App)),
            marketplace: tenant::Marketplace::default(),
            tickets: settings.tickets.unwrap_or_else(|| Arc::new(MemoryAppTicketStore::default())),
            users: user::Users::new(
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

    /// Handles a refusal of `used` with `code`: evicts the refused token and
    /// says whether sending again with a fresh one may help.
    pub(crate) async fn refused(&self, f: Fetcher<'_>, used: &UsedToken, code: i64) -> bool {
        use crate::error::codes::{INVALID_ACCESS_TOKEN, INVALID_TENANT_ACCESS_TOKEN};
        match used {
            UsedToken::Cached(cache, header, tenant_key)
                if matches!(code, INVALID_TENANT_ACCESS_TOKEN | INVALID_ACCESS_TOKEN) =>
            {
                cache.invalidate_if(header);
                let token = header.to_str().ok().and_then(|h| h.strip_prefix("Bearer "));
                if let (Some(shared), Some(token)) = (&self.shared, token) {
                    let key = self.token_key(f, cache.kind(), tenant_key.as_deref());
                    shared.evict(key, &Secret::new(token)).await;
                }
                true
            }
            UsedToken::User(key, header) if USER_TOKEN_REFUSED.contains(&code) => {
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

impl Client {
    /// The kind of app this client acts as.
    pub fn app_type(&self) -> AppType {
        self.auth().1.app_type
    }

    /// Stores the app_ticket a marketplace app received.
    ///
    /// The platform pushes it hourly as the v1 `app_ticket` event (and
    /// again on request). [`Client::handle_app_tickets`] wires an event
    /// dispatcher to this method; given a webhook's envelope it is one line
    /// too:
    ///
    /// ```no_run
    /// # async fn demo(client: feishu_runtime::Client, envelope: feishu_runtime::events::EventEnvelope) -> Result<(), feishu_runtime::Error> {
    /// client.accept_app_ticket_event(&envelope).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_app_ticket(&self, ticket: impl Into<Secret>) -> Result<(), Error> {
        let ticket = ticket.into();
        if ticket.expose().is_empty() {
            return Err(Error::Validation(ValidationError::new(
                "app_ticket",
                rules::REQUIRED,
                "the app_ticket is empty",
            )));
        }
        self.auth().1.tickets.set(ticket).await?;
        tracing::debug!("app_ticket stored");
        Ok(())
    }

    /// Stores the ticket if `envelope` is an `app_ticket` event for this
    /// app, and says whether it was one. Events of other types are left
    /// alone; an `app_ticket` event for another app id is refused.
    #[cfg(feature = "events")]
    ///
    /// Takes an envelope of any event-type representation that prints as
    /// the type's name (`String`, or the generated crate's `EventType`).
    pub async fn accept_app_ticket_event<K: fmt::Display>(
        &self,
        envelope: &crate::events::EventEnvelope<K>,
    ) -> Result<bool, Error> {
        if envelope.event_type.to_string() != "app_ticket" {
            return Ok(false);
        }
        let app_id = envelope
            .app_id
            .as_deref()
            .or_else(|| envelope.event.get("app_id").and_then(|v| v.as_str()));
        if app_id.is_some_and(|id| id != self.config().app_id) {
            return Err(Error::Validation(ValidationError::new(
                "app_id",
                "mismatch",
                "the app_ticket event is for another app",
            )));
        }
        let Some(ticket) = envelope.event.get("app_ticket").and_then(|v| v.as_str()) else {
            return Err(Error::Validation(ValidationError::new(
                "event.app_ticket",
                rules::REQUIRED,
                "the app_ticket event carries no ticket",
            )));
        };
        self.set_app_ticket(ticket).await?;
        Ok(true)
    }

    /// Registers the handler of the v1 `app_ticket` event on an event
    /// dispatcher (webhook or long connection): each ticket for this app is
    /// stored with [`Client::set_app_ticket`]; one for another app fails
    /// the event. This is the one line a marketplace app needs:
    ///
    /// ```
    /// # let client = feishu_runtime::Client::builder("cli_isv", "s").app_type(feishu_runtime::AppType::Marketplace).build().unwrap();
    /// let mut builder = feishu_runtime::events::Dispatcher::builder();
    /// client.handle_app_tickets(&mut builder).unwrap();
    /// let dispatcher = builder.build();
    /// # assert!(dispatcher.handles("app_ticket"));
    /// ```
    #[cfg(feature = "events")]
    pub fn handle_app_tickets(
        &self,
        builder: &mut crate::events::DispatcherBuilder,
    ) -> Result<(), crate::events::RegisterError> {
        let client = self.clone();
        builder.on(move |_ctx, event: AppTicketEvent| {
            let client = client.clone();
            async move {
                if event.app_id != client.config().app_id {
                    return Err("the app_ticket event is for another app".into());
                }
                client
                    .set_app_ticket(event.ticket())
                    .await
                    .map_err(|e| Box::new(e) as crate::events::HandlerError)
            }
        })?;
        Ok(())
    }

    /// The store the app_ticket is kept in.
    pub fn app_ticket_store(&self) -> Arc<dyn AppTicketStore> {
        self.auth().1.tickets.clone()
    }

    /// The tenant_access_token of `tenant_key` for a marketplace app,
    /// fetched if missing or due.
    pub async fn tenant_access_token_for(&self, tenant_key: &str) -> Result<Secret, Error> {
        let (f, auth) = self.auth();
        auth.tenant_token(f, Some(tenant_key)).await
    }

    /// OAuth for users: authorisation URL, code exchange, stored tokens.
    pub fn user_auth(&self) -> UserAuth {
        UserAuth::new(self.clone())
    }
}
