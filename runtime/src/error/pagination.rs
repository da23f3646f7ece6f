//! Why a stream of pages stopped early ([`mod@crate::paginate`]).

/// The stream stopped because the server's answers do not add up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaginationError {
    /// A page said `has_more: true` but gave no next token (or an empty
    /// one): the rest of the list cannot be reached.
    #[error("page {page} says has_more but carries no page_token{}", log(.log_id))]
    MissingToken {
        /// The page's position in the stream, from 1.
        page: usize,
        /// The `X-Tt-Logid` of that page's response, when known.
        log_id: Option<String>,
    },
    /// A page handed out a token that was already sent: following it would
    /// fetch the same pages again, possibly forever.
    #[error("page {page} hands out page_token {token:?} again{}", log(.log_id))]
    RepeatedToken {
        /// The page's position in the stream, from 1.
        page: usize,
        /// The token.
        token: String,
        /// The `X-Tt-Logid` of that page's response, when known.
        log_id: Option<String>,
    },
    /// The stream fetched its page cap ([`DEFAULT_MAX_PAGES`] unless
    /// [`Pages::max_pages`] set another) and the last page still pointed to
    /// a next one: a server that keeps handing out new tokens would
    /// otherwise page for ever.
    ///
    /// [`DEFAULT_MAX_PAGES`]: crate::paginate::DEFAULT_MAX_PAGES
    /// [`Pages::max_pages`]: crate::paginate::Pages::max_pages
    #[error("stopped after {pages} pages, the page cap, though the list goes on{}", log(.log_id))]
    TooManyPages {
        /// The cap: how many pages were fetched.
        pages: usize,
        /// The `X-Tt-Logid` of the last page fetched, when known.
        log_id: Option<String>,
    },
}

impl PaginationError {
    /// The `X-Tt-Logid` of the page that broke the rules, when known.
    pub fn log_id(&self) -> Option<&str> {
        match self {
            PaginationError::MissingToken { log_id, .. }
            | PaginationError::RepeatedToken { log_id, .. }
            | PaginationError::TooManyPages { log_id, .. } => log_id.as_deref(),
        }
    }
}

fn log(log_id: &Option<String>) -> String {
    log_id.as_deref().map(|id| format!(" (log_id {id})")).unwrap_or_default()
}
