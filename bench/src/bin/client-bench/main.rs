//! The client benchmark of `cargo xtask bench`: a fast local server and the
//! Rust clients measured against it.
//!
//! ```text
//! client-bench serve [--port P] [--threads T]
//!     serves on 127.0.0.1 (port 0: any free one), prints its base URL on
//!     stdout, and stops when its standard input closes
//! client-bench run --base URL [--clients generated,raw,hyper] [--calls N]
//!                  [--concurrency C] [--rounds R] [--warmup W]
//!     builds each client, warms it up with W calls, then runs R rounds of N
//!     replies at concurrency C, the clients taking turns (A B A B …); prints
//!     one JSON object per round
//! client-bench memory --base URL [--client generated|raw|hyper] [--calls N]
//!     N replies all at once; prints the peak resident memory (VmHWM)
//! ```
//!
//! The generated client runs as users get it (`Client::builder(..).build()`):
//! validation, the rate limiter, retries, tracing spans and the token cache
//! stay on. No tracing subscriber is installed.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::json;
use tokio::io::AsyncReadExt;

mod clients;
mod server;
mod stats;

use clients::{Caller, Kind};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("memory") => memory(&args[1..]),
        _ => Err("usage: client-bench serve [--port P] [--threads T] | run --base URL [--clients generated,raw,hyper] [--calls N] [--concurrency C] [--rounds R] [--warmup W] | memory --base URL [--client generated|raw|hyper] [--calls N]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("client-bench: {message}");
            ExitCode::from(1)
        }
    }
}

/// `--name value` pairs.
struct Flags<'a>(&'a [String]);

impl Flags<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().position(|a| a == name).and_then(|i| self.0.get(i + 1)).map(String::as_str)
    }

    fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("{name} wants a number, not {v:?}")),
        }
    }

    fn base(&self) -> Result<String, String> {
        self.get("--base").map(str::to_owned).ok_or_else(|| "--base URL is required".into())
    }
}

fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n.max(1));
    }
    builder.enable_all().build().map_err(|e| format!("cannot start tokio: {e}"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let flags = Flags(args);
    let port = flags.number("--port", 0)?;
    let threads = flags.number("--threads", 2)?;
    runtime(Some(threads))?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port as u16))
            .await
            .map_err(|e| format!("cannot bind 127.0.0.1:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("http://{addr}");
        tokio::spawn(server::serve(listener));
        // Until whoever started us closes our standard input (or goes away).
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
        Ok(())
    })
}

/// What one round measured.
struct Round {
    seconds: f64,
    errors: usize,
    first_error: Option<String>,
    /// Per-call latencies in microseconds, sorted.
    latencies: Vec<u32>,
}

/// `calls` replies at `concurrency`, numbered from `first`.
async fn round(caller: &Caller, first: usize, calls: usize, concurrency: usize) -> Round {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, calls.max(1)) {
        let caller = caller.clone();
        let next = next.clone();
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(calls / concurrency.max(1) + 1);
            let (mut errors, mut first_error) = (0, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let sent = Instant::now();
                match caller.call(first + i).await {
                    Ok(()) => {
                        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32)
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error)
        });
    }
    let mut result =
        Round { seconds: 0.0, errors: 0, first_error: None, latencies: Vec::with_capacity(calls) };
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok((latencies, errors, first_error)) => {
                result.latencies.extend(latencies);
                result.errors += errors;
                if result.first_error.is_none() {
                    result.first_error = first_error;
                }
            }
            Err(e) => {
                result.errors += 1;
                result.first_error.get_or_insert(format!("a worker failed: {e}"));
            }
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.latencies.sort_unstable();
    result
}

fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags(args);
    let base = flags.base()?;
    let kinds = flags
        .get("--clients")
        .unwrap_or("generated,raw")
        .split(',')
        .map(|name| {
            Kind::parse(name)
                .ok_or_else(|| format!("unknown client {name:?} (generated, raw, hyper)"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let calls = flags.number("--calls", 2000)?;
    let concurrency = flags.number("--concurrency", 16)?;
    let rounds = flags.number("--rounds", 5)?;
    let warmup = flags.number("--warmup", 200)?;
    runtime(None)?.block_on(async move {
        let mut callers = Vec::new();
        for kind in &kinds {
            let caller =
                Caller::new(*kind, &base).await.map_err(|e| format!("{}: {e}", kind.name()))?;
            let warm = round(&caller, 0, warmup, concurrency).await;
            if let Some(e) = warm.first_error {
                return Err(format!("{}: the warm-up calls fail: {e}", kind.name()));
            }
            callers.push((*kind, caller));
        }
        for r in 0..rounds {
            for (kind, caller) in &callers {
                let measured = round(caller, warmup + r * calls, calls, concurrency).await;
                let line = json!({
                    "client": kind.name(),
                    "round": r,
                    "calls": calls,
                    "concurrency": concurrency,
                    "seconds": measured.seconds,
                    "errors": measured.errors,
                    "first_error": measured.first_error,
                    "p50_us": stats::percentile(&measured.latencies, 50.0),
                    "p99_us": stats::percentile(&measured.latencies, 99.0),
                });
                println!("{line}");
            }
        }
        Ok(())
    })
}

/// A `kB` figure of /proc/self/status (`VmRSS`, `VmHWM`); `None` off Linux.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

fn memory(args: &[String]) -> Result<(), String> {
    let flags = Flags(args);
    let base = flags.base()?;
    let name = flags.get("--client").unwrap_or("generated");
    let kind = Kind::parse(name)
        .ok_or_else(|| format!("unknown client {name:?} (generated, raw, hyper)"))?;
    let calls = flags.number("--calls", 1000)?;
    runtime(None)?.block_on(async move {
        let caller = Caller::new(kind, &base).await?;
        let warm = round(&caller, 0, 1, 1).await;
        if let Some(e) = warm.first_error {
            return Err(format!("{}: the first call fails: {e}", kind.name()));
        }
        let before = status_kb("VmRSS");
        let measured = round(&caller, 1, calls, calls).await;
        let line = json!({
            "client": kind.name(),
            "calls": calls,
            "concurrency": calls,
            "seconds": measured.seconds,
            "errors": measured.errors,
            "first_error": measured.first_error,
            "rss_before_kb": before,
            "peak_rss_kb": status_kb("VmHWM"),
        });
        println!("{line}");
        Ok(())
    })
}
