//! `redis_dedup_overhead`: the long connection's time per event with the
//! Redis dedup store (`RedisStores::dedup_store`) over its time with the
//! in-memory one, the dispatcher's default.
//!
//! The harness of `ws_events_time_vs_python_sdk` (`ws.rs`): one sandbox
//! (`ws-harness sandbox`, release), a fresh `ws-bench` process per round,
//! 5,000 `im.message.receive_v1` events pushed in one bulk call with 16
//! awaiting their ack, every one acked with code 200 and handled. The two
//! sides differ only by `ws-bench`'s `--redis URL`, against a real
//! `redis-server` started for the run (persistence off) on the same
//! machine. After one untimed round each, rounds alternate (in-memory,
//! Redis, …) and the ratio is that of the median round times.
//!
//! Every Redis round also counts the commands Redis ran (`INFO
//! commandstats`, before and after), per event: what one event costs in
//! Redis (see `bench/README.md`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use feishu_testkit::RedisServer;

use super::report::{self, Ratio, Report, median};
use super::ws::{Driver, EVENTS, IN_FLIGHT, Round};
use super::{Bins, Plan, Server, progress};

const KEY: &str = "redis_dedup_overhead";

/// Adds the Redis dedup figure to `report`.
pub fn measure(root: &Path, bins: Option<&Result<Bins, String>>, plan: &Plan, report: &mut Report) {
    match compare(root, bins, plan, report) {
        Ok((value, detail)) => {
            progress(&format!("redis: {} ({detail})", report::fmt_ratio(value)));
            report.ratios.push(Ratio { key: KEY, value: Ok(value), detail });
        }
        Err(why) => {
            progress(&format!("redis: not measured: {why}"));
            report.ratios.push(Ratio { key: KEY, value: Err(why), detail: String::new() });
        }
    }
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
    crate::redis::ensure()?;
    let redis = RedisServer::start(KEY).ok_or("redis-server is not installed")?;
    let mut command = Command::new(&bins.ws_harness);
    command.arg("sandbox").arg(root.join("spec"));
    let server = Server::spawn(command, "listening on ")
        .map_err(|e| format!("the sandbox (ws-harness sandbox) did not start: {e}"))?;
    let driver = Driver::new(&bins.ws_harness, &server.base, server.pid())?;
    let client = |redis_url: Option<&str>| {
        let mut command = Command::new(&bins.ws_bench);
        command.arg(&server.base);
        if let Some(url) = redis_url {
            command.arg("--redis").arg(url);
        }
        command
    };
    let url = redis.url();
    progress(&format!(
        "redis: {} alternate rounds of {EVENTS} events ({IN_FLIGHT} in flight), a fresh client per round: in-memory dedup vs Redis dedup",
        plan.ws_rounds
    ));
    for (name, url) in [("in-memory", None), ("Redis", Some(url.as_str()))] {
        let warmup =
            driver.round(client(url)).map_err(|e| format!("{name}, untimed first round: {e}"))?;
        progress(&format!("redis: {name} untimed first round: {}", warmup.describe()));
    }
    let (mut memory, mut shared): (Vec<Round>, Vec<Round>) = (Vec::new(), Vec::new());
    let mut commands: BTreeMap<String, u64> = BTreeMap::new();
    for round in 1..=plan.ws_rounds {
        let measured =
            driver.round(client(None)).map_err(|e| format!("in-memory, round {round}: {e}"))?;
        progress(&format!("redis: in-memory round {round}: {}", measured.describe()));
        memory.push(measured);
        let before = command_calls(&redis.info("commandstats"));
        let measured =
            driver.round(client(Some(&url))).map_err(|e| format!("Redis, round {round}: {e}"))?;
        let after = command_calls(&redis.info("commandstats"));
        progress(&format!("redis: Redis round {round}: {}", measured.describe()));
        shared.push(measured);
        for (name, calls) in after {
            let delta = calls.saturating_sub(before.get(&name).copied().unwrap_or(0));
            *commands.entry(name).or_default() += delta;
        }
    }
    drop(server);
    let seconds = |rounds: &[Round]| median(&rounds.iter().map(|r| r.seconds).collect::<Vec<_>>());
    let (a, b) = (seconds(&shared), seconds(&memory));
    let value = report::ratio(a, b)?;
    let per_event = per_event(&commands, plan.ws_rounds * EVENTS);
    report
        .extra
        .push((format!("Redis commands per long-connection event ({KEY})"), per_event.clone()));
    let per_second = |s: Option<f64>| {
        s.map_or("n/a".into(), |s| {
            format!("{} events/s", report::thousands((EVENTS as f64 / s).round() as u64))
        })
    };
    let detail = format!(
        "{EVENTS} events, {IN_FLIGHT} in flight, pushed by the sandbox (release) and acked: Redis dedup {} ({}) vs in-memory {} ({}) (medians of {} alternate rounds); Redis ran per event: {per_event}",
        a.map_or("n/a".into(), report::seconds),
        per_second(a),
        b.map_or("n/a".into(), report::seconds),
        per_second(b),
        plan.ws_rounds
    );
    Ok((value, detail))
}

/// `calls` of each `cmdstat_NAME` line of `INFO commandstats`.
fn command_calls(info: &str) -> BTreeMap<String, u64> {
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.trim().strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

/// The commands per event, `evalsha 2.00, set 4.00`, without the bench's
/// own `INFO`.
fn per_event(commands: &BTreeMap<String, u64>, events: usize) -> String {
    let parts: Vec<String> = commands
        .iter()
        .filter(|(name, calls)| name.as_str() != "info" && **calls > 0)
        .map(|(name, calls)| format!("{name} {:.2}", *calls as f64 / events as f64))
        .collect();
    if parts.is_empty() { "no commands".into() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_counted_per_event_without_info() {
        let info = "# Commandstats\r\ncmdstat_set:calls=40,usec=12,usec_per_call=0.30,rejected_calls=0,failed_calls=0\r\ncmdstat_evalsha:calls=20,usec=95,usec_per_call=4.75,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=2,usec=70\r\n";
        let calls = command_calls(info);
        assert_eq!(calls.get("set"), Some(&40));
        assert_eq!(calls.get("evalsha"), Some(&20));
        assert_eq!(per_event(&calls, 10), "evalsha 2.00, set 4.00");
        assert_eq!(per_event(&BTreeMap::new(), 10), "no commands");
    }
}
