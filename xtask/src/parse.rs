//! `cargo xtask parse PATH…`: the merged spec of some pages on stdout, diagnostics on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs the command; an unreadable input is an error naming the file.
pub fn run(flags: &crate::flags::Parse) -> Result<ExitCode, String> {
    if flags.paths.is_empty() {
        return Err(crate::flags::usage("parse").into());
    }
    let mut files = Vec::new();
    for path in &flags.paths {
        collect(path, &mut files)?;
    }
    let pages = read_pages(&files)?;
    let parsed = parse_pages(&pages);
    // One write, not one per line: the corpus has thousands.
    let mut diagnostics = String::new();
    for d in &parsed.diagnostics {
        diagnostics.push_str(&format!("{d}\n"));
    }
    {
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(diagnostics.as_bytes());
    }
    eprintln!(
        "{} pages, {} endpoints, {} events, {} diagnostics",
        pages.len(),
        parsed.spec.endpoints.len(),
        parsed.spec.events.len(),
        parsed.diagnostics.len()
    );
    crate::print_stdout(&parsed.spec.to_json())?;
    Ok(ExitCode::SUCCESS)
}

/// [`feishu_docs::parse_pages`] on every core: the pages are read in
/// parallel (each one alone, as there), then merged in their given order, so
/// the result is the same.
pub fn parse_pages(pages: &[(String, String)]) -> feishu_docs::Parsed {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(pages.len());
    if threads <= 1 {
        return feishu_docs::parse_pages(pages);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut read: Vec<(usize, (feishu_spec::Spec, Vec<feishu_docs::Diagnostic>))> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((file, text)) = pages.get(i) else { break };
                            mine.push((i, feishu_docs::read_page(file, text)));
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("read_page turns a reader panic into a diagnostic"))
                .collect()
        });
    read.sort_by_key(|(i, _)| *i);
    let mut diagnostics = Vec::new();
    let mut specs = Vec::with_capacity(pages.len());
    for (_, (spec, diags)) in read {
        specs.push(spec);
        diagnostics.extend(diags);
    }
    let spec = feishu_docs::merge::merge(specs, &mut diagnostics);
    diagnostics.sort();
    diagnostics.dedup();
    feishu_docs::Parsed { spec, diagnostics }
}

/// The page files under `path`; see [`feishu_docs::page_files`].
pub fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    feishu_docs::page_files(path, out).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_parse_matches_the_sequential_one() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/docs/tests/seeds");
        let mut files = Vec::new();
        collect(&docs, &mut files).unwrap();
        let pages = read_pages(&files).unwrap();
        assert!(pages.len() > 1);
        let (ours, theirs) = (parse_pages(&pages), feishu_docs::parse_pages(&pages));
        assert_eq!(ours.spec.to_json(), theirs.spec.to_json());
        assert_eq!(ours.diagnostics, theirs.diagnostics);
    }
}
