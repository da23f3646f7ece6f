//! Throughput of the reader over the shared test corpus, and a rough split of
//! where the time goes.
//!
//! The corpus (about 2,300 third-party Feishu doc pages in three shapes) lives
//! outside the project at `../shared/corpus` relative to the workspace root;
//! when it is absent the benchmark says so and exits successfully. All files
//! are read before any timing starts.
//!
//! Measured, each as the best of three runs:
//!
//! 1. `feishu_docs::parse_pages` over every page: the whole reader, merge
//!    included. Reported as total milliseconds and pages per second.
//! 2. `feishu_docs::blocks::blocks` over every page: the extractor stage
//!    (front matter, region scan, pulldown-cmark, scraper, pipe tables).
//! 3. pulldown-cmark alone: a full event iteration of each page's markdown,
//!    that is its body outside the HTML regions.
//! 4. scraper alone: `Html::parse_fragment` of each HTML region (`:::html … :::`
//!    or a bare `<md-table>` / `<md-dt-table>` / `<md-code-json>`), cut with a
//!    line scan like the extractor's.
//!
//! Stages 3 and 4 are estimates of the share of (1) spent in the two
//! libraries, not measurements of the calls the reader makes: the reader runs
//! pulldown-cmark on smaller regions (pipe tables are cut out first) and again
//! on single cells and rule sentences when it cleans text, and it selects and
//! walks the HTML tree after parsing it. The shares overlap (2 contains 3 and
//! 4) and do not add up to 100 %.
//!
//! Run with `cargo bench -p feishu-docs --bench corpus`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use feishu_docs::page::Page;

const RUNS: usize = 3;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.is_dir() {
        println!("corpus benchmark: no corpus at {}, nothing to measure", root.display());
        return;
    }
    let root = root.canonicalize().unwrap_or(root);

    // Not timed: read every page, and cut each into markdown and HTML regions.
    let mut files = Vec::new();
    collect_md(&root, &root, &mut files);
    files.sort();
    let pages: Vec<(String, String)> = files
        .iter()
        .filter_map(|path| {
            let name = path.strip_prefix(&root).unwrap_or(path).display().to_string();
            let bytes = std::fs::read(path).ok()?;
            Some((name, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect();
    if pages.is_empty() {
        println!("corpus benchmark: no pages under {}, nothing to measure", root.display());
        return;
    }
    let bytes: usize = pages.iter().map(|(_, text)| text.len()).sum();
    let mut markdown: Vec<String> = Vec::with_capacity(pages.len());
    let mut html: Vec<String> = Vec::new();
    for (file, text) in &pages {
        let page = Page::new(file, text);
        let (md, regions) = split_regions(page.body());
        markdown.push(md);
        html.extend(regions);
    }
    let html_bytes: usize = html.iter().map(String::len).sum();
    let md_bytes: usize = markdown.iter().map(String::len).sum();

    println!("corpus: {} ({} pages, {:.1} MB)", root.display(), pages.len(), bytes as f64 / 1e6);
    println!(
        "        {:.1} MB markdown, {} HTML regions ({:.1} MB)",
        md_bytes as f64 / 1e6,
        html.len(),
        html_bytes as f64 / 1e6
    );

    let total = best_of(|| {
        let parsed = feishu_docs::parse_pages(black_box(&pages));
        black_box((parsed.spec, parsed.diagnostics.len()));
    });
    let extractor = best_of(|| {
        for (file, text) in &pages {
            let page = Page::new(file, text);
            black_box(feishu_docs::blocks::blocks(&page));
        }
    });
    let cmark = best_of(|| {
        for md in &markdown {
            black_box(pulldown_cmark::Parser::new(black_box(md)).into_offset_iter().count());
        }
    });
    let html5 = best_of(|| {
        for region in &html {
            let doc = scraper::Html::parse_fragment(black_box(region));
            black_box(doc.tree.nodes().count());
        }
    });

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!();
    println!(
        "parse_pages: {:.1} ms for {} pages, {:.0} pages/s, {:.1} MB/s (best of {RUNS})",
        ms(total),
        pages.len(),
        pages.len() as f64 / total.as_secs_f64(),
        bytes as f64 / 1e6 / total.as_secs_f64()
    );
    println!();
    println!("{:<34} {:>10} {:>8}", "stage", "ms", "share");
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<34} {:>10.1} {:>7.1}%",
            ms(d),
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        )
    };
    row("parse_pages (whole reader)", total);
    row("blocks::blocks (extractor)", extractor);
    row("  pulldown-cmark (estimate)", cmark);
    row("  scraper parse_fragment (estimate)", html5);
    row("after the extractor (rules…merge)", total.saturating_sub(extractor));
    println!();
    println!("The library rows are estimates: each library runs once over the page's markdown or");
    println!(
        "HTML regions, while the reader also calls pulldown-cmark per cell and walks the HTML tree."
    );
    println!("Rows overlap (the extractor contains both libraries) and do not sum to 100%.");
}

/// The fastest of [`RUNS`] runs of `f`.
fn best_of(mut f: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .expect("RUNS > 0")
}

/// Every `.md` file below `dir`, except the corpus's own README.
fn collect_md(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_md(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "md") && path.parent() != Some(root) {
            out.push(path);
        }
    }
}

/// Cuts a page body into its markdown (everything outside HTML regions, joined)
/// and its HTML regions, with a line scan like the extractor's: code fences
/// are skipped, `:::html` opens a region that ends at its matching `:::`, and a
/// line starting with a bare `<md-table>`, `<md-dt-table>` or `<md-code-json>`
/// opens one that ends at the closing tag's line.
fn split_regions(body: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    let mut markdown = String::new();
    let mut html = Vec::new();
    let mut fence: Option<&str> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
        } else if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
        } else if let Some(end) = feishu_docs::blocks::html_region(&lines, i) {
            html.push(lines[i..end].concat());
            i = end;
            continue;
        }
        markdown.push_str(line);
        i += 1;
    }
    (markdown, html)
}
