//! The harness of `ws_events_time_vs_python_sdk`, built in release like the
//! clients it serves, so that what the figure measures is the clients rather
//! than an unoptimised server and driver (in the dev profile they spent ten
//! times the CPU of our client per event; see bench/README.md).
//!
//! - `ws-harness sandbox SPEC_DIR`: the sandbox (feishu-sandbox, the crate
//!   `cargo xtask sandbox` runs) on 127.0.0.1 with a free port and the
//!   rate limits off; prints `listening on URL`, runs until stdin closes.
//! - `ws-harness deliver BASE EVENTS CONCURRENCY`: EVENTS calls of
//!   `POST BASE/_sandbox/events` `{"via":"ws","event_type":"im.message.receive_v1"}`,
//!   CONCURRENCY at a time, on a 2-thread tokio runtime. Each answers once
//!   the connected client's ack is back. Prints one JSON line: `seconds`
//!   (first call to last answer), `acked` (answers reporting an ack with code
//!   200), `repushed` (pushes beyond the first), `failed`, `first_error`,
//!   and `cpu_seconds` (this process's, during the calls; `null` off Linux).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["sandbox", spec] => sandbox(spec),
        ["deliver", base, events, concurrency] => match (events.parse::<usize>(), concurrency.parse::<usize>()) {
            (Ok(events), Ok(concurrency)) if concurrency > 0 => deliver(base, events, concurrency),
            _ => Err("EVENTS and CONCURRENCY must be numbers, CONCURRENCY at least 1".into()),
        },
        _ => {
            eprintln!("usage: ws-harness sandbox SPEC_DIR | ws-harness deliver BASE EVENTS CONCURRENCY");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("ws-harness: {why}");
            ExitCode::FAILURE
        }
    }
}

fn sandbox(spec: &str) -> Result<(), String> {
    let mut config = feishu_sandbox::SandboxConfig::from_spec_dir(std::path::Path::new(spec)).map_err(|e| format!("{spec}: {e}"))?;
    config.rate_limits = false;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("no tokio runtime: {e}"))?;
    runtime.block_on(async {
        let sandbox = feishu_sandbox::Sandbox::start(config, 0).await.map_err(|e| format!("could not listen: {e}"))?;
        println!("listening on {}", sandbox.url());
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
        sandbox.shutdown().await;
        Ok(())
    })
}

fn deliver(base: &str, events: usize, concurrency: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| format!("no tokio runtime: {e}"))?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| format!("no HTTP client: {e}"))?;
    let url = format!("{base}/_sandbox/events");
    let body = json!({ "via": "ws", "event_type": "im.message.receive_v1" }).to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let tally = runtime.block_on(async {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (next, http, url, body) = (Arc::clone(&next), http.clone(), url.clone(), body.clone());
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    while next.fetch_add(1, Ordering::Relaxed) < events {
                        let answer = async {
                            let response =
                                http.post(&url).header("content-type", "application/json").body(body.clone()).send().await.map_err(|e| e.to_string())?;
                            let status = response.status().as_u16();
                            let text = response.text().await.map_err(|e| e.to_string())?;
                            parse_answer(status, &text)
                        };
                        tally.record(answer.await);
                    }
                    tally
                })
            })
            .collect();
        let mut tally = Tally::default();
        for worker in workers {
            match worker.await {
                Ok(part) => tally.merge(part),
                Err(e) => tally.record(Err(format!("a delivery task failed: {e}"))),
            }
        }
        tally
    });
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    let line = json!({
        "seconds": seconds,
        "acked": tally.acked,
        "repushed": tally.repushed,
        "failed": tally.failed,
        "first_error": tally.first_error,
        "cpu_seconds": cpu,
    });
    println!("{line}");
    Ok(())
}

/// The answers of the delivery calls.
#[derive(Debug, Clone, Default, PartialEq)]
struct Tally {
    acked: usize,
    repushed: u64,
    failed: usize,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, answer: Result<u64, String>) {
        match answer {
            Ok(attempts) => {
                self.acked += 1;
                self.repushed += attempts.saturating_sub(1);
            }
            Err(why) => {
                self.failed += 1;
                self.first_error.get_or_insert(why);
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.acked += other.acked;
        self.repushed += other.repushed;
        self.failed += other.failed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// An answer of `POST /_sandbox/events` with `"via":"ws"`: how many pushes
/// the event took, or why it does not report an ack with code 200.
fn parse_answer(status: u16, body: &str) -> Result<u64, String> {
    let short = || body.chars().take(300).collect::<String>();
    if status != 200 {
        return Err(format!("HTTP {status}: {}", short()));
    }
    let answer: Value = serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e}): {}", short()))?;
    match answer.get("status").and_then(Value::as_i64) {
        Some(200) => Ok(answer.get("attempts").and_then(Value::as_u64).unwrap_or(1)),
        Some(code) => Err(format!("the client acked with code {code}: {}", short())),
        None => Err(format!("the answer reports no ack: {}", short())),
    }
}

/// This process's CPU time (user + system) so far, in seconds, from
/// `/proc/self/stat` (100 Hz ticks); `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(14)? + ticks(15)?) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_counts_only_with_an_ack_of_code_200() {
        assert_eq!(parse_answer(200, r#"{"status":200,"body":null,"attempts":1,"message_id":"m","event_id":"e"}"#), Ok(1));
        assert_eq!(parse_answer(200, r#"{"status":200,"body":null,"attempts":3}"#), Ok(3));
        assert_eq!(parse_answer(200, r#"{"status":200}"#), Ok(1));
        let refused = parse_answer(200, r#"{"status":500,"body":null,"attempts":1}"#).unwrap_err();
        assert!(refused.contains("code 500"), "{refused}");
        let none = parse_answer(409, r#"{"code":409,"msg":"no long-connection client is connected"}"#).unwrap_err();
        assert!(none.starts_with("HTTP 409") && none.contains("no long-connection client"), "{none}");
        assert!(parse_answer(504, "no ack after 10 pushes").unwrap_err().contains("504"));
        assert!(parse_answer(200, "<html>").unwrap_err().contains("not JSON"));
        assert!(parse_answer(200, r#"{"body":{}}"#).unwrap_err().contains("no ack"));
    }

    #[test]
    fn answers_are_tallied_across_workers() {
        let mut tally = Tally::default();
        for answer in [Ok(1), Ok(2), Ok(1)] {
            tally.record(answer);
        }
        assert_eq!((tally.acked, tally.repushed, tally.failed), (3, 1, 0));
        let mut other = Tally::default();
        other.record(Err("HTTP 504: no ack".into()));
        other.record(Ok(1));
        other.record(Err("second".into()));
        tally.merge(other);
        assert_eq!((tally.acked, tally.failed, tally.repushed), (4, 2, 1));
        assert_eq!(tally.first_error.as_deref(), Some("HTTP 504: no ack"));
    }
}
