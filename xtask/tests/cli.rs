//! The `cargo xtask` commands as users run them: exit codes, streams, and what
//! `regen --check` reports.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().expect("xtask runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn parse_prints_the_merged_spec_of_the_seed_pages() {
    let out = xtask(&["parse", root().join("codegen/docs/tests/seeds").to_str().unwrap()]);
    assert!(out.status.success());
    let spec: feishu_spec::Spec = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(spec.endpoints.len(), 34);
    assert_eq!(spec.events.len(), 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5 pages, 34 endpoints, 5 events"), "{stderr}");
}

#[test]
fn parse_fails_with_the_name_of_an_unreadable_input() {
    let out = xtask(&["parse", "/no/such/page.md"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/page.md"));
}

#[test]
fn parse_reports_a_garbage_page_as_a_diagnostic() {
    let dir = temp_dir("garbage");
    let page = dir.join("garbage.md");
    std::fs::write(&page, b"\x00\xff\xfe| a |\n|---|\n<md-dt-tr level=\"x\">").unwrap();
    let out = xtask(&["parse", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("garbage.md:0: unreadable"), "{stderr}");
}

#[test]
fn regen_check_reports_stale_and_extra_files() {
    let out_dir = temp_dir("regen");
    let docs = root().join("codegen/docs/tests/seeds");
    let run = |extra: &[&str]| {
        let mut args =
            vec!["regen", "--docs", docs.to_str().unwrap(), "--out", out_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        xtask(&args)
    };
    assert!(run(&[]).status.success());
    let first = std::fs::read_to_string(out_dir.join("spec/im/message.json")).unwrap();
    assert!(run(&["--check"]).status.success(), "a fresh regen is up to date");
    assert!(run(&[]).status.success());
    assert_eq!(
        std::fs::read_to_string(out_dir.join("spec/im/message.json")).unwrap(),
        first,
        "regen twice is byte-identical"
    );

    std::fs::write(
        out_dir.join("spec/im/message.json"),
        first.replace("push_follow_up", "push_follow_down"),
    )
    .unwrap();
    std::fs::write(out_dir.join("spec/im/gone.json"), "{}\n").unwrap();
    let check = run(&["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&check.stdout);
    assert!(diff.contains("-      \"id\": \"im.v1.message.push_follow_down\""), "{diff}");
    assert!(diff.contains("+      \"id\": \"im.v1.message.push_follow_up\""), "{diff}");
    assert!(diff.contains("a/spec/im/gone.json"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("spec/im/gone.json")).unwrap(),
        "{}\n",
        "--check writes nothing"
    );

    assert!(run(&[]).status.success());
    assert!(!out_dir.join("spec/im/gone.json").exists(), "regen deletes files it no longer writes");
    assert!(run(&["--check"]).status.success());
}

/// The rust-analyzer `ensure_file_contents` pattern: when the committed `spec/`
/// or `generated/` is not what regen writes, rewrite it and fail, so that the
/// fix is one `git commit` away.
#[test]
fn committed_spec_and_generated_crate_are_fresh() {
    let check = xtask(&["regen", "--check"]);
    if check.status.success() {
        return;
    }
    let rewrite = xtask(&["regen"]);
    panic!(
        "spec/ or generated/ was stale and has been regenerated ({}); commit the result.\n{}",
        if rewrite.status.success() { "rewritten" } else { "rewrite failed" },
        String::from_utf8_lossy(&check.stdout).chars().take(4000).collect::<String>()
    );
}

#[test]
fn every_command_is_in_the_usage_and_the_help() {
    let none = xtask(&[]);
    assert_eq!(none.status.code(), Some(2));
    let usage = String::from_utf8_lossy(&none.stderr);
    for command in ["parse", "regen", "test", "sandbox", "diff", "openapi", "bench", "docs sync"] {
        assert!(usage.contains(command), "{command}: {usage}");
    }
    let help = xtask(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--no-rate-limits", "--only", "--dry-run", "--jobs", "--lang", "--portal"] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
    let clash = xtask(&["docs", "sync", "--all", "--service", "im"]);
    assert_eq!(clash.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&clash.stderr)
            .contains("--all, --service and --path are alternatives")
    );
    let bad = xtask(&["docs", "sync", "--jobs", "many"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("usage: cargo xtask docs sync"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
