//! `cargo xtask docs sync [--portal URL] [--docs DIR] [--all | --service NAME… | --path FULLPATH…] [--lang zh|en] [--dry-run] [--jobs N] [--regen [--out OUT]]`:
//! pulls doc pages from the Feishu doc portal into a folder of pages.
//!
//! The tree is read first ([`portal`]); [`plan`] then decides which local
//! files are which pages, which pages to fetch and where they go
//! ([`layout`]), and which synced pages are gone upstream. Pages are fetched
//! `--jobs` at a time (default 8), each written atomically ([`files`]) under
//! its [`header`] only when its text changed. The run ends with one summary
//! line, then names the pages that failed (exit 1) or prints the next step
//! (`--regen` runs it). A progress bar shows on a terminal; elsewhere each
//! change is one line. `--dry-run` fetches but writes and deletes nothing.
//! Ctrl-C or SIGTERM stops the run between two writes (exit 1): every page
//! written is whole and no temporary file is left; a SIGKILL can leave one
//! hidden temporary file, which the next run removes.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::flags::Sync as Flags;

pub mod files;
pub mod header;
pub mod layout;
pub mod plan;
pub mod portal;

use plan::{Job, Selection};

/// The portal used without `--portal`.
pub const DEFAULT_PORTAL: &str = "https://open.feishu.cn";
const DEFAULT_JOBS: usize = 8;
/// Public documentation sites; a page's `url` points at the one it came from,
/// or, for any other portal (a mirror, the local one), at the language's own.
const PUBLIC_SITES: [&str; 3] =
    ["https://open.feishu.cn", "https://open.larksuite.com", "https://open.larkoffice.com"];

/// The options of one run, checked.
#[derive(Debug)]
struct Options {
    portal: String,
    docs: PathBuf,
    selection: Selection,
    language: &'static str,
    site: String,
    dry_run: bool,
    jobs: usize,
    regen: bool,
    /// With `regen`: its `--out` (default: the workspace).
    out: Option<PathBuf>,
}

fn options(flags: &Flags, root: &Path) -> Result<Options, String> {
    let portal = flags
        .portal
        .clone()
        .unwrap_or_else(|| DEFAULT_PORTAL.to_string())
        .trim_end_matches('/')
        .to_string();
    if !(portal.starts_with("http://") || portal.starts_with("https://")) {
        return Err(format!("--portal {portal}: not an http(s) URL"));
    }
    let kinds = [flags.all, !flags.service.is_empty(), !flags.path.is_empty()]
        .iter()
        .filter(|k| **k)
        .count();
    if kinds > 1 {
        return Err("--all, --service and --path are alternatives; give one of them".into());
    }
    let selection = if flags.all {
        Selection::All
    } else if !flags.service.is_empty() {
        Selection::Services(
            flags
                .service
                .iter()
                .flat_map(|s| s.split(','))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    } else if !flags.path.is_empty() {
        Selection::Paths(flags.path.clone())
    } else {
        Selection::Existing
    };
    let (language, own_site) = match flags.lang.as_deref().unwrap_or("zh") {
        "zh" => ("zh-CN", PUBLIC_SITES[0]),
        "en" => ("en-US", PUBLIC_SITES[1]),
        other => return Err(format!("--lang {other}: zh or en")),
    };
    let site = PUBLIC_SITES.iter().find(|s| **s == portal).copied().unwrap_or(own_site).to_string();
    let jobs = flags.jobs.unwrap_or(DEFAULT_JOBS);
    if jobs == 0 {
        return Err("--jobs 0: at least one request must be in flight".into());
    }
    let docs = flags.docs.clone().unwrap_or_else(|| root.join("spec/docs"));
    if selection == Selection::Existing && !docs.is_dir() {
        return Err(format!(
            "{}: no such folder; to fetch pages into a new one, choose them with --all, --service or --path",
            docs.display()
        ));
    }
    if flags.out.is_some() && !flags.regen {
        return Err(
            "--out goes with --regen: it says where regen writes spec/ and generated/".into()
        );
    }
    Ok(Options {
        portal,
        docs,
        selection,
        language,
        site,
        dry_run: flags.dry_run,
        jobs,
        regen: flags.regen,
        out: flags.out.clone(),
    })
}

/// What happened to one page.
#[derive(Debug, Default)]
struct Counts {
    listed: usize,
    fetched: usize,
    added: usize,
    changed: usize,
    unchanged: usize,
    removed: usize,
}

/// Runs the command from the workspace root `root`.
pub fn run(flags: &Flags, root: &Path) -> Result<ExitCode, String> {
    let options = options(flags, root)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the tokio runtime: {e}"))?;
    let failed = runtime.block_on(sync(&options))?;
    if !failed.is_empty() {
        eprintln!("docs sync: {} page(s) failed; every other page was written:", failed.len());
        for (page, why) in &failed {
            eprintln!("  {page}: {why}");
        }
        return Ok(ExitCode::from(1));
    }
    if options.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if options.regen {
        let docs = (options.docs != root.join("spec/docs")).then(|| options.docs.clone());
        return crate::regen::run(
            &crate::flags::Regen { check: false, docs, out: options.out.clone() },
            root,
        );
    }
    let next = if options.docs == root.join("spec/docs") {
        "cargo xtask regen".to_string()
    } else {
        format!("cargo xtask regen --docs {}", options.docs.display())
    };
    eprintln!("next: {next}   (the spec, the client crate and the API change report)");
    Ok(ExitCode::SUCCESS)
}

/// Where progress and per-page lines go.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} docs sync [{bar:30}] {pos}/{len} pages {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress { bar }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{text}")),
            None => println!("{text}"),
        }
    }

    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The sync itself; answers the pages that failed.
