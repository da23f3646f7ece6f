//! `cargo xtask bench [--json] [--quick] [--only parse,client,compile,sync,ws,upload,redis]`: this project side by
//! side with what a user would pick instead, each figure a ratio taken in one run.
//!
//! - parse: `cargo xtask parse` over `../shared/corpus` and the seed pages
//!   vs a release program that only walks pulldown-cmark's events and parses
//!   every page with scraper (`bench/src/bin/parse-floor.rs`);
//! - client: replies through the generated client vs hand-written reqwest +
//!   serde_json, lark-oapi (Python) and @larksuiteoapi/node-sdk, all against
//!   the same local server (`bench/src/bin/client-bench`);
//! - compile: build time per operation of the crate generated from the whole
//!   corpus vs larksuite-oapi-sdk-rs from crates.io;
//! - sync: `cargo xtask docs sync --all` of `../shared/corpus/raw` from the
//!   local doc portal vs a plain concurrent fetch of the same URLs
//!   (`bench/src/bin/raw-fetch.rs`);
//! - ws: 5,000 events delivered by the sandbox over the long connection and
//!   acked, our client (`bench/src/bin/ws-bench.rs`) vs lark-oapi's
//!   `lark.ws.Client` (`bench/peers/lark_ws_bench.py`);
//! - upload: a 200 MiB file streamed to the sandbox by the generated client
//!   vs hand-written streaming reqwest, and the client's peak memory
//!   (`bench/src/bin/upload-bench.rs`);
//! - redis: the long connection's time per event with the Redis dedup store
//!   over its time with the in-memory one (`ws-bench --redis`, a real
//!   `redis-server`).
//!
//! Runs alternate (A B A B …) and medians are quoted. Everything is built and
//! installed under `target/bench` and `target/peers`; a peer that cannot be
//! installed leaves its figure `null` with the reason. Progress goes to
//! stderr; stdout gets the Markdown table, or the JSON object with `--json`.
//! The table is also written to `target/bench/latest.md`. `--only
//! parse,client,…` runs some sections; the others' keys are then `null`.
//! Each section builds only what it needs: the client runner (release, with a
//! generated client) only for parse, client, ws, upload and redis, the light
//! `raw-fetch` package only for sync.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

mod client;
mod compile;
mod machine;
mod node;
mod parse_time;
mod redis_dedup;
mod report;
mod runner;
mod sync;
mod upload;
mod ws;

/// The sections `--only` takes, in the order they run.
pub const SECTIONS: [&str; 7] = ["parse", "client", "compile", "sync", "ws", "upload", "redis"];

use report::Report;

/// How much to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Replies per round.
    pub calls: usize,
    /// Alternated rounds of the two Rust clients (short: a round of 2,000
    /// calls takes well under a second).
    pub rounds: usize,
    /// Alternated rounds of the generated client and each peer.
    pub peer_rounds: usize,
    /// Warm-up calls before measuring a client.
    pub warmup: usize,
    /// Alternated runs of the parse figures.
    pub parse_rounds: usize,
    /// Alternated builds of the compile figure.
    pub compile_rounds: usize,
    /// Runs of each regen timing.
    pub regen_rounds: usize,
    /// Alternated runs of the sync figure.
    pub sync_rounds: usize,
    /// The pause before the sync figure's timed runs, so that files deleted
    /// just before no longer slow the creation of new ones (see
    /// `bench/sync.rs`).
    pub sync_settle: std::time::Duration,
    /// Alternated uploads of each client for the upload figures.
    pub upload_rounds: usize,
    /// Alternated rounds (client processes) of each long-connection client.
    pub ws_rounds: usize,
}

impl Plan {
    fn full() -> Self {
        Plan {
            calls: 2000,
            rounds: 21,
            peer_rounds: 5,
            warmup: 500,
            parse_rounds: 5,
            compile_rounds: 2,
            regen_rounds: 3,
            sync_rounds: 5,
            sync_settle: std::time::Duration::from_secs(65),
            upload_rounds: 11,
            ws_rounds: 5,
        }
    }

    fn quick() -> Self {
        Plan {
            calls: 300,
            rounds: 3,
            peer_rounds: 2,
            warmup: 50,
            parse_rounds: 1,
            compile_rounds: 1,
            regen_rounds: 1,
            sync_rounds: 2,
            sync_settle: std::time::Duration::ZERO,
            upload_rounds: 3,
            ws_rounds: 2,
        }
    }
}

/// The xtask binary as it was when the bench started. The sync section runs
/// `cargo xtask`, which rebuilds the binary if a source changed since; the
/// running binary's own path (`/proc/self/exe`) then reads `… (deleted)`,
/// and the sections after it could not start the sandbox.
static XTASK: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The path of the xtask binary (see [`XTASK`]).
pub fn xtask_exe() -> Result<PathBuf, String> {
    if let Some(path) = XTASK.get() {
        return Ok(path.clone());
    }
    let path = std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    Ok(XTASK.get_or_init(|| path).clone())
}

