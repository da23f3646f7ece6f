//! `cargo xtask examples [--docs DIR] [--json]`: the doc pages' own examples
//! put through the client generated from them.
//!
//! Parses DIR (default `spec/docs`), generates the crate into
//! `target/examples/<dir>-<hash>/`, adds a checker program to it
//! (`checker_main.rs`, the template, and `cases.rs`, written by
//! [`program`]), builds and runs it, and reports per kind (responses,
//! events, requests) how many examples decode or are accepted and how many
//! of their leaf values land in a typed field, with a line per failure.
//!
//! The crate is rewritten file by file only where it changed, and cargo
//! builds it in `target/nested` with the profile of the emitter's tests
//! (`NESTED_TARGET` and `MANIFEST_TAIL` in codegen/code/tests/support), whose
//! dependencies it shares: a second run, or one after the corpus tests,
//! builds only what changed.

mod cases;
mod program;
mod report;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

pub use report::{Report, fallen};

/// The checker program's fixed half.
const CHECKER_MAIN: &str = include_str!("examples/checker_main.rs");

/// What the checker needs beyond the generated crate's own dependencies.
const CHECKER_DEPENDENCIES: &str = "serde_ignored = \"0.1\"\nserde_path_to_error = \"0.1\"\n";

/// The target directory (under the workspace's) shared with the generated
/// crates of the emitter's tests: `NESTED_TARGET` in
/// codegen/code/tests/support/mod.rs. Keep the two alike.
const NESTED_TARGET: &str = "nested";

/// The manifest's end, as the emitter's tests write it (`MANIFEST_TAIL`
/// there), so that the dependencies are built once for both: a workspace
/// of its own, no debug info (for thousands of decoders it was most of the
/// checker's build; its failures name the example, not a line of code).
const NESTED_MANIFEST_TAIL: &str = "\n[workspace]\n\n[profile.dev]\ndebug = 0\n";

/// Runs the command from the workspace root.
pub fn run(flags: &crate::flags::Examples, root: &Path) -> Result<ExitCode, String> {
    let docs = flags.docs.clone().unwrap_or_else(|| root.join("spec/docs"));
    let report = check(&docs, root)?;
    let text = if flags.json { format!("{:#}\n", report.to_json()) } else { report.to_text() };
    crate::print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Checks the examples of the pages under `docs`.
pub fn check(docs: &Path, root: &Path) -> Result<Report, String> {
    let mut files = Vec::new();
    crate::parse::collect(docs, &mut files)?;
    let mut pages = crate::parse::read_pages(&files)?;
    for ((name, _), file) in pages.iter_mut().zip(&files) {
        *name = file.strip_prefix(docs).unwrap_or(file).to_string_lossy().replace('\\', "/");
    }
    let parsed = crate::parse::parse_pages(&pages);
    let spec = &parsed.spec;
    let model = feishu_model::Model::build(spec);
    let plan = cases::plan(spec, &model, &parsed.diagnostics);

    let options = feishu_code::Options {
        crate_name: "feishu".into(),
        runtime_path: root.join("runtime").to_string_lossy().into_owned(),
        spec_files: spec.split_by_resource().into_keys().map(|rel| format!("spec/{rel}")).collect(),
        ..feishu_code::Options::default()
    };
    let mut crate_files: BTreeMap<PathBuf, String> = feishu_code::generate(spec, &options);
    let manifest = crate_files.get_mut(Path::new("Cargo.toml")).ok_or("no Cargo.toml generated")?;
    *manifest = manifest.replacen(
        "[dependencies]\n",
        &format!("[dependencies]\n{CHECKER_DEPENDENCIES}"),
        1,
    ) + NESTED_MANIFEST_TAIL;
    crate_files.insert("src/bin/examples_check/main.rs".into(), CHECKER_MAIN.to_owned());
    crate_files
        .insert("src/bin/examples_check/cases.rs".into(), program::cases(&model, &plan.checks));

    let dir = root.join("target/examples").join(label(docs));
    write_crate(&dir, &crate_files, root)?;
    let input: Vec<serde_json::Value> = plan
        .cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            serde_json::json!({
                "check": i,
                "value": case.value,
                "event_type": if case.kind == cases::Kind::Events { case.item.as_str() } else { "" },
            })
        })
        .collect();
    let results = run_checker(&dir, &root.join("target").join(NESTED_TARGET), &input)?;
    if results.len() != plan.cases.len() {
        return Err(format!(
            "the checker in {} answered {} of {} cases",
            dir.display(),
            results.len(),
            plan.cases.len()
        ));
    }
    Ok(Report::new(&plan, &results))
}

/// `<folder name>-<hash of its path>`: one crate per docs folder, kept
/// between runs.
fn label(docs: &Path) -> String {
    let full = docs.canonicalize().unwrap_or_else(|_| docs.to_path_buf());
    let name: String = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    // FNV-1a: stable across runs and machines, unlike `DefaultHasher`'s promise.
    let hash = full
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{name}-{:08x}", hash as u32)
}

/// Writes the crate to `dir`: only files whose text changed (so cargo
/// rebuilds only what changed), removing Rust files no longer generated.
/// The workspace's lock file pins the dependencies the first time.
fn write_crate(dir: &Path, files: &BTreeMap<PathBuf, String>, root: &Path) -> Result<(), String> {
    let failed = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    let src = dir.join("src");
    if src.is_dir() {
        let mut existing = Vec::new();
        list_files(&src, &mut existing).map_err(|e| failed(&src, e))?;
        for file in existing {
            let rel = file.strip_prefix(dir).unwrap_or(&file);
            if !files.contains_key(rel) {
                std::fs::remove_file(&file).map_err(|e| failed(&file, e))?;
            }
        }
    }
    for (rel, text) in files {
        let path = dir.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed(parent, e))?;
        }
        std::fs::write(&path, text).map_err(|e| failed(&path, e))?;
    }
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(root.join("Cargo.lock"), &lock).map_err(|e| failed(&lock, e))?;
    }
    Ok(())
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            list_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Builds and runs the checker in `dir` on `input`: one JSON value per case.
fn run_checker(
    dir: &Path,
    target: &Path,
    input: &[serde_json::Value],
) -> Result<Vec<serde_json::Value>, String> {
    eprintln!("examples: building and running the checker in {}", dir.display());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(["run", "--quiet", "--bin", "examples_check"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // The caller's flags would rebuild every dependency.
        .env_remove("RUSTFLAGS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    let bytes = serde_json::to_vec(input).map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().map_err(|e| format!("{cargo}: {e}"))?;
    let _ = writer.join();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let end = stderr.char_indices().nth(20_000).map_or(stderr.len(), |(i, _)| i);
        return Err(format!(
            "the checker in {} failed ({}):\n{}",
            dir.display(),
            output.status,
            &stderr[..end]
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).map_err(|e| format!("checker output {line:?}: {e}")))
        .collect()
}
