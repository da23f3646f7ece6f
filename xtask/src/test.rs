//! `cargo xtask test`: the README's test command, and what CI runs.
//!
//! Checks formatting (`cargo fmt --all --check`), lints the GitHub workflows
//! (see [`crate::actionlint`]), runs every test of the workspace, clippy with `-D warnings`, then checks
//! that the committed `spec/` is what `cargo xtask regen` writes. Tests that need `../shared/corpus`
//! skip with a message when it is absent.
//!
//! First it installs the differential test's peer, lark-oapi, into
//! `target/peers/venv` (see [`crate::peers`]) and points the tests at it with
//! `FEISHU_PEER_PYTHON`, and Debian's `redis-server` when it is missing (see
//! [`crate::redis`]), which the Redis store tests start on ports of their own.

use std::path::Path;
use std::process::{Command, ExitCode};

/// Runs the test suite from the workspace root.
pub fn run(flags: &crate::flags::Test, root: &Path) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Formatting first: it takes a second and names the file to fix.
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["fmt", "--all", "--check"])
        .status()
        .map_err(|e| format!("could not run {cargo} fmt: {e}"))?;
    if !status.success() {
        eprintln!("cargo fmt --all --check: some files are not formatted; run `cargo fmt --all`");
        return Ok(ExitCode::from(1));
    }
    // The workflow files next: actionlint names the line to fix.
    if let Err(message) = crate::actionlint::check(root) {
        eprintln!("{message}");
        return Ok(ExitCode::from(1));
    }
    let peers = crate::peers::ensure(root)?;
    crate::redis::ensure()?;
    let mut test = Command::new(&cargo);
    test.current_dir(root)
        .args(["test", "--workspace", "--no-fail-fast", "--lib", "--bins", "--tests", "--examples"])
        .args(&flags.args);
    peers.apply(&mut test);
    let status = test.status().map_err(|e| format!("could not run {cargo}: {e}"))?;
    if !status.success() {
        return Ok(ExitCode::from(1));
    }
    // Doc tests are not part of the targets above.
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["test", "--workspace", "--doc"])
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if !status.success() {
        return Ok(ExitCode::from(1));
    }
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
        .status()
        .map_err(|e| format!("could not run {cargo} clippy: {e}"))?;
    if !status.success() {
        return Ok(ExitCode::from(1));
    }
    crate::regen::run(&crate::flags::Regen { check: true, docs: None, out: None }, root)
}
