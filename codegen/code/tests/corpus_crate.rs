//! Generates the client from the whole third-party doc corpus
//! (`../shared/corpus/raw`, next to the workspace) and builds it: the
//! emitter must produce a crate that compiles, whatever names, keywords,
//! collisions, enum values or recursive types 900+ endpoints bring, and
//! whose files all stay reviewable in size.
//!
//! The build takes several minutes on a small machine; it reuses
//! `target/corpus-check` so that the dependencies are built only once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The largest number of lines a generated file may have.
const MAX_LINES: usize = 5_000;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Files under `dir`, recursively, in sorted order, skipping hidden files
/// and READMEs (as `cargo xtask regen` does).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
            continue;
        }
        if entry.is_dir() {
            collect(&entry, out);
        } else {
            out.push(entry);
        }
    }
}

/// The first `max` bytes of `text` (the first errors explain the rest), on a char boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[test]
fn corpus_crate_builds() {
    let root = workspace();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/raw");
    if !corpus.is_dir() {
        println!("corpus_crate_builds: {} is absent; nothing to check", corpus.display());
        return;
    }
    let corpus = corpus.canonicalize().unwrap();

    let started = Instant::now();
    let mut files = Vec::new();
    collect(&corpus, &mut files);
    let pages: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let name = f.strip_prefix(&corpus).unwrap().to_string_lossy().replace('\\', "/");
            (name, String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
        })
        .collect();
    let parsed = feishu_docs::parse_pages(&pages);
    let spec = parsed.spec;
    assert!(spec.endpoints.len() > 900, "only {} endpoints from {} pages", spec.endpoints.len(), pages.len());
    let options = feishu_code::Options {
        crate_name: "feishu".into(),
        runtime_path: root.join("runtime").to_string_lossy().into_owned(),
        spec_files: spec.split_by_resource().into_keys().map(|rel| format!("spec/{rel}")).collect(),
    };
    let generated = feishu_code::generate(&spec, &options);
    println!("corpus_crate_builds: {} pages → {} endpoints → {} files in {:.1?}", pages.len(), spec.endpoints.len(), generated.len(), started.elapsed());

    let (longest, lines) = generated
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "rs"))
        .map(|(path, text)| (path, text.lines().count()))
        .max_by_key(|(_, lines)| *lines)
        .expect("the crate has Rust files");
    println!("corpus_crate_builds: longest file {} ({lines} lines)", longest.display());
    assert!(lines < MAX_LINES, "{} has {lines} lines; no generated file may reach {MAX_LINES}", longest.display());

    let dir = std::env::temp_dir().join(format!("feishu-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in &generated {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // Outside the workspace: a workspace of its own.
    let manifest = dir.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str("\n[workspace]\n");
    std::fs::write(&manifest, toml).unwrap();
    // The workspace's lock file pins the versions already downloaded.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let building = Instant::now();
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target/corpus-check"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the corpus crate in {} does not build ({} errors):\n{}",
        dir.display(),
        stderr.matches("\nerror").count(),
        head(&stderr, 60_000)
    );
    println!("corpus_crate_builds: cargo build took {:.1?}", building.elapsed());
    let mut warnings: BTreeMap<&str, usize> = BTreeMap::new();
    for line in stderr.lines() {
        if let Some(kind) = line.strip_prefix("warning: ")
            && !kind.contains("(lib) generated")
        {
            *warnings.entry(kind).or_default() += 1;
        }
    }
    // A warning here is a lint error for users who deny warnings.
    assert!(warnings.is_empty(), "the corpus crate in {} builds with warnings: {warnings:?}\n{}", dir.display(), head(&stderr, 60_000));
    let _ = std::fs::remove_dir_all(&dir);
}
