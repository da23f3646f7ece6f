//! Streams over list endpoints that page with `page_token` / `has_more`:
//! the loop every caller would otherwise write, with the guards the
//! official SDKs lack.
//!
//! A [`Pages`] stream fetches one page per poll, through the caller's own
//! call (so retries, rate limiting and error mapping are those of a single
//! call), and stops:
//!
//! - when a page says `has_more: false`;
//! - when a page carries no next token (absent or empty) — with
//!   [`PaginationError::MissingToken`] after that page if it said
//!   `has_more: true`, since the list would otherwise end silently short;
//! - when a page hands out a token this stream has already sent — with
//!   [`PaginationError::RepeatedToken`], never fetching it again, so that a
//!   server that keeps answering the first page cannot make it loop;
//! - after the first error, which is yielded as it came (code and log id
//!   kept) and ends the stream: an error is never skipped over;
//! - after [`DEFAULT_MAX_PAGES`] pages (10,000: half a million items at 50
//!   a page), with [`PaginationError::TooManyPages`] if the last one still
//!   pointed to another, so that a server handing out a new token with
//!   `has_more: true` on every page cannot page for ever.
//!   [`Pages::max_pages`] (and [`Items::max_pages`]) sets another cap;
//!   [`Pages::limit`] stops early without an error (the caller asked for
//!   that many), within the cap.
//!
//! A page with a token but no `has_more` at all is followed: the token is
//! the stronger signal, and the repeated-token guard bounds the damage.
//!
//! The request the stream was built from is never changed: each page is a
//! clone with the page token set.
//!
//! # Four names, and why each is needed
//!
//! Issue 23 asked for as few pagination names as serve; these four remain:
//!
//! - [`Pages`]: the stream of pages. A user stores it and names its type
//!   (in a struct field, a function's return), and it carries what a
//!   stream of pages alone can do: [`limit`](Pages::limit),
//!   [`max_pages`](Pages::max_pages), [`items`](Pages::items).
//! - [`Items`]: the stream of the items across pages. It holds the rest of
//!   a page between polls, so it is a type of its own, named for the same
//!   reasons as `Pages`; an `impl Stream` could not be stored or named.
//! - [`Paginated`]: what makes an answer a page (its next token, its
//!   `has_more`, its items). Every generated list response implements it,
//!   and so does the untyped page, [`Response<Value>`](Response): the
//!   answer of one untyped call, so an untyped page needs no type of its
//!   own (it was `JsonPage`).
//! - [`paginate`]: the pages of a request built by hand, the one way to a
//!   list the method tree does not offer (an endpoint newer than the
//!   crate, a path a gateway rewrites). The method tree's untyped calls
//!   have [`RawCall::pages`](crate::RawCall::pages) and
//!   [`RawCall::items`](crate::RawCall::items), methods rather than names,
//!   which call it.
//!
//! What only generated code uses is hidden under [`crate::codegen`]:
//! `PagedOperation` (how a typed request sets its page token) and
//! `codegen::pages` (the typed stream). [`PaginationError`] and
//! [`DEFAULT_MAX_PAGES`] are the streams' error and cap, not ways to page.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use serde_json::Value;

use crate::call::{Call, Operation};
use crate::client::Client;
use crate::error::Error;
pub use crate::error::PaginationError;
use crate::outcome::{OperationError, Response};
use crate::request::{ApiRequest, Body, RequestOptions};

/// How many pages a stream fetches at most unless
/// [`Pages::max_pages`] says otherwise; past it the stream ends with
/// [`PaginationError::TooManyPages`].
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// A page of a list endpoint's answer.
pub trait Paginated {
    /// One listed item.
    type Item;
    /// The token of the next page (`page_token` or `next_page_token`).
    fn next_page_token(&self) -> Option<&str>;
    /// The answer's `has_more`, if it has one.
    fn has_more(&self) -> Option<bool>;
    /// The page's items, in order.
    fn into_items(self) -> Vec<Self::Item>;
}

