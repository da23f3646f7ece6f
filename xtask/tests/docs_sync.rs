//! `cargo xtask docs sync` against the sandbox's local doc portal: the round
//! trip of the shared corpus, incremental runs, the seed pages' three header
//! shapes, faults, interruption, hostile answers, truncated trees, symbolic
//! links, and the page and byte caps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use feishu_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

const REF: &str = "/uAjLw4CM/ukTMukTMukTM/reference";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-docs-sync-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sandbox serving `pages` as its doc portal, on its own runtime.
struct Portal {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
}

impl Portal {
    fn start(pages: &Path) -> Portal {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = SandboxConfig::from_spec_dir(root().join("spec")).unwrap();
        config.docs = Some(pages.to_path_buf());
        let sandbox = runtime.block_on(Sandbox::start(config, 0)).unwrap();
        Portal { runtime, sandbox: Some(sandbox) }
    }

    fn url(&self) -> String {
        self.sandbox.as_ref().unwrap().url()
    }

    fn control(&self, method: reqwest::Method, call: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_sandbox{call}", self.url());
        self.runtime.block_on(async {
            let mut request = reqwest::Client::new().request(method, url);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let answer = request.send().await.unwrap();
            assert!(answer.status().is_success(), "control call {call}: {}", answer.status());
            answer.json().await.unwrap()
        })
    }

    fn fault(&self, rule: Value) {
        self.control(reqwest::Method::POST, "/faults", Some(rule));
    }

    fn canned(&self, answer: Value) {
        self.control(reqwest::Method::POST, "/portal/answers", Some(answer));
    }

    fn clear(&self) {
        self.control(reqwest::Method::DELETE, "/faults", None);
        self.control(reqwest::Method::DELETE, "/portal/answers", None);
    }

    /// Runs `docs sync --portal <this> --docs <docs> extra…`.
    fn sync(&self, docs: &Path, extra: &[&str]) -> Output {
        self.command(docs, extra).output().unwrap()
    }

    fn command(&self, docs: &Path, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["docs", "sync", "--portal", &self.url(), "--docs", docs.to_str().unwrap()])
            .args(extra);
        command
            .env("DOCS_SYNC_BACKOFF_MS", "5")
            .env_remove("DOCS_SYNC_TIMEOUT_MS")
            .stdin(Stdio::null());
        command
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.runtime.block_on(sandbox.shutdown());
        }
    }
}

/// A page of the test portal, in the portal's own shape (written here, not copied).
fn write_page(dir: &Path, rel: &str, full_path: &str, update: u64, body: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("---\ntitle: \"Page {rel}\"\nfullPath: \"{full_path}\"\nupdateTime: \"{update}\"\n---\n\n{body}")).unwrap();
}

/// `count` small pages of a made-up `demo` service.
fn demo_portal(name: &str, count: usize) -> PathBuf {
    let pages = temp_dir(name);
    for i in 0..count {
        write_page(
            &pages,
            &format!("demo/op{i:03}.md"),
            &format!("{REF}/demo-v1/item/op{i:03}"),
            1_700_000_000_000 + i as u64,
            &format!("# Operation {i}\n\nDoes thing number {i}.\n"),
        );
    }
    pages
}

/// Every file under `dir` (hidden ones too), relative path → bytes; a file
/// that vanishes between listing and reading is left out.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                match std::fs::read(&path) {
                    Ok(bytes) => {
                        out.insert(
                            path.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                            bytes,
                        );
                    }
                    // Listed, then renamed away: a sync still running (polled
                    // by `a_terminated_run_stops_between_writes`) moved its
                    // temporary file into place between the two calls.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => panic!("{}: {e}", path.display()),
                }
            }
        }
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

fn summary(out: &Output) -> String {
    stderr(out)
        .lines()
        .find(|l| l.starts_with("docs sync: ") && l.contains(" listed, "))
        .unwrap_or_else(|| panic!("no summary line: {}", stderr(out)))
        .to_string()
}

