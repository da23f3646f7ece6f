//! The local doc portal: the two JSON calls of the Feishu documentation site
//! that `cargo xtask docs sync` reads, served from a folder of pages, so that
//! the sync can be tried and tested offline (`cargo xtask sandbox --docs DIR`).
//!
//! `GET /api/tools/docment/directory_list` answers the tree: node 103 (the
//! Server API, fullPath `/uAjLw4CM/ukTMukTMukTM`) holds the folder's
//! sub-folders as `DirectoryType` nodes and its pages as `DocumentType` nodes.
//! `GET /document_portal/v1/document/get_detail?fullPath=…` answers one page:
//! its header's `title`, `fullPath`, `updateTime` and `id`, and the text after
//! the header as `content`. The folder is read again on every
//! `directory_list`, and a page's file on every `get_detail`, so a test edits
//! the portal by editing files. Fault rules whose `path_prefix` names a portal
//! path (with its query, to aim at one page) apply here too, and canned
//! answers (`POST /_sandbox/portal/answers`) stand in for hostile portals.
//! `sandbox/README.md` is the contract.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::faults::Kind;
use crate::reply::Reply;
use crate::state::portal::{Canned, DIRECTORY_LIST, GET_DETAIL, Portal, State};
use crate::state::{Shared, lock};

/// The id of the Server API node.
pub const SERVER_API_ID: u64 = 103;
/// The fullPath of the Server API node; pages without a fullPath get one below it.
pub const SERVER_API_PATH: &str = "/uAjLw4CM/ukTMukTMukTM";
/// The top-level folder whose pages sit outside the Server API node.
pub const OUTSIDE_FOLDER: &str = "_outside";
/// Page files larger than this are left out of the tree.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Folders nested deeper than this are not read (a symlink loop ends here).
const MAX_DEPTH: usize = 32;
/// Canned answers repeat their body at most to this size.
const MAX_CANNED_BYTES: usize = 96 * 1024 * 1024;

/// What a page file says about itself.
#[derive(Debug, Clone, PartialEq)]
struct PageInfo {
    full_path: String,
    title: String,
    update_time: i64,
    id: Option<u64>,
    content: String,
}

/// One portal request. `target` is the path with its raw query. `None` drops the connection.
pub(crate) async fn handle(
    shared: &Shared,
    target: &str,
    query: &[(String, String)],
    accept_language: Option<String>,
) -> Option<Reply> {
    let portal = &shared.portal;
    let Some(dir) = portal.dir.as_deref() else {
        return Some(Reply::json(404, json!({ "code": 404, "msg": "404 page not found" })));
    };
    let path = target.split('?').next().unwrap_or(target);
    {
        let mut state = lock(&portal.state);
        if path == DIRECTORY_LIST {
            state.directory_lists += 1;
        } else {
            state.details += 1;
        }
        state.accept_language = accept_language;
    }
    let fired = lock(&shared.faults).draw_named(target);
    shared.stats.faults_injected.fetch_add(fired.len() as u64, Ordering::Relaxed);
    let mut fault = None;
    for fired in fired {
        match fired.kind {
            Kind::Delay(wait) => tokio::time::sleep(wait).await,
            kind => fault = Some(kind),
        }
    }
    if let Some(kind) = fault {
        return shared.fault_reply(kind);
    }
    if let Some(reply) = canned(&mut lock(&portal.state), target) {
        return Some(reply);
    }
    let reply = if path == DIRECTORY_LIST {
        let (tree, index) = read_tree(dir);
        lock(&portal.state).index = index;
        Reply::json(200, json!({ "code": 0, "msg": "success", "data": { "items": tree } }))
    } else {
        let full_path = query
            .iter()
            .find(|(name, _)| name == "fullPath")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        detail(portal, dir, full_path)
    };
    Some(reply)
}