/// A typed operation whose answers are pages: what a generated list
/// request adds to its [`Operation`] impl so that [`pages`] can stream it.
#[doc(hidden)]
pub trait PagedOperation: Operation + Clone + Sync + 'static {
    /// This request asking for the page after `token`, the original left as it is.
    fn with_page_token(&self, token: &str) -> Self;
}

/// Pages of a typed list operation: each page is one ordinary [`Call`]
/// with `options`, so validation, retries, rate limiting and error mapping
/// are those of a single call. Written once for every list operation;
/// generated code only says how the page token is set.
#[doc(hidden)]
pub fn pages<R>(
    client: &Client,
    request: R,
    options: RequestOptions,
) -> Pages<R::Output, OperationError<R::Kind>>
where
    R: PagedOperation,
    R::Output: Paginated + 'static,
{
    let client = client.clone();
    Pages::from_fetcher(Box::new(move |token: Option<String>| {
        let request = match token {
            None => request.clone(),
            Some(token) => request.with_page_token(&token),
        };
        let (client, options) = (client.clone(), options.clone());
        Box::pin(async move {
            let response = Call::new(&client, request).options(options).send().await?;
            let log_id = response.log_id().map(str::to_owned);
            Ok((response.into_inner(), log_id))
        })
    }))
}

type Fetch<P, E> = Pin<Box<dyn Future<Output = Result<(P, Option<String>), E>> + Send>>;
type Fetcher<P, E> = Box<dyn FnMut(Option<String>) -> Fetch<P, E> + Send>;

/// What the stream does on its next poll.
enum Next<E> {
    Start,
    Token(String),
    Fail(E),
    Done,
}

/// A stream of pages; see the [module documentation](self) for when it ends.
///
/// Consume it with [`Pages::next`], or as a [`futures_core::Stream`].
pub struct Pages<P, E = Error> {
    fetcher: Fetcher<P, E>,
    in_flight: Option<Fetch<P, E>>,
    next: Next<E>,
    sent: BTreeSet<String>,
    fetched: usize,
    /// [`Pages::limit`]: stop quietly after this many.
    limit: Option<usize>,
    /// The cap: stop with an error after this many if the list goes on.
    max_pages: usize,
}

impl<P, E> fmt::Debug for Pages<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("fetched", &self.fetched)
            .field("limit", &self.limit)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

