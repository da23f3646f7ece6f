//! The floor `cargo xtask bench` compares `cargo xtask parse` with: a program
//! that does no more than any reader of these pages must, reading every page,
//! walking every pulldown-cmark event of it and parsing it whole with scraper.
//!
//! Usage: `parse-floor PATH…` (files or folders, read recursively in sorted
//! order, skipping hidden files and READMEs as `cargo xtask parse` does).
//! Prints `pages bytes events elements` on stdout; exit 1 when an input cannot
//! be read.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: parse-floor PATH…");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for arg in &args {
        if let Err(e) = collect(Path::new(arg), &mut files) {
            eprintln!("parse-floor: {e}");
            return ExitCode::from(1);
        }
    }
    let (mut bytes, mut events, mut elements) = (0usize, 0usize, 0usize);
    for file in &files {
        let raw = match std::fs::read(file) {
            Ok(raw) => raw,
            Err(e) => {
                eprintln!("parse-floor: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        };
        let text = String::from_utf8_lossy(&raw);
        bytes += text.len();
        for event in pulldown_cmark::Parser::new(&text) {
            black_box(&event);
            events += 1;
        }
        let html = scraper::Html::parse_document(&text);
        elements += black_box(&html).tree.nodes().count();
    }
    println!("{} {bytes} {events} {elements}", files.len());
    ExitCode::SUCCESS
}

/// Files under `path` (itself if a file), recursively, in sorted order,
/// skipping hidden files and READMEs, like `cargo xtask parse`.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .map(|e| e.map(|e| e.path()).map_err(|e| format!("{}: {e}", path.display())))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
            continue;
        }
        collect(&entry, out)?;
    }
    Ok(())
}
