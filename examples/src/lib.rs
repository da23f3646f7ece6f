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
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("a test binary lives in target/<profile>/deps").to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut build = Command::new(cargo);
    build.current_dir(workspace).args(["build", "--workspace", "--example", name]);
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building the example {name} failed");
    profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The parsed command line of an example: `--flag value` pairs and the
/// positional arguments, after the three every example needs
/// (`--base-url`, `--app-id`, `--app-secret`) were checked for.
#[derive(Debug)]
pub struct CommandLine {
    /// `--base-url`.
    pub base_url: String,
    /// `--app-id`.
    pub app_id: String,
    /// `--app-secret`.
    pub app_secret: String,
    flags: std::collections::BTreeMap<String, String>,
    positional: Vec<String>,
}

impl CommandLine {
    /// Reads `argv` (without the program name). `extra` names the other
    /// flags that take a value; any other `--flag` is refused, and so is
    /// `--help`, with `usage` as the message.
    pub fn parse(usage: &str, mut argv: impl Iterator<Item = String>, extra: &[&str]) -> Result<Self, String> {
        let mut flags = std::collections::BTreeMap::new();
        let mut positional = Vec::new();
        while let Some(arg) = argv.next() {
            match arg.as_str() {
                "--help" | "-h" => return Err(usage.to_owned()),
                "--base-url" | "--app-id" | "--app-secret" => {}
                flag if extra.contains(&flag) => {}
                flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}; {usage}")),
                _ => {
                    positional.push(arg);
                    continue;
                }
            }
            let value = argv.next().ok_or_else(|| format!("{arg} needs a value; {usage}"))?;
            flags.insert(arg, value);
        }
        let mut need = |flag: &str| flags.remove(flag).ok_or_else(|| format!("{flag} is required; {usage}"));
        Ok(CommandLine { base_url: need("--base-url")?, app_id: need("--app-id")?, app_secret: need("--app-secret")?, flags, positional })
    }

    /// The value of an `extra` flag, if given.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    /// Refuses positional arguments, for an example that takes flags only.
    pub fn no_positional(&self, usage: &str) -> Result<(), String> {
        match self.positional.first() {
            Some(extra) => Err(format!("unexpected argument {extra}; {usage}")),
            None => Ok(()),
        }
    }

    /// The one positional argument, named `what` in the error.
    pub fn single_positional(&self, what: &str, usage: &str) -> Result<String, String> {
        match self.positional.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!("{what} is required; {usage}")),
            [_, extra, ..] => Err(format!("unexpected argument {extra}; {usage}")),
        }
    }
}