fn canned(state: &mut State, target: &str) -> Option<Reply> {
    let answer = state
        .canned
        .iter_mut()
        .find(|c| c.remaining != Some(0) && target.starts_with(&c.prefix))?;
    if let Some(remaining) = answer.remaining.as_mut() {
        *remaining -= 1;
    }
    let content_type = if answer.body.first() == Some(&b'{') {
        "application/json; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    Some(Reply {
        status: answer.status,
        content_type,
        headers: Vec::new(),
        body: answer.body.clone(),
        code: None,
    })
}

/// `get_detail` of one fullPath: the page, or code 404 in the envelope.
fn detail(portal: &Portal, dir: &Path, full_path: &str) -> Reply {
    let mut file = lock(&portal.state).index.get(full_path).cloned();
    if file.is_none() {
        // A page added since the last tree: read the folder again.
        let (_, index) = read_tree(dir);
        file = index.get(full_path).cloned();
        lock(&portal.state).index = index;
    }
    let page =
        file.and_then(|file| read_page(dir, &file)).filter(|page| page.full_path == full_path);
    match page {
        Some(page) => Reply::success(json!({
            "id": page.id.map(|id| id.to_string()).unwrap_or_default(),
            "fullPath": page.full_path,
            "type": "DocumentType",
            "title": page.title,
            "name": page.title,
            "updateTime": page.update_time,
            "content": page.content,
        })),
        None => Reply::json(
            200,
            json!({ "code": 404, "msg": format!("document not found: {full_path}") }),
        ),
    }
}

/// The tree of `dir` (the top-level nodes) and the fullPath index of its pages.
fn read_tree(dir: &Path) -> (Vec<Value>, BTreeMap<String, PathBuf>) {
    let mut index = BTreeMap::new();
    let mut next_id = 1000;
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for entry in sorted_entries(dir) {
        let outside_folder =
            entry.file_name().is_some_and(|n| n == OUTSIDE_FOLDER) && entry.is_dir();
        let target = if outside_folder { &mut outside } else { &mut inside };
        if outside_folder {
            for child in sorted_entries(&entry) {
                target.extend(node(dir, &child, &mut index, &mut next_id, 1));
            }
        } else {
            target.extend(node(dir, &entry, &mut index, &mut next_id, 0));
        }
    }
    let mut top = vec![json!({
        "id": SERVER_API_ID,
        "name": "服务端 API",
        "type": "DirectoryType",
        "fullPath": SERVER_API_PATH,
        "items": inside,
    })];
    if !outside.is_empty() {
        top.push(json!({ "id": 1, "name": "Outside the Server API", "type": "DirectoryType", "fullPath": "/local-outside", "items": outside }));
    }
    (top, index)
}

/// The node of one folder entry, or none for what is not a page.
fn node(
    root: &Path,
    path: &Path,
    index: &mut BTreeMap<String, PathBuf>,
    next_id: &mut u64,
    depth: usize,
) -> Option<Value> {
    *next_id += 1;
    let id = *next_id;
    let name = path.file_name()?.to_str()?.to_string();
    if path.is_dir() {
        if depth >= MAX_DEPTH {
            return None;
        }
        let items: Vec<Value> = sorted_entries(path)
            .iter()
            .filter_map(|child| node(root, child, index, next_id, depth + 1))
            .collect();
        let rel = path.strip_prefix(root).ok()?.to_string_lossy().replace('\\', "/");
        return Some(
            json!({ "id": id, "name": name, "type": "DirectoryType", "fullPath": format!("{SERVER_API_PATH}/{rel}/"), "items": items }),
        );
    }
    let page = read_page(root, path)?;
    if index.contains_key(&page.full_path) {
        // Two files claim one fullPath: the first in sorted order is the page.
        return None;
    }
    index.insert(page.full_path.clone(), path.to_path_buf());
    Some(
        json!({ "id": page.id.unwrap_or(id), "name": page.title, "type": "DocumentType", "fullPath": page.full_path, "items": [] }),
    )
}

