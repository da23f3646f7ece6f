//! `cargo xtask diff`, the report `regen` prints, and `cargo xtask openapi`,
//! as users run them. The change kinds themselves are tested in
//! codegen/diff/tests/change_kinds.rs, the OpenAPI document in
//! codegen/openapi/tests/validate.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().expect("xtask runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Others may be editing spec/ while this runs; the check needs a clean one.
fn spec_is_committed() -> bool {
    let status = Command::new("git")
        .current_dir(root())
        .args(["status", "--porcelain", "--", "spec"])
        .output();
    matches!(status, Ok(out) if out.status.success() && out.stdout.iter().all(|b| b.is_ascii_whitespace()))
        && Command::new("git")
            .current_dir(root())
            .args(["rev-parse", "--verify", "HEAD"])
            .output()
            .is_ok_and(|o| o.status.success())
}

#[test]
fn diff_of_the_committed_spec_reports_no_changes() {
    if !spec_is_committed() {
        eprintln!("skipped: spec/ has uncommitted changes or this is not a git checkout");
        return;
    }
    let out = xtask(&["diff"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "## API changes\n\nNo API changes.\n");
    let explicit = xtask(&["diff", "--base", "HEAD"]);
    assert_eq!(explicit.status.code(), Some(0));
}

#[test]
fn diff_fails_on_bad_arguments_and_unknown_revisions() {
    let out = xtask(&["diff", "--bogus"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: cargo xtask diff [--base REV]"));
    let out = xtask(&["diff", "--base", "no-such-revision-anywhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-revision-anywhere"));
}

#[test]
fn regen_prints_the_api_changes_it_makes_and_check_prints_them_under_the_diff() {
    let work = temp_dir("regen");
    let docs = work.join("docs");
    let out_dir = work.join("out");
    copy_dir(&root().join("codegen/docs/tests/seeds"), &docs);
    let regen = |extra: &[&str]| {
        let mut args =
            vec!["regen", "--docs", docs.to_str().unwrap(), "--out", out_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        xtask(&args)
    };
    let first = regen(&[]);
    assert!(first.status.success());
    assert!(
        stdout(&first).starts_with("## API changes\n\n"),
        "the first run adds every endpoint: {}",
        stdout(&first)
    );
    let again = regen(&[]);
    assert!(again.status.success());
    assert_eq!(stdout(&again), "## API changes\n\nNo API changes.\n");
    assert_eq!(stdout(&regen(&["--check"])), "", "an up-to-date --check prints nothing");

    let page = docs.join("im/v1/message/reply.md");
    let text = std::fs::read_to_string(&page).unwrap();
    let edited = text.replacen("- 最大长度：`50` 字符", "- 最大长度：`40` 字符", 1);
    assert_ne!(edited, text, "the edit must change the page");
    std::fs::write(&page, edited).unwrap();
    let line = "- **breaking**: request body field `uuid`: max length 50 → 40 (tighter)";

    let check = regen(&["--check"]);
    assert_eq!(check.status.code(), Some(1), "--check still fails on stale files");
    let printed = stdout(&check);
    let diff_at = printed.find("+++ b/spec/im/message.json").expect("the unified diff comes first");
    let report_at = printed.find("## API changes").expect("then the report");
    assert!(diff_at < report_at, "{printed}");
    assert!(printed.contains(line), "{printed}");

    let write = regen(&[]);
    assert!(write.status.success(), "regen succeeds whatever the report says");
    assert!(stdout(&write).contains(line), "{}", stdout(&write));
    assert!(stdout(&write).contains("1 change: 1 breaking, 0 non-breaking."), "{}", stdout(&write));
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn openapi_prints_a_document_of_the_spec() {
    let out = xtask(&["openapi"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let reply = &doc["paths"]["/open-apis/im/v1/messages/{message_id}/reply"]["post"];
    assert_eq!(reply["operationId"], "im.v1.message.reply");

    let file = temp_dir("openapi").join("openapi.json");
    let written = xtask(&["openapi", "--out", file.to_str().unwrap()]);
    assert!(written.status.success());
    assert!(written.stdout.is_empty());
    assert_eq!(std::fs::read(&file).unwrap(), out.stdout, "the same document, byte for byte");
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}
