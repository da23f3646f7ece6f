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
//! Every token is cached inside the [`Client`](crate::Client) that fetched it,
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
//! its documentation allows ([`Auth`](crate::Auth)). A call whose options carry a user
//! token (or user key) for an operation that takes only the tenant or app
//! token fails with [`AuthError::TokenNotAccepted`] before anything is sent;
//! a user-only operation without user credentials fails too. A
//! `tenant_key` on a self-built client, or on an operation that takes no
//! tenant token, is refused in the same way rather than ignored. An
//! operation that accepts either token uses the user's when the options
//! carry one (the user token decides the tenant then), else the tenant's.

mod app_ticket;
mod oauth;
mod shared;
mod state;
mod tenant;
mod token;
mod user;

pub use crate::error::AuthError;
pub use app_ticket::{AppTicketStore, MemoryAppTicketStore};
pub use oauth::UserAuth;
pub use shared::{SharedTokenCache, TokenKey};
pub use state::AppType;
pub(crate) use state::{AuthSettings, AuthState, Session, UsedToken};
pub use tenant::{INVALID_APP_TICKET, RESEND_INTERVAL};
pub(crate) use token::Fetcher;
#[cfg(feature = "redis")]
pub(crate) use token::refresh_margin;
pub use user::{MemoryUserTokenStore, UserToken, UserTokenStore};

/// A boxed future, as the pluggable stores return them (trait methods
/// with `async fn` cannot be called through `dyn`): `futures-core`'s.
pub use futures_core::future::BoxFuture;