impl<P, E> Pages<P, E>
where
    P: Paginated + Send + 'static,
    E: From<Error> + Send + 'static,
{
    fn from_fetcher(fetcher: Fetcher<P, E>) -> Self {
        Self {
            fetcher,
            in_flight: None,
            next: Next::Start,
            sent: BTreeSet::new(),
            fetched: 0,
            limit: None,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Fetches at most `n` pages, and ends without an error after them.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Sets the page cap ([`DEFAULT_MAX_PAGES`] by default): after `n`
    /// pages the stream ends, with [`PaginationError::TooManyPages`] if the
    /// last page pointed to another. `usize::MAX` lifts it.
    pub fn max_pages(mut self, n: usize) -> Self {
        self.max_pages = n;
        self
    }

    /// The items of the pages, one by one.
    pub fn items(self) -> Items<P, E> {
        Items { pages: self, buffer: VecDeque::new(), max_items: None, yielded: 0 }
    }

    /// The next page, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<P, E>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every remaining page, or the first error.
    pub async fn collect(mut self) -> Result<Vec<P>, E> {
        let mut pages = Vec::new();
        while let Some(page) = self.next().await {
            pages.push(page?);
        }
        Ok(pages)
    }

    /// What follows a fetched page.
    fn after(&mut self, page: &P, log_id: Option<String>) -> Next<E> {
        let token = page.next_page_token().filter(|t| !t.is_empty());
        match (page.has_more(), token) {
            (Some(false), _) => Next::Done,
            (Some(true), None) => Next::Fail(
                Error::from(PaginationError::MissingToken { page: self.fetched, log_id }).into(),
            ),
            (None, None) => Next::Done,
            (_, Some(token)) if self.sent.contains(token) => Next::Fail(
                Error::from(PaginationError::RepeatedToken {
                    page: self.fetched,
                    token: token.to_owned(),
                    log_id,
                })
                .into(),
            ),
            (_, Some(_)) if self.fetched >= self.max_pages => Next::Fail(
                Error::from(PaginationError::TooManyPages { pages: self.fetched, log_id }).into(),
            ),
            (_, Some(token)) => Next::Token(token.to_owned()),
        }
    }
}

// Nothing is ever pinned through a field: the in-flight future is boxed.
impl<P, E> Unpin for Pages<P, E> {}

impl<P, E> Stream for Pages<P, E>
where
    P: Paginated + Send + 'static,
    E: From<Error> + Send + 'static,
{
    type Item = Result<P, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(fetch) = this.in_flight.as_mut() {
                let result = ready!(fetch.as_mut().poll(cx));
                this.in_flight = None;
                return Poll::Ready(Some(match result {
                    Ok((page, log_id)) => {
                        this.next = this.after(&page, log_id);
                        Ok(page)
                    }
                    Err(e) => {
                        this.next = Next::Done;
                        Err(e)
                    }
                }));
            }
            let token = match std::mem::replace(&mut this.next, Next::Done) {
                Next::Done => return Poll::Ready(None),
                Next::Fail(e) => return Poll::Ready(Some(Err(e))),
                Next::Start => None,
                Next::Token(token) => Some(token),
            };
            if this.limit.is_some_and(|max| this.fetched >= max) {
                return Poll::Ready(None);
            }
            this.fetched += 1;
            if let Some(token) = &token {
                this.sent.insert(token.clone());
            }
            this.in_flight = Some((this.fetcher)(token));
        }
    }
}

/// A stream of the items of a [`Pages`] stream, in order; it ends as the
/// pages do, errors included.
pub struct Items<P: Paginated, E = Error> {
    pages: Pages<P, E>,
    buffer: VecDeque<P::Item>,
    max_items: Option<usize>,
    yielded: usize,
}

impl<P: Paginated, E> fmt::Debug for Items<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("yielded", &self.yielded)
            .field("max_items", &self.max_items)
            .finish_non_exhaustive()
    }
}

impl<P, E> Items<P, E>
where
    P: Paginated + Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Yields at most `n` items, and fetches no page once it has them.
    pub fn limit(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }

    /// Sets the page cap of the pages underneath ([`Pages::max_pages`]).
    pub fn max_pages(mut self, n: usize) -> Self {
        self.pages = self.pages.max_pages(n);
        self
    }

    /// The next item, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<P::Item, E>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every remaining item, or the first error.
    pub async fn collect(mut self) -> Result<Vec<P::Item>, E> {
        let mut items = Vec::new();
        while let Some(item) = self.next().await {
            items.push(item?);
        }
        Ok(items)
    }
}

// Nothing is ever pinned through a field: the in-flight future is boxed.
impl<P: Paginated, E> Unpin for Items<P, E> {}

