//! The doc portal's two JSON calls, as a client that expects trouble: an
//! undocumented API, so every answer is checked and every failure is one line
//! naming the URL.
//!
//! - `GET {portal}/api/tools/docment/directory_list` → the tree; the Server
//!   API is the top-level node with id 103.
//! - `GET {portal}/document_portal/v1/document/get_detail?fullPath=…` (`/`
//!   kept) → one page.
//!
//! Every request has a timeout (30 s, or `DOCS_SYNC_TIMEOUT_MS`) and a bounded
//! body (64 MiB for the tree, 16 MiB for a page). 429, 5xx, timeouts, dropped
//! connections and answers that are not JSON (a gateway's error page) are
//! retried, 5 attempts in all, after an exponential backoff with jitter
//! (base 250 ms, or `DOCS_SYNC_BACKOFF_MS`; at most 10 s), or after the
//! `Retry-After` seconds the portal asks for (at most 60 s). A `code` ≠ 0, an
//! empty `content`, a tree without node 103 and other HTTP statuses are not
//! retried.

use std::collections::HashSet;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// The tree call (the misspelling is the portal's).
pub const DIRECTORY_LIST: &str = "/api/tools/docment/directory_list";
/// The page call.
pub const GET_DETAIL: &str = "/document_portal/v1/document/get_detail";
/// The id of the Server API node.
pub const SERVER_API_ID: u64 = 103;
const MAX_TREE_BYTES: usize = 64 * 1024 * 1024;
const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;
const ATTEMPTS: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const MAX_RETRY_AFTER: u64 = 60;
/// Tree nodes nested deeper than this are not read.
const MAX_DEPTH: usize = 64;

/// `fullPath` in a query: percent-encoded, `/` kept.
const FULL_PATH: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A page of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePage {
    pub full_path: String,
    pub name: String,
    /// Under the Server API node (what `--all` takes).
    pub server_api: bool,
}

/// One page's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub title: String,
    pub update_time: String,
    pub content: String,
    /// The size of the answer's body, what `--max-mb` counts.
    pub bytes: usize,
}

/// The portal client.
#[derive(Debug, Clone)]
pub struct Portal {
    http: reqwest::Client,
    base: String,
    language: &'static str,
    backoff: Duration,
}

/// What one attempt gave.
enum Failure {
    /// Worth another attempt; `retry_after` when the portal named a wait.
    Transient {
        message: String,
        retry_after: Option<u64>,
    },
    Fatal(String),
}

