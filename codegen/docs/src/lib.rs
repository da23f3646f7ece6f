//! Reads Feishu Open Platform doc pages into the neutral spec (`feishu-spec`).
//!
//! The pages arrive in several shapes (the docs' own HTML-in-markdown source,
//! GFM pipe tables, pipe tables without outer pipes, flattened text). The
//! reader works in stages, each knowing only the one before it:
//!
//! 1. [`page`]: front matter and line numbers;
//! 2. [`blocks`]: an extractor turns any shape into one stream of headings,
//!    tables, code and text (pulldown-cmark for markdown, scraper for HTML);
//! 3. [`rules`]: one small function per Chinese rule sentence (示例值, 默认值,
//!    可选值有, 长度范围 …);
//! 4. [`fields`] and [`nesting`]: table rows become field trees, and nesting a
//!    page lost is rebuilt from its type notes or JSON example;
//! 5. [`extract`] and [`catalogue`]: a state machine over the blocks records
//!    what the page says (a raw page), which `assemble` turns into endpoints,
//!    catalogue entries and events;
//! 6. [`merge`], [`naming`] and [`check`]: pages about one endpoint merge, the
//!    result is named, and examples are checked against the extracted trees.
//!
//! Nothing is lost silently: every table row ends in the spec or in a
//! [`Diagnostic`]. Nothing panics: a garbage page is a diagnostic.

mod assemble;
pub mod blocks;
pub mod catalogue;
pub mod check;
pub mod diag;
pub mod extract;
pub mod fields;
pub mod merge;
pub mod naming;
pub mod nesting;
pub mod page;
pub mod rules;
pub mod text;

pub use diag::{Diagnostic, DiagnosticKind};

use std::path::{Path, PathBuf};

/// Adds the items `list` does not hold yet, in order: the one rule for
/// scopes, tokens and app types, whether one page lists them twice or two
/// pages list them.
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, items: Vec<T>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// A file or folder [`page_files`] could not read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct PageFilesError {
    /// The file or folder.
    pub path: PathBuf,
    /// What the system said.
    pub error: std::io::Error,
}

/// The page files under `path` (itself if a file), recursively, in sorted
/// order. Hidden files and READMEs are not pages (a folder's README says
/// what its pages are).
pub fn page_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), PageFilesError> {
    let failed = |error| PageFilesError { path: path.to_owned(), error };
    let meta = std::fs::metadata(path).map_err(failed)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(failed)?
        .map(|e| e.map(|e| e.path()).map_err(failed))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
            continue;
        }
        page_files(&entry, out)?;
    }
    Ok(())
}

use feishu_spec::Spec;

/// The spec read from a set of pages, and what the reader could not place.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The merged spec, in canonical order.
    pub spec: Spec,
    /// Diagnostics, ordered by file and line.
    pub diagnostics: Vec<Diagnostic>,
}

/// What a page's diagnostics say when the reader itself failed on it (a bug
/// in the reader, caught by [`read_page`]); tests look for it.
pub const READER_FAILED: &str = "the reader failed on this page";

/// Reads one page: the one page reader. `file` names it in diagnostics and
/// `sources`. A bug in the reader becomes an `unreadable` diagnostic starting
/// with [`READER_FAILED`] rather than a crash.
pub fn read_page(file: &str, text: &str) -> (Spec, Vec<Diagnostic>) {
    match std::panic::catch_unwind(|| read_unguarded(file, text)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let diagnostic = Diagnostic {
                file: file.to_string(),
                line: 0,
                kind: DiagnosticKind::Unreadable,
                message: format!("{READER_FAILED}: {what}"),
            };
            (Spec::default(), vec![diagnostic])
        }
    }
}

fn read_unguarded(file: &str, text: &str) -> (Spec, Vec<Diagnostic>) {
    let mut diags = diag::Diagnostics::new(file);
    if text.contains('\0') {
        diags.push(
            0,
            DiagnosticKind::Unreadable,
            "the file holds binary data (NUL bytes), not a doc page",
        );
        return (Spec::default(), diags.into_vec());
    }
    let page = page::Page::new(file, text);
    let spec = extract::read(&page, &mut diags);
    (spec, diags.into_vec())
}

/// Reads and merges pages given as `(file name, text)`.
pub fn parse_pages(pages: &[(String, String)]) -> Parsed {
    let mut diagnostics = Vec::new();
    let mut specs = Vec::with_capacity(pages.len());
    for (file, text) in pages {
        let (spec, diags) = read_page(file, text);
        specs.push(spec);
        diagnostics.extend(diags);
    }
    let spec = merge::merge(specs, &mut diagnostics);
    diagnostics.sort();
    diagnostics.dedup();
    Parsed { spec, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_files_are_sorted_and_a_missing_path_is_named() {
        let dir =
            std::env::temp_dir().join(format!("feishu-docs-page-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("im")).unwrap();
        for name in ["im/b.md", "a.md", "README.md", ".hidden.md"] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let mut found = Vec::new();
        let listed = page_files(&dir, &mut found);
        let missing = dir.join("absent");
        let error = page_files(&missing, &mut Vec::new()).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        listed.unwrap();
        assert_eq!(found, [dir.join("a.md"), dir.join("im/b.md")]);
        assert_eq!(error.path, missing);
        assert!(error.to_string().starts_with(&missing.display().to_string()), "{error}");
    }
}