impl<P, E> Stream for Items<P, E>
where
    P: Paginated + Send + 'static,
    E: From<Error> + Send + 'static,
{
    type Item = Result<P::Item, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.max_items.is_some_and(|max| this.yielded >= max) {
                return Poll::Ready(None);
            }
            if let Some(item) = this.buffer.pop_front() {
                this.yielded += 1;
                return Poll::Ready(Some(Ok(item)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffer.extend(page.into_items()),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

/// A page of an untyped list is what one untyped call answers: the
/// envelope's `data` as JSON (`null` when absent), with the answer's log id
/// and status.
impl Paginated for Response<Value> {
    type Item = Value;

    fn next_page_token(&self) -> Option<&str> {
        ["page_token", "next_page_token"].iter().find_map(|k| self.get(k).and_then(Value::as_str))
    }

    fn has_more(&self) -> Option<bool> {
        self.get("has_more").and_then(Value::as_bool)
    }

    /// The `items` array, or else the one array field of `data`; nothing
    /// when there is neither or more than one (there is no telling which).
    fn into_items(self) -> Vec<Value> {
        let Value::Object(mut map) = self.into_inner() else {
            return Vec::new();
        };
        if let Some(Value::Array(items)) = map.remove("items") {
            return items;
        }
        let mut arrays = map.into_iter().filter_map(|(_, v)| match v {
            Value::Array(items) => Some(items),
            _ => None,
        });
        match (arrays.next(), arrays.next()) {
            (Some(items), None) => items,
            _ => Vec::new(),
        }
    }
}

/// Pages of an untyped list call (catalogue-only endpoints such as
/// `im.message.list` or `pin.list`), with the guarantees of [`Pages`].
///
/// The next token goes in the `page_token` query parameter, or in the JSON
/// body's `page_token` when the request has a JSON object body; `request`
/// itself is sent as the first page.
///
/// ```no_run
/// # async fn demo(client: feishu_runtime::Client) -> Result<(), feishu_runtime::Error> {
/// use feishu_runtime::{ApiRequest, Method, paginate};
/// let request = ApiRequest::new(Method::GET, "/open-apis/im/v1/messages")
///     .query("container_id_type", "chat")
///     .query("container_id", "oc_1")
///     .query("page_size", 50);
/// let mut messages = paginate(&client, request).items();
/// while let Some(message) = messages.next().await {
///     println!("{}", message?["message_id"]);
/// }
/// # Ok(())
/// # }
/// ```
pub fn paginate(client: &Client, request: ApiRequest) -> Pages<Response<Value>> {
    let client = client.clone();
    Pages::from_fetcher(Box::new(move |token: Option<String>| {
        let request = match token {
            None => request.clone(),
            Some(token) => with_page_token(&request, &token),
        };
        let client = client.clone();
        Box::pin(async move {
            let response = client.send_value_response(request).await?;
            let log_id = response.log_id().map(str::to_owned);
            Ok((response, log_id))
        })
    }))
}

/// Paging on the untyped calls the generated crate gives for endpoints
/// only the API catalogue describes: `client.im().message().list()` has no
/// typed request, so its pages are JSON ([`paginate`]'s).
impl<'a> crate::call::RawCall<'a, Value> {
    /// The call's pages, each the answer's `data`: the request as built
    /// (query, body, options) is the first page, and each next one adds
    /// the `page_token` the previous answer gave. An endpoint that does
    /// not page gives one page.
    ///
    /// ```no_run
    /// # async fn demo(client: feishu_runtime::Client) -> Result<(), feishu_runtime::Error> {
    /// use feishu_runtime::{ApiRequest, Method, Paginated, RawCall};
    /// let list = ApiRequest::new(Method::GET, "/open-apis/im/v1/messages");
    /// let mut pages = RawCall::<serde_json::Value>::new(&client, list)
    ///     .query("container_id_type", "chat")
    ///     .query("container_id", "oc_1")
    ///     .pages();
    /// while let Some(page) = pages.next().await {
    ///     println!("{} messages", page?.into_items().len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn pages(self) -> Pages<Response<Value>> {
        let (client, request) = self.into_parts();
        paginate(client, request)
    }

    /// The call's items across pages (the answer's `items`, or its one
    /// array): [`pages`](Self::pages), flattened.
    pub fn items(self) -> Items<Response<Value>> {
        self.pages().items()
    }
}

/// `request` asking for the page after `token`.
fn with_page_token(request: &ApiRequest, token: &str) -> ApiRequest {
    let mut next = request.clone();
    if let Body::Json(Value::Object(body)) = &mut next.body {
        body.insert("page_token".into(), token.into());
    } else {
        next.query.retain(|(name, _)| name != "page_token");
        next.query.push(("page_token".into(), token.into()));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_pages_find_their_items_and_token() {
        let page = |data| Response::new(data, 200, None);
        let p = page(json!({"has_more": true, "page_token": "t", "items": [1, 2]}));
        assert_eq!((p.has_more(), p.next_page_token()), (Some(true), Some("t")));
        assert_eq!(p.into_items(), vec![json!(1), json!(2)]);
        let p = page(json!({"next_page_token": "n", "chats": [3]}));
        assert_eq!((p.has_more(), p.next_page_token()), (None, Some("n")));
        assert_eq!(p.into_items(), vec![json!(3)]);
        assert!(page(json!({"a": [1], "b": [2]})).into_items().is_empty());
        assert!(page(Value::Null).into_items().is_empty());
    }

    #[test]
    fn the_token_replaces_the_previous_one() {
        let first = ApiRequest::new(crate::Method::GET, "/x")
            .query("page_size", 50)
            .query("page_token", "a");
        let second = with_page_token(&first, "b");
        assert_eq!(
            second.query,
            vec![
                ("page_size".to_owned(), "50".to_owned()),
                ("page_token".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(first.query[1].1, "a");
        let body =
            ApiRequest::new(crate::Method::POST, "/x").json(&json!({"page_size": 10})).unwrap();
        let Body::Json(value) = with_page_token(&body, "c").body else { panic!("a JSON body") };
        assert_eq!(value, json!({"page_size": 10, "page_token": "c"}));
    }

    /// Pages that always say `has_more` with a fresh token, fetched from
    /// memory.
    fn endless() -> Pages<Response<Value>> {
        let mut n = 0;
        Pages::from_fetcher(Box::new(move |_| {
            n += 1;
            let data = json!({"has_more": true, "page_token": format!("t{n}"), "items": [n]});
            let log_id = Some(format!("L{n}"));
            Box::pin(std::future::ready(Ok((Response::new(data, 200, log_id.clone()), log_id))))
        }))
    }

    #[tokio::test]
    async fn an_endless_list_ends_with_a_typed_error_at_the_default_cap() {
        let mut pages = endless();
        let mut fetched = 0;
        let error = loop {
            match pages.next().await {
                Some(Ok(_)) if fetched > DEFAULT_MAX_PAGES => panic!("no cap: still paging"),
                Some(Ok(_)) => fetched += 1,
                Some(Err(e)) => break e,
                None => panic!("ended without an error after {fetched} pages"),
            }
        };
        assert_eq!(fetched, DEFAULT_MAX_PAGES);
        let Error::Pagination(PaginationError::TooManyPages { pages: n, log_id }) = &error else {
            panic!("{error:?}")
        };
        assert_eq!((*n, log_id.as_deref()), (DEFAULT_MAX_PAGES, Some("L10000")));
        assert!(pages.next().await.is_none(), "and nothing after it");
    }

    #[tokio::test]
    async fn the_cap_can_be_set_and_a_limit_ends_quietly() {
        // At most `cap + 2` items (one a page), then the error, if any.
        async fn first_error(mut items: Items<Response<Value>>, cap: usize) -> Option<Error> {
            for _ in 0..cap + 2 {
                if let Err(e) = items.next().await? {
                    return Some(e);
                }
            }
            None
        }
        let capped = first_error(endless().max_pages(3).items(), 3).await;
        assert!(matches!(
            capped,
            Some(Error::Pagination(PaginationError::TooManyPages { pages: 3, .. }))
        ));
        let capped = first_error(endless().items().max_pages(2), 2).await;
        assert!(matches!(
            capped,
            Some(Error::Pagination(PaginationError::TooManyPages { pages: 2, .. }))
        ));
        assert_eq!(endless().limit(3).collect().await.unwrap().len(), 3);
    }
}