async fn sync(options: &Options) -> Result<Vec<(String, String)>, String> {
    let docs = &options.docs;
    if docs.exists() {
        let leftovers = files::remove_leftovers(docs)?;
        if leftovers > 0 {
            eprintln!("docs sync: removed {leftovers} temporary file(s) an interrupted run left");
        }
    }
    let locals = plan::scan(docs)?;
    let derived = plan::derived_urls(docs, &locals)?;
    let client = Arc::new(portal::Portal::new(&options.portal, options.language)?);
    let tree = client.tree().await?;
    let plan = plan::plan(&locals, &derived, &tree, &options.selection);
    if let Selection::Services(names) = &options.selection
        && plan.jobs.is_empty()
    {
        return Err(format!(
            "no page of service {} under the Server API node of {}",
            names.join(", "),
            client.tree_url()
        ));
    }
    for (rel, why) in &plan.left_alone {
        eprintln!("docs sync: left alone {rel}: {why}");
    }
    let names: BTreeMap<&str, &str> =
        tree.iter().map(|p| (p.full_path.as_str(), p.name.as_str())).collect();
    let mut counts =
        Counts { listed: tree.iter().filter(|p| p.server_api).count(), ..Counts::default() };
    let mut failed: Vec<(String, String)> = plan.refused.clone();
    let progress = Progress::new(plan.jobs.len());
    let verb = |done: &str, would: &'static str| {
        if options.dry_run { would.to_string() } else { done.to_string() }
    };

    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.jobs));
    let mut tasks = tokio::task::JoinSet::new();
    let writer = Arc::new(Writer {
        docs: options.docs.clone(),
        site: options.site.clone(),
        dry_run: options.dry_run,
    });
    for job in plan.jobs.clone() {
        let (client, semaphore, writer) = (client.clone(), semaphore.clone(), writer.clone());
        let title = names.get(job.full_path.as_str()).copied().unwrap_or("").to_string();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let detail = client.detail(&job.full_path).await;
            // Written by the task that fetched it, so that pages are written
            // on every worker at once (one after another, the writes set the
            // pace when the file system is slow). No await lies between a
            // write and its rename, so a stop never lands mid-page.
            let written = detail.map(|detail| writer.apply(&job, &detail, title));
            (job, written)
        });
    }
    let interrupted = interrupted();
    tokio::pin!(interrupted);
    loop {
        // Pages are written between polls, so a Ctrl-C or SIGTERM never lands mid-write.
        let joined = tokio::select! {
            biased;
            () = &mut interrupted => {
                tasks.abort_all();
                progress.finish();
                print_summary(&counts, &failed, options.dry_run);
                return Err("interrupted: every page written so far is complete; run the same command again to finish".into());
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let Ok((job, written)) = joined else {
            return Err("a fetch task stopped unexpectedly".into());
        };
        progress.tick();
        let outcome = written.and_then(|applied| {
            counts.fetched += 1;
            applied
        });
        match outcome {
            Ok(Outcome::Unchanged) => counts.unchanged += 1,
            Ok(Outcome::Changed) => {
                counts.changed += 1;
                progress.line(&format!("{} {}", verb("changed", "would change"), job.rel));
            }
            Ok(Outcome::Added) => {
                counts.added += 1;
                progress.line(&format!("{} {}", verb("added", "would add"), job.rel));
            }
            Err(error) => failed.push((job.full_path, error)),
        }
    }
    progress.finish();
    for rel in &plan.removed {
        let path = plan::file_of(docs, rel)?;
        if !options.dry_run {
            files::remove_page(docs, &path)?;
        }
        counts.removed += 1;
        progress.line(&format!("{} {rel}", verb("removed upstream", "would remove")));
    }
    failed.sort();
    print_summary(&counts, &failed, options.dry_run);
    Ok(failed)
}

/// The run's one summary line, on stderr.
fn print_summary(counts: &Counts, failed: &[(String, String)], dry_run: bool) {
    eprintln!(
        "docs sync: {} listed, {} fetched, {} added, {} changed, {} unchanged, {} removed upstream{}{}",
        counts.listed,
        counts.fetched,
        counts.added,
        counts.changed,
        counts.unchanged,
        counts.removed,
        if failed.is_empty() { String::new() } else { format!(", {} failed", failed.len()) },
        if dry_run { " (dry run: nothing written)" } else { "" }
    );
}

/// Resolves on Ctrl-C (or SIGTERM on Unix); never, where signals cannot be listened to.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                Ok(()) = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// What writing one fetched page did.
enum Outcome {
    Added,
    Changed,
    Unchanged,
}

/// What the fetch tasks need to write pages.
struct Writer {
    docs: PathBuf,
    site: String,
    dry_run: bool,
}

impl Writer {
    /// Writes one fetched page (with its header) unless it is there
    /// already, byte for byte; `title` is the tree's name for a page whose
    /// answer has none.
    fn apply(&self, job: &Job, detail: &portal::Detail, title: String) -> Result<Outcome, String> {
        let title = if detail.title.is_empty() { title } else { detail.title.clone() };
        let header = header::Header {
            title,
            full_path: job.full_path.clone(),
            update_time: detail.update_time.clone(),
            url: format!("{}/document{}", self.site, job.full_path),
        };
        let text = header::render(&header, &detail.content);
        let path = plan::file_of(&self.docs, &job.rel)?;
        let current = if job.exists { std::fs::read(&path).ok() } else { None };
        if current.as_deref() == Some(text.as_bytes()) {
            return Ok(Outcome::Unchanged);
        }
        if !self.dry_run {
            files::write_atomic(&path, &text)?;
        }
        Ok(if current.is_some() { Outcome::Changed } else { Outcome::Added })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        let mut list = vec!["docs", "sync"];
        list.extend_from_slice(args);
        match crate::flags::parse(list.iter().map(std::ffi::OsString::from).collect())
            .unwrap()
            .subcommand
        {
            crate::flags::XtaskCmd::Docs(docs) => match docs.subcommand {
                crate::flags::DocsCmd::Sync(sync) => sync,
            },
            _ => unreachable!("a docs sync command line"),
        }
    }

    #[test]
    fn options_have_defaults_and_refuse_bad_values() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let defaults = options(&flags(&[]), root).unwrap();
        assert_eq!(
            (defaults.portal.as_str(), defaults.jobs, defaults.language, defaults.selection),
            (DEFAULT_PORTAL, 8, "zh-CN", Selection::Existing)
        );
        assert_eq!(defaults.docs, root.join("spec/docs"));
        let en =
            options(&flags(&["--lang", "en", "--portal", "http://127.0.0.1:9/", "--all"]), root)
                .unwrap();
        assert_eq!(
            (en.portal.as_str(), en.site.as_str(), en.language),
            ("http://127.0.0.1:9", "https://open.larksuite.com", "en-US")
        );
        let services = options(&flags(&["--service", "im,drive", "contact"]), root).unwrap();
        assert_eq!(
            services.selection,
            Selection::Services(vec!["im".into(), "drive".into(), "contact".into()])
        );
        assert!(
            options(&flags(&["--all", "--service", "im"]), root)
                .unwrap_err()
                .contains("alternatives")
        );
        assert!(options(&flags(&["--lang", "fr"]), root).unwrap_err().contains("zh or en"));
        assert!(options(&flags(&["--jobs", "0"]), root).is_err());
        assert!(options(&flags(&["--portal", "ftp://x"]), root).is_err());
        assert!(
            options(&flags(&["--docs", "/no/such/folder"]), root)
                .unwrap_err()
                .contains("no such folder")
        );
    }
}
