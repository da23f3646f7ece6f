//! Why a webhook request was refused or its body could not be read: the
//! errors of the webhook, its envelope and its decryption, in one place
//! below them all.

use std::time::Duration;

/// Why a webhook request was refused, or an event could not be decoded.
///
/// No message contains the verification token or the encrypt key. Causes
/// are kept behind `source()`; as for the runtime's
/// [`Error`](crate::Error), the one variant that wraps an error type of
/// this crate converts from it (`From<DecryptError>`), and the JSON
/// parser's error (of `Malformed` and `Decode` alike) gets no `From`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The `X-Lark-Signature` header does not match the body.
    #[error("the request signature does not match the body")]
    BadSignature,

    /// An encrypt key is configured but the request is not signed (and is
    /// not a `url_verification` challenge, which Feishu does not sign).
    #[error(
        "the request lacks the X-Lark-Signature, X-Lark-Request-Timestamp and X-Lark-Request-Nonce headers"
    )]
    MissingSignature,

    /// The signed timestamp is too far from now: a replayed or delayed
    /// request, or a skewed clock.
    #[error("the request timestamp {timestamp} is more than {}s away from now", max_skew.as_secs())]
    StaleTimestamp {
        /// The `X-Lark-Request-Timestamp`, in Unix seconds.
        timestamp: u64,
        /// The configured [`WebhookConfig::max_clock_skew`](crate::events::WebhookConfig::max_clock_skew).
        max_skew: Duration,
    },

    /// The verification token in the body is missing or not the
    /// configured one.
    #[error("the verification token is missing or wrong")]
    WrongToken,

    /// The encrypted body could not be decrypted.
    #[error("could not decrypt the body: {0}")]
    Decrypt(#[from] DecryptError),

    /// The body is not a Feishu event, challenge or encrypted envelope.
    #[error("malformed webhook request: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
        /// The JSON parser's error, when the body does not parse.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// [`Webhook::new`](crate::events::Webhook::new) was given neither a verification token nor an
    /// encrypt key, and no
    /// [`insecure_no_verification`](crate::events::WebhookConfig::insecure_no_verification).
    #[error(
        "a webhook without a verification token or an encrypt key accepts forged requests: set one (or both), or opt out with WebhookConfig::insecure_no_verification()"
    )]
    NoVerification,

    /// The body is encrypted but no encrypt key is configured.
    #[error("the body is encrypted but no encrypt key is configured")]
    NoEncryptKey,

    /// [`EventEnvelope::decode`](crate::events::EventEnvelope::decode) found an event of another shape.
    #[error("could not decode the event: {0}")]
    Decode(#[source] serde_json::Error),
}

impl WebhookError {
    /// The HTTP status to answer with: 401 for authentication failures
    /// (signature, timestamp, token), 500 for [`NoEncryptKey`](Self::NoEncryptKey)
    /// (a configuration error here, worth Feishu's retry once fixed), 400
    /// otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadSignature
            | Self::MissingSignature
            | Self::StaleTimestamp { .. }
            | Self::WrongToken => 401,
            Self::NoEncryptKey | Self::NoVerification => 500,
            Self::Decrypt(_) | Self::Malformed { .. } | Self::Decode(_) => 400,
        }
    }
}

/// Why an encrypted body could not be decrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The `encrypt` field is not base64: the decoder's error.
    #[error("not base64: {0}")]
    NotBase64(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The decoded length is not a 16-byte IV followed by whole 16-byte
    /// blocks.
    #[error("{0} bytes is not a 16-byte IV followed by whole 16-byte blocks")]
    BadLength(usize),
    /// The padding is wrong, which is also what a wrong key usually gives.
    #[error("bad padding (wrong encrypt key?)")]
    BadPadding,
}

pub(super) fn malformed(reason: impl Into<String>) -> WebhookError {
    WebhookError::Malformed { reason: reason.into(), source: None }
}

pub(super) fn malformed_json(reason: &str, source: serde_json::Error) -> WebhookError {
    WebhookError::Malformed { reason: reason.to_owned(), source: Some(source) }
}
