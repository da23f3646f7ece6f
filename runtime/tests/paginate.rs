//! Pagination streams against a scripted server: where they end, which
//! errors they end with, and that every page is an ordinary call.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use feishu_runtime::codegen::{Operation, PagedOperation, pages};
use feishu_runtime::{
    ApiRequest, Error, ErrorKind, Method, OperationError, Paginated, PaginationError, RawCall,
    RequestOptions, paginate,
};
use serde::Deserialize;
use serde_json::{Value, json};
use support::{Recorded, Reply, Server};

const LIST: &str = "/open-apis/im/v1/messages";

fn query_param(r: &Recorded, name: &str) -> Option<String> {
    r.query
        .as_deref()?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

fn page_tokens(server: &Server) -> Vec<Option<String>> {
    server.api_requests().iter().map(|r| query_param(r, "page_token")).collect()
}

fn ok(data: Value) -> Reply {
    Reply::json(json!({"code": 0, "msg": "success", "data": data})).header("X-Tt-Logid", "log-page")
}

/// Serves `total` numbered items, `size` per page, tokens `p1`, `p2`, …
fn numbered(total: usize, size: usize) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    move |r| {
        let start =
            query_param(r, "page_token").map_or(0, |t| t[1..].parse::<usize>().unwrap() * size);
        let end = (start + size).min(total);
        let items: Vec<usize> = (start..end).collect();
        let has_more = end < total;
        let mut data = json!({"has_more": has_more, "items": items});
        if has_more {
            data["page_token"] = format!("p{}", end / size).into();
        }
        ok(data)
    }
}

fn list_request() -> ApiRequest {
    ApiRequest::new(Method::GET, LIST).query("container_id", "oc_1").query("page_size", 2)
}

fn numbers(items: Vec<Value>) -> Vec<u64> {
    items.iter().map(|v| v.as_u64().unwrap()).collect()
}

#[tokio::test]
async fn follows_tokens_until_has_more_is_false() {
    let server = Server::with_token(numbered(5, 2)).await;
    let items = paginate(&server.client(), list_request()).items().collect().await.unwrap();
    assert_eq!(numbers(items), vec![0, 1, 2, 3, 4]);
    assert_eq!(page_tokens(&server), vec![None, Some("p1".into()), Some("p2".into())]);
    // Every page keeps the caller's other parameters and carries one token.
    for r in server.api_requests() {
        assert_eq!(query_param(&r, "container_id").as_deref(), Some("oc_1"));
        assert!(r.query.as_deref().unwrap().matches("page_token").count() <= 1, "{:?}", r.query);
    }
}

