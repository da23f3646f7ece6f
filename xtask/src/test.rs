//! `cargo xtask test`: the README's test command, and what CI runs.
//!
//! Checks formatting (`cargo fmt --all --check`), lints the GitHub workflows
//! (see [`crate::actionlint`]), runs every test of the workspace, clippy with `-D warnings` (whose
//! `incompatible_msrv` lint holds the std API to each crate's `rust-version`), checks the feature
//! combinations a user can choose of `feishu-runtime` and `feishu` (see [`crate::features`]), packages the two
//! published crates and builds `feishu` from the two `.crate` files alone, with the MSRV toolchain
//! when it is installed (see [`package`]) and again with the newest versions of its dependencies (see
//! [`newest_dependencies`]), then checks that the committed `spec/` is what `cargo xtask regen` writes. Tests that
//! need `../shared/corpus` skip with a message when it is absent.
//!
//! First it installs the differential test's peer, lark-oapi, into
//! `target/peers/venv` (see [`crate::peers`]) and points the tests at it with
//! `FEISHU_PEER_PYTHON`, and Debian's `redis-server` when it is missing (see
//! [`crate::redis`]), which the Redis store tests start on ports of their own.

use std::path::{Path, PathBuf};
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
    let target = target_dir(&cargo, root)?;
    if !crate::features::check(&cargo, root, &target)? {
        return Ok(ExitCode::from(1));
    }
    if !package(&cargo, root, &target)? {
        return Ok(ExitCode::from(1));
    }
    if !newest_dependencies(&cargo, &target)? {
        return Ok(ExitCode::from(1));
    }
    let regen =
        crate::regen::run(&crate::flags::Regen { check: true, docs: None, out: None }, root)?;
    if regen != ExitCode::SUCCESS {
        return Ok(regen);
    }
    examples(root)
}