/// A folder's entries in sorted order, without hidden files and READMEs.
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut entries: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !n.eq_ignore_ascii_case("README.md"))
        })
        .collect();
    entries.sort();
    entries
}

/// Reads a `.md` page file: its header's keys and the text after the header.
fn read_page(root: &Path, path: &Path) -> Option<PageInfo> {
    if path.extension().is_none_or(|e| e != "md")
        || std::fs::metadata(path).ok()?.len() > MAX_PAGE_BYTES
    {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // The one header reader, shared with the parser and `docs sync`.
    let header = feishu_spec::front_matter::FrontMatter::read(&text);
    let (meta, body_start) = (header.keys, header.body_start);
    let rel = path.strip_prefix(root).ok()?.to_string_lossy().replace('\\', "/");
    let rel = rel.strip_prefix(&format!("{OUTSIDE_FOLDER}/")).unwrap_or(&rel);
    let full_path = meta
        .get("fullPath")
        .filter(|p| !p.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("{SERVER_API_PATH}/{}", rel.trim_end_matches(".md")));
    let content = text[body_start..].to_string();
    let title = meta
        .get("title")
        .filter(|t| !t.is_empty())
        .cloned()
        .or_else(|| first_heading(&content))
        .unwrap_or_else(|| rel.to_string());
    let update_time = ["updateTime", "updatedAt", "last_remote_update_timestamp"]
        .iter()
        .find_map(|key| meta.get(*key).and_then(|v| v.parse::<i64>().ok()))
        .or_else(|| {
            let modified = std::fs::metadata(path).ok()?.modified().ok()?;
            modified.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_millis() as i64)
        })
        .unwrap_or(0);
    let id = meta.get("id").and_then(|v| v.parse().ok());
    Some(PageInfo { full_path, title, update_time, id, content })
}

