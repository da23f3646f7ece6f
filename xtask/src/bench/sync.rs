//! `sync_time_vs_raw_fetch_local` and `sync_time_vs_raw_fetch_wan`:
//! `cargo xtask docs sync --all`, as a user runs it (through cargo, dev
//! profile), of the whole `../shared/corpus/raw` served by one local doc
//! portal (`cargo xtask sandbox --docs`), into an empty folder, against
//! `raw-fetch` (`bench/src/bin/raw-fetch.rs`, release): the same tree call
//! and the same `get_detail` URLs, 8 at a time, each page's content written
//! plainly to a file.
//!
//! Two figures, from the same portal process (issue 28):
//! - **local**: the portal answers in microseconds, so the ratio is mostly
//!   the sync's fixed costs (cargo's start-up, its planning) over a fetch
//!   that takes about a second. Reported without a goal, also under its
//!   first name `sync_time_vs_raw_fetch`.
//! - **wan**: the portal waits [`LATENCY_MS`] before every answer (its
//!   `delay` fault rule, added through `POST /_sandbox/faults`), as the real
//!   portal's round trip does. What matters there is whether the sync keeps
//!   8 requests in flight as well as a plain concurrent fetch, so the figure
//!   times the xtask binary itself (the sync's program, as built for the
//!   run) against raw-fetch: cargo's start-up is a constant of the local
//!   figure, not of the pipe. The same sync through cargo is timed in the
//!   same rounds and quoted beside it. Goal ≤ 1.05.
//!
//! Both write the pages: the sync's product is pages on disk, and a fetch
//! that discarded them would charge the sync for the writes any useful fetch
//! makes. What the ratio shows is the rest: the sync's header, its atomic
//! writes, its checks and retries, its planning and cargo's start-up.
//!
//! Both run against the same portal process, whole processes timed, after
//! one untimed run each; then alternately (A B A B …), each into a fresh
//! folder; medians quoted.
//!
//! No folder is deleted between the timed runs, and they start
//! [`Plan::sync_settle`] after the section's own deletion of a previous
//! run's folders. This disk is ext4 without a journal: there, a new inode
//! skips every inode of its group freed in the last 60 s (360 s while the freed inode's table block is
//! unwritten: `recently_deleted()` in `fs/ext4/ialloc.c`), one buffer lookup
//! each. A run that came right after the previous run's folder was removed
//! spent 0.3–1 s of system time in that scan (`find_inode_bit` and
//! `recently_deleted`: 43 % of the sync's samples under `perf`), more for the
//! sync, whose new folders the allocator spreads over the freed groups, than
//! for the plain fetch's one folder. The figure would then rank the file
//! system's memory of the last run, not the programs. The folders are
//! removed at the end.

use std::path::Path;
use std::process::Command;

use super::report::{self, Ratio, Report, median};
use super::{Plan, Server, cargo, json_lines, output, progress, timed, xtask_exe};

/// Requests in flight at once: the sync's default `--jobs`.
const CONCURRENCY: usize = 8;

/// The portal's wait before each answer for the `wan` figure: a round trip
/// from a machine in the same region as the portal.
const LATENCY_MS: u64 = 40;

/// The keys this section reports: the local figure under its first name and
/// its new one, then the figure at the portal's real latency.
const KEYS: [&str; 3] =
    ["sync_time_vs_raw_fetch", "sync_time_vs_raw_fetch_local", "sync_time_vs_raw_fetch_wan"];

/// Adds the sync figures to `report`.
pub fn measure(root: &Path, dir: &Path, plan: &Plan, report: &mut Report) {
    let figures = compare(root, dir, plan, report).unwrap_or_else(|why| {
        progress(&format!("sync: not measured: {why}"));
        vec![Err(why.clone()), Err(why)]
    });
    let (local, wan) = (&figures[0], &figures[1]);
    for (key, figure) in KEYS.into_iter().zip([local, local, wan]) {
        report.ratios.push(match figure {
            Ok((v, detail)) => Ratio { key, value: Ok(*v), detail: detail.clone() },
            Err(why) => Ratio { key, value: Err(why.clone()), detail: String::new() },
        });
    }
}

