//! `cargo xtask docs sync [--portal URL] [--docs DIR] [--all | --service NAME… | --path FULLPATH…] [--lang zh|en] [--dry-run] [--jobs N] [--prune] [--max-pages N] [--max-mb N] [--regen [--out OUT]]`:
//! pulls doc pages from the Feishu doc portal into a folder of pages.
//!
//! The folder is read without following symbolic links ([`walk`]: each link
//! is named and skipped, and nothing is written or deleted through one). The
//! tree is read first ([`portal`]); [`plan`] then decides which local files
//! are which pages, which pages to fetch and where they go ([`layout`]), and
//! which synced pages are gone upstream. Pages are fetched `--jobs` at a time
//! (default 8), a task spawned only as a slot frees ([`Slots`]), each written
//! atomically ([`files`]) under its [`header`] only when its text changed.
//!
//! Bounds: at most `--max-pages` pages (default 5000) and `--max-mb` MiB of
//! answers (default 512) in one run; past the first nothing is fetched, past
//! the second the run stops (exit 1), every page written so far whole. Synced
//! pages gone upstream are deleted only by a run over the whole folder
//! (`--all`, or no selection), and more than 5% of them at once only with
//! `--prune`: a truncated tree looks just like a mass deletion, so the run
//! deletes nothing, names the count and exits 1. The run ends with one summary
//! line, then names the pages that failed (exit 1) or prints the next step
//! (`--regen` runs it). A progress bar shows on a terminal; elsewhere each
//! change is one line. `--dry-run` fetches but writes and deletes nothing.
//! Ctrl-C or SIGTERM stops the run between two writes (exit 1): every page
//! written is whole and no temporary file is left; a SIGKILL can leave one
//! hidden temporary file, which the next run removes.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::flags::Sync as Flags;

pub mod files;
pub mod header;
pub mod layout;
pub mod plan;
pub mod portal;
pub mod walk;

use plan::{Job, Selection};