fn first_heading(content: &str) -> Option<String> {
    content
        .lines()
        .find_map(|line| line.strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The `/_sandbox/portal…` control calls.
pub(crate) fn control(shared: &Shared, method: &str, call: &str, request: &Value) -> Reply {
    let portal = &shared.portal;
    match (method, call) {
        ("GET", "portal") => {
            let state = lock(&portal.state);
            Reply::plain_json(
                200,
                json!({
                    "dir": portal.dir.as_ref().map(|d| d.display().to_string()),
                    "pages": state.index.len(),
                    "directory_list": state.directory_lists,
                    "get_detail": state.details,
                    "accept_language": state.accept_language,
                }),
            )
        }
        ("POST", "portal/answers") => match canned_from(request) {
            Ok(answer) => {
                lock(&portal.state).canned.push(answer);
                Reply::plain_json(200, json!({ "ok": true }))
            }
            Err(error) => Reply::control_error(400, error),
        },
        ("DELETE", "portal/answers") => {
            lock(&portal.state).canned.clear();
            Reply::plain_json(200, json!({ "ok": true }))
        }
        _ => Reply::control_error(404, format!("no control call {method} /_sandbox/{call}")),
    }
}

/// `{"path_prefix", "body", "status"?: 200, "repeat"?: 1, "count"?}` → a canned answer.
fn canned_from(request: &Value) -> Result<Canned, String> {
    let prefix = request
        .get("path_prefix")
        .and_then(Value::as_str)
        .ok_or("a canned answer needs \"path_prefix\" (a portal path, with a query if you like)")?;
    if !prefix.starts_with(DIRECTORY_LIST) && !prefix.starts_with(GET_DETAIL) {
        return Err(format!("\"path_prefix\" must start with {DIRECTORY_LIST} or {GET_DETAIL}"));
    }
    let body = request
        .get("body")
        .and_then(Value::as_str)
        .ok_or("a canned answer needs \"body\" (a string)")?;
    let status = request.get("status").and_then(Value::as_u64).unwrap_or(200);
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (200..=599).contains(s))
        .ok_or(format!("status {status} is not an HTTP status from 200 to 599"))?;
    let repeat = request.get("repeat").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
    if body.len().saturating_mul(repeat) > MAX_CANNED_BYTES {
        return Err(format!("the body repeated {repeat} times is over {MAX_CANNED_BYTES} bytes"));
    }
    Ok(Canned {
        prefix: prefix.to_string(),
        status,
        body: body.repeat(repeat).into_bytes(),
        remaining: request.get("count").and_then(Value::as_u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sandbox-portal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("im/v1")).unwrap();
        std::fs::create_dir_all(dir.join(OUTSIDE_FOLDER)).unwrap();
        dir
    }

    #[test]
    fn pages_carry_their_header_or_a_derived_full_path() {
        let dir = folder("pages");
        std::fs::write(
            dir.join("im/v1/send.md"),
            "---\ntitle: \"Send\"\nfullPath: \"/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create\"\nupdateTime: \"17\"\n---\n\n# Send\nbody\n",
        )
        .unwrap();
        std::fs::write(dir.join("im/v1/bare.md"), "# Bare page\ntext\n").unwrap();
        std::fs::write(dir.join("im/v1/.hidden.md"), "---\nfullPath: /x\n---\n").unwrap();
        std::fs::write(
            dir.join(OUTSIDE_FOLDER).join("guide.md"),
            "---\nfullPath: /ukTMukTMukTM/guide\nupdateTime: 5\n---\nguide\n",
        )
        .unwrap();
        let (tree, index) = read_tree(&dir);
        assert_eq!(tree[0]["id"], SERVER_API_ID);
        assert_eq!(tree[1]["items"][0]["fullPath"], "/ukTMukTMukTM/guide");
        let im = &tree[0]["items"][0]["items"][0];
        assert_eq!(im["type"], "DirectoryType");
        let pages: Vec<&str> = im["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["fullPath"].as_str().unwrap())
            .collect();
        assert_eq!(
            pages,
            [
                "/uAjLw4CM/ukTMukTMukTM/im/v1/bare",
                "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create"
            ]
        );
        assert_eq!(index.len(), 3);
        let send = read_page(&dir, &dir.join("im/v1/send.md")).unwrap();
        assert_eq!(
            (send.title.as_str(), send.update_time, send.content.as_str()),
            ("Send", 17, "\n# Send\nbody\n")
        );
        let bare = read_page(&dir, &dir.join("im/v1/bare.md")).unwrap();
        assert_eq!(
            (bare.title.as_str(), bare.content.as_str()),
            ("Bare page", "# Bare page\ntext\n")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A page the sync wrote is served with its title as the portal sent it,
    /// so a sync of a sync adds no backslashes.
    #[test]
    fn a_synced_header_is_served_unescaped() {
        let dir = folder("synced");
        let title = "say \"hi\" \\ a: #b";
        let header = feishu_spec::front_matter::write(&[
            ("title", title),
            ("fullPath", "/uAjLw4CM/ukTMukTMukTM/x"),
            ("updateTime", "17"),
        ]);
        std::fs::write(dir.join("x.md"), format!("{header}\n# x\n")).unwrap();
        let page = read_page(&dir, &dir.join("x.md")).unwrap();
        assert_eq!((page.title.as_str(), page.content.as_str()), (title, "\n# x\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn canned_answers_are_checked() {
        assert!(canned_from(&json!({"path_prefix": "/open-apis", "body": "x"})).is_err());
        assert!(
            canned_from(&json!({"path_prefix": DIRECTORY_LIST, "body": "x", "status": 42}))
                .is_err()
        );
        assert!(
            canned_from(
                &json!({"path_prefix": DIRECTORY_LIST, "body": "xx", "repeat": MAX_CANNED_BYTES})
            )
            .is_err()
        );
        let answer = canned_from(
            &json!({"path_prefix": DIRECTORY_LIST, "body": "ab", "repeat": 3, "count": 1}),
        )
        .unwrap();
        assert_eq!((answer.body.as_slice(), answer.remaining), (&b"ababab"[..], Some(1)));
    }
}
