//! Generates the client from the whole third-party doc corpus
//! (`../shared/corpus/raw`, next to the workspace) and builds it: the
//! emitter must produce a crate that compiles, whatever names, keywords,
//! collisions, enum values or recursive types 900+ endpoints bring, and
//! whose files all stay reviewable in size.
//!
//! The build takes minutes on a small machine; it runs in
//! `target/nested` (`support::NESTED_TARGET`), where the dependencies are
//! built once for every generated crate.

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use support::{GeneratedCrate, corpus, pages_in};

/// The largest number of lines a generated file may have.
const MAX_LINES: usize = 5_000;

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
    let Some(corpus) = corpus("corpus_crate_builds", "raw") else { return };

    let started = Instant::now();
    let pages = pages_in(&corpus, |_| true);
    let parsed = feishu_docs::parse_pages(&pages);
    let spec = parsed.spec;
    assert!(
        spec.endpoints.len() > 900,
        "only {} endpoints from {} pages",
        spec.endpoints.len(),
        pages.len()
    );
    let options = feishu_code::Options {
        crate_name: "feishu".into(),
        runtime_path: support::runtime_path(),
        spec_files: spec.split_by_resource().into_keys().map(|rel| format!("spec/{rel}")).collect(),
        ..feishu_code::Options::default()
    };
    let generated = feishu_code::generate(&spec, &options);
    println!(
        "corpus_crate_builds: {} pages → {} endpoints → {} files in {:.1?}",
        pages.len(),
        spec.endpoints.len(),
        generated.len(),
        started.elapsed()
    );

    let (longest, lines) = generated
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "rs"))
        .map(|(path, text)| (path, text.lines().count()))
        .max_by_key(|(_, lines)| *lines)
        .expect("the crate has Rust files");
    println!("corpus_crate_builds: longest file {} ({lines} lines)", longest.display());
    assert!(
        lines < MAX_LINES,
        "{} has {lines} lines; no generated file may reach {MAX_LINES}",
        longest.display()
    );

    let generated = GeneratedCrate::write("corpus", &generated);

    let building = Instant::now();
    let output = generated.cargo(&["build", "--quiet"]).output().expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the corpus crate in {} does not build ({} errors):\n{}",
        generated.dir().display(),
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
    assert!(
        warnings.is_empty(),
        "the corpus crate in {} builds with warnings: {warnings:?}\n{}",
        generated.dir().display(),
        head(&stderr, 60_000)
    );
}
