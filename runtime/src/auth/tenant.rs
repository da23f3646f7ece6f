//! A marketplace app's tokens: the app token fetched with the app_ticket,
//! and one tenant token per tenant fetched with the app token.
//!
//! Decisions:
//! - The ticket is read when the app token is fetched. Without one, the
//!   client asks the platform to push it again (`app_ticket/resend`, at most
//!   once per [`RESEND_INTERVAL`](RESEND_INTERVAL)) and the call fails
//!   at once with [`AuthError::AppTicketNotReceived`](crate::error::AuthError): it
//!   neither waits for the push nor loops.
//! - A ticket the platform refuses ([`INVALID_APP_TICKET`]) is forgotten
//!   and treated as missing.
//! - A tenant-token request whose app token is refused evicts that app
//!   token and is sent once more with a fresh one.
//! - The per-tenant caches are never dropped: a tenant costs one small
//!   entry, and a marketplace app has as many as it has customers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::app_ticket::AppTicketStore;
use super::token::{Fetcher, TokenCache, TokenKind, bearer, fetch};
use crate::error::{AuthError, Error};
use crate::secret::Secret;

/// How often a marketplace client asks for the app_ticket to be pushed
/// again while it has none: the platform pushes within seconds, so a call
/// made in between fails fast without asking again.
pub const RESEND_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The path that asks the platform to push the app_ticket again.
pub(crate) const RESEND_PATH: &str = "/open-apis/auth/v3/app_ticket/resend";

/// The code of an app-token answer refusing the app_ticket.
pub const INVALID_APP_TICKET: i64 = 10012;

/// Codes of a tenant-token answer refusing the app token it was given.
const APP_TOKEN_REFUSED: [i64; 3] = [
    crate::error::codes::INVALID_TENANT_ACCESS_TOKEN,
    crate::error::codes::INVALID_APP_ACCESS_TOKEN,
    crate::error::codes::INVALID_ACCESS_TOKEN,
];

/// A marketplace app's caches.
pub(crate) struct Marketplace {
    pub(crate) app: Arc<TokenCache>,
    /// Keyed by tenant_key; ordered so that debug output is deterministic.
    tenants: Mutex<BTreeMap<String, Arc<TokenCache>>>,
    last_resend: Mutex<Option<Instant>>,
}

impl Default for Marketplace {
    fn default() -> Self {
        Marketplace {
            app: Arc::new(TokenCache::new(TokenKind::MarketplaceApp)),
            tenants: Mutex::default(),
            last_resend: Mutex::default(),
        }
    }
}

impl fmt::Debug for Marketplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("Marketplace")
            .field("app_token", &self.app)
            .field("tenants", &tenants)
            .finish()
    }
}

impl Marketplace {
    /// The cache of `tenant_key`'s token, created on first use.
    pub(crate) fn tenant_cache(&self, tenant_key: &str) -> Arc<TokenCache> {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cache) = tenants.get(tenant_key) {
            return cache.clone();
        }
        let cache = Arc::new(TokenCache::new(TokenKind::MarketplaceTenant));
        tenants.insert(tenant_key.to_owned(), cache.clone());
        cache
    }

    pub(crate) fn invalidate(&self) {
        self.app.invalidate();
        for cache in self.tenants.lock().unwrap_or_else(PoisonError::into_inner).values() {
            cache.invalidate();
        }
    }

    /// Fetches the app token with the stored ticket (see the module docs).
    pub(crate) async fn fetch_app_token(
        &self,
        f: Fetcher<'_>,
        tickets: &dyn AppTicketStore,
    ) -> Result<(Secret, Duration), Error> {
        let Some(ticket) = tickets.get().await? else {
            self.resend(f).await?;
            return Err(AuthError::AppTicketNotReceived.into());
        };
        let body = serde_json::json!({
            "app_id": f.config.app_id,
            "app_secret": f.config.app_secret.expose(),
            "app_ticket": ticket.expose(),
        });
        match fetch(f, TokenKind::MarketplaceApp, body).await {
            Err(Error::Token { code: INVALID_APP_TICKET, .. }) => {
                tracing::warn!("the platform refused the app_ticket; asking for a new one");
                tickets.remove(&ticket).await?;
                self.resend(f).await?;
                Err(AuthError::AppTicketNotReceived.into())
            }
            other => other,
        }
    }

    /// Fetches `tenant_key`'s token with the app token.
    pub(crate) async fn fetch_tenant_token(
        &self,
        f: Fetcher<'_>,
        tickets: &dyn AppTicketStore,
        tenant_key: &str,
    ) -> Result<(Secret, Duration), Error> {
        let mut app_refusals = 0;
        loop {
            let app = self.app.get_with(|| self.fetch_app_token(f, tickets)).await?;
            let body =
                serde_json::json!({ "app_access_token": app.expose(), "tenant_key": tenant_key });
            match fetch(f, TokenKind::MarketplaceTenant, body).await {
                Err(Error::Token { code, .. })
                    if APP_TOKEN_REFUSED.contains(&code) && app_refusals == 0 =>
                {
                    app_refusals += 1;
                    tracing::info!(code, "app access token refused; refreshing it");
                    self.app.invalidate_if(&bearer(&app)?);
                }
                other => return other,
            }
        }
    }

    /// Asks the platform to push the app_ticket again, unless that was asked
    /// within [`RESEND_INTERVAL`](RESEND_INTERVAL). A refusal (a wrong
    /// secret, say) is returned: the caller has to fix it, and waiting for a
    /// ticket would not help.
    async fn resend(&self, f: Fetcher<'_>) -> Result<(), Error> {
        {
            let mut last = self.last_resend.lock().unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < RESEND_INTERVAL) {
                return Ok(());
            }
            *last = Some(Instant::now());
        }
        let body = serde_json::json!({ "app_id": f.config.app_id, "app_secret": f.config.app_secret.expose() });
        let raw = f.post_json(RESEND_PATH, &body).await.map_err(|(e, _)| e)?;
        #[derive(serde::Deserialize)]
        struct Answer {
            code: i64,
            #[serde(default)]
            msg: String,
        }
        match serde_json::from_slice::<Answer>(&raw.body) {
            Ok(Answer { code: 0, .. }) if (200..300).contains(&raw.status) => {
                tracing::info!("asked the platform to push the app_ticket again");
                Ok(())
            }
            Ok(Answer { code, msg }) => {
                Err(Error::Token { http_status: raw.status, code, msg, log_id: raw.log_id })
            }
            Err(_) => Err(crate::transport::envelope::http_error(&raw)),
        }
    }
}
