//! What the emitter's tests share: where the workspace and the third-party
//! doc corpus are, reading pages for the parser, and [`GeneratedCrate`], a
//! generated crate written to the temp dir and built there by cargo — the
//! real test of the emitter is that what it prints builds, lints and runs.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The path of the runtime, for [`feishu_code::Options::runtime_path`].
pub fn runtime_path() -> String {
    workspace().join("runtime").to_string_lossy().into_owned()
}

/// `folder` of the third-party doc corpus (`../shared/corpus`, next to the
/// workspace; `.` for the corpus itself), or `None` when it is absent: the
/// test then says so and passes, since the corpus is not part of the
/// repository, except on CI, where it fails naming the folder
/// (`feishu_testkit::corpus_folder`).
pub fn corpus(test: &str, folder: &str) -> Option<PathBuf> {
    let dir = workspace().join("../shared/corpus").join(folder);
    feishu_testkit::corpus_folder(test, &dir).map(|dir| dir.canonicalize().unwrap())
}

/// The pages below `dir` that the parser would read (`feishu_docs::page_files`:
/// sorted, without hidden files and READMEs) and whose text passes `keep`, as
/// `(name relative to dir, text)`.
pub fn pages_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut files = Vec::new();
    feishu_docs::page_files(dir, &mut files).unwrap_or_else(|e| panic!("{e}"));
    files
        .iter()
        .map(|f| {
            (
                f.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"),
                String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned(),
            )
        })
        .filter(|(_, text)| keep(text))
        .collect()
}

/// The pages `names` of `dir`, as `(name, text)`.
pub fn pages(dir: &Path, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            (
                name.to_string(),
                std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")),
            )
        })
        .collect()
}

/// The dev-dependencies of a test added by [`GeneratedCrate::add_test`]: the
/// shared test server, and the tokio features the runtime's own tests use.
fn test_dev_dependencies() -> String {
    let testkit = workspace().join("testkit");
    format!(
        "\n[dev-dependencies]\nfeishu-testkit = {{ path = {:?} }}\n\
         tokio = {{ version = \"1\", features = [\"sync\", \"time\", \"fs\", \"io-util\", \"macros\", \"rt-multi-thread\", \"net\"] }}\n",
        testkit.to_string_lossy()
    )
}

/// The one target directory (under the workspace's) of every generated crate
/// the tests build, and of `cargo xtask examples` (xtask/src/examples.rs
/// names it too): the generated crates all depend on the runtime the same
/// way, so its dependencies are built once for all of them. Not the
/// workspace's own directory: a crate outside the workspace resolves other
/// features and profiles, and its builds there only added variants.
pub const NESTED_TARGET: &str = "nested";

/// What every generated crate's manifest gets: a workspace of its own, and
/// the profile all of them (and `cargo xtask examples`) build with, without
/// debug info: nobody steps through these crates, and debug info for
/// thousands of types was a good part of their build time.
pub const MANIFEST_TAIL: &str = "\n[workspace]\n\n[profile.dev]\ndebug = 0\n";

/// A generated crate in a folder of its own under the temp dir. It is
/// removed when dropped, unless the test is failing: then it stays for a
/// look, and the failure names it.
pub struct GeneratedCrate {
    dir: PathBuf,
    target: PathBuf,
    has_tests: std::cell::Cell<bool>,
}

impl GeneratedCrate {
    /// Writes `files` (what `feishu_code::generate` returned) to a fresh
    /// folder `feishu-<label>-<pid>`, as a workspace of its own (it lies
    /// outside this one) with this workspace's lock file, which pins the
    /// versions already downloaded. Cargo builds it in [`NESTED_TARGET`].
    pub fn write(label: &str, files: &BTreeMap<PathBuf, String>) -> Self {
        let root = workspace();
        let dir = std::env::temp_dir().join(format!("feishu-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let generated =
            Self { dir, target: root.join("target").join(NESTED_TARGET), has_tests: false.into() };
        generated.append_to_manifest(MANIFEST_TAIL);
        std::fs::copy(root.join("Cargo.lock"), generated.dir.join("Cargo.lock")).unwrap();
        generated
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn append_to_manifest(&self, text: &str) {
        let manifest = self.dir.join("Cargo.toml");
        let toml = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{toml}{text}")).unwrap();
    }

    /// Adds a file (`examples/x.rs`, …) to the crate.
    pub fn add_file(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Adds the integration test `tests/<name>.rs`, which may use tokio and
    /// `feishu_testkit` (a scripted, recording server).
    pub fn add_test(&self, name: &str, text: &str) {
        if !self.has_tests.replace(true) {
            self.append_to_manifest(&test_dev_dependencies());
        }
        self.add_file(&format!("tests/{name}.rs"), text);
    }

    /// `cargo <args>` in the crate, with its target directory and without
    /// the caller's `RUSTFLAGS` (which would rebuild every dependency).
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO"));
        command
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS");
        command
    }

    /// Runs `command`, failing the test with its output when it fails.
    pub fn run(&self, command: &mut Command) -> Output {
        let output = command.output().expect("cargo runs");
        assert!(
            output.status.success(),
            "{command:?} fails on the generated crate in {}:\n{}\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for GeneratedCrate {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
