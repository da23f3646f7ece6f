//! Builds the benchmark programs (`bench/src/bin/*`) in release, in a
//! package of their own under `target/bench/runner`, against a client crate
//! generated from a copy of the seed pages whose reply endpoint has its rate
//! limits raised.
//!
//! Why raised: the reply page documents 50 calls/s and 1,000/min per app and
//! 5/s per receiver, and the client's limiter keeps to them, so with them the
//! generated client would make 50 calls/s whatever its overhead. The bench
//! measures the overhead with the limiter on (every call reserves its slots
//! in the endpoint's and the receiver's windows, as in production) but with
//! limits the run never reaches, as if the app had a raised quota. The crate
//! is the generator's own output for those pages: nothing is hand-edited.

use std::path::{Path, PathBuf};

use super::{Bins, cargo_in, output, progress};

/// The reply page's documented limits and what the copy says instead.
const RAISES: [(&str, &str); 2] = [
    ("1000 次/分钟、50 次/秒", "60000000 次/分钟、1000000 次/秒"),
    ("==5 QPS==", "==1000000 QPS=="),
];
/// What the generated reply must then carry.
const RAISED_CALL: &str = "RateLimit::new(Some(1000000), Some(60000000)).per_receiver(1000000)";
/// The seed pages, kept as fixtures whatever `spec/docs` holds.
const SEEDS: &str = "codegen/docs/tests/seeds";
/// The seed page of the reply endpoint, relative to [`SEEDS`].
const REPLY_PAGE: &str = "im/v1/message/reply.md";

/// Builds the runner; returns its binaries.
pub fn build(root: &Path, dir: &Path) -> Result<Bins, String> {
    let docs = dir.join("client-docs");
    let crate_out = dir.join("client-crate");
    let runner = dir.join("runner");
    let _ = std::fs::remove_dir_all(&docs);
    copy_dir(&root.join(SEEDS), &docs)?;
    let page = docs.join(REPLY_PAGE);
    let mut text =
        std::fs::read_to_string(&page).map_err(|e| format!("{}: {e}", page.display()))?;
    for (documented, raised) in RAISES {
        if !text.contains(documented) {
            return Err(format!(
                "{SEEDS}/{REPLY_PAGE} no longer says {documented:?}; update RAISES in xtask/src/bench/runner.rs"
            ));
        }
        text = text.replace(documented, raised);
    }
    std::fs::write(&page, text).map_err(|e| format!("{}: {e}", page.display()))?;

    let xtask = super::xtask_exe()?;
    let mut regen = std::process::Command::new(xtask);
    regen.arg("regen").arg("--docs").arg(&docs).arg("--out").arg(&crate_out);
    output(&mut regen)?;
    let reply = crate_out.join("generated/src/im/message/reply.rs");
    let generated =
        std::fs::read_to_string(&reply).map_err(|e| format!("{}: {e}", reply.display()))?;
    if !generated.replace([' ', '\n'], "").contains(&RAISED_CALL.replace(' ', "")) {
        return Err(format!(
            "the raised limits did not reach {}: it lacks {RAISED_CALL}",
            reply.display()
        ));
    }

    std::fs::create_dir_all(&runner).map_err(|e| format!("{}: {e}", runner.display()))?;
    std::fs::write(runner.join("Cargo.toml"), manifest(root, &crate_out))
        .map_err(|e| format!("{}: {e}", runner.display()))?;
    // The workspace's lock file pins the versions the workspace uses.
    let lock = runner.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(root.join("Cargo.lock"), &lock)
            .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    }
    let target = runner.join("target");
    progress(&format!("cargo build --release in {}", runner.display()));
    output(cargo_in(&runner, &target).args(["build", "--release", "--quiet"]))?;
    let release = target.join("release");
    Ok(Bins {
        parse_floor: release.join(exe("parse-floor")),
        client_bench: release.join(exe("client-bench")),
        upload_bench: release.join(exe("upload-bench")),
        ws_bench: release.join(exe("ws-bench")),
        ws_harness: release.join(exe("ws-harness")),
    })
}