/// The portal used without `--portal`.
pub const DEFAULT_PORTAL: &str = "https://open.feishu.cn";
const DEFAULT_JOBS: usize = 8;
/// Pages fetched in one run at most, without `--max-pages`: about four times
/// the Server API (1,204 pages in the shared corpus).
pub const DEFAULT_MAX_PAGES: usize = 5_000;
/// MiB of page answers fetched in one run at most, without `--max-mb`: about
/// fifteen times the whole Server API (34 MB of pages).
pub const DEFAULT_MAX_MB: u64 = 512;
/// Synced pages gone upstream, as a share of all synced pages (percent), that
/// one run deletes without `--prune`.
pub const PRUNE_PERCENT: usize = 5;
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
    prune: bool,
    max_pages: usize,
    max_bytes: u64,
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
    if flags.prune && !selection.whole_folder() {
        return Err("--prune goes with --all or no selection: only a run over the whole folder deletes pages".into());
    }
    let max_pages = flags.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
    let max_mb = flags.max_mb.unwrap_or(DEFAULT_MAX_MB);
    if max_pages == 0 || max_mb == 0 {
        return Err("--max-pages and --max-mb: at least 1".into());
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
        prune: flags.prune,
        max_pages,
        max_bytes: max_mb.saturating_mul(1024 * 1024),
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
    let finished = runtime.block_on(sync(&options))?;
    if !finished.failed.is_empty() {
        eprintln!(
            "docs sync: {} page(s) failed; every other page was written:",
            finished.failed.len()
        );
        for (page, why) in &finished.failed {
            eprintln!("  {page}: {why}");
        }
    }
    if let Some(refusal) = &finished.kept {
        eprintln!("docs sync: {refusal}");
    }
    if !finished.failed.is_empty() || finished.kept.is_some() {
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

/// How a run ended, short of an error.
struct Finished {
    /// The pages that failed, with why.
    failed: Vec<(String, String)>,
    /// Why synced pages gone upstream were kept, when that fails the run.
    kept: Option<String>,
}

/// What becomes of the synced pages gone upstream.
#[derive(Debug, PartialEq, Eq)]
enum Prune {
    /// Delete them (there may be none).
    Delete,
    /// Keep them, with a note; `fails` when the run must exit 1.
    Keep { why: String, fails: bool },
}

/// Decides [`Prune`] for `gone` of `synced` synced pages.
fn prune(gone: usize, synced: usize, selection: &Selection, forced: bool) -> Prune {
    if gone == 0 || forced {
        return Prune::Delete;
    }
    if !selection.whole_folder() {
        return Prune::Keep {
            why: format!(
                "{gone} synced page(s) are gone from the portal's tree and were kept: only a run \
                 over the whole folder (--all, or no selection) deletes pages"
            ),
            fails: false,
        };
    }
    if gone * 100 > synced * PRUNE_PERCENT {
        return Prune::Keep {
            why: format!(
                "{gone} of the {synced} synced pages are gone from the portal's tree, more than \
                 {PRUNE_PERCENT}% at once, which is what a truncated tree looks like: none was \
                 deleted. If they really are gone, run again with --prune"
            ),
            fails: true,
        };
    }
    Prune::Delete
}

/// The fetch tasks: at most `limit` alive, each spawned only when a slot is
/// free, so a run of thousands of pages holds `limit` tasks, not one per page.
struct Slots<T> {
    tasks: tokio::task::JoinSet<T>,
    limit: usize,
}

impl<T: Send + 'static> Slots<T> {
    fn new(limit: usize) -> Slots<T> {
        Slots { tasks: tokio::task::JoinSet::new(), limit }
    }

    /// Spawns what `next` gives until every slot is taken or it gives nothing.
    fn fill<F>(&mut self, mut next: impl FnMut() -> Option<F>)
    where
        F: Future<Output = T> + Send + 'static,
    {
        while self.tasks.len() < self.limit {
            let Some(task) = next() else { break };
            self.tasks.spawn(task);
        }
    }

    async fn join_next(&mut self) -> Option<Result<T, tokio::task::JoinError>> {
        self.tasks.join_next().await
    }

    fn abort_all(&mut self) {
        self.tasks.abort_all();
    }
}

/// How one fetch task ended.
enum Done {
    /// Fetched; what writing it did.
    Fetched(Result<Outcome, String>),
    /// Not fetched, with why.
    Failed(String),
    /// Fetched past `--max-mb`: not written.
    OverBudget,
}

/// The sync itself.
async fn sync(options: &Options) -> Result<Finished, String> {
    let docs = &options.docs;
    if docs.exists() {
        let leftovers = files::remove_leftovers(docs)?;
        if leftovers > 0 {
            eprintln!("docs sync: removed {leftovers} temporary file(s) an interrupted run left");
        }
    }
    let listing = walk::page_files(docs)?;
    for link in &listing.links {
        eprintln!("docs sync: skipped {link}: a symbolic link (the sync never follows one)");
    }
    let locals = plan::scan(docs, &listing.files)?;
    let derived = plan::derived_urls(docs, &listing.files, &locals)?;
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
    if plan.jobs.len() > options.max_pages {
        return Err(format!(
            "{} pages to fetch, more than --max-pages allows ({}; default {DEFAULT_MAX_PAGES}): \
             nothing was fetched. If the portal really has that many, raise it",
            plan.jobs.len(),
            options.max_pages
        ));
    }
    for (rel, why) in &plan.left_alone {
        eprintln!("docs sync: left alone {rel}: {why}");
    }
    let prune = prune(plan.removed.len(), plan.synced, &options.selection, options.prune);
    let names: BTreeMap<&str, &str> =
        tree.iter().map(|p| (p.full_path.as_str(), p.name.as_str())).collect();
    let mut counts =
        Counts { listed: tree.iter().filter(|p| p.server_api).count(), ..Counts::default() };
    let mut failed: Vec<(String, String)> = plan.refused.clone();
    let progress = Progress::new(plan.jobs.len());
    let verb = |done: &str, would: &'static str| {
        if options.dry_run { would.to_string() } else { done.to_string() }
    };

    let writer = Arc::new(Writer {
        docs: options.docs.clone(),
        site: options.site.clone(),
        dry_run: options.dry_run,
    });
    let spent = Arc::new(AtomicU64::new(0));
    let max_bytes = options.max_bytes;
    let mut pending = plan.jobs.iter().cloned();
    let mut over_budget = false;
    let mut slots = Slots::new(options.jobs);
    let interrupted = interrupted();
    tokio::pin!(interrupted);
    loop {
        if !over_budget {
            slots.fill(|| {
                let job = pending.next()?;
                let (client, writer, spent) = (client.clone(), writer.clone(), spent.clone());
                let title = names.get(job.full_path.as_str()).copied().unwrap_or("").to_string();
                Some(async move {
                    let done = match client.detail(&job.full_path).await {
                        Err(error) => Done::Failed(error),
                        Ok(detail) => {
                            let bytes = detail.bytes as u64;
                            if spent.fetch_add(bytes, Ordering::Relaxed) + bytes > max_bytes {
                                Done::OverBudget
                            } else {
                                // Written by the task that fetched it, so that pages are
                                // written on every worker at once (one after another, the
                                // writes set the pace when the file system is slow). No
                                // await lies between a write and its rename, so a stop
                                // never lands mid-page.
                                Done::Fetched(writer.apply(&job, &detail, title))
                            }
                        }
                    };
                    (job, done)
                })
            });
        }
        // Pages are written between polls, so a Ctrl-C or SIGTERM never lands mid-write.
        let joined = tokio::select! {
            biased;
            () = &mut interrupted => {
                slots.abort_all();
                progress.finish();
                print_summary(&counts, &failed, options.dry_run);
                return Err("interrupted: every page written so far is complete; run the same command again to finish".into());
            }
            joined = slots.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let Ok((job, done)) = joined else {
            return Err("a fetch task stopped unexpectedly".into());
        };
        progress.tick();
        match done {
            Done::Fetched(Ok(Outcome::Unchanged)) => {
                counts.fetched += 1;
                counts.unchanged += 1;
            }
            Done::Fetched(Ok(Outcome::Changed)) => {
                counts.fetched += 1;
                counts.changed += 1;
                progress.line(&format!("{} {}", verb("changed", "would change"), job.rel));
            }
            Done::Fetched(Ok(Outcome::Added)) => {
                counts.fetched += 1;
                counts.added += 1;
                progress.line(&format!("{} {}", verb("added", "would add"), job.rel));
            }
            Done::Fetched(Err(error)) => {
                counts.fetched += 1;
                failed.push((job.full_path, error));
            }
            Done::Failed(error) => failed.push((job.full_path, error)),
            // The tasks still running finish; no new one starts.
            Done::OverBudget => over_budget = true,
        }
    }
    progress.finish();
    if over_budget {
        print_summary(&counts, &failed, options.dry_run);
        return Err(format!(
            "stopped: the pages fetched came to more than --max-mb allows ({} MiB; default \
             {DEFAULT_MAX_MB}); every page written so far is complete, and nothing was deleted. \
             If the portal really is that large, raise it",
            max_bytes / (1024 * 1024)
        ));
    }
    let kept = match prune {
        Prune::Delete => {
            for rel in &plan.removed {
                let path = plan::file_of(docs, rel)?;
                if !options.dry_run {
                    walk::refuse_links(docs, rel)?;
                    files::remove_page(docs, &path)?;
                }
                counts.removed += 1;
                progress.line(&format!("{} {rel}", verb("removed upstream", "would remove")));
            }
            None
        }
        Prune::Keep { why, fails: false } => {
            eprintln!("docs sync: {why}");
            None
        }
        Prune::Keep { why, fails: true } => Some(why),
    };
    failed.sort();
    print_summary(&counts, &failed, options.dry_run);
    Ok(Finished { failed, kept })
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
        walk::refuse_links(&self.docs, &job.rel)?;
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
        assert_eq!(
            (defaults.prune, defaults.max_pages, defaults.max_bytes),
            (false, DEFAULT_MAX_PAGES, DEFAULT_MAX_MB * 1024 * 1024)
        );
        let raised =
            options(&flags(&["--all", "--prune", "--max-pages=9", "--max-mb", "2"]), root).unwrap();
        assert_eq!((raised.prune, raised.max_pages, raised.max_bytes), (true, 9, 2 << 20));
        assert!(
            options(&flags(&["--path", "/a", "--prune"]), root)
                .unwrap_err()
                .contains("--prune goes with --all or no selection")
        );
        assert!(options(&flags(&["--max-pages", "0"]), root).is_err());
        assert!(options(&flags(&["--max-mb", "0"]), root).is_err());
        assert!(options(&flags(&["--portal", "ftp://x"]), root).is_err());
        assert!(
            options(&flags(&["--docs", "/no/such/folder"]), root)
                .unwrap_err()
                .contains("no such folder")
        );
    }

    #[test]
    fn gone_pages_are_deleted_only_by_whole_runs_and_only_a_few_without_prune() {
        let whole = Selection::Existing;
        assert_eq!(prune(0, 0, &whole, false), Prune::Delete);
        assert_eq!(prune(1, 20, &whole, false), Prune::Delete, "5% is allowed");
        assert_eq!(prune(1, 20, &Selection::All, false), Prune::Delete);
        let Prune::Keep { why, fails: true } = prune(2, 20, &whole, false) else {
            panic!("10% deleted without --prune")
        };
        assert!(why.starts_with("2 of the 20 synced pages are gone"), "{why}");
        assert_eq!(prune(20, 20, &whole, true), Prune::Delete);
        let paths = Selection::Paths(vec!["/a".into()]);
        assert!(matches!(prune(1, 100, &paths, false), Prune::Keep { fails: false, .. }));
        assert!(matches!(
            prune(1, 100, &Selection::Services(vec!["im".into()]), false),
            Prune::Keep { fails: false, .. }
        ));
    }

    /// A task exists only while it holds a slot: never more than the limit
    /// at once, however many pages wait.
    #[test]
    fn slots_spawn_a_task_only_when_one_is_free() {
        use std::sync::atomic::AtomicUsize;

        struct Alive(Arc<(AtomicUsize, AtomicUsize)>);
        impl Alive {
            fn new(counts: &Arc<(AtomicUsize, AtomicUsize)>) -> Alive {
                let now = counts.0.fetch_add(1, Ordering::SeqCst) + 1;
                counts.1.fetch_max(now, Ordering::SeqCst);
                Alive(counts.clone())
            }
        }
        impl Drop for Alive {
            fn drop(&mut self) {
                self.0.0.fetch_sub(1, Ordering::SeqCst);
            }
        }

        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let done = runtime.block_on(async {
            let mut items = 0..200;
            let mut slots = Slots::new(3);
            let mut done = 0;
            loop {
                slots.fill(|| {
                    let item = items.next()?;
                    let alive = Alive::new(&counts);
                    Some(async move {
                        tokio::task::yield_now().await;
                        drop(alive);
                        item
                    })
                });
                match slots.join_next().await {
                    Some(joined) => done += usize::from(joined.is_ok()),
                    None => break done,
                }
            }
        });
        assert_eq!(done, 200);
        assert_eq!(counts.1.load(Ordering::SeqCst), 3, "at most 3 tasks at once");
    }
}
