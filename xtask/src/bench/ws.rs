//! `ws_events_time_vs_python_sdk`: 5,000 events delivered by the sandbox over
//! the long connection and acked, our client (`bench/src/bin/ws-bench.rs`,
//! feishu-runtime's `LongConnection`) against lark-oapi's `lark.ws.Client`
//! (`bench/peers/lark_ws_bench.py`).
//!
//! One sandbox serves both sides, one client process at a time: a fresh
//! process per round, ours and lark-oapi's alternating. Once the client says
//! `connected` (and the sandbox counts exactly one connection), one bulk
//! `POST /_sandbox/events` `{"via":"ws","event_type":"im.message.receive_v1",
//! "count":5000,"in_flight":16}` has the sandbox push 5,000 events, 16 at
//! most awaiting their ack, and answer once all are acked. The round's time
//! runs from the call to its answer, and every event must be acked with
//! code 200, or the round, and the key, fail. After one untimed round each,
//! the ratio is that of the median round times.
//!
//! One call rather than 5,000 (issue 17 allows it): with one HTTP call per
//! event, the calls and their answers were about three quarters of the
//! round's CPU on the two cores the harness shares with the client, and
//! pulled the ratio towards 1.
//!
//! The sandbox and the sender are `bench/src/bin/ws-harness.rs`, built in
//! release with the clients: in the dev profile (`cargo xtask sandbox` and
//! xtask's own reqwest) they spent about ten times our client's CPU per
//! event on the two cores the three share, and the figure measured them.
//! The CPU time the client, the sandbox and the sender spend in each round
//! goes under `other`, with the ratio of the clients' own CPU times.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::report::{self, Ratio, Report, median};
use super::{Bins, Plan, Server, describe, json_lines, output, progress, tail};

const KEY: &str = "ws_events_time_vs_python_sdk";
/// Events per round.
pub(super) const EVENTS: usize = 5000;
/// Events awaiting their ack at once.
pub(super) const IN_FLIGHT: usize = 16;
/// How long a client may take to say `connected` (Python's imports are slow).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take to stop once its stdin is closed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a client's stderr kept for an error message.
const STDERR_KEPT: usize = 4096;

/// Adds the long-connection figure to `report`.
pub fn measure(root: &Path, bins: Option<&Result<Bins, String>>, plan: &Plan, report: &mut Report) {
    match compare(root, bins, plan, report) {
        Ok((value, detail)) => {
            progress(&format!("ws: {} ({detail})", report::fmt_ratio(value)));
            report.ratios.push(Ratio { key: KEY, value: Ok(value), detail });
        }
        Err(why) => {
            progress(&format!("ws: not measured: {why}"));
            report.ratios.push(Ratio { key: KEY, value: Err(why), detail: String::new() });
        }
    }
}

/// One side of the comparison.
struct Side {
    name: &'static str,
    command: Box<dyn Fn() -> Command>,
    rounds: Vec<Round>,
}

