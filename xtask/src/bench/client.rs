//! The client figures: replies through the generated client, hand-written
//! reqwest + serde_json, lark-oapi and @larksuiteoapi/node-sdk, all against
//! one local server (`client-bench serve`: hyper on 127.0.0.1).
//!
//! - `client_time_vs_raw_reqwest`, `client_time_vs_raw_hyper`: the generated
//!   client and the hand-written ones (reqwest, and hyper-util, the generated
//!   client's own transport) in one process, rounds of N replies at
//!   concurrency 16, taking turns (A B C A B C …); the ratios of the median
//!   round times.
//! - `client_time_vs_python_sdk`, `client_time_vs_node_sdk`: each peer is
//!   first tried at concurrency 1, 4, 16 and 64; then rounds of N replies of
//!   the generated client (concurrency 16, its own process) and of the peer
//!   at its best concurrency alternate; the ratio of the median round times.
//!
//! Every client gets the same warm-up calls (`Plan::warmup`) in each process
//! before it is measured.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::report::{self, ClientRow, Ratio, Report, median};
use super::{Bins, Plan, Server, json_lines, output, progress};

/// The concurrency the Rust clients are compared at.
const CONCURRENCY: usize = 16;
/// The concurrencies each peer is tried at.
const PEER_LEVELS: [usize; 4] = [1, 4, 16, 64];

/// What rounds of one client measured: medians.
#[derive(Debug, Clone, Copy)]
struct Summary {
    seconds: f64,
    calls: usize,
    p50_us: f64,
    p99_us: f64,
}

impl Summary {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
}

/// Medians over the rounds of `client` in `lines`; an error if any round had failed calls.
fn summarise(lines: &[Value], client: &str) -> Result<Summary, String> {
    let rounds: Vec<&Value> = lines.iter().filter(|l| l["client"] == client).collect();
    if rounds.is_empty() {
        return Err(format!("no rounds of {client} were reported"));
    }
    if let Some(bad) = rounds.iter().find(|r| r["errors"].as_u64().unwrap_or(1) > 0) {
        return Err(format!(
            "{client}: {} of {} calls failed, first: {}",
            bad["errors"], bad["calls"], bad["first_error"]
        ));
    }
    let numbers =
        |field: &str| rounds.iter().filter_map(|r| r[field].as_f64()).collect::<Vec<f64>>();
    Ok(Summary {
        seconds: median(&numbers("seconds")).ok_or("no round times")?,
        calls: rounds[0]["calls"].as_u64().unwrap_or(0) as usize,
        p50_us: median(&numbers("p50_us")).unwrap_or(0.0),
        p99_us: median(&numbers("p99_us")).unwrap_or(0.0),
    })
}

/// `client-bench run …`; the JSON lines it prints.
fn rust_rounds(
    bins: &Bins,
    base: &str,
    clients: &str,
    calls: usize,
    concurrency: usize,
    rounds: usize,
    warmup: usize,
) -> Result<Vec<Value>, String> {
    let mut command = Command::new(&bins.client_bench);
    command
        .args(["run", "--base", base, "--clients", clients])
        .args(["--calls", &calls.to_string()])
        .args(["--concurrency", &concurrency.to_string()])
        .args(["--rounds", &rounds.to_string()])
        .args(["--warmup", &warmup.to_string()]);
    Ok(json_lines(&output(&mut command)?))
}

/// A peer: its name in the output and how to start it.
struct Peer<'a> {
    key: &'static str,
    label: String,
    client: &'static str,
    command: &'a dyn Fn(usize, usize, usize, usize) -> Command,
}