/// The workspace's target directory as cargo resolves it (`CARGO_TARGET_DIR`,
/// `build.target-dir` in a config, else `<root>/target`).
pub fn target_dir(cargo: &str, root: &Path) -> Result<PathBuf, String> {
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("could not run {cargo} metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cargo} metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{cargo} metadata printed no JSON: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| format!("{cargo} metadata names no target_directory"))
}

/// The committed counts of `cargo xtask examples` on the corpus.
const EXAMPLES_RATCHET: &str = "xtask/examples-corpus.json";

/// `cargo xtask examples` on the seeds (every example must pass) and on
/// `../shared/corpus/raw` when it is there, held to the committed ratchet:
/// its counts may rise, never fall.
fn examples(root: &Path) -> Result<ExitCode, String> {
    let seeds = crate::examples::check(&root.join("spec/docs"), root)?;
    print!("examples (seeds): {}", seeds.to_text());
    if !seeds.failures.is_empty() {
        eprintln!("examples: every example of the seed pages must pass");
        return Ok(ExitCode::from(1));
    }
    let corpus = root.join("../shared/corpus/raw");
    if !corpus.is_dir() {
        if feishu_testkit::on_ci() {
            eprintln!("examples: {} is absent, and CI needs it", corpus.display());
            return Ok(ExitCode::from(1));
        }
        println!("examples: {} is absent; the corpus is not checked", corpus.display());
        return Ok(ExitCode::SUCCESS);
    }
    let started = std::time::Instant::now();
    let report = crate::examples::check(&corpus, root)?;
    let summary: String = report.to_text().lines().take(3).map(|l| format!("{l}\n")).collect();
    print!("examples (corpus, {:.0?}):\n{summary}", started.elapsed());
    let file = root.join(EXAMPLES_RATCHET);
    let committed: std::collections::BTreeMap<String, usize> = serde_json::from_str(
        &std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?,
    )
    .map_err(|e| format!("{}: {e}", file.display()))?;
    let now = report.ratchet();
    let fallen = crate::examples::fallen(&committed, &now);
    let text = serde_json::to_string_pretty(&now).map_err(|e| e.to_string())?;
    if !fallen.is_empty() {
        eprintln!(
            "examples: fewer corpus examples pass than {EXAMPLES_RATCHET} holds:\n{}\nnow:\n{text}\n\n{}",
            fallen.join("\n"),
            report.to_text()
        );
        return Ok(ExitCode::from(1));
    }
    if now != committed {
        println!("examples: the counts rose; commit them to {EXAMPLES_RATCHET}:\n{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds `feishu` from its packages again (the workspace [`package`]
/// unpacked), after `cargo update` in that copy: the newest versions of
/// every dependency that the requirements allow, as a new user's first
/// build picks them. Any warning from `feishu` or `feishu-runtime` fails
/// it, so that a dependency's next release (a deprecation, say) surprises
/// this project before its users. The workspace's own `Cargo.lock` is not
/// touched. It needs the registry, as the rest of the test command does.
fn newest_dependencies(cargo: &str, target: &Path) -> Result<bool, String> {
    let started = std::time::Instant::now();
    let dir = target.join("package").join("unpacked");
    let status = Command::new(cargo)
        .current_dir(&dir)
        .args(["update", "--quiet"])
        .status()
        .map_err(|e| format!("could not run {cargo} update: {e}"))?;
    if !status.success() {
        return Ok(false);
    }
    let out = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target)
        .args(["check", "--message-format=short", "-p", "feishu", "--features", FEATURES])
        .output()
        .map_err(|e| format!("could not run {cargo} check: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings = ours_warned(&stderr);
    eprintln!(
        "the build of feishu from its packages with the newest dependencies (cargo update): {:.0?}",
        started.elapsed()
    );
    if !out.status.success() || !warnings.is_empty() {
        eprintln!(
            "with the newest versions of its dependencies, feishu's build {}:\n{}",
            if out.status.success() { "warns" } else { "fails" },
            if warnings.is_empty() { stderr.to_string() } else { warnings.join("\n") }
        );
        return Ok(false);
    }
    Ok(true)
}

/// The warnings of `cargo check --message-format=short` about the files of
/// `feishu` or `feishu-runtime` (`feishu-runtime-0.2.0/src/x.rs:1:2:
/// warning: …`), not those of other crates.
fn ours_warned(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.starts_with("feishu-") && l.contains(": warning: ") && !l.contains("generated ")
        })
        .map(str::to_owned)
        .collect()
}

/// The crates `cargo package` packages: every other crate says `publish = false`.
const PUBLISHED: [&str; 2] = ["feishu-runtime", "feishu"];

/// The features the packages are built with: every one docs.rs documents.
const FEATURES: &str = "feishu/ws,feishu/axum,feishu/http2";

/// Packages `feishu-runtime` and `feishu` (`cargo package`, which resolves
/// `feishu`'s dependency on the runtime against the runtime's new package
/// through a local registry; nothing is uploaded), then builds `feishu` from
/// the two `.crate` files alone, unpacked in a workspace of their own, as a
/// user gets them. That build runs on the toolchain of the declared
/// `rust-version` when rustup has it (`.ci/run` installs it), which makes it
/// the MSRV check too; otherwise on the current one, with a note (clippy's
/// `incompatible_msrv` lint then checks the std API against the MSRV).
/// One `cargo check` serves both, instead of `cargo package`'s own
/// verification build plus an MSRV build.
fn package(cargo: &str, root: &Path, target: &Path) -> Result<bool, String> {
    let started = std::time::Instant::now();
    let mut command = Command::new(cargo);
    command.current_dir(root).args(["package", "--no-verify", "--allow-dirty"]);
    for name in PUBLISHED {
        command.args(["-p", name]);
    }
    let status = command.status().map_err(|e| format!("could not run {cargo} package: {e}"))?;
    if !status.success() {
        return Ok(false);
    }
    let packages = target.join("package");
    let dir = packages.join("unpacked");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut folders = Vec::new();
    for name in PUBLISHED {
        let version = crate::release::package_version(root, name)?;
        let file = packages.join(format!("{name}-{version}.crate"));
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&file)
            .arg("-C")
            .arg(&dir)
            .status()
            .map_err(|e| format!("could not run tar: {e}"))?;
        if !status.success() {
            return Err(format!("tar could not unpack {}", file.display()));
        }
        folders.push(format!("{name}-{version}"));
    }
    // `feishu` is the member; its dependency on the runtime (a version, no
    // path, in the packaged manifest) is patched to the runtime's package.
    let manifest = format!(
        "# Written by `cargo xtask test`: the packages of feishu-runtime and feishu, built as a user gets them.\n\
         [workspace]\nmembers = [\"{}\"]\nresolver = \"3\"\n\n[patch.crates-io]\nfeishu-runtime = {{ path = \"{}\" }}\n",
        folders[1], folders[0]
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    // The workspace's lock, so that the dependencies are the versions tested.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let msrv = crate::release::Workspace::read(root)?.rust_version;
    let installed = Command::new("rustup")
        .args(["run", &msrv, "cargo", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    let mut check = Command::new("cargo");
    check.current_dir(&dir).env("CARGO_TARGET_DIR", target);
    let toolchain = format!("+{msrv}");
    if installed {
        // The rustup proxy picks the toolchain by `+`; what the outer cargo set would override it.
        check
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .arg(&toolchain);
    } else {
        check = Command::new(cargo);
        check.current_dir(&dir).env("CARGO_TARGET_DIR", target);
        eprintln!(
            "MSRV: Rust {msrv} is not installed (`rustup toolchain install {msrv} --profile minimal`), so the packages are built with the current toolchain; clippy's incompatible_msrv lint checked the std API they use against {msrv}"
        );
    }
    let status = check
        .args(["check", "--quiet", "-p", "feishu", "--features", FEATURES])
        .status()
        .map_err(|e| format!("could not run cargo check: {e}"))?;
    eprintln!(
        "cargo package of {}, and the build of feishu from the packages{}: {:.0?}",
        PUBLISHED.join(" and "),
        if installed { format!(" with Rust {msrv}") } else { String::new() },
        started.elapsed()
    );
    Ok(status.success())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_our_crates_warnings_count() {
        let stderr = "    Checking rustls v0.23.48\n\
            feishu-runtime-0.2.0/src/transport/connect.rs:40:21: warning: use of deprecated function `rustls::crypto::ring::default_provider`\n\
            warning: `feishu-runtime` (lib) generated 1 warning\n\
            /root/.cargo/registry/src/x/hyper-1.0/src/lib.rs:1:1: warning: something of theirs\n\
            feishu-0.2.0/src/lib.rs:3:1: error: not a warning\n";
        assert_eq!(
            super::ours_warned(stderr),
            [
                "feishu-runtime-0.2.0/src/transport/connect.rs:40:21: warning: use of deprecated function `rustls::crypto::ring::default_provider`"
            ]
        );
        assert!(super::ours_warned("    Finished `dev` profile\n").is_empty());
    }
}
