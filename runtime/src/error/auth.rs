//! Why the client could not pick or obtain the token a call needs
//! ([`crate::auth`] explains which token a call carries).

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
    /// [`RESEND_INTERVAL`](crate::auth::RESEND_INTERVAL)); once the event
    /// handler has passed it to [`Client::set_app_ticket`](crate::Client::set_app_ticket), calls work.
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
    /// app first ([`UserAuth::authorize_url`](crate::UserAuth::authorize_url), [`UserAuth::exchange_code`](crate::UserAuth::exchange_code)).
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