#[tokio::test]
async fn has_more_false_ends_even_with_a_token() {
    let server =
        Server::with_token(|_| ok(json!({"has_more": false, "page_token": "more?", "items": [1]})))
            .await;
    let pages = paginate(&server.client(), list_request()).collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn a_missing_or_empty_token_after_has_more_ends_with_a_typed_error() {
    for data in [
        json!({"has_more": true, "items": [1]}),
        json!({"has_more": true, "page_token": "", "items": [1]}),
    ] {
        let server = Server::with_token(move |_| ok(data.clone())).await;
        let mut items = paginate(&server.client(), list_request()).items();
        assert_eq!(items.next().await.unwrap().unwrap(), json!(1));
        let error = items.next().await.unwrap().unwrap_err();
        assert!(
            matches!(&error, Error::Pagination(PaginationError::MissingToken { page: 1, log_id: Some(id) }) if id == "log-page"),
            "{error:?}"
        );
        assert_eq!(error.log_id(), Some("log-page"));
        assert!(items.next().await.is_none());
        assert_eq!(server.api_requests().len(), 1, "no request after the error");
    }
}

#[tokio::test]
async fn no_token_and_no_has_more_is_the_end() {
    let server = Server::with_token(|_| ok(json!({"items": [1, 2]}))).await;
    let items = paginate(&server.client(), list_request()).items().collect().await.unwrap();
    assert_eq!(numbers(items), vec![1, 2]);
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn a_token_seen_before_ends_with_an_error_instead_of_looping() {
    // Page 2 hands out the token that fetched it; then a server that hands
    // back the first page's token from later pages.
    type NextToken = fn(Option<String>) -> &'static str;
    let cases: [(NextToken, usize, &str); 2] =
        [(|_| "a", 2, "a"), (|t| if t.as_deref() == Some("b") { "a" } else { "b" }, 3, "b")];
    for (next, requests, repeated) in cases {
        let server = Server::with_token(move |r| ok(json!({"has_more": true, "page_token": next(query_param(r, "page_token")), "items": [0]}))).await;
        let mut pages = paginate(&server.client(), list_request());
        let mut error = None;
        let mut yielded = 0;
        while let Some(page) = pages.next().await {
            match page {
                Ok(_) => yielded += 1,
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(yielded, requests);
        assert!(
            matches!(&error, Some(Error::Pagination(PaginationError::RepeatedToken { token, page, .. })) if token == repeated && *page == requests),
            "{error:?}"
        );
        assert_eq!(server.api_requests().len(), requests, "the repeated token is never sent");
    }
}

#[tokio::test]
async fn an_error_ends_the_stream_with_its_code_and_log_id() {
    let server = Server::with_token(|r| {
        if query_param(r, "page_token").is_some() {
            Reply::json(json!({"code": 230001, "msg": "bad page"}))
                .status(400)
                .header("X-Tt-Logid", "log-bad")
        } else {
            ok(json!({"has_more": true, "page_token": "p1", "items": [0, 1]}))
        }
    })
    .await;
    let mut items = paginate(&server.client(), list_request()).items();
    assert_eq!(items.next().await.unwrap().unwrap(), json!(0));
    assert_eq!(items.next().await.unwrap().unwrap(), json!(1));
    let error = items.next().await.unwrap().unwrap_err();
    assert_eq!((error.code(), error.log_id()), (Some(230001), Some("log-bad")));
    assert!(items.next().await.is_none());
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn each_page_is_retried_and_rate_limited_like_a_single_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let pages = numbered(6, 2);
    let server = Server::with_token(move |r| match seen.fetch_add(1, Ordering::SeqCst) {
        1 => Reply::raw(503, "text/plain", "busy"),
        3 => Reply::json(json!({"code": 99991400, "msg": "too fast"}))
            .status(400)
            .header("x-ogw-ratelimit-reset", "0"),
        _ => pages(r),
    })
    .await;
    let items = paginate(&server.fast_retries(), list_request()).items().collect().await.unwrap();
    assert_eq!(numbers(items), vec![0, 1, 2, 3, 4, 5], "each item once, in order");
    assert_eq!(
        page_tokens(&server),
        vec![None, Some("p1".into()), Some("p1".into()), Some("p2".into()), Some("p2".into())]
    );
}

#[tokio::test]
async fn a_list_that_never_ends_stops_at_the_page_cap_with_a_typed_error() {
    // Every page says has_more with a new token: without a cap this pages
    // for ever (the default cap, 10,000 pages, is tested in the unit tests).
    let server = Server::with_token(numbered(usize::MAX, 2)).await;

    let mut pages = paginate(&server.client(), list_request()).max_pages(5);
    let mut fetched = 0;
    let error = loop {
        match pages.next().await {
            Some(Ok(_)) if fetched > 5 => panic!("the cap did not hold"),
            Some(Ok(_)) => fetched += 1,
            Some(Err(e)) => break e,
            None => panic!("ended without an error after {fetched} pages"),
        }
    };

    let Error::Pagination(PaginationError::TooManyPages { pages: 5, log_id }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(log_id.as_deref(), Some("log-page"));
    assert_eq!(server.api_requests().len(), 5, "no sixth page is fetched");
    // A list that ends on the cap's last page is no error.
    let server = Server::with_token(numbered(10, 2)).await;
    let items =
        paginate(&server.client(), list_request()).max_pages(5).items().collect().await.unwrap();
    assert_eq!(items.len(), 10);
}

#[tokio::test]
async fn limits_stop_fetching() {
    let server = Server::with_token(numbered(100, 2)).await;
    let items =
        paginate(&server.client(), list_request()).items().limit(3).collect().await.unwrap();
    assert_eq!(numbers(items), vec![0, 1, 2]);
    assert_eq!(server.api_requests().len(), 2);
    let server = Server::with_token(numbered(100, 2)).await;
    let pages = paginate(&server.client(), list_request()).limit(1).collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(server.api_requests().len(), 1);
    let server = Server::with_token(numbered(100, 2)).await;
    assert!(
        paginate(&server.client(), list_request())
            .items()
            .limit(0)
            .collect()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(server.api_requests().is_empty());
}

#[tokio::test]
async fn a_json_body_carries_the_token_when_the_request_has_one() {
    let server = Server::with_token(|r| {
        let token = r.json()["page_token"].as_str().map(str::to_owned);
        match token.as_deref() {
            None => ok(json!({"has_more": true, "next_page_token": "n1", "items": ["a"]})),
            _ => ok(json!({"has_more": false, "items": ["b"]})),
        }
    })
    .await;
    let request =
        ApiRequest::new(Method::POST, "/open-apis/x/search").json(&json!({"query": "q"})).unwrap();
    let items = paginate(&server.client(), request).items().collect().await.unwrap();
    assert_eq!(items, vec![json!("a"), json!("b")]);
    let bodies: Vec<Value> = server.api_requests().iter().map(Recorded::json).collect();
    assert_eq!(bodies, vec![json!({"query": "q"}), json!({"query": "q", "page_token": "n1"})]);
}

// A typed list, as generated code implements it, with its own error type.

#[derive(Clone, Debug)]
struct ListRequest {
    chat_id: String,
    page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListPage {
    has_more: Option<bool>,
    page_token: Option<String>,
    #[serde(default)]
    items: Vec<u64>,
}

impl Paginated for ListPage {
    type Item = u64;
    fn next_page_token(&self) -> Option<&str> {
        self.page_token.as_deref()
    }
    fn has_more(&self) -> Option<bool> {
        self.has_more
    }
    fn into_items(self) -> Vec<u64> {
        self.items
    }
}

/// The one kind of a test operation without documented codes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct NoCodes;

impl ErrorKind for NoCodes {
    const UNHANDLED: Self = NoCodes;
    const RETRYABLE: &'static [i64] = &[];
    fn of(_: i64) -> Self {
        NoCodes
    }
}

impl Operation for ListRequest {
    type Output = ListPage;
    type Kind = NoCodes;
    fn into_api_request(self, options: RequestOptions) -> Result<ApiRequest, Error> {
        Ok(ApiRequest::new(Method::GET, LIST)
            .query("container_id", &self.chat_id)
            .query("page_size", 2)
            .query_opt("page_token", self.page_token)
            .options(options))
    }
}

impl PagedOperation for ListRequest {
    fn with_page_token(&self, token: &str) -> Self {
        Self { page_token: Some(token.to_owned()), ..self.clone() }
    }
}

#[tokio::test]
async fn typed_requests_page_through_their_own_call() {
    let server = Server::with_token(numbered(5, 2)).await;
    let request = ListRequest { chat_id: "oc_1".into(), page_token: None };
    let items = pages(&server.client(), request.clone(), RequestOptions::default())
        .items()
        .collect()
        .await
        .unwrap();
    assert_eq!(items, vec![0, 1, 2, 3, 4]);
    assert_eq!(request.page_token, None, "the caller's request is left alone");
    assert_eq!(page_tokens(&server), vec![None, Some("p1".into()), Some("p2".into())]);

    let server = Server::with_token(|_| ok(json!({"has_more": true, "items": [1]}))).await;
    let mut stream = pages(&server.client(), request, RequestOptions::default());
    assert!(stream.next().await.unwrap().is_ok());
    let error: OperationError<NoCodes> = stream.next().await.unwrap().unwrap_err();
    // The page's own log id: each page is an ordinary call.
    assert!(
        matches!(
            error.runtime_error(),
            Error::Pagination(PaginationError::MissingToken { page: 1, log_id: Some(l) })
                if l == "log-page"
        ),
        "{error:?}"
    );
}

/// An untyped call (an endpoint only the catalogue describes) pages as
/// `paginate` does: `.items()` follows the tokens with the call's own
/// query, and `.pages()` gives each page.
#[tokio::test]
async fn untyped_calls_page_through_items_and_pages() {
    let server = Server::with_token(numbered(5, 2)).await;
    let client = server.client();
    let call = |client| {
        RawCall::<Value>::new(client, ApiRequest::new(Method::GET, "/open-apis/im/v1/messages"))
            .query("container_id_type", "chat")
            .query("container_id", "oc_1")
    };
    let items = call(&client).items().collect().await.unwrap();
    assert_eq!(numbers(items), vec![0, 1, 2, 3, 4]);
    assert_eq!(page_tokens(&server), vec![None, Some("p1".into()), Some("p2".into())]);
    let pages = call(&client).pages().collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    for r in server.api_requests() {
        assert_eq!(query_param(&r, "container_id").as_deref(), Some("oc_1"));
    }
}