/// Runs the benchmark from the workspace root.
pub fn run(flags: &crate::flags::Bench, root: &Path) -> Result<ExitCode, String> {
    xtask_exe()?;
    let (json, quick) = (flags.json, flags.quick);
    let only: Option<Vec<String>> =
        flags.only.as_ref().map(|list| list.split(',').map(|s| s.trim().to_owned()).collect());
    if let Some(unknown) = only.iter().flatten().find(|s| !SECTIONS.contains(&s.as_str())) {
        return Err(format!(
            "--only {unknown:?}: not a section; the sections are {}",
            SECTIONS.join(", ")
        ));
    }
    let wanted = |section: &str| only.as_ref().is_none_or(|o| o.iter().any(|s| s == section));
    let plan = if quick { Plan::quick() } else { Plan::full() };
    let dir = root.join("target").join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let started = Instant::now();
    let mut report = Report { machine: machine::describe(), ..Report::default() };

    let bins = if ["parse", "client", "ws", "upload", "redis"].into_iter().any(wanted) {
        progress(
            "building the benchmark programs (release) and a client with the reply limits raised",
        );
        let bins = runner::build(root, &dir);
        if let Err(why) = &bins {
            progress(&format!("cannot build the benchmark programs: {why}"));
        }
        Some(bins)
    } else {
        None
    };
    let built = bins.as_ref().and_then(|b| b.as_ref().ok());

    if wanted("parse") {
        parse_time::measure(root, built, &plan, &mut report);
    }
    if wanted("client") {
        client::measure(root, built, &plan, &mut report);
    }
    if let Some(Err(why)) = &bins {
        for ratio in report
            .ratios
            .iter_mut()
            .filter(|r| r.key.starts_with("parse_") || r.key.starts_with("client_"))
        {
            if let Err(reason) = &mut ratio.value {
                reason.push_str(&format!(" (the benchmark programs did not build: {why})"));
            }
        }
    }
    if wanted("compile") {
        compile::measure(root, &dir, &plan, &mut report);
    }
    if wanted("sync") {
        sync::measure(root, &dir, &plan, &mut report);
    }
    if wanted("ws") {
        ws::measure(root, bins.as_ref(), &plan, &mut report);
    }
    if wanted("upload") {
        upload::measure(&dir, bins.as_ref(), &plan, &mut report);
    }
    if wanted("redis") {
        redis_dedup::measure(root, bins.as_ref(), &plan, &mut report);
    }
    // The ratios in the order of the keys.
    report.ratios.sort_by_key(|r| report::position(r.key));

    let markdown = report.to_markdown();
    let latest = dir.join("latest.md");
    if let Err(e) = std::fs::write(&latest, &markdown) {
        progress(&format!("cannot write {}: {e}", latest.display()));
    }
    progress(&format!(
        "done in {}; the table is in {}",
        report::seconds(started.elapsed().as_secs_f64()),
        latest.display()
    ));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).expect("JSON values serialise")
        );
    } else {
        print!("{markdown}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress line on stderr.
pub fn progress(message: &str) {
    eprintln!("bench: {message}");
}

/// The cargo that runs us.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A cargo command for a package outside the workspace: in `dir`, with its
/// own target folder, without the flags of the cargo that runs us.
pub fn cargo_in(dir: &Path, target: &Path) -> Command {
    let mut command = Command::new(cargo());
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PRIMARY_PACKAGE");
    command
}

/// Runs `command` to the end, its stdout discarded; returns the wall time in
/// seconds, or an error with the end of its stderr.
pub fn timed(command: &mut Command) -> Result<f64, String> {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    if output.status.success() {
        Ok(elapsed)
    } else {
        Err(format!(
            "{} failed ({}): {}",
            describe(command),
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 1500)
        ))
    }
}

/// Runs `command` and returns its stdout, or an error with the end of its stderr.
pub fn output(command: &mut Command) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", describe(command)))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{} failed ({}): {}",
            describe(command),
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 1500)
        ))
    }
}

/// The program and arguments of `command`, for messages.
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The last `max` bytes of `text`, on a char boundary.
pub fn tail(text: &str, max: usize) -> &str {
    let text = text.trim_end();
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// The JSON objects printed one per line by the benchmark programs.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line.trim()).ok())
        .filter(|v: &serde_json::Value| v.is_object())
        .collect()
}

/// A running local server; stopped (by its own id) when dropped.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts `client-bench serve` and waits for its address.
    pub fn start(client_bench: &Path) -> Result<Self, String> {
        let mut command = Command::new(client_bench);
        command.args(["serve", "--port", "0", "--threads", "2"]);
        Self::spawn(command, "")
    }

    /// Starts `cargo xtask sandbox --port 0 ARGS…` (this very binary: the
    /// build the user runs) and waits until it listens.
    pub fn sandbox(args: &[&std::ffi::OsStr]) -> Result<Self, String> {
        let mut command = Command::new(xtask_exe()?);
        command.args(["sandbox", "--port", "0"]).args(args);
        Self::spawn(command, "listening on ")
    }

    /// Runs `command`, whose first line on stdout is `prefix` then its base URL.
    fn spawn(mut command: Command, prefix: &str) -> Result<Self, String> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", describe(&command)))?;
        let mut stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).map_err(|e| e.to_string())? == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&line).trim().to_string();
        let base = line.strip_prefix(prefix).unwrap_or(&line).trim().to_string();
        if !base.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not report its address (got {line:?})",
                describe(&command)
            ));
        }
        Ok(Server { child, base })
    }
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing its stdin stops it; kill it too in case it hangs.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binaries of the benchmark runner.
#[derive(Debug, Clone)]
pub struct Bins {
    /// `parse-floor`.
    pub parse_floor: PathBuf,
    /// `client-bench`.
    pub client_bench: PathBuf,
    /// `upload-bench`.
    pub upload_bench: PathBuf,
    /// `ws-bench`.
    pub ws_bench: PathBuf,
    /// `ws-harness`.
    pub ws_harness: PathBuf,
}