/// Builds the light runner (`target/bench/fetch`): the programs that need no
/// generated client, so that `--only sync` builds neither the client crate
/// nor the parse floor. Returns the `raw-fetch` binary.
pub fn build_fetch(root: &Path, dir: &Path) -> Result<PathBuf, String> {
    let runner = dir.join("fetch");
    std::fs::create_dir_all(&runner).map_err(|e| format!("{}: {e}", runner.display()))?;
    let program = root.join("bench").join("src").join("bin").join("raw-fetch.rs");
    std::fs::write(runner.join("Cargo.toml"), fetch_manifest(&program))
        .map_err(|e| format!("{}: {e}", runner.display()))?;
    let lock = runner.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(root.join("Cargo.lock"), &lock)
            .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    }
    let target = runner.join("target");
    progress(&format!("cargo build --release in {}", runner.display()));
    output(cargo_in(&runner, &target).args(["build", "--release", "--quiet"]))?;
    Ok(target.join("release").join(exe("raw-fetch")))
}

/// The light runner's manifest. reqwest without TLS: the portal it reads is
/// plain HTTP on 127.0.0.1, and TLS would only lengthen the build.
fn fetch_manifest(program: &Path) -> String {
    format!(
        r#"# Written by `cargo xtask bench` (xtask/src/bench/runner.rs); do not edit.
[package]
name = "feishu-bench-fetch"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "raw-fetch"
path = {program:?}

[dependencies]
percent-encoding = "2"
reqwest = {{ version = "0.13", default-features = false }}
serde_json = {{ version = "1", features = ["preserve_order"] }}
tokio = {{ version = "1", default-features = false, features = ["rt-multi-thread", "net", "time", "macros", "io-util", "io-std"] }}

# A package of its own, outside the project's workspace.
[workspace]
"#,
        program = program.to_string_lossy(),
    )
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// The runner's manifest: `bench/`'s binaries, with `feishu` from `crate_out`.
/// Keep the dependencies in step with `bench/Cargo.toml`.
fn manifest(root: &Path, crate_out: &Path) -> String {
    let bench = root.join("bench").join("src").join("bin");
    let path = |p: &Path| format!("{:?}", p.to_string_lossy());
    format!(
        r#"# Written by `cargo xtask bench` (xtask/src/bench/runner.rs); do not edit.
[package]
name = "feishu-bench-runner"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "parse-floor"
path = {floor}

[[bin]]
name = "client-bench"
path = {client}

[[bin]]
name = "upload-bench"
path = {upload}

[[bin]]
name = "ws-bench"
path = {ws}

[[bin]]
name = "ws-harness"
path = {harness}

[dependencies]
feishu = {{ path = {feishu} }}
feishu-runtime = {{ path = {runtime}, features = ["ws", "redis"] }}
feishu-sandbox = {{ path = {sandbox} }}
feishu-docs = {{ path = {docs} }}
pulldown-cmark = {{ version = "0.13", default-features = false }}
scraper = {{ version = "0.29", default-features = false }}
reqwest = {{ version = "0.13", default-features = false, features = ["json", "multipart", "rustls", "stream"] }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["preserve_order"] }}
tokio = {{ version = "1", default-features = false, features = ["rt-multi-thread", "net", "time", "macros", "io-util", "io-std", "fs"] }}
tokio-util = {{ version = "0.7", default-features = false, features = ["io"] }}
hyper = {{ version = "1", default-features = false, features = ["server", "client", "http1"] }}
hyper-util = {{ version = "0.1", default-features = false, features = ["tokio", "client-legacy", "http1"] }}
http-body-util = "0.1"
bytes = "1"

# A package of its own, outside the project's workspace.
[workspace]
"#,
        floor = path(&bench.join("parse-floor.rs")),
        client = path(&bench.join("client-bench").join("main.rs")),
        upload = path(&bench.join("upload-bench.rs")),
        ws = path(&bench.join("ws-bench.rs")),
        harness = path(&bench.join("ws-harness.rs")),
        runtime = path(&root.join("runtime")),
        sandbox = path(&root.join("sandbox")),
        feishu = path(&crate_out.join("generated")),
        docs = path(&root.join("codegen").join("docs")),
    )
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}