fn assert_no_panic(out: &Output) {
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

#[test]
fn incremental_runs_write_only_what_changed() {
    let pages = demo_portal("incremental-pages", 6);
    let portal = Portal::start(&pages);
    let docs = temp_dir("incremental-docs").join("docs");

    let first = portal.sync(&docs, &["--all"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(
        summary(&first),
        "docs sync: 6 listed, 6 fetched, 6 added, 0 changed, 0 unchanged, 0 removed upstream"
    );
    assert!(stderr(&first).contains("next: cargo xtask regen --docs"), "{}", stderr(&first));
    let written = tree(&docs);
    assert_eq!(written.len(), 6);
    let page = text(&written["demo/v1/item/op002.md"]);
    assert_eq!(
        page,
        format!(
            "---\ntitle: \"Page demo/op002.md\"\nfullPath: \"{REF}/demo-v1/item/op002\"\nupdateTime: \"1700000000002\"\nurl: \"https://open.feishu.cn/document{REF}/demo-v1/item/op002\"\n---\n\n# Operation 2\n\nDoes thing number 2.\n"
        )
    );
    let stats = portal.control(reqwest::Method::GET, "/portal", None);
    assert_eq!(stats["accept_language"], "zh-CN");

    // Twice with nothing changed: nothing is written (same bytes, same modification times).
    let times = |dir: &Path| -> Vec<std::time::SystemTime> {
        tree(dir)
            .keys()
            .map(|rel| std::fs::metadata(dir.join(rel)).unwrap().modified().unwrap())
            .collect()
    };
    let before = times(&docs);
    std::thread::sleep(Duration::from_millis(20));
    let again = portal.sync(&docs, &[]);
    assert_eq!(
        summary(&again),
        "docs sync: 6 listed, 6 fetched, 0 added, 0 changed, 6 unchanged, 0 removed upstream"
    );
    assert_eq!(tree(&docs), written);
    assert_eq!(times(&docs), before, "an unchanged page is not rewritten");

    // One page edited and bumped upstream: exactly that file changes.
    write_page(
        &pages,
        "demo/op004.md",
        &format!("{REF}/demo-v1/item/op004"),
        1_800_000_000_000,
        "# Operation 4\n\nNow does it twice.\n",
    );
    let dry = portal.sync(&docs, &["--dry-run", "--all"]);
    assert!(
        text(&dry.stdout).contains("would change demo/v1/item/op004.md"),
        "{}",
        text(&dry.stdout)
    );
    assert_eq!(tree(&docs), written, "--dry-run writes nothing");
    let edited = portal.sync(&docs, &["--all"]);
    assert_eq!(
        summary(&edited),
        "docs sync: 6 listed, 6 fetched, 0 added, 1 changed, 5 unchanged, 0 removed upstream"
    );
    let after = tree(&docs);
    let changed: Vec<&String> = after.keys().filter(|rel| after[*rel] != written[*rel]).collect();
    assert_eq!(changed, ["demo/v1/item/op004.md"]);
    assert!(text(&after["demo/v1/item/op004.md"]).contains("updateTime: \"1800000000000\"\n"));
    assert!(text(&edited.stdout).contains("changed demo/v1/item/op004.md"));

    // One page deleted upstream: removed locally and named. One of six is
    // more than the 5% a run deletes on its own (see
    // `a_truncated_tree_deletes_nothing_without_prune`), hence --prune.
    std::fs::remove_file(pages.join("demo/op001.md")).unwrap();
    let deleted = portal.sync(&docs, &["--prune"]);
    assert_eq!(deleted.status.code(), Some(0), "{}", stderr(&deleted));
    assert_eq!(
        summary(&deleted),
        "docs sync: 5 listed, 5 fetched, 0 added, 0 changed, 5 unchanged, 1 removed upstream"
    );
    assert!(
        text(&deleted.stdout).contains("removed upstream demo/v1/item/op001.md"),
        "{}",
        text(&deleted.stdout)
    );
    assert!(!docs.join("demo/v1/item/op001.md").exists());
    assert_eq!(tree(&docs).len(), 5);
}

#[test]
fn seed_pages_are_refreshed_by_their_headers_and_the_rest_left_alone() {
    let pages = temp_dir("seeds-pages");
    for (rel, full_path) in [
        ("reply.md", format!("{REF}/im-v1/message/reply")),
        ("push.md", format!("{REF}/im-v1/message/push_follow_up")),
        ("reaction.md", format!("{REF}/im-v1/message-reaction/create")),
        ("other.md", format!("{REF}/im-v1/message/create")),
    ] {
        write_page(&pages, rel, &full_path, 1, "# Upstream text\n\nWritten for this test.\n");
    }
    let portal = Portal::start(&pages);
    let docs = temp_dir("seeds-docs");
    let seeds = root().join("codegen/docs/tests/seeds");
    for (rel, bytes) in tree(&seeds) {
        std::fs::create_dir_all(docs.join(&rel).parent().unwrap()).unwrap();
        std::fs::write(docs.join(&rel), bytes).unwrap();
    }
    let out = portal.sync(&docs, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        summary(&out),
        "docs sync: 4 listed, 3 fetched, 0 added, 3 changed, 0 unchanged, 0 removed upstream"
    );
    let err = stderr(&out);
    assert!(err.contains("left alone im/v1/introduction.md"), "{err}");
    assert!(err.contains("left alone im/v1/message/push_follow_up.sdk-examples.md"), "{err}");
    let after = tree(&docs);
    // The HTML-comment header (fullPath), the YAML header (source_url) and the headerless page (the spec's doc URL), refreshed in place.
    for rel in [
        "im/v1/message/reply.md",
        "im/v1/message/push_follow_up.md",
        "im/v1/message_reaction/create.md",
    ] {
        assert!(
            text(&after[rel]).ends_with("# Upstream text\n\nWritten for this test.\n"),
            "{rel}"
        );
    }
    let fixtures = tree(&seeds);
    for rel in ["im/v1/introduction.md", "im/v1/message/push_follow_up.sdk-examples.md"] {
        assert_eq!(after[rel], fixtures[rel], "{rel} is untouched");
    }
    assert_eq!(after.len(), 5, "no page was added without a selection");
    assert_eq!(fixtures, tree(&seeds), "the fixtures themselves are never written");
}

#[test]
fn under_faults_every_page_arrives_or_the_run_names_the_ones_that_did_not() {
    let pages = demo_portal("faults-pages", 12);
    let portal = Portal::start(&pages);
    let docs = temp_dir("faults-docs");
    let detail = "/document_portal/v1/document/get_detail";
    // Fewer faults than a page's 5 attempts, so that even the unluckiest page gets through.
    portal.fault(json!({"kind": "status", "status": 500, "count": 1, "path_prefix": detail}));
    portal.fault(
        json!({"kind": "too_many_requests", "retry_after": 1, "count": 1, "path_prefix": detail}),
    );
    portal.fault(json!({"kind": "drop", "count": 1, "path_prefix": detail}));
    portal.fault(json!({"kind": "not_json", "count": 1, "path_prefix": detail}));
    portal.fault(json!({"kind": "status", "status": 503, "count": 1, "path_prefix": "/api/tools/docment/directory_list"}));
    let started = std::time::Instant::now();
    let out = portal.sync(&docs, &["--all", "--jobs", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the 429's Retry-After (1 s) was honoured, not the 5 ms backoff"
    );
    assert_eq!(
        summary(&out),
        "docs sync: 12 listed, 12 fetched, 12 added, 0 changed, 0 unchanged, 0 removed upstream"
    );
    let stats = portal.control(reqwest::Method::GET, "/stats", None);
    assert_eq!(stats["faults_injected"], 5, "every fault fired and was survived");

    // A slow answer past the timeout is retried like any other.
    portal.clear();
    std::fs::remove_dir_all(&docs).unwrap();
    portal.fault(json!({"kind": "delay", "millis": 4000, "count": 2, "path_prefix": detail}));
    let details =
        || portal.control(reqwest::Method::GET, "/portal", None)["get_detail"].as_u64().unwrap();
    let before = details();
    let slow =
        portal.command(&docs, &["--all"]).env("DOCS_SYNC_TIMEOUT_MS", "1500").output().unwrap();
    assert_eq!(slow.status.code(), Some(0), "{}", stderr(&slow));
    assert_eq!(tree(&docs).len(), 12);
    assert_eq!(details() - before, 14, "the two slow answers timed out and were asked again");

    // A page that never answers: the others are written, the run exits 1 naming it.
    portal.clear();
    std::fs::remove_dir_all(&docs).unwrap();
    let doomed = format!("{REF}/demo-v1/item/op007");
    portal.fault(json!({"kind": "status", "status": 503, "path_prefix": format!("{detail}?fullPath={doomed}")}));
    let out = portal.sync(&docs, &["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_panic(&out);
    assert!(
        summary(&out).ends_with("11 added, 0 changed, 0 unchanged, 0 removed upstream, 1 failed"),
        "{}",
        summary(&out)
    );
    let err = stderr(&out);
    assert!(err.contains(&format!("  {doomed}: {}{detail}?fullPath={doomed}: HTTP 503 Service Unavailable (after 5 attempts)", portal.url())), "{err}");
    assert_eq!(tree(&docs).len(), 11);
}

#[test]
fn a_killed_run_leaves_no_partial_page_and_the_rerun_completes() {
    let pages = demo_portal("kill-pages", 60);
    let portal = Portal::start(&pages);
    let complete = temp_dir("kill-complete");
    assert!(portal.sync(&complete, &["--all"]).status.success());
    let expected = tree(&complete);

    let docs = temp_dir("kill-docs");
    portal.fault(json!({"kind": "delay", "millis": 100, "path_prefix": "/document_portal"}));
    let mut child = portal
        .command(&docs, &["--all", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some pages are written and many are not.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while tree(&docs).len() < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = tree(&docs);
    let visible: Vec<&String> =
        partial.keys().filter(|rel| !rel.split('/').any(|s| s.starts_with('.'))).collect();
    assert!(
        !visible.is_empty() && visible.len() < expected.len(),
        "killed midway: {} of {}",
        visible.len(),
        expected.len()
    );
    for rel in visible {
        assert_eq!(partial[rel], expected[rel], "{rel} is complete");
    }

    portal.clear();
    let rerun = portal.sync(&docs, &["--all"]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_eq!(tree(&docs), expected, "the rerun finishes the job and leaves no temporary file");
}

/// SIGTERM (like Ctrl-C) stops the run between two writes: no temporary file at all.
#[cfg(unix)]
#[test]
fn a_terminated_run_stops_between_writes() {
    let pages = demo_portal("term-pages", 60);
    let portal = Portal::start(&pages);
    let complete = temp_dir("term-complete");
    assert!(portal.sync(&complete, &["--all"]).status.success());
    let expected = tree(&complete);

    let docs = temp_dir("term-docs");
    portal.fault(json!({"kind": "delay", "millis": 100, "path_prefix": "/document_portal"}));
    let child = portal
        .command(&docs, &["--all", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while tree(&docs).len() < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: interrupted: every page written so far is complete"),
        "{}",
        stderr(&out)
    );
    let partial = tree(&docs);
    assert!(partial.len() < expected.len(), "stopped midway");
    for (rel, bytes) in &partial {
        assert_eq!(Some(bytes), expected.get(rel), "{rel} is a whole page, not a temporary file");
    }
}

#[test]
fn hostile_answers_are_one_line_errors_naming_the_url() {
    let pages = demo_portal("hostile-pages", 2);
    write_page(&pages, "evil.md", "/../../../escaped", 1, "# Evil\n\nA fullPath that climbs.\n");
    write_page(&pages, "empty.md", &format!("{REF}/demo-v1/item/empty"), 1, "");
    let portal = Portal::start(&pages);
    let work = temp_dir("hostile-docs");
    let docs = work.join("docs");
    let list_url = format!("{}/api/tools/docment/directory_list", portal.url());

    // Path traversal in a fullPath stays inside DIR; an empty content fails that page only.
    let out = portal.sync(&docs, &["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_panic(&out);
    assert!(docs.join("_/%2E%2E/%2E%2E/%2E%2E/escaped.md").is_file());
    assert!(!work.join("escaped.md").exists() && !std::env::temp_dir().join("escaped.md").exists());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "get_detail?fullPath={REF}/demo-v1/item/empty: the page has an empty `content`"
        )),
        "{err}"
    );

    let cases: [(Value, &str); 5] = [
        (
            json!({"path_prefix": "/api/tools/docment/directory_list", "body": "<html>busy</html>"}),
            "the answer is not JSON",
        ),
        (
            json!({"path_prefix": "/api/tools/docment/directory_list", "body": "{\"code\":99991663,\"msg\":\"no access\"}"}),
            "code 99991663: no access",
        ),
        (
            json!({"path_prefix": "/api/tools/docment/directory_list", "body": "{\"code\":0,\"data\":{\"items\":[{\"id\":104,\"type\":\"DirectoryType\",\"items\":[]}]}}"}),
            "the tree has no Server API node (id 103)",
        ),
        (
            json!({"path_prefix": "/api/tools/docment/directory_list", "body": "[1]"}),
            "the answer has no `code`",
        ),
        (
            json!({"path_prefix": "/api/tools/docment/directory_list", "body": " ", "repeat": 65 * 1024 * 1024}),
            "the answer is larger than 67108864 bytes",
        ),
    ];
    for (answer, expected) in cases {
        portal.clear();
        portal.canned(answer);
        let out = portal.sync(&docs, &["--all"]);
        assert_eq!(out.status.code(), Some(1), "{expected}: {}", stderr(&out));
        assert_no_panic(&out);
        let line = format!("error: {list_url}: {expected}");
        assert!(stderr(&out).lines().any(|l| l.starts_with(&line)), "{expected}: {}", stderr(&out));
    }

    // An oversized page fails that page, naming its URL.
    portal.clear();
    portal.canned(
        json!({"path_prefix": format!("/document_portal/v1/document/get_detail?fullPath={REF}/demo-v1/item/op001"), "body": " ", "repeat": 17 * 1024 * 1024}),
    );
    let out = portal.sync(
        &docs,
        &[
            "--path",
            &format!("{REF}/demo-v1/item/op001"),
            "--path",
            &format!("{REF}/demo-v1/item/op000"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "get_detail?fullPath={REF}/demo-v1/item/op001: the answer is larger than 16777216 bytes"
        )),
        "{}",
        stderr(&out)
    );
}

/// Moves the portal's pages `range` of a [`demo_portal`] out of it (the tree no longer lists them).
fn hide_pages(pages: &Path, hidden: &Path, range: std::ops::Range<usize>) {
    for i in range {
        let name = format!("op{i:03}.md");
        std::fs::rename(pages.join("demo").join(&name), hidden.join(&name)).unwrap();
    }
}

/// A tree that comes back with most of its pages missing deletes nothing
/// without `--prune` and names the count; a few pages gone (5% at most) are
/// deleted; a run over some pages only (`--path`, `--service`) never deletes.
#[test]
fn a_truncated_tree_deletes_nothing_without_prune() {
    let pages = demo_portal("truncated-pages", 40);
    let hidden = temp_dir("truncated-hidden");
    let portal = Portal::start(&pages);
    let docs = temp_dir("truncated-docs");
    assert!(portal.sync(&docs, &["--all"]).status.success());
    assert_eq!(tree(&docs).len(), 40);

    // 2 of 40 gone upstream (5%): deleted, as before.
    hide_pages(&pages, &hidden, 38..40);
    let few = portal.sync(&docs, &[]);
    assert_eq!(few.status.code(), Some(0), "{}", stderr(&few));
    assert!(summary(&few).ends_with(" 2 removed upstream"), "{}", summary(&few));
    let synced = tree(&docs);
    assert_eq!(synced.len(), 38);

    // The tree comes back with 8 of its 38 pages: nothing is deleted, the run fails naming the count.
    hide_pages(&pages, &hidden, 8..38);
    for extra in [&[][..], &["--all"], &["--all", "--dry-run"]] {
        let out = portal.sync(&docs, extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "docs sync: 30 of the 38 synced pages are gone from the portal's tree, more than 5% at once"
            ),
            "{extra:?}: {}",
            stderr(&out)
        );
        assert!(summary(&out).contains(" 0 removed upstream"), "{}", summary(&out));
        assert_eq!(tree(&docs), synced, "{extra:?}: nothing deleted");
    }

    // One page asked for: the gone pages are kept, and the run succeeds.
    let one = format!("{REF}/demo-v1/item/op000");
    let out = portal.sync(&docs, &["--path", &one]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("30 synced page(s) are gone from the portal's tree and were kept"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(&docs), synced);
    let out = portal.sync(&docs, &["--path", &one, "--prune"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--prune goes with --all or no selection"), "{}", stderr(&out));

    // --prune: they really are gone.
    let out = portal.sync(&docs, &["--prune"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(summary(&out).ends_with(" 30 removed upstream"), "{}", summary(&out));
    assert_eq!(tree(&docs).len(), 8);
}

/// A synced page as the sync writes it, for files planted by the tests.
fn synced_page(full_path: &str, body: &str) -> String {
    format!(
        "---\ntitle: \"Planted\"\nfullPath: \"{full_path}\"\nupdateTime: \"1\"\nurl: \"https://open.feishu.cn/document{full_path}\"\n---\n{body}"
    )
}

/// A link under DIR to a folder outside it: the pages there are neither
/// refreshed nor deleted, nor is a new page written through one; the run
/// names the links it skipped.
#[cfg(unix)]
#[test]
fn a_symlink_to_a_folder_outside_docs_is_skipped() {
    use std::os::unix::fs::symlink;

    let pages = demo_portal("links-pages", 3);
    let portal = Portal::start(&pages);
    let base = temp_dir("links");
    let (docs, outside, outside_demo) =
        (base.join("docs"), base.join("outside"), base.join("outside-demo"));
    for dir in [&docs, &outside, &outside_demo] {
        std::fs::create_dir_all(dir).unwrap();
    }
    // Outside DIR: a synced page of the portal, out of date, and one gone upstream.
    let op001 = format!("{REF}/demo-v1/item/op001");
    std::fs::write(outside.join("op001.md"), synced_page(&op001, "old text\n")).unwrap();
    let gone = format!("{REF}/demo-v1/item/gone");
    std::fs::write(outside.join("gone.md"), synced_page(&gone, "gone text\n")).unwrap();
    let before = tree(&outside);
    symlink(&outside, docs.join("elsewhere")).unwrap();

    let out = portal.sync(&docs, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("docs sync: skipped elsewhere: a symbolic link (the sync never follows one)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        summary(&out),
        "docs sync: 3 listed, 0 fetched, 0 added, 0 changed, 0 unchanged, 0 removed upstream"
    );
    assert_eq!(tree(&outside), before, "nothing outside DIR was rewritten or deleted");

    // New pages whose folder is a link out of DIR: not written, each named.
    symlink(&outside_demo, docs.join("demo")).unwrap();
    let out = portal.sync(&docs, &["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_panic(&out);
    assert!(summary(&out).ends_with(", 3 failed"), "{}", summary(&out));
    assert!(
        stderr(&out).contains(&format!(
            "  {REF}/demo-v1/item/op000: demo is a symbolic link: the sync never writes or deletes through one"
        )),
        "{}",
        stderr(&out)
    );
    assert!(tree(&outside_demo).is_empty(), "nothing was written through the link");
    assert_eq!(tree(&outside), before);
}

/// Links that loop (back up the tree, or to each other) are skipped: the run
/// ends as if they were not there.
#[cfg(unix)]
#[test]
fn a_symlink_loop_ends_cleanly() {
    use std::os::unix::fs::symlink;

    let pages = demo_portal("loop-pages", 3);
    let portal = Portal::start(&pages);
    let docs = temp_dir("loop-docs");
    assert!(portal.sync(&docs, &["--all"]).status.success());
    symlink("..", docs.join("demo/v1/loop")).unwrap();
    symlink("b", docs.join("a")).unwrap();
    symlink("a", docs.join("b")).unwrap();
    let out = portal.sync(&docs, &[]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        summary(&out),
        "docs sync: 3 listed, 3 fetched, 0 added, 0 changed, 3 unchanged, 0 removed upstream"
    );
    for link in ["a", "b", "demo/v1/loop"] {
        assert!(
            stderr(&out).contains(&format!("docs sync: skipped {link}: a symbolic link")),
            "{link}: {}",
            stderr(&out)
        );
    }
}

/// `--max-pages` refuses a run before any fetch; `--max-mb` stops one once
/// the answers come to more (every page written whole, no new fetch started);
/// both can be raised.
#[test]
fn the_page_and_byte_caps_stop_the_run_and_can_be_raised() {
    let pages = temp_dir("caps-pages");
    let body = "x".repeat(400 * 1024);
    for i in 0..6 {
        write_page(
            &pages,
            &format!("demo/op{i:03}.md"),
            &format!("{REF}/demo-v1/item/op{i:03}"),
            1,
            &body,
        );
    }
    let portal = Portal::start(&pages);
    let docs = temp_dir("caps-docs").join("docs");
    let details =
        || portal.control(reqwest::Method::GET, "/portal", None)["get_detail"].as_u64().unwrap();

    let out = portal.sync(&docs, &["--all", "--max-pages", "5"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "error: 6 pages to fetch, more than --max-pages allows (5; default 5000): nothing was fetched"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(details(), 0);
    assert!(!docs.exists());

    // 400 KiB pages, one at a time, under 1 MiB: two are written, the third is over.
    let out = portal.sync(&docs, &["--all", "--jobs", "1", "--max-mb", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_panic(&out);
    assert!(
        stderr(&out).contains(
            "error: stopped: the pages fetched came to more than --max-mb allows (1 MiB; default 512)"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(&docs).len(), 2);
    assert_eq!(details(), 3, "no fetch starts once the cap is passed");

    let out = portal.sync(&docs, &["--all", "--max-pages", "6", "--max-mb", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(tree(&docs).len(), 6);
}

/// The whole shared corpus, served by the local portal and synced, parses to
/// the spec of the corpus itself, endpoint for endpoint; only the page file
/// names in `sources` differ, which the emitter does not read. `regen`'s crate
/// is a function of the spec, so the synced tree regenerates into the crate
/// that `codegen/code/tests/corpus_crate.rs` builds from the corpus: that test
/// is the proof that it builds, without a second 80-second build here (nor
/// the 40 s it takes a debug build to generate the crate twice to compare).
#[test]
fn the_shared_corpus_round_trips_through_the_local_portal() {
    let corpus = root().join("../shared/corpus/raw");
    let test = "the_shared_corpus_round_trips_through_the_local_portal";
    if feishu_testkit::corpus_folder(test, &corpus).is_none() {
        return;
    }
    let portal = Portal::start(&corpus);
    let docs = temp_dir("corpus").join("docs");
    let out = portal.sync(&docs, &["--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pages = tree(&corpus).len();
    assert!(
        summary(&out)
            .starts_with(&format!("docs sync: {pages} listed, {pages} fetched, {pages} added")),
        "{}",
        summary(&out)
    );
    drop(portal);

    // `cargo xtask parse` parses on every core; the spec without the page file names.
    let parse = |dir: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["parse", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let mut spec: feishu_spec::Spec = serde_json::from_slice(&out.stdout).unwrap();
        for endpoint in &mut spec.endpoints {
            endpoint.sources.clear();
        }
        for event in &mut spec.events {
            event.sources.clear();
        }
        spec
    };
    let (synced, direct) = (parse(&docs), parse(&corpus));
    assert!(direct.endpoints.len() > 900, "{}", direct.endpoints.len());
    assert_eq!(synced.endpoints.len(), direct.endpoints.len());
    for (a, b) in synced.endpoints.iter().zip(&direct.endpoints) {
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap(),
            "endpoint {}",
            b.id
        );
    }
    assert_eq!(
        serde_json::to_value(&synced.events).unwrap(),
        serde_json::to_value(&direct.events).unwrap()
    );
    let _ = std::fs::remove_dir_all(docs.parent().unwrap());
}

#[test]
fn regen_after_the_sync_writes_the_spec_and_the_crate_where_asked() {
    // The project's own seed pages, served by the portal, regenerate into
    // OUT: the spec of their endpoints and a client crate, with the report.
    let portal = Portal::start(&root().join("codegen/docs/tests/seeds"));
    let base = temp_dir("regen-after-sync");
    let (docs, out) = (base.join("docs"), base.join("out"));
    let run = portal.sync(&docs, &["--all", "--regen", "--out", out.to_str().unwrap()]);
    assert_no_panic(&run);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(summary(&run).contains("5 fetched"), "{}", stderr(&run));
    assert!(text(&run.stdout).contains("## API changes"), "{}", text(&run.stdout));
    let spec = feishu_spec::Spec::read_dir(out.join("spec")).unwrap();
    let reply =
        spec.endpoints.iter().find(|e| e.id == "im.v1.message.reply").expect("the reply endpoint");
    assert!(reply.detailed, "the reply page is read in full");
    assert!(out.join("generated/src/im/message/reply.rs").is_file());

    // --out alone is refused: it says where regen writes.
    let alone = portal.sync(&docs, &["--out", out.to_str().unwrap()]);
    assert_eq!(alone.status.code(), Some(1), "{}", stderr(&alone));
    assert!(stderr(&alone).contains("--out goes with --regen"), "{}", stderr(&alone));
}
