//! Runnable examples of the Feishu client and bots; run one with
//! `cargo run --example NAME -- ARGS` (see the README). The library holds
//! only what the examples' own tests share.

use std::path::PathBuf;
use std::process::Command;

/// The binary of the example `name`, built now with the workspace's
/// features (so that it reuses what `cargo test --workspace` built), for a
/// test of this package to run: `target/<profile>/examples/NAME`, found
/// next to the calling test's `deps/` folder.
///
/// Building here rather than relying on `cargo test` keeps the binary
/// fresh however the tests were started (`cargo xtask test` selects its
/// targets, which leaves plain example binaries unbuilt).
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("a test binary lives in target/<profile>/deps")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut build = Command::new(cargo);
    build.current_dir(workspace).args(["build", "--workspace", "--example", name]);
    // The profile of the test that calls this: `cargo test` builds in the
    // `test` profile, whose units cargo keeps apart from the `dev` profile's
    // even where their settings agree. A plain `cargo build` would compile
    // every dependency a second time (1m50 of CI's fresh run); with the
    // test profile and the same `--workspace` features the binary is
    // usually already there, since `cargo test --examples` builds it.
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    } else {
        build.args(["--profile", "test"]);
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building the example {name} failed");
    profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}
