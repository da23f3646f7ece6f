//! The floor `cargo xtask bench` compares `cargo xtask parse` with: a program
//! that does no more than any reader of these pages must, reading every page,
//! walking every pulldown-cmark event of it and parsing it whole with scraper.
//!
//! Usage: `parse-floor PATH…` (files or folders, read recursively in sorted
//! order, skipping hidden files and READMEs as `cargo xtask parse` does).
//! Prints `pages bytes events elements` on stdout; exit 1 when an input cannot
//! be read.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: parse-floor PATH…");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for arg in &args {
        if let Err(e) = feishu_docs::page_files(Path::new(arg), &mut files) {
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
