//! The plain fetch `cargo xtask bench` compares `cargo xtask docs sync --all`
//! with (`sync_time_vs_raw_fetch`): the same portal calls at the same
//! concurrency, with nothing around them.
//!
//! Usage: `raw-fetch PORTAL OUT [CONCURRENCY]` (default 8). Reads the tree
//! (`GET PORTAL/api/tools/docment/directory_list`), takes every
//! `DocumentType` page under the Server API node (id 103) as the sync's
//! `--all` does, then fetches `GET PORTAL/document_portal/v1/document/get_detail?fullPath=…`
//! for each, CONCURRENCY at a time, with one reqwest client and the same
//! headers the sync sends. Each page's `content` is written plainly to
//! `OUT/<n>.md` (no header, no comparison, no atomic rename): the least any
//! useful fetch does, since the sync's product is pages on disk too.
//! Prints `{"pages":N,"bytes":B}` on stdout; exit 1 on any failed call.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// How the sync encodes a fullPath in the query (`/` kept), so the URLs are the same.
const FULL_PATH: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(portal), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: raw-fetch PORTAL OUT [CONCURRENCY]");
        return ExitCode::from(2);
    };
    let concurrency = match args.get(2).map(|n| n.parse::<usize>()) {
        None => 8,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("raw-fetch: CONCURRENCY must be a positive number");
            return ExitCode::from(2);
        }
    };
    // Two worker threads, like the sync's runtime.
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("raw-fetch: {e}");
                return ExitCode::FAILURE;
            }
        };
    match runtime.block_on(fetch(
        portal.trim_end_matches('/').to_string(),
        PathBuf::from(out),
        concurrency,
    )) {
        Ok((pages, bytes)) => {
            println!("{{\"pages\":{pages},\"bytes\":{bytes}}}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("raw-fetch: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = http
        .get(url)
        .header("accept-language", "zh-CN")
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let body = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    let mut value: Value = serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))?;
    match value["code"].as_i64() {
        Some(0) => Ok(value["data"].take()),
        _ => Err(format!(
            "{url}: answered {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )),
    }
}

/// The fullPaths of the `DocumentType` nodes under `node`, in tree order,
/// each once (a page listed twice is fetched once, as by the sync).
fn pages<'a>(node: &'a Value, out: &mut Vec<String>, seen: &mut HashSet<&'a str>) {
    if node["type"] == "DocumentType"
        && let Some(path) = node["fullPath"].as_str().filter(|p| !p.is_empty())
        && seen.insert(path)
    {
        out.push(path.to_string());
    }
    for child in node["items"].as_array().into_iter().flatten() {
        pages(child, out, seen);
    }
}

async fn fetch(portal: String, out: PathBuf, concurrency: usize) -> Result<(usize, usize), String> {
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let http = reqwest::Client::new();
    let tree = get(&http, &format!("{portal}/api/tools/docment/directory_list")).await?;
    let (mut paths, mut seen) = (Vec::new(), HashSet::new());
    for node in tree["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["id"] == 103 || n["id"] == "103")
    {
        pages(node, &mut paths, &mut seen);
    }
    let urls: Arc<Vec<String>> = Arc::new(
        paths
            .iter()
            .map(|p| {
                format!(
                    "{portal}/document_portal/v1/document/get_detail?fullPath={}",
                    utf8_percent_encode(p, FULL_PATH)
                )
            })
            .collect(),
    );
    // CONCURRENCY workers take the next URL in turn: at most that many in flight.
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, urls, next, out) = (http.clone(), urls.clone(), next.clone(), out.clone());
        workers.push(tokio::spawn(async move {
            let mut bytes = 0;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(url) = urls.get(n) else { return Ok::<usize, String>(bytes) };
                let data = get(&http, url).await?;
                let content = data["content"].as_str().unwrap_or("");
                let file = out.join(format!("{n}.md"));
                std::fs::write(&file, content).map_err(|e| format!("{}: {e}", file.display()))?;
                bytes += content.len();
            }
        }));
    }
    let mut total = 0;
    for worker in workers {
        total += worker.await.map_err(|e| e.to_string())??;
    }
    Ok((urls.len(), total))
}
