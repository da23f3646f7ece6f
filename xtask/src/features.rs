//! The feature combinations a user can choose, compiled: `cargo xtask test`
//! runs `cargo check` of `feishu-runtime` and of `feishu` with each of
//! [`RUNTIME`] and [`FEISHU`] (default features off), since the workspace's
//! own build unifies the features of every member and compiles only their
//! union.
//!
//! The lists are not the whole power set (2^8 for the runtime, which would
//! take most of an hour): the runtime's `cfg`s meet only where a TLS backend
//! meets `http2` (ALPN) or another backend (which one wins); `redis` and
//! `ws` pick their TLS in their own crates, not in ours. So each feature is
//! built alone (what `cargo hack --each-feature` does), each backend with
//! `http2`, everything but TLS, and everything. `feishu` adds only
//! re-exports and service modules, so it is built with nothing, each
//! service alone, the services without TLS, each receiving feature alone,
//! each backend alone and everything.
//!
//! All checks share the workspace's target directory, so only the units
//! whose features differ are checked again. `rustls-aws-lc` builds aws-lc
//! with cmake, and `native-tls` links OpenSSL found by pkg-config: Debian's
//! `cmake`, `pkg-config` and `libssl-dev` are installed when missing (see
//! [`crate::debian`]).

use std::path::Path;
use std::process::Command;

/// `feishu-runtime`'s combinations (`--no-default-features --features …`).
pub const RUNTIME: &[&str] = &[
    "",
    "events",
    "ws",
    "axum",
    "redis",
    "http2",
    "rustls-ring",
    "rustls-aws-lc",
    "native-tls",
    "rustls-ring,http2",
    "rustls-aws-lc,http2",
    "native-tls,http2",
    "events,ws,axum,redis,http2",
    "rustls-ring,rustls-aws-lc,native-tls,events,ws,axum,redis,http2",
];

/// `feishu`'s combinations (`--no-default-features --features …`).
pub const FEISHU: &[&str] = &[
    "",
    "ephemeral",
    "im",
    "interactive",
    "message",
    "ephemeral,im,interactive,message,webhook",
    "webhook",
    "ws",
    "axum",
    "redis",
    "rustls-ring",
    "rustls-aws-lc",
    "native-tls",
    "ephemeral,im,interactive,message,webhook,ws,axum,redis,http2,rustls-ring,rustls-aws-lc,native-tls",
];

/// Installs what the TLS backends need to build, when it is missing.
fn ensure_tools() -> Result<(), String> {
    if !crate::debian::runs("cmake", &["--version"]) {
        crate::debian::install(&["cmake"], "the rustls-aws-lc build (aws-lc-sys) needs")?;
    }
    if !crate::debian::runs("pkg-config", &["--exists", "openssl"]) {
        crate::debian::install(&["pkg-config", "libssl-dev"], "the native-tls build needs")?;
    }
    Ok(())
}

/// Checks every combination in `target` (the workspace's target
/// directory); false when one fails or warns.
pub fn check(cargo: &str, root: &Path, target: &Path) -> Result<bool, String> {
    ensure_tools()?;
    let started = std::time::Instant::now();
    let mut failed = Vec::new();
    let runs =
        RUNTIME.iter().map(|f| ("feishu-runtime", f)).chain(FEISHU.iter().map(|f| ("feishu", f)));
    for (package, features) in runs {
        let out = Command::new(cargo)
            .current_dir(root)
            .env("CARGO_TARGET_DIR", target)
            .args(["check", "--message-format=short", "--no-default-features", "-p", package])
            .args(["--features", features])
            .output()
            .map_err(|e| format!("could not run {cargo} check: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let warnings = warnings_of_ours(&stderr);
        if !out.status.success() || !warnings.is_empty() {
            eprintln!(
                "cargo check -p {package} --no-default-features --features '{features}' {}:\n{}",
                if out.status.success() { "warns" } else { "fails" },
                if warnings.is_empty() { stderr.to_string() } else { warnings.join("\n") }
            );
            failed.push(format!("{package} [{features}]"));
        }
    }
    eprintln!(
        "feature combinations: {} of feishu-runtime and {} of feishu checked in {:.0?}",
        RUNTIME.len(),
        FEISHU.len(),
        started.elapsed()
    );
    if !failed.is_empty() {
        eprintln!("these feature combinations do not build cleanly: {}", failed.join(", "));
    }
    Ok(failed.is_empty())
}

/// The warnings of `cargo check --message-format=short` in the runtime's
/// or the generated crate's files (`runtime/src/x.rs:1:2: warning: …`).
fn warnings_of_ours(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            (l.starts_with("runtime/") || l.starts_with("generated/")) && l.contains(": warning: ")
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_warnings_in_our_files_count() {
        let stderr = "    Checking hyper v1.0.0\n\
            runtime/src/transport/connect.rs:85:9: warning: variable does not need to be mutable\n\
            warning: `feishu-runtime` (lib) generated 1 warning\n\
            /root/.cargo/registry/src/x/hyper-1.0/src/lib.rs:1:1: warning: theirs\n\
            generated/src/lib.rs:3:1: error: not a warning\n";
        assert_eq!(
            super::warnings_of_ours(stderr),
            [
                "runtime/src/transport/connect.rs:85:9: warning: variable does not need to be mutable"
            ]
        );
    }
}