/// Adds the client figures to `report`.
pub fn measure(root: &Path, bins: Option<&Bins>, plan: &Plan, report: &mut Report) {
    let keys = [
        "client_time_vs_raw_reqwest",
        "client_time_vs_python_sdk",
        "client_time_vs_node_sdk",
        "client_time_vs_raw_hyper",
    ];
    let fail_all = |report: &mut Report, why: &str| {
        for key in keys {
            report.ratios.push(Ratio { key, value: Err(why.to_string()), detail: String::new() });
        }
    };
    let Some(bins) = bins else {
        return fail_all(report, "the benchmark programs did not build");
    };
    let server = match Server::start(&bins.client_bench) {
        Ok(server) => server,
        Err(why) => return fail_all(report, &format!("the local server did not start: {why}")),
    };
    let base = server.base.clone();
    progress(&format!("client: server at {base} (hyper, client-bench serve)"));

    // Generated vs raw reqwest, at concurrency 16 and one at a time.
    progress(&format!(
        "client: generated vs raw reqwest, {} alternate rounds of {} replies at concurrency {CONCURRENCY}",
        plan.rounds, plan.calls
    ));
    // The hand-written client on hyper-util takes its turn in the same rounds:
    // what reqwest's own layer costs per call, and the floor of the generated
    // client (whose transport is hyper-util), side by side.
    let concurrent = rust_rounds(
        bins,
        &base,
        "generated,raw,hyper",
        plan.calls,
        CONCURRENCY,
        plan.rounds,
        plan.warmup,
    );
    let sequential =
        rust_rounds(bins, &base, "generated,raw,hyper", plan.calls, 1, plan.rounds, plan.warmup);
    let pair = |lines: &Result<Vec<Value>, String>, client: &str| {
        lines.as_ref().map_err(Clone::clone).and_then(|l| summarise(l, client))
    };
    let (generated, raw) = (pair(&concurrent, "generated"), pair(&concurrent, "raw"));
    let (generated_seq, raw_seq) = (pair(&sequential, "generated"), pair(&sequential, "raw"));
    let (hyper, hyper_seq) = (pair(&concurrent, "hyper"), pair(&sequential, "hyper"));
    for (what, ours) in [("hand-written hyper-util", &hyper), ("generated client", &generated)] {
        if let (Ok(a), Ok(b)) = (ours, &raw) {
            report.extra.push((
                format!("{what} ÷ hand-written reqwest, {} replies at concurrency {CONCURRENCY} (medians of {} alternate rounds)", plan.calls, plan.rounds),
                format!("{} vs {}: ratio {}", report::seconds(a.seconds), report::seconds(b.seconds), report::fmt_ratio(a.seconds / b.seconds)),
            ));
        }
    }
    let value = match (&generated, &raw) {
        (Ok(a), Ok(b)) => report::ratio(Some(a.seconds), Some(b.seconds)),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    let detail = match (&generated, &raw) {
        (Ok(a), Ok(b)) => format!(
            "{} replies at concurrency {CONCURRENCY}: {} vs {} (medians of {} alternate rounds)",
            plan.calls,
            report::seconds(a.seconds),
            report::seconds(b.seconds),
            plan.rounds
        ),
        _ => String::new(),
    };
    progress(&format!("client: vs raw: {value:?} {detail}"));
    report.ratios.push(Ratio { key: keys[0], value, detail });
    // Against its own floor: the same hand-written reply on hyper-util, the
    // generated client's transport, in the same rounds.
    let (value, detail) = match (&generated, &hyper) {
        (Ok(a), Ok(b)) => (
            report::ratio(Some(a.seconds), Some(b.seconds)),
            format!(
                "{} replies at concurrency {CONCURRENCY}: {} vs hand-written hyper-util {} (medians of {} alternate rounds)",
                plan.calls,
                report::seconds(a.seconds),
                report::seconds(b.seconds),
                plan.rounds
            ),
        ),
        (Err(e), _) | (_, Err(e)) => (Err(e.clone()), String::new()),
    };
    progress(&format!("client: vs raw hyper: {value:?} {detail}"));
    report.ratios.push(Ratio { key: keys[3], value, detail });
    for (name, conc, seq, note) in [
        (
            "generated client (`client.im().message().reply(..)`)",
            &generated,
            &generated_seq,
            "limiter, validation, retries, tracing spans, token cache on",
        ),
        ("hand-written reqwest + serde_json", &raw, &raw_seq, "one token fetched up front"),
        (
            "hand-written hyper-util + serde_json",
            &hyper,
            &hyper_seq,
            "reqwest's layer left out: pooled HTTP/1 client, one token fetched up front",
        ),
    ] {
        report.clients.push(ClientRow {
            name: name.into(),
            sequential: seq.as_ref().ok().map(Summary::rate),
            at_16: conc.as_ref().ok().map(Summary::rate),
            best: conc.as_ref().ok().map(|s| (CONCURRENCY, s.rate())),
            p50_us: conc.as_ref().ok().map(|s| s.p50_us),
            p99_us: conc.as_ref().ok().map(|s| s.p99_us),
            note: match (conc, seq) {
                (Err(e), _) | (_, Err(e)) => e.clone(),
                _ => note.into(),
            },
        });
    }

    // The peers.
    let python = crate::peers::ensure(root);
    let python_script = root.join("bench").join("peers").join("lark_oapi_bench.py");
    let python_command = |calls: usize, concurrency: usize, rounds: usize, warmup: usize| {
        let peers = python.as_ref().expect("checked before use");
        let mut command = Command::new(&peers.python);
        command
            .arg(&python_script)
            .arg(&base)
            .args([calls, concurrency, rounds, warmup].map(|n| n.to_string()));
        peers.apply(&mut command);
        command
    };
    let node = super::node::ensure(root);
    let node_script = root.join("bench").join("peers").join("node_sdk_bench.js");
    let node_command = |calls: usize, concurrency: usize, rounds: usize, warmup: usize| {
        let modules = node.as_ref().expect("checked before use");
        let mut command = Command::new("node");
        command
            .arg(&node_script)
            .arg(&base)
            .args([calls, concurrency, rounds, warmup].map(|n| n.to_string()))
            .env("NODE_PATH", modules);
        command
    };
    let peers = [
        (
            Peer {
                key: keys[1],
                label: format!("lark-oapi {} (Python)", crate::peers::LARK_OAPI_VERSION),
                client: "lark-oapi",
                command: &python_command,
            },
            python.as_ref().err().map(|e| format!("the Python peer could not be installed: {e}")),
        ),
        (
            Peer {
                key: keys[2],
                label: format!("{} {}", super::node::PACKAGE, super::node::NODE_SDK_VERSION),
                client: "node-sdk",
                command: &node_command,
            },
            node.as_ref().err().map(|e| format!("the Node peer could not be installed: {e}")),
        ),
    ];
    for (peer, missing) in peers {
        if let Some(why) = missing {
            progress(&format!("client: {why}"));
            report.ratios.push(Ratio {
                key: peer.key,
                value: Err(why.clone()),
                detail: String::new(),
            });
            report.clients.push(ClientRow {
                name: peer.label.clone(),
                note: why,
                ..ClientRow::default()
            });
            continue;
        }
        let (ratio, row) = compare_peer(bins, &base, plan, &peer);
        report.ratios.push(ratio);
        report.clients.push(row);
    }

    // Peak memory of 1,000 concurrent calls.
    for client in ["generated", "raw"] {
        let mut command = Command::new(&bins.client_bench);
        command.args(["memory", "--base", &base, "--client", client, "--calls", "1000"]);
        let figure = output(&mut command).and_then(|out| {
            let line = json_lines(&out).into_iter().next().ok_or("no result")?;
            if line["errors"].as_u64().unwrap_or(1) > 0 {
                return Err(format!(
                    "{} calls failed, first: {}",
                    line["errors"], line["first_error"]
                ));
            }
            line["peak_rss_kb"]
                .as_f64()
                .map(report::kilobytes)
                .ok_or_else(|| "no VmHWM (not Linux?)".to_string())
        });
        let what = format!(
            "peak memory (VmHWM) of the process making 1,000 concurrent replies: {}",
            if client == "generated" { "generated client" } else { "raw reqwest" }
        );
        report.extra.push((what, figure.unwrap_or_else(|e| format!("n/a: {e}"))));
    }
    drop(server);
}

/// Tries `peer` at each concurrency, then alternates rounds of ours and the
/// peer's at its best.
fn compare_peer(bins: &Bins, base: &str, plan: &Plan, peer: &Peer<'_>) -> (Ratio, ClientRow) {
    let mut row = ClientRow { name: peer.label.clone(), ..ClientRow::default() };
    // The same warm-up as the Rust clients (issue 30: the peers once had a
    // tenth of it).
    let warmup = plan.warmup;
    let probe_calls = plan.calls.min(500);
    let mut levels = Vec::new();
    for concurrency in PEER_LEVELS {
        progress(&format!(
            "client: {} at concurrency {concurrency}, {probe_calls} replies",
            peer.client
        ));
        let tried = output(&mut (peer.command)(probe_calls, concurrency, 1, warmup))
            .and_then(|out| summarise(&json_lines(&out), peer.client));
        match tried {
            Ok(summary) => {
                if concurrency == 1 {
                    row.sequential = Some(summary.rate());
                }
                if concurrency == 16 {
                    row.at_16 = Some(summary.rate());
                }
                levels.push((concurrency, summary.rate()));
            }
            Err(e) => {
                progress(&format!(
                    "client: {} at concurrency {concurrency} failed: {e}",
                    peer.client
                ));
                row.note = format!("concurrency {concurrency}: {e}");
            }
        }
    }
    let Some(&(best, _)) = levels.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        let why = format!("{} failed at every concurrency: {}", peer.client, row.note);
        return (Ratio { key: peer.key, value: Err(why), detail: String::new() }, row);
    };
    progress(&format!(
        "client: generated vs {} at its best concurrency ({best}), {} alternate rounds of {} replies",
        peer.client, plan.peer_rounds, plan.calls
    ));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut failure = None;
    for _ in 0..plan.peer_rounds {
        match rust_rounds(bins, base, "generated", plan.calls, CONCURRENCY, 1, plan.warmup)
            .and_then(|l| summarise(&l, "generated"))
        {
            Ok(s) => ours.push(s),
            Err(e) => failure = Some(e),
        }
        match output(&mut (peer.command)(plan.calls, best, 1, warmup))
            .and_then(|out| summarise(&json_lines(&out), peer.client))
        {
            Ok(s) => theirs.push(s),
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        row.note = e.clone();
        return (Ratio { key: peer.key, value: Err(e), detail: String::new() }, row);
    }
    let seconds = |v: &[Summary]| median(&v.iter().map(|s| s.seconds).collect::<Vec<_>>());
    let (a, b) = (seconds(&ours), seconds(&theirs));
    row.best = b.map(|b| (best, plan.calls as f64 / b));
    row.p50_us = median(&theirs.iter().map(|s| s.p50_us).collect::<Vec<_>>());
    row.p99_us = median(&theirs.iter().map(|s| s.p99_us).collect::<Vec<_>>());
    if row.note.is_empty() {
        row.note =
            format!("tried at concurrency {}", PEER_LEVELS.map(|c| c.to_string()).join(", "));
    }
    let detail = format!(
        "{} replies: generated at concurrency {CONCURRENCY} {} vs {} at {best} {} (medians of {} alternate rounds)",
        plan.calls,
        a.map_or("n/a".into(), report::seconds),
        peer.client,
        b.map_or("n/a".into(), report::seconds),
        plan.peer_rounds
    );
    progress(&format!("client: vs {}: {detail}", peer.client));
    (Ratio { key: peer.key, value: report::ratio(a, b), detail }, row)
}