fn compare(
    root: &Path,
    bins: Option<&Result<Bins, String>>,
    plan: &Plan,
    report: &mut Report,
) -> Result<(f64, String), String> {
    let bins = match bins {
        Some(Ok(bins)) => bins,
        Some(Err(why)) => return Err(format!("the benchmark programs did not build: {why}")),
        None => return Err("the benchmark programs were not built".into()),
    };
    let python =
        crate::peers::ensure(root).map_err(|e| format!("lark-oapi could not be installed: {e}"));
    let mut command = Command::new(&bins.ws_harness);
    command.arg("sandbox").arg(root.join("spec"));
    let server = Server::spawn(command, "listening on ")
        .map_err(|e| format!("the sandbox (ws-harness sandbox) did not start: {e}"))?;
    let driver = Driver::new(&bins.ws_harness, &server.base, server.pid())?;

    let ws_bench = bins.ws_bench.clone();
    let base = server.base.clone();
    let mut sides = vec![Side {
        name: "feishu-runtime",
        command: Box::new(move || {
            let mut command = Command::new(&ws_bench);
            command.arg(&base);
            command
        }),
        rounds: Vec::new(),
    }];
    if let Ok(peers) = &python {
        let (peers, script, base) = (
            peers.clone(),
            root.join("bench").join("peers").join("lark_ws_bench.py"),
            server.base.clone(),
        );
        sides.push(Side {
            name: "lark-oapi",
            command: Box::new(move || {
                let mut command = Command::new(&peers.python);
                command.arg(&script).arg(&base);
                peers.apply(&mut command);
                command
            }),
            rounds: Vec::new(),
        });
    }
    progress(&format!(
        "ws: {} alternate rounds of {EVENTS} events ({IN_FLIGHT} in flight, one bulk call), a fresh client process per round: {}",
        plan.ws_rounds,
        sides.iter().map(|s| s.name).collect::<Vec<_>>().join(" vs ")
    ));
    // One untimed round each first: the first deliveries of a fresh sandbox
    // are slower (its first timed round took 2–3 times the others), and
    // ours would always pay for them, going first.
    for side in &sides {
        let warmup = driver
            .round((side.command)())
            .map_err(|e| format!("{}, untimed first round: {e}", side.name))?;
        progress(&format!("ws: {} untimed first round: {}", side.name, warmup.describe()));
    }
    for round in 1..=plan.ws_rounds {
        for side in &mut sides {
            let measured = driver
                .round((side.command)())
                .map_err(|e| format!("{}, round {round}: {e}", side.name))?;
            progress(&format!("ws: {} round {round}: {}", side.name, measured.describe()));
            side.rounds.push(measured);
        }
    }
    drop(server);
    for side in &sides {
        report.extra.push(side.summary(plan.ws_rounds));
    }
    python?;
    let (ours, theirs) = (&sides[0], &sides[1]);
    // The clients' own CPU, without the sandbox's and the sender's: roughly the wall ratio a harness costing nothing would give.
    let (cpu_a, cpu_b) = (ours.median(|r| r.client_cpu), theirs.median(|r| r.client_cpu));
    if let Ok(cpu) = report::ratio(cpu_a, cpu_b) {
        report.extra.push((
            format!("long connection: CPU time of the client process during a round of {EVENTS} events, feishu-runtime ÷ lark-oapi"),
            format!("{} vs {}: {}", report::seconds(cpu_a.unwrap_or(0.0)), report::seconds(cpu_b.unwrap_or(0.0)), report::fmt_ratio(cpu)),
        ));
    }
    let (a, b) = (ours.median(|r| Some(r.seconds)), theirs.median(|r| Some(r.seconds)));
    let value = report::ratio(a, b)?;
    let rate = |s: Option<f64>| {
        s.map_or("n/a".into(), |s| {
            format!("{} events/s", report::thousands((EVENTS as f64 / s).round() as u64))
        })
    };
    let detail = format!(
        "{EVENTS} events, {IN_FLIGHT} in flight, pushed by the sandbox (release) in one bulk call and acked: feishu-runtime {} ({}) vs lark-oapi {} {} ({}) (medians of {} alternate rounds)",
        a.map_or("n/a".into(), report::seconds),
        rate(a),
        crate::peers::LARK_OAPI_VERSION,
        b.map_or("n/a".into(), report::seconds),
        rate(b),
        plan.ws_rounds
    );
    Ok((value, detail))
}

impl Side {
    fn median(&self, field: impl Fn(&Round) -> Option<f64>) -> Option<f64> {
        median(&self.rounds.iter().filter_map(field).collect::<Vec<_>>())
    }

