//! A cache of the app's own tenant and app tokens shared between the
//! processes of one app, so that a fleet fetches each token once rather
//! than once per process. Optional: without one, every client fetches its
//! own (see the [module docs](super)).
//!
//! The client keeps its in-process cache in front: the shared one is asked
//! only when the client's own copy is missing or due, and the fetch it is
//! handed is the one the client would have run itself.

use std::time::Duration;

use crate::error::Error;
use crate::secret::Secret;
use futures_core::future::BoxFuture;

/// What a shared token is kept under. A store must keep tokens of
/// different keys apart, and include a one-way digest of
/// [`app_secret`](Self::app_secret) in its key (never the secret itself), so
/// that a client with a rotated or wrong secret never reads a token fetched
/// with another one.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct TokenKey<'a> {
    /// `tenant_access_token` or `app_access_token`.
    pub token_type: &'static str,
    /// Whether it is a marketplace app's token (fetched with the
    /// app_ticket), which differs from a self-built app's.
    pub marketplace: bool,
    /// The app.
    pub app_id: &'a str,
    /// The tenant, for a marketplace app's tenant tokens.
    pub tenant_key: Option<&'a str>,
    /// The secret the token is fetched with; `Debug` hides it.
    pub app_secret: &'a Secret,
}

/// A tenant/app token cache shared between processes (the `redis` feature
/// has one). Set it with
/// [`ClientBuilder::shared_token_cache`](crate::ClientBuilder::shared_token_cache).
pub trait SharedTokenCache: Send + Sync {
    /// The token kept under `key` while it is fresh; otherwise runs `fetch`
    /// (in one process of the fleet at a time, as far as the store can
    /// arrange it), keeps its token and returns it. Resolves to the token and
    /// the time it has left to live.
    ///
    /// A store that cannot be reached should run `fetch` itself rather than
    /// fail: the platform's token endpoint still works.
    fn get_or_fetch<'a>(
        &'a self,
        key: TokenKey<'a>,
        fetch: BoxFuture<'a, Result<(Secret, Duration), Error>>,
    ) -> BoxFuture<'a, Result<(Secret, Duration), Error>>;

    /// Forgets `token` under `key` if it is still the one kept: the platform
    /// refused it. A newer token kept meanwhile stays.
    fn evict<'a>(&'a self, key: TokenKey<'a>, token: &'a Secret) -> BoxFuture<'a, ()>;
}
