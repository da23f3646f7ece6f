//! Why the HTTP exchange failed: the one error that carries the HTTP
//! library's own, behind `source()`.

use std::fmt;

/// Why the HTTP exchange failed (connection, TLS, proxy, a body cut short).
///
/// The message gives the whole chain of causes; [`source`](std::error::Error::source)
/// leads to the HTTP library's error, whose type is not part of the API.
///
/// It is `Clone` (the cause is shared), so that one failed token refresh can
/// be handed to every caller that waited for it.
#[derive(Clone, Debug)]
pub struct TransportError {
    connect: bool,
    source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    /// A failure of the exchange; `connect` says whether it was opening the
    /// connection that failed (so that nothing was sent). Made by
    /// `crate::transport`, which alone knows the HTTP library's errors.
    pub(crate) fn new(
        connect: bool,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { connect, source: source.into().into() }
    }

    /// Any other failure of the exchange (a body cut short, a TLS set-up
    /// that failed, an answer too large).
    pub(crate) fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(false, e)
    }

    /// Whether the connection could not be opened (nothing was sent).
    pub fn is_connect(&self) -> bool {
        self.connect
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client's own message ("client error (Connect)") says little
        // alone: the causes below it say what happened.
        write!(f, "{}", self.source)?;
        let mut cause = self.source.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
