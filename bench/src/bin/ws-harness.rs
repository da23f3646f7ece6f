//! The harness of `ws_events_time_vs_python_sdk`, built in release like the
//! clients it serves, so that what the figure measures is the clients rather
//! than an unoptimised server and driver (in the dev profile they spent ten
//! times the CPU of our client per event; see bench/README.md).
//!
//! - `ws-harness sandbox SPEC_DIR`: the sandbox (feishu-sandbox, the crate
//!   `cargo xtask sandbox` runs) on 127.0.0.1 with a free port and the
//!   rate limits off; prints `listening on URL`, runs until stdin closes.
//! - `ws-harness deliver BASE EVENTS IN_FLIGHT`: one bulk call
//!   `POST BASE/_sandbox/events` `{"via":"ws","event_type":"im.message.receive_v1",
//!   "count":EVENTS,"in_flight":IN_FLIGHT}`: the sandbox pushes the events,
//!   IN_FLIGHT at most awaiting their ack, and answers once all are acked
//!   (sandbox/README.md, "Bulk delivery"). Prints one JSON line: `seconds`
//!   (the call to its answer), `acked` (events acked with code 200),
//!   `repushed` (pushes beyond the first), `failed`, `first_error`, and
//!   `cpu_seconds` (this process's, during the call; `null` off Linux).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["sandbox", spec] => sandbox(spec),
        ["deliver", base, events, in_flight] => {
            match (events.parse::<usize>(), in_flight.parse::<usize>()) {
                (Ok(events), Ok(in_flight)) if events > 0 && in_flight > 0 => {
                    deliver(base, events, in_flight)
                }
                _ => Err("EVENTS and IN_FLIGHT must be whole numbers, at least 1".into()),
            }
        }
        _ => {
            eprintln!(
                "usage: ws-harness sandbox SPEC_DIR | ws-harness deliver BASE EVENTS IN_FLIGHT"
            );
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
    let mut config = feishu_sandbox::SandboxConfig::from_spec_dir(std::path::Path::new(spec))
        .map_err(|e| format!("{spec}: {e}"))?;
    config.rate_limits = false;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))?;
    runtime.block_on(async {
        let sandbox = feishu_sandbox::Sandbox::start(config, 0)
            .await
            .map_err(|e| format!("could not listen: {e}"))?;
        println!("listening on {}", sandbox.url());
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
        sandbox.shutdown().await;
        Ok(())
    })
}

fn deliver(base: &str, events: usize, in_flight: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))?;
    let http = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let body = json!({ "via": "ws", "event_type": "im.message.receive_v1", "count": events, "in_flight": in_flight }).to_string();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let answer = runtime.block_on(async {
        let response = http
            .post(format!("{base}/_sandbox/events"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        Ok::<_, String>((status, response.text().await.map_err(|e| e.to_string())?))
    });
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    let tally = match answer {
        Ok((status, text)) => parse_answer(status, &text, events),
        Err(why) => Tally {
            acked: 0,
            repushed: 0,
            failed: events as u64,
            first_error: Some(format!("the bulk call failed: {why}")),
        },
    };
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

/// How long the bulk call may take: 5,000 events at lark-oapi's pace take
/// about a second, and a call that hangs must still end the round.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// What the bulk call reported: events acked with code 200, pushes beyond
/// the first, and events not acked with code 200 (with the first reason).
#[derive(Debug, Clone, Default, PartialEq)]
struct Tally {
    acked: u64,
    repushed: u64,
    failed: u64,
    first_error: Option<String>,
}

/// The answer of the bulk `POST /_sandbox/events` (`"count"`), as a tally.
/// An ack whose code is not 200 counts as failed.
fn parse_answer(status: u16, body: &str, events: usize) -> Tally {
    let short = || body.chars().take(300).collect::<String>();
    let failed = |first_error: String| Tally {
        acked: 0,
        repushed: 0,
        failed: events as u64,
        first_error: Some(first_error),
    };
    let Ok(answer) = serde_json::from_str::<Value>(body) else {
        return failed(format!("HTTP {status}, the answer is not JSON: {}", short()));
    };
    let number = |name: &str| answer.get(name).and_then(Value::as_u64);
    let (Some(acked), Some(repushed), Some(non_200)) =
        (number("acked"), number("repushed"), number("non_200"))
    else {
        return failed(format!("HTTP {status}, not a bulk delivery's answer: {}", short()));
    };
    let ok = acked.saturating_sub(non_200);
    let first_error = if status != 200 {
        Some(format!(
            "HTTP {status}: {}",
            answer.get("error").and_then(Value::as_str).map_or_else(short, str::to_owned)
        ))
    } else if non_200 > 0 {
        Some(format!(
            "the client acked with code {}",
            answer.get("first_non_200").map_or("?".into(), Value::to_string)
        ))
    } else {
        None
    };
    Tally { acked: ok, repushed, failed: (events as u64).saturating_sub(ok), first_error }
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
    fn only_acks_with_code_200_count() {
        let all = r#"{"count":5000,"in_flight":16,"acked":5000,"repushed":2,"non_200":0,"first_non_200":null}"#;
        assert_eq!(
            parse_answer(200, all, 5000),
            Tally { acked: 5000, repushed: 2, failed: 0, first_error: None }
        );
        let refused = r#"{"count":5000,"in_flight":16,"acked":5000,"repushed":0,"non_200":3,"first_non_200":{"status":500,"event_id":"e"}}"#;
        let tally = parse_answer(200, refused, 5000);
        assert_eq!((tally.acked, tally.failed), (4997, 3));
        assert!(tally.first_error.unwrap().contains(r#""status":500"#));
        let late = r#"{"count":5000,"in_flight":16,"acked":4990,"repushed":30,"non_200":0,"first_non_200":null,"failed":3,"not_sent":7,"error":"4990 of 5000 events were acked, 3 were not"}"#;
        let tally = parse_answer(504, late, 5000);
        assert_eq!((tally.acked, tally.failed, tally.repushed), (4990, 10, 30));
        assert_eq!(
            tally.first_error.as_deref(),
            Some("HTTP 504: 4990 of 5000 events were acked, 3 were not")
        );
        let none = parse_answer(409, r#"{"error":"no long-connection client is connected"}"#, 5000);
        assert_eq!((none.acked, none.failed), (0, 5000));
        assert!(none.first_error.unwrap().contains("HTTP 409"));
        assert!(parse_answer(502, "<html>", 5000).first_error.unwrap().contains("not JSON"));
    }
}
