//! Why the client could not pick or obtain the token a call needs
//! ([`crate::auth`] explains which token a call carries).

use std::fmt;
use std::sync::Arc;

use super::display::Cause;

/// The cause an [`AuthError`] keeps: shared, so that the error stays
/// `Clone`.
pub type SharedCause = Arc<dyn std::error::Error + Send + Sync>;

/// Why the client could not pick or obtain the token a call needs.
///
/// Every variant but [`AuthError::AppTicketNotReceived`] and
/// [`AuthError::Store`] means the call as made cannot succeed; none holds a
/// secret.
///
/// It is `Clone`, because one token refresh's outcome goes to every caller
/// that waited for it; so a cause it keeps (a store's, a lost refresh's) is
/// a [`SharedCause`], an `Arc`, as in [`TransportError`](crate::error::TransportError), and
/// [`source`](std::error::Error::source) leads to that cause itself (a
/// `redis::RedisError` downcasts as one). For the same reason it is not
/// `PartialEq`: causes have no equality. Compare with `matches!`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AuthError {
    /// A marketplace app has no app_ticket yet. The client asked the
    /// platform to push one again (`app_ticket/resend`, at most once per
    /// [`RESEND_INTERVAL`](crate::auth::RESEND_INTERVAL)); once the event
    /// handler has passed it to [`Client::set_app_ticket`](crate::Client::set_app_ticket), calls work.
    AppTicketNotReceived,

    /// A marketplace app called an operation that takes a tenant token
    /// without naming the tenant; nothing was sent.
    TenantKeyRequired {
        /// The operation (or path) called.
        endpoint: String,
    },

    /// A `tenant_key` was given where it picks nothing; nothing was sent.
    TenantKeyNotUsed {
        /// The operation (or path) called.
        endpoint: String,
        /// Why the key has no use here.
        reason: &'static str,
    },

    /// The call carries a token type the operation does not accept;
    /// nothing was sent.
    TokenNotAccepted {
        /// The operation (or path) called.
        endpoint: String,
        /// What the operation accepts.
        allowed: &'static str,
        /// What the call carried.
        given: &'static str,
    },

    /// The options carry both a user token and a user key.
    ConflictingUserCredentials,

    /// No token is stored for this user key: the user has to authorise the
    /// app first ([`UserAuth::authorize_url`](crate::UserAuth::authorize_url), [`UserAuth::exchange_code`](crate::UserAuth::exchange_code)).
    UserNotAuthorized {
        /// The caller's key for the user.
        user_key: String,
    },

    /// The user's token can no longer be renewed (the refresh token expired,
    /// was used already, or the user revoked consent): send the user through
    /// authorisation again. The stored tokens were forgotten.
    ReauthorizationRequired {
        /// The caller's key for the user.
        user_key: String,
        /// The platform's code, when it refused the refresh.
        code: Option<i64>,
        /// What happened.
        reason: String,
        /// The error that made the refresh token unusable, when there was
        /// one (the lost answer's transport error, say).
        source: Option<SharedCause>,
    },

    /// A pluggable store failed.
    Store {
        /// What failed (never a token).
        reason: String,
        /// The store's own error (Redis's, say), when one may be passed on:
        /// not one whose message could quote a token.
        source: Option<SharedCause>,
    },
}

impl AuthError {
    /// A store's failure: what failed, and the store's own error (which
    /// must not quote a token), for stores written outside this crate too.
    pub fn store(
        reason: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        AuthError::Store { reason: reason.into(), source: Some(source.into().into()) }
    }

    /// Whether the end user has to go through authorisation again.
    pub fn needs_authorization(&self) -> bool {
        matches!(
            self,
            AuthError::UserNotAuthorized { .. } | AuthError::ReauthorizationRequired { .. }
        )
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::AppTicketNotReceived => f.write_str(
                "the app_ticket has not been received yet (a resend was requested): hand the \
                 app_ticket event to Client::set_app_ticket and try again",
            ),
            AuthError::TenantKeyRequired { endpoint } => write!(
                f,
                "{endpoint} needs a tenant token and a marketplace app has one per tenant: name \
                 the tenant with RequestOptions::tenant_key"
            ),
            AuthError::TenantKeyNotUsed { endpoint, reason } => {
                write!(f, "{endpoint}: a tenant_key was given, but {reason}")
            }
            AuthError::TokenNotAccepted { endpoint, allowed, given } => write!(
                f,
                "{endpoint} accepts {allowed} only, but the call carries a {given}; nothing was sent"
            ),
            AuthError::ConflictingUserCredentials => f.write_str(
                "give either RequestOptions::user_token or RequestOptions::user_key, not both",
            ),
            AuthError::UserNotAuthorized { user_key } => write!(
                f,
                "no user token is stored for user key {user_key:?}: the user has to authorise the app"
            ),
            AuthError::ReauthorizationRequired { user_key, reason, source, .. } => {
                let cause = Cause(source);
                write!(f, "user {user_key:?} has to authorise the app again: {reason}{cause}")
            }
            AuthError::Store { reason, source } => {
                write!(f, "token store: {reason}{}", Cause(source))
            }
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthError::ReauthorizationRequired { source, .. } | AuthError::Store { source, .. } => {
                source.as_deref().map(|e| e as _)
            }
            _ => None,
        }
    }
}