    /// A row for `other`: the median time and the CPU times of one round.
    fn summary(&self, rounds: usize) -> (String, String) {
        let cpu = |field: fn(&Round) -> Option<f64>| {
            self.median(field).map_or("n/a".into(), report::seconds)
        };
        let repushed: u64 = self.rounds.iter().map(|r| r.repushed).sum();
        (
            format!(
                "long connection, {EVENTS} events to {} (medians of {rounds} rounds)",
                self.name
            ),
            format!(
                "{}; CPU time (user + system) during the round: client {}, sandbox {}, sender {}; events pushed again (no ack within 3 s): {repushed} in all",
                self.median(|r| Some(r.seconds)).map_or("n/a".into(), report::seconds),
                cpu(|r| r.client_cpu),
                cpu(|r| r.sandbox_cpu),
                cpu(|r| r.bench_cpu),
            ),
        )
    }
}

/// What one round measured.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Round {
    /// From the bulk delivery call to its answer.
    pub(super) seconds: f64,
    /// Pushes beyond the first, over all events (acks later than 3 s).
    repushed: u64,
    /// CPU seconds of the client process, the sandbox and the sender during the round.
    client_cpu: Option<f64>,
    sandbox_cpu: Option<f64>,
    bench_cpu: Option<f64>,
    /// Events the client's handler ran for, as it reported on stopping.
    handled: u64,
}

impl Round {
    pub(super) fn describe(&self) -> String {
        let cpu = |v: Option<f64>| v.map_or("n/a".into(), report::seconds);
        format!(
            "{} ({:.0} events/s); CPU client {}, sandbox {}, sender {}; handled {}, pushed again {}",
            report::seconds(self.seconds),
            EVENTS as f64 / self.seconds,
            cpu(self.client_cpu),
            cpu(self.sandbox_cpu),
            cpu(self.bench_cpu),
            self.handled,
            self.repushed
        )
    }
}

/// What `ws-harness deliver` reported.
#[derive(Debug, Clone, PartialEq)]
struct Delivery {
    seconds: f64,
    repushed: u64,
    cpu_seconds: Option<f64>,
}

/// `ws-harness deliver`'s line: `Ok` only when each of the `expected` events
/// reported an ack with code 200.
fn parse_delivery(line: &Value, expected: usize) -> Result<Delivery, String> {
    let number = |name: &str| {
        line.get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("ws-harness deliver reported no {name}: {line}"))
    };
    let (acked, failed) = (number("acked")?, number("failed")?);
    if failed > 0 {
        let first = line.get("first_error").and_then(Value::as_str).unwrap_or("?");
        return Err(format!(
            "{failed} of {expected} events were not acked with code 200, first: {first}"
        ));
    }
    if acked != expected as u64 {
        return Err(format!("{acked} of {expected} events were acked"));
    }
    Ok(Delivery {
        seconds: line
            .get("seconds")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("ws-harness deliver reported no seconds: {line}"))?,
        repushed: number("repushed")?,
        cpu_seconds: line.get("cpu_seconds").and_then(Value::as_f64),
    })
}

/// `ws_connections` and `ws_acks` of `GET /_sandbox/stats`.
fn parse_stats(body: &str) -> Result<(u64, u64), String> {
    let stats: Value =
        serde_json::from_str(body).map_err(|e| format!("GET /_sandbox/stats is not JSON ({e})"))?;
    let field = |name: &str| {
        stats
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("GET /_sandbox/stats has no {name}: {}", tail(body, 300)))
    };
    Ok((field("ws_connections")?, field("ws_acks")?))
}

/// `{"handled":N}` among a client's last lines.
fn parse_handled(lines: &[String]) -> Option<u64> {
    lines
        .iter()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line.trim()).ok()?.get("handled")?.as_u64())
}

/// The CPU time (user + system) of process `pid` so far, in seconds
/// (`utime` + `stime` of `/proc/PID/stat`, in the kernel's 100 Hz ticks);
/// `None` off Linux or once it is gone.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses, start at the third.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(14)? + ticks(15)?) / 100.0)
}

