//! `cargo xtask parse PATH…`: the merged spec of some pages on stdout, diagnostics on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs the command; an unreadable input is an error naming the file.
pub fn run(args: &[String]) -> Result<ExitCode, String> {
    if args.is_empty() {
        return Err("usage: cargo xtask parse PATH… (files or folders of doc pages)".into());
    }
    let mut files = Vec::new();
    for arg in args {
        collect(Path::new(arg), &mut files)?;
    }
    let pages = read_pages(&files)?;
    let parsed = feishu_docs::parse_pages(&pages);
    for d in &parsed.diagnostics {
        eprintln!("{d}");
    }
    eprintln!("{} pages, {} endpoints, {} events, {} diagnostics", pages.len(), parsed.spec.endpoints.len(), parsed.spec.events.len(), parsed.diagnostics.len());
    crate::print_stdout(&parsed.spec.to_json())?;
    Ok(ExitCode::SUCCESS)
}

/// Files under `path` (itself if a file), recursively, in sorted order.
pub fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
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

/// Reads files as text; bytes that are not UTF-8 are replaced (and the reader reports binary files).
pub fn read_pages(files: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
            Ok((f.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}