type Figure = Result<(f64, String), String>;

/// The local figure, then the one at [`LATENCY_MS`].
fn compare(
    root: &Path,
    dir: &Path,
    plan: &Plan,
    report: &mut Report,
) -> Result<Vec<Figure>, String> {
    let corpus = root.join("..").join("shared").join("corpus").join("raw");
    if !corpus.is_dir() {
        return Err(format!("the corpus {} is absent", corpus.display()));
    }
    let fetch = super::runner::build_fetch(root, dir)
        .map_err(|e| format!("raw-fetch did not build: {e}"))?;
    let portal = Server::sandbox(&["--docs".as_ref(), corpus.as_os_str()])
        .map_err(|e| format!("the doc portal did not start: {e}"))?;
    let base = portal.base.clone();
    progress(&format!("sync: doc portal serving {} at {base}", corpus.display()));
    let work = dir.join("sync");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    }
    let settled = std::time::Instant::now() + plan.sync_settle;
    // Run `n` of each writes into its own folder: see the module's comment.
    let ours_dir = |n: usize| work.join(format!("docs-sync-{n}"));
    let theirs_dir = |n: usize| work.join(format!("raw-fetch-{n}"));
    let exe = xtask_exe()?;
    // Through cargo as a user runs it, or the xtask binary alone: the wan
    // figure asks whether the sync keeps the pipe full, which cargo's
    // start-up (the local figure's subject) has no part in.
    let sync_via = |n: usize, through_cargo: bool| {
        let mut command = Command::new(if through_cargo { cargo().into() } else { exe.clone() });
        if through_cargo {
            command.arg("xtask");
        }
        command
            .current_dir(root)
            .args([
                "docs",
                "sync",
                "--all",
                "--portal",
                &base,
                "--jobs",
                &CONCURRENCY.to_string(),
                "--docs",
            ])
            .arg(ours_dir(n))
            .env_remove("DOCS_SYNC_TIMEOUT_MS")
            .env_remove("DOCS_SYNC_BACKOFF_MS");
        command
    };
    let sync = |n: usize| sync_via(n, true);
    let raw = |n: usize| {
        let mut command = Command::new(&fetch);
        command.arg(&base).arg(theirs_dir(n)).arg(CONCURRENCY.to_string());
        command
    };

    // One untimed run each, checked: the same pages, all of them.
    timed(&mut sync(0))?;
    let synced = count_pages(&ours_dir(0));
    let fetched = json_lines(&output(&mut raw(0))?)
        .first()
        .and_then(|l| l["pages"].as_u64())
        .ok_or("raw-fetch printed no page count")? as usize;
    if synced != fetched || fetched == 0 {
        return Err(format!(
            "docs sync wrote {synced} pages but raw-fetch fetched {fetched}: they would not do the same work"
        ));
    }
    let wait = settled.saturating_duration_since(std::time::Instant::now());
    if !wait.is_zero() {
        progress(&format!(
            "sync: waiting {} s for the file system to forget recent deletions",
            wait.as_secs()
        ));
        std::thread::sleep(wait);
    }
    let rounds = plan.sync_rounds;
    let mut figures = Vec::new();
    for (first, latency) in [(1, None), (2 * rounds + 1, Some(LATENCY_MS))] {
        let (from, ours_name) = match latency {
            None => ("the local portal".to_owned(), "cargo xtask docs sync --all"),
            Some(ms) => {
                add_delay(&base, ms)?;
                (format!("the portal answering after {ms} ms"), "xtask docs sync --all")
            }
        };
        progress(&format!(
            "sync: {ours_name} vs raw-fetch, {fetched} pages at concurrency {CONCURRENCY} from {from}, {rounds} alternate runs",
        ));
        let (mut ours, mut theirs, mut via_cargo) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ours_cpu, mut theirs_cpu) = (Vec::new(), Vec::new());
        for n in first..first + rounds {
            if latency.is_some() {
                via_cargo.push(timed(&mut sync_via(n + rounds, true))?);
            }
            let before = children_cpu();
            ours.push(timed(&mut sync_via(n, latency.is_none()))?);
            ours_cpu.extend(children_cpu().zip(before).map(|(after, before)| after - before));
            let before = children_cpu();
            theirs.push(timed(&mut raw(n))?);
            theirs_cpu.extend(children_cpu().zip(before).map(|(after, before)| after - before));
        }
        if let (Some(a), Some(b)) = (median(&ours_cpu), median(&theirs_cpu)) {
            report.extra.push((
                format!("CPU time (user + system) of the processes of one sync of {fetched} pages from {from} (medians of {rounds})"),
                format!(
                    "{ours_name} {} vs raw-fetch {}: ratio {}",
                    report::seconds(a),
                    report::seconds(b),
                    report::ratio(Some(a), Some(b)).map_or("n/a".into(), report::fmt_ratio)
                ),
            ));
        }
        let (a, b) = (median(&ours), median(&theirs));
        let mut detail = format!(
            "{fetched} pages at concurrency {CONCURRENCY} from {from}: {ours_name} {} vs raw-fetch {} (medians of {rounds} alternate runs)",
            a.map_or("n/a".into(), report::seconds),
            b.map_or("n/a".into(), report::seconds),
        );
        if let Some(c) = median(&via_cargo) {
            detail.push_str(&format!(
                "; through cargo, as a user runs it, {} (ratio {})",
                report::seconds(c),
                report::ratio(Some(c), b).map_or("n/a".into(), report::fmt_ratio)
            ));
        }
        progress(&format!("sync: {detail}"));
        figures.push(report::ratio(a, b).map(|v| (v, detail)));
    }
    drop(portal);
    let _ = std::fs::remove_dir_all(&work);
    Ok(figures)
}