impl Portal {
    /// A client of `base` (`https://open.feishu.cn`) asking for `language` (`zh-CN`, `en-US`).
    pub fn new(base: &str, language: &'static str) -> Result<Portal, String> {
        let millis = |name: &str, default: u64| {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        };
        let timeout = Duration::from_millis(millis("DOCS_SYNC_TIMEOUT_MS", 30_000));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("feishu-xtask-docs-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(Portal {
            http,
            base: base.trim_end_matches('/').to_string(),
            language,
            backoff: Duration::from_millis(millis("DOCS_SYNC_BACKOFF_MS", 250)),
        })
    }

    /// The URL of the tree call.
    pub fn tree_url(&self) -> String {
        format!("{}{DIRECTORY_LIST}", self.base)
    }

    /// The URL of a page's call.
    pub fn detail_url(&self, full_path: &str) -> String {
        format!("{}{GET_DETAIL}?fullPath={}", self.base, utf8_percent_encode(full_path, FULL_PATH))
    }

    /// Every DocumentType page of the tree, in tree order.
    pub async fn tree(&self) -> Result<Vec<TreePage>, String> {
        let url = self.tree_url();
        let (data, _) = self.data(&url, MAX_TREE_BYTES).await?;
        pages_of_tree(&data).map_err(|e| format!("{url}: {e}"))
    }

    /// One page.
    pub async fn detail(&self, full_path: &str) -> Result<Detail, String> {
        let url = self.detail_url(full_path);
        let (data, bytes) = self.data(&url, MAX_PAGE_BYTES).await?;
        let detail = detail_of(data).map_err(|e| format!("{url}: {e}"))?;
        Ok(Detail { bytes, ..detail })
    }

    /// The `data` of a `{"code":0,"data":…}` answer, with retries, and the answer's size.
    async fn data(&self, url: &str, limit: usize) -> Result<(Value, usize), String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.once(url, limit).await {
                Ok((value, bytes)) => {
                    return envelope(value)
                        .map(|data| (data, bytes))
                        .map_err(|e| format!("{url}: {e}"));
                }
                Err(failure) => failure,
            };
            match failure {
                Failure::Fatal(message) => return Err(format!("{url}: {message}")),
                Failure::Transient { message, .. } if attempt >= ATTEMPTS => {
                    return Err(format!("{url}: {message} (after {attempt} attempts)"));
                }
                Failure::Transient { retry_after, .. } => {
                    tokio::time::sleep(self.wait(attempt, retry_after)).await
                }
            }
        }
    }

    /// The wait before attempt `attempt + 1`: the portal's `Retry-After`, else backoff with jitter.
    fn wait(&self, attempt: u32, retry_after: Option<u64>) -> Duration {
        let jitter = |span: Duration| span.mul_f64(fastrand::f64());
        match retry_after {
            Some(secs) => Duration::from_secs(secs.min(MAX_RETRY_AFTER)) + jitter(self.backoff),
            None => {
                let full = self.backoff.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF);
                full / 2 + jitter(full / 2)
            }
        }
    }

    async fn once(&self, url: &str, limit: usize) -> Result<(Value, usize), Failure> {
        let transient = |message: String| Failure::Transient { message, retry_after: None };
        let sent = self
            .http
            .get(url)
            .header("accept-language", self.language)
            .header("accept", "application/json")
            .send()
            .await;
        let mut response = sent.map_err(|e| transient(describe(&e)))?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            return Err(Failure::Transient { message: format!("HTTP {status}"), retry_after });
        }
        if !status.is_success() {
            return Err(Failure::Fatal(format!("HTTP {status}")));
        }
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(Failure::Fatal(format!("the answer is larger than {limit} bytes")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transient(describe(&e)))? {
            if body.len() + chunk.len() > limit {
                return Err(Failure::Fatal(format!("the answer is larger than {limit} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map(|value| (value, body.len())).map_err(|e| {
            let start: String = String::from_utf8_lossy(&body[..body.len().min(60)])
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            transient(format!("the answer is not JSON ({e}; it starts {start:?})"))
        })
    }
}

/// A reqwest error in a few words.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    }
}

/// `data` of an envelope whose `code` is 0, moved out (a page's `data`
/// holds its whole text).
fn envelope(mut value: Value) -> Result<Value, String> {
    match value.get("code").and_then(Value::as_i64) {
        Some(0) => value
            .get_mut("data")
            .map(Value::take)
            .filter(Value::is_object)
            .ok_or_else(|| "code 0 but no `data` object".to_string()),
        Some(code) => {
            let msg: String =
                value.get("msg").and_then(Value::as_str).unwrap_or("").chars().take(200).collect();
            Err(format!("code {code}: {msg}"))
        }
        None => Err("the answer has no `code`: not the doc portal's API".into()),
    }
}

/// The DocumentType pages of a tree's `data`; fails without node 103.
pub fn pages_of_tree(data: &Value) -> Result<Vec<TreePage>, String> {
    let items =
        data.get("items").and_then(Value::as_array).ok_or("the tree has no `items` list")?;
    if !items.iter().any(|node| id_of(node) == Some(SERVER_API_ID)) {
        return Err(format!("the tree has no Server API node (id {SERVER_API_ID})"));
    }
    let (mut pages, mut seen) = (Vec::new(), HashSet::new());
    for node in items {
        collect(node, id_of(node) == Some(SERVER_API_ID), 0, &mut pages, &mut seen);
    }
    Ok(pages)
}

fn id_of(node: &Value) -> Option<u64> {
    match node.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Adds the DocumentType pages under `node` to `out`, each once (`seen`
/// holds the fullPaths taken: the tree has a thousand pages and more).
fn collect<'a>(
    node: &'a Value,
    server_api: bool,
    depth: usize,
    out: &mut Vec<TreePage>,
    seen: &mut HashSet<&'a str>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let text = |key: &str| node.get(key).and_then(Value::as_str).unwrap_or("");
    if text("type") == "DocumentType" {
        let full_path = text("fullPath");
        if !full_path.is_empty() && seen.insert(full_path) {
            out.push(TreePage {
                full_path: full_path.to_string(),
                name: text("name").to_string(),
                server_api,
            });
        }
    }
    for child in node.get("items").and_then(Value::as_array).into_iter().flatten() {
        collect(child, server_api, depth + 1, out, seen);
    }
}

/// A page from `get_detail`'s `data`; fails on an empty `content`.
pub fn detail_of(mut data: Value) -> Result<Detail, String> {
    let content = match data.get_mut("content").map(Value::take) {
        Some(Value::String(content)) if !content.trim().is_empty() => content,
        _ => return Err("the page has an empty `content`".into()),
    };
    let title = data
        .get("title")
        .or_else(|| data.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let update_time = match data.get("updateTime") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    Ok(Detail { title, update_time, content, bytes: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_tree_needs_node_103_and_only_its_pages_are_the_server_api() {
        let tree = json!({"items": [
            {"id": 103, "type": "DirectoryType", "fullPath": "/uAjLw4CM/ukTMukTMukTM", "items": [
                {"id": 1, "type": "DirectoryType", "items": [{"id": 2, "type": "DocumentType", "fullPath": "/a", "name": "A"}]},
                {"id": 3, "type": "DocumentType", "fullPath": "/b", "name": "B"}
            ]},
            {"id": "7", "type": "DirectoryType", "items": [{"id": 4, "type": "DocumentType", "fullPath": "/c", "name": "C"}, {"type": "DocumentType"}, {"id": 5, "type": "DocumentType", "fullPath": "/a", "name": "A again"}]}
        ]});
        let pages = pages_of_tree(&tree).unwrap();
        let summary: Vec<(&str, bool)> =
            pages.iter().map(|p| (p.full_path.as_str(), p.server_api)).collect();
        assert_eq!(summary, [("/a", true), ("/b", true), ("/c", false)]);
        assert_eq!(pages[0].name, "A", "a page listed twice keeps its first place and name");
        assert!(
            pages_of_tree(&json!({"items": [{"id": 104, "items": []}]}))
                .unwrap_err()
                .contains("no Server API node (id 103)")
        );
        assert!(pages_of_tree(&json!({})).is_err());
    }

    #[test]
    fn envelopes_and_details_are_checked() {
        assert_eq!(envelope(json!({"code": 0, "data": {"x": 1}})).unwrap(), json!({"x": 1}));
        assert_eq!(envelope(json!({"code": 99, "msg": "nope"})).unwrap_err(), "code 99: nope");
        assert!(envelope(json!({"data": {}})).unwrap_err().contains("no `code`"));
        assert!(envelope(json!({"code": 0})).is_err());
        assert!(detail_of(json!({"content": "  \n"})).unwrap_err().contains("empty `content`"));
        assert!(detail_of(json!({"content": 7})).unwrap_err().contains("empty `content`"));
        let detail = detail_of(json!({"content": "x", "title": "T", "updateTime": 17})).unwrap();
        assert_eq!(
            (detail.title.as_str(), detail.update_time.as_str(), detail.content.as_str()),
            ("T", "17", "x")
        );
    }

    #[test]
    fn full_paths_keep_their_slashes_in_the_query() {
        let portal = Portal::new("http://127.0.0.1:1/", "zh-CN").unwrap();
        assert_eq!(
            portal.detail_url("/a b/c+d&e"),
            "http://127.0.0.1:1/document_portal/v1/document/get_detail?fullPath=/a%20b/c%2Bd%26e"
        );
        assert_eq!(portal.tree_url(), "http://127.0.0.1:1/api/tools/docment/directory_list");
    }

    #[test]
    fn waits_grow_with_jitter_and_honour_retry_after() {
        let portal = Portal::new("http://x", "zh-CN").unwrap();
        for attempt in 1..=4 {
            let full = portal.backoff * (1 << (attempt - 1));
            let wait = portal.wait(attempt, None);
            assert!(wait >= full / 2 && wait <= full, "attempt {attempt}: {wait:?}");
        }
        assert!(portal.wait(30, None) <= MAX_BACKOFF);
        let wait = portal.wait(1, Some(2));
        assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(2) + portal.backoff);
        assert!(
            portal.wait(1, Some(100_000)) <= Duration::from_secs(MAX_RETRY_AFTER) + portal.backoff
        );
    }
}