/// What runs the rounds: `ws-harness deliver`, and a small runtime for the sandbox's stats.
pub(super) struct Driver {
    harness: std::path::PathBuf,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
    sandbox_pid: String,
}

impl Driver {
    pub(super) fn new(harness: &Path, base: &str, sandbox_pid: u32) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("no tokio runtime: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("no HTTP client: {e}"))?;
        Ok(Driver {
            harness: harness.to_owned(),
            runtime,
            http,
            base: base.to_owned(),
            sandbox_pid: sandbox_pid.to_string(),
        })
    }

    fn stats(&self) -> Result<(u64, u64), String> {
        self.runtime.block_on(async {
            let response = self
                .http
                .get(format!("{}/_sandbox/stats", self.base))
                .send()
                .await
                .map_err(|e| format!("GET /_sandbox/stats: {e}"))?;
            parse_stats(&response.text().await.map_err(|e| format!("GET /_sandbox/stats: {e}"))?)
        })
    }

    /// Waits until the sandbox counts `n` long connections.
    fn await_connections(&self, n: u64, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            let (connections, _) = self.stats()?;
            if connections == n {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the sandbox counts {connections} long connections, not {n}, after {}",
                    report::seconds(within.as_secs_f64())
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One round with a fresh client started by `command`.
    pub(super) fn round(&self, command: Command) -> Result<Round, String> {
        // The previous client's socket must be gone: the sandbox delivers to any connected client.
        self.await_connections(0, Duration::from_secs(10))?;
        let mut client = ClientProcess::start(command)?;
        client.await_connected()?;
        self.await_connections(1, Duration::from_secs(5))
            .map_err(|e| format!("{e} ({})", client.stderr_tail()))?;
        let (_, acks_before) = self.stats()?;
        let pid = client.child.id().to_string();
        let cpu = || (cpu_seconds(&pid), cpu_seconds(&self.sandbox_pid));
        let before = cpu();
        let mut deliver = Command::new(&self.harness);
        deliver.arg("deliver").arg(&self.base).arg(EVENTS.to_string()).arg(IN_FLIGHT.to_string());
        let reported =
            output(&mut deliver).map_err(|e| format!("{e} ({})", client.stderr_tail()))?;
        let after = cpu();
        let line = json_lines(&reported)
            .into_iter()
            .next()
            .ok_or("ws-harness deliver printed no result")?;
        let delivery =
            parse_delivery(&line, EVENTS).map_err(|e| format!("{e} ({})", client.stderr_tail()))?;
        let (_, acks_after) = self.stats()?;
        if acks_after - acks_before < EVENTS as u64 {
            return Err(format!(
                "the sandbox counted {} acks for {EVENTS} acked events",
                acks_after - acks_before
            ));
        }
        let handled = client.stop()?;
        if handled < EVENTS as u64 {
            return Err(format!("the client's handler ran for {handled} of {EVENTS} acked events"));
        }
        let delta = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        Ok(Round {
            seconds: delivery.seconds,
            repushed: delivery.repushed,
            client_cpu: delta(before.0, after.0),
            sandbox_cpu: delta(before.1, after.1),
            bench_cpu: delivery.cpu_seconds,
            handled,
        })
    }
}

/// A client process: its stdout lines and the end of its stderr come through threads.
struct ClientProcess {
    child: Child,
    program: String,
    lines: mpsc::Receiver<String>,
    stderr: Arc<std::sync::Mutex<String>>,
}

impl ClientProcess {
    fn start(mut command: Command) -> Result<Self, String> {
        let program = describe(&command);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut stderr = child.stderr.take().ok_or("no stderr")?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let kept = Arc::new(std::sync::Mutex::new(String::new()));
        let sink = Arc::clone(&kept);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buffer) {
                let mut kept = sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                kept.push_str(&String::from_utf8_lossy(&buffer[..n]));
                if kept.len() > 2 * STDERR_KEPT {
                    *kept = tail(&kept, STDERR_KEPT).to_string();
                }
            }
        });
        Ok(ClientProcess { child, program, lines, stderr: kept })
    }

    fn stderr_tail(&self) -> String {
        let kept = self.stderr.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let text = tail(&kept, 600).trim();
        if text.is_empty() {
            format!("{}: nothing on stderr", self.program)
        } else {
            format!("{} said: {text}", self.program)
        }
    }

    /// Waits for the line `connected`.
    fn await_connected(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.trim() == "connected" => return Ok(()),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "no `connected` within {} s ({})",
                        CONNECT_TIMEOUT.as_secs(),
                        self.stderr_tail()
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    // Let the stderr thread catch up before quoting it.
                    std::thread::sleep(Duration::from_millis(100));
                    return Err(format!(
                        "it ended ({status}) before saying `connected` ({})",
                        self.stderr_tail()
                    ));
                }
            }
        }
    }

    /// Closes its stdin and waits for it to end; the handled count it printed.
    fn stop(mut self) -> Result<u64, String> {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        let mut lines = Vec::new();
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => lines.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "it did not stop within {} s of its stdin closing",
                        STOP_TIMEOUT.as_secs()
                    ));
                }
            }
        }
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("it ended with {status} ({})", self.stderr_tail()));
        }
        parse_handled(&lines).ok_or_else(|| {
            format!("it printed no {{\"handled\":N}} on stopping ({})", self.stderr_tail())
        })
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        // Still running only when a round failed: stop it by its own id.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_round_counts_only_when_every_delivery_was_acked() {
        let line = json!({"seconds": 0.25, "acked": 5000, "repushed": 2, "failed": 0, "first_error": null, "cpu_seconds": 0.08});
        assert_eq!(
            parse_delivery(&line, 5000),
            Ok(Delivery { seconds: 0.25, repushed: 2, cpu_seconds: Some(0.08) })
        );
        let off_linux = json!({"seconds": 0.25, "acked": 5000, "repushed": 0, "failed": 0, "first_error": null, "cpu_seconds": null});
        assert_eq!(parse_delivery(&off_linux, 5000).unwrap().cpu_seconds, None);
        let short = json!({"seconds": 0.25, "acked": 4999, "repushed": 0, "failed": 0, "first_error": null});
        assert!(parse_delivery(&short, 5000).unwrap_err().contains("4999 of 5000"));
        let failed = json!({"seconds": 3.0, "acked": 4998, "repushed": 0, "failed": 2, "first_error": "HTTP 409: no long-connection client is connected"});
        let why = parse_delivery(&failed, 5000).unwrap_err();
        assert!(why.contains("2 of 5000") && why.contains("HTTP 409"), "{why}");
        assert!(
            parse_delivery(&json!({"acked": 5000, "failed": 0, "repushed": 0}), 5000)
                .unwrap_err()
                .contains("seconds")
        );
        assert!(parse_delivery(&json!({}), 5000).unwrap_err().contains("acked"));
    }

    #[test]
    fn stats_and_the_handled_count_are_read_from_the_answers() {
        assert_eq!(
            parse_stats(r#"{"requests":3,"ws_connections":1,"ws_acks":5000}"#),
            Ok((1, 5000))
        );
        assert!(parse_stats(r#"{"requests":3}"#).unwrap_err().contains("ws_connections"));
        assert!(parse_stats("nope").is_err());
        let lines = ["connected".to_string(), r#"{"handled":5000}"#.to_string()];
        assert_eq!(parse_handled(&lines), Some(5000));
        assert_eq!(parse_handled(&lines[..1]), None);
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let Some(before) = cpu_seconds("self") else { return };
        // Busy for at least a few ticks.
        let started = Instant::now();
        let mut x: u64 = 0;
        while started.elapsed() < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let after = cpu_seconds("self").unwrap();
        assert!(after > before, "{before} → {after}");
        assert_eq!(cpu_seconds("0"), None);
    }
}