/// The portal's two calls: the tree and a page (a portal fault rule applies
/// only where its `path_prefix` says).
const PORTAL_PATHS: [&str; 2] = ["/api/tools/docment/", "/document_portal/"];

/// Makes the portal wait `ms` before every answer from now on: a `delay`
/// fault rule without a count for each of its paths.
fn add_delay(base: &str, ms: u64) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        for prefix in PORTAL_PATHS {
            let rule = serde_json::json!({ "kind": "delay", "millis": ms, "path_prefix": prefix });
            let response = reqwest::Client::new()
                .post(format!("{base}/_sandbox/faults"))
                .json(&rule)
                .timeout(std::time::Duration::from_secs(30))
                .send()
                .await
                .map_err(|e| format!("POST /_sandbox/faults: {e}"))?;
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            if !status.is_success() {
                let body: String = body.chars().take(160).collect();
                return Err(format!(
                    "POST /_sandbox/faults: HTTP {}: {}",
                    status.as_u16(),
                    body.trim()
                ));
            }
        }
        Ok(())
    })
}

/// The CPU time, in seconds, of this process's children that have ended and
/// been waited for (`cutime` + `cstime` of `/proc/self/stat`, in the kernel's
/// 100 Hz ticks); `None` off Linux. A child's descendants that it waited for
/// count too (cargo's `xtask`). Less disturbed than wall time by other load
/// on the machine.
fn children_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses, start at the third.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(16)? + ticks(17)?) / 100.0)
}

/// The `.md` files under `dir`, recursively (hidden ones, such as an
/// interrupted write's, excluded).
fn count_pages(dir: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if path.is_dir() && !hidden {
                stack.push(path);
            } else if !hidden && path.extension().is_some_and(|e| e == "md") {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_recursively_without_hidden_files() {
        let dir =
            std::env::temp_dir().join(format!("xtask-bench-sync-count-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for file in [
            "a.md",
            "im/v1/b.md",
            "im/v1/c.md",
            "im/v1/.d.md.tmp",
            "im/v1/.e.md",
            ".hidden/f.md",
            "im/notes.txt",
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        assert_eq!(count_pages(&dir), 3);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(count_pages(&dir), 0);
    }

    #[test]
    fn children_cpu_grows_with_a_busy_child() {
        let Some(before) = children_cpu() else { return };
        // About 0.1 s of CPU in a child that this process waits for.
        let status = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        let after = children_cpu().unwrap();
        assert!(after > before, "{before} → {after}");
    }
}
