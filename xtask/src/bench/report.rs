//! What `cargo xtask bench` prints: medians, ratios, the Markdown table and
//! the JSON object. Pure functions, unit-tested.

use serde_json::{Map, Value, json};

/// What a key's figure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Our time (or size) divided by the alternative's.
    Ratio,
    /// An absolute figure in megabytes (MiB).
    Megabytes,
    /// An absolute figure in milliseconds.
    Milliseconds,
}

/// The keys of `--json`, in order, with the goal each must meet (at most;
/// `None`: a figure reported without a goal) and its unit. The first five
/// are the original ones; the others were added with the docs sync, the long
/// connection and uploads (issue 17), the Redis dedup store (issue 25), and
/// the floors of issue 28, after them.
///
/// `sync_time_vs_raw_fetch` is the local-portal figure under its first name,
/// kept for whoever reads it; `sync_time_vs_raw_fetch_local` is the same
/// figure. Neither has a goal since issue 28: against a portal answering in
/// microseconds the figure is mostly cargo's start-up, and the goal went to
/// `sync_time_vs_raw_fetch_wan`.
pub const KEYS: [(&str, Option<f64>, Unit); 14] = [
    ("parse_time_vs_floor", Some(2.0), Unit::Ratio),
    ("client_time_vs_raw_reqwest", Some(1.05), Unit::Ratio),
    ("client_time_vs_python_sdk", Some(0.05), Unit::Ratio),
    ("client_time_vs_node_sdk", Some(0.1), Unit::Ratio),
    ("compile_time_vs_peer_crate", Some(1.0), Unit::Ratio),
    ("sync_time_vs_raw_fetch", None, Unit::Ratio),
    ("ws_events_time_vs_python_sdk", Some(0.1), Unit::Ratio),
    ("upload_time_vs_raw_reqwest", Some(1.1), Unit::Ratio),
    ("upload_peak_rss_mb", Some(64.0), Unit::Megabytes),
    ("redis_dedup_overhead", Some(1.5), Unit::Ratio),
    ("client_time_vs_raw_hyper", Some(1.10), Unit::Ratio),
    ("sync_time_vs_raw_fetch_wan", Some(1.05), Unit::Ratio),
    ("sync_time_vs_raw_fetch_local", None, Unit::Ratio),
    ("compile_ms_per_operation_used", None, Unit::Milliseconds),
];

/// The position of `key` in [`KEYS`] (unknown keys last).
pub fn position(key: &str) -> usize {
    KEYS.iter().position(|(k, ..)| *k == key).unwrap_or(KEYS.len())
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

/// `ours / theirs`, or why there is no ratio.
pub fn ratio(ours: Option<f64>, theirs: Option<f64>) -> Result<f64, String> {
    match (ours, theirs) {
        (Some(a), Some(b)) if b > 0.0 && a.is_finite() && b.is_finite() => Ok(a / b),
        (None, _) => Err("no measurement of ours".into()),
        (_, None) => Err("no measurement of the alternative".into()),
        _ => Err("the alternative took no time".into()),
    }
}

/// One figure of the JSON object: our time divided by the other's, or (for
/// a key in [`Unit::Megabytes`]) a size in MB.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    /// One of [`KEYS`].
    pub key: &'static str,
    /// The figure, or why it could not be measured.
    pub value: Result<f64, String>,
    /// What the ratio compares, e.g. "12.1 s vs 6.0 s (medians of 5)".
    pub detail: String,
}

/// One client of the throughput table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientRow {
    /// e.g. "generated client (feishu)".
    pub name: String,
    /// Calls per second, one at a time.
    pub sequential: Option<f64>,
    /// Calls per second at concurrency 16.
    pub at_16: Option<f64>,
    /// The best concurrency tried and its calls per second.
    pub best: Option<(usize, f64)>,
    /// Median latency in microseconds at the concurrency of `best` (or 16).
    pub p50_us: Option<f64>,
    /// 99th-percentile latency in microseconds, likewise.
    pub p99_us: Option<f64>,
    /// Why figures are missing, or a remark.
    pub note: String,
}

/// Everything one run measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One line on the machine.
    pub machine: String,
    /// The figures, in [`KEYS`] order.
    pub ratios: Vec<Ratio>,
    /// The client throughput table.
    pub clients: Vec<ClientRow>,
    /// Other measurements: (what, value).
    pub extra: Vec<(String, String)>,
}

impl Report {
    /// The `--json` object: every key of [`KEYS`] (a number, or `null` when
    /// not measured), then `reasons` for the nulls, `goals`, `details`,
    /// `clients` and `machine`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        let mut reasons = Map::new();
        let mut details = Map::new();
        let mut goals = Map::new();
        for (key, goal, _) in KEYS {
            goals.insert(key.into(), goal.map_or(Value::Null, |g| json!(g)));
            match self.ratios.iter().find(|r| r.key == key) {
                Some(Ratio { value: Ok(v), detail, .. }) => {
                    object.insert(key.into(), json!(round3(*v)));
                    details.insert(key.into(), json!(detail));
                }
                Some(Ratio { value: Err(why), detail, .. }) => {
                    object.insert(key.into(), Value::Null);
                    reasons.insert(key.into(), json!(why));
                    if !detail.is_empty() {
                        details.insert(key.into(), json!(detail));
                    }
                }
                None => {
                    object.insert(key.into(), Value::Null);
                    reasons.insert(key.into(), json!("not measured in this run"));
                }
            }
        }
        object.insert("reasons".into(), Value::Object(reasons));
        object.insert("goals".into(), Value::Object(goals));
        object.insert("details".into(), Value::Object(details));
        let clients: Vec<Value> = self
            .clients
            .iter()
            .map(|c| {
                json!({
                    "client": c.name,
                    "sequential_calls_per_s": c.sequential.map(round1),
                    "concurrency_16_calls_per_s": c.at_16.map(round1),
                    "best_concurrency": c.best.map(|b| b.0),
                    "best_calls_per_s": c.best.map(|b| round1(b.1)),
                    "p50_us": c.p50_us.map(round1),
                    "p99_us": c.p99_us.map(round1),
                    "note": c.note,
                })
            })
            .collect();
        object.insert("clients".into(), Value::Array(clients));
        let extra: Map<String, Value> =
            self.extra.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        object.insert("other".into(), Value::Object(extra));
        object.insert("machine".into(), json!(self.machine));
        Value::Object(object)
    }

    /// The Markdown tables.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("Machine: {}\n\n", self.machine));
        out.push_str("| figure (ours ÷ theirs, or MB; lower is better) | value | goal | measured |\n|---|---|---|---|\n");
        for (key, goal, unit) in KEYS {
            let shown = |v: f64| match unit {
                Unit::Ratio => fmt_ratio(v),
                Unit::Megabytes => format!("{} MB", fmt_ratio(v)),
                Unit::Milliseconds => format!("{} ms", fmt_ratio(v)),
            };
            let (value, detail) = match self.ratios.iter().find(|r| r.key == key) {
                Some(Ratio { value: Ok(v), detail, .. }) => {
                    let mark = match goal {
                        Some(goal) if *v <= goal => "met",
                        Some(_) => "missed",
                        None => "no goal",
                    };
                    (format!("{} ({mark})", shown(*v)), detail.clone())
                }
                Some(Ratio { value: Err(why), .. }) => {
                    ("n/a".to_string(), format!("not measured: {why}"))
                }
                None => ("n/a".to_string(), "not measured in this run".to_string()),
            };
            let goal = match (goal, unit) {
                (None, _) => "none".to_string(),
                (Some(goal), Unit::Ratio) => format!("≤ {goal}"),
                (Some(goal), Unit::Megabytes) => format!("≤ {goal} MB"),
                (Some(goal), Unit::Milliseconds) => format!("≤ {goal} ms"),
            };
            out.push_str(&format!("| `{key}` | {value} | {goal} | {} |\n", cell(&detail)));
        }
        if !self.clients.is_empty() {
            out.push_str("\n| client, replies to a local server | sequential | at concurrency 16 | best concurrency | p50 | p99 | note |\n|---|---|---|---|---|---|---|\n");
            for c in &self.clients {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    cell(&c.name),
                    c.sequential.map_or("n/a".into(), calls_per_s),
                    c.at_16.map_or("n/a".into(), calls_per_s),
                    c.best.map_or("n/a".into(), |(n, v)| format!("{n}: {}", calls_per_s(v))),
                    c.p50_us.map_or("n/a".into(), micros),
                    c.p99_us.map_or("n/a".into(), micros),
                    cell(&c.note),
                ));
            }
        }
        if !self.extra.is_empty() {
            out.push_str("\n| other measurements | value |\n|---|---|\n");
            for (what, value) in &self.extra {
                out.push_str(&format!("| {} | {} |\n", cell(what), cell(value)));
            }
        }
        out
    }
}

/// A table cell: no line breaks or bare pipes.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A ratio with three significant digits.
pub fn fmt_ratio(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// "62,600 calls/s"-style figures, to three significant digits.
pub fn calls_per_s(v: f64) -> String {
    format!("{} calls/s", thousands(significant(v, 3)))
}

/// Microseconds as µs or ms.
pub fn micros(us: f64) -> String {
    if us >= 1000.0 { format!("{:.1} ms", us / 1000.0) } else { format!("{us:.0} µs") }
}

/// Seconds as s (or ms below one second).
pub fn seconds(s: f64) -> String {
    if s >= 1.0 { format!("{s:.1} s") } else { format!("{:.0} ms", s * 1000.0) }
}

/// Bytes (given in kB) as MB or GB.
pub fn kilobytes(kb: f64) -> String {
    let mb = kb / 1024.0;
    if mb >= 1024.0 { format!("{:.1} GB", mb / 1024.0) } else { format!("{mb:.0} MB") }
}

/// `v` rounded to `digits` significant digits, as an integer (for values ≥ 1).
fn significant(v: f64, digits: i32) -> u64 {
    if v < 1.0 {
        return v.round() as u64;
    }
    let magnitude = v.log10().floor() as i32;
    let scale = 10f64.powi((magnitude + 1 - digits).max(0));
    ((v / scale).round() * scale) as u64
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(Some(3.0), Some(2.0)), Ok(1.5));
        assert!(ratio(None, Some(2.0)).unwrap_err().contains("ours"));
        assert!(ratio(Some(1.0), None).unwrap_err().contains("alternative"));
        assert!(ratio(Some(1.0), Some(0.0)).is_err());
    }

    #[test]
    fn figures() {
        assert_eq!(thousands(62_600), "62,600");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(calls_per_s(62_634.2), "62,600 calls/s");
        assert_eq!(calls_per_s(850.4), "850 calls/s");
        assert_eq!(micros(250.4), "250 µs");
        assert_eq!(micros(1_500.0), "1.5 ms");
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(86.04), "86.0 s");
        assert_eq!(kilobytes(5.4 * 1024.0 * 1024.0), "5.4 GB");
        assert_eq!(kilobytes(20_480.0), "20 MB");
        assert_eq!(fmt_ratio(1.0432), "1.04");
        assert_eq!(fmt_ratio(0.0123), "0.0123");
    }

    fn sample() -> Report {
        Report {
            machine: "2 cores".into(),
            ratios: vec![
                Ratio { key: "parse_time_vs_floor", value: Ok(1.23456), detail: "a vs b".into() },
                Ratio {
                    key: "client_time_vs_python_sdk",
                    value: Err("PyPI unreachable".into()),
                    detail: String::new(),
                },
                Ratio {
                    key: "sync_time_vs_raw_fetch",
                    value: Ok(1.31),
                    detail: "sync vs fetch".into(),
                },
                Ratio {
                    key: "ws_events_time_vs_python_sdk",
                    value: Err("the benchmark programs did not build".into()),
                    detail: String::new(),
                },
                Ratio { key: "upload_peak_rss_mb", value: Ok(41.04), detail: "VmHWM".into() },
                Ratio { key: "client_time_vs_raw_hyper", value: Ok(1.18), detail: "a vs h".into() },
                Ratio {
                    key: "compile_ms_per_operation_used",
                    value: Ok(38.24),
                    detail: "caller".into(),
                },
            ],
            clients: vec![ClientRow {
                name: "raw | reqwest".into(),
                at_16: Some(60_000.0),
                ..ClientRow::default()
            }],
            extra: vec![("regen of the seeds".into(), "120 ms".into())],
        }
    }

    #[test]
    fn keys_keep_the_original_five_first_and_the_contract_names() {
        let names: Vec<&str> = KEYS.iter().map(|(k, ..)| *k).collect();
        assert_eq!(
            names,
            [
                "parse_time_vs_floor",
                "client_time_vs_raw_reqwest",
                "client_time_vs_python_sdk",
                "client_time_vs_node_sdk",
                "compile_time_vs_peer_crate",
                "sync_time_vs_raw_fetch",
                "ws_events_time_vs_python_sdk",
                "upload_time_vs_raw_reqwest",
                "upload_peak_rss_mb",
                "redis_dedup_overhead",
                "client_time_vs_raw_hyper",
                "sync_time_vs_raw_fetch_wan",
                "sync_time_vs_raw_fetch_local",
                "compile_ms_per_operation_used",
            ]
        );
        let goals: Vec<Option<f64>> = KEYS.iter().map(|(_, g, _)| *g).collect();
        let (no, g) = (None, Some);
        assert_eq!(
            goals,
            [
                g(2.0),
                g(1.05),
                g(0.05),
                g(0.1),
                g(1.0),
                no,
                g(0.1),
                g(1.1),
                g(64.0),
                g(1.5),
                g(1.10),
                g(1.05),
                no,
                no
            ]
        );
        let megabytes: Vec<&str> =
            KEYS.iter().filter(|(.., u)| *u == Unit::Megabytes).map(|(k, ..)| *k).collect();
        assert_eq!(megabytes, ["upload_peak_rss_mb"]);
        assert_eq!(position("sync_time_vs_raw_fetch"), 5);
        assert_eq!(position("no such key"), KEYS.len());
    }

    #[test]
    fn json_has_every_key_and_a_reason_for_each_null() {
        let json = sample().to_json();
        let object = json.as_object().unwrap();
        let keys: Vec<&str> = object.keys().take(KEYS.len()).map(String::as_str).collect();
        let expected: Vec<&str> = KEYS.iter().map(|(k, ..)| *k).collect();
        assert_eq!(keys, expected);
        assert_eq!(object.keys().nth(KEYS.len()).map(String::as_str), Some("reasons"));
        assert_eq!(json["parse_time_vs_floor"], json!(1.235));
        assert_eq!(json["sync_time_vs_raw_fetch"], json!(1.31));
        assert_eq!(json["upload_peak_rss_mb"], json!(41.04));
        let measured = [
            "parse_time_vs_floor",
            "sync_time_vs_raw_fetch",
            "upload_peak_rss_mb",
            "client_time_vs_raw_hyper",
            "compile_ms_per_operation_used",
        ];
        for (key, ..) in KEYS.iter().filter(|(k, ..)| !measured.contains(k)) {
            assert!(json[key].is_null(), "{key}");
            assert!(json["reasons"][key].is_string(), "{key} has no reason");
        }
        for key in measured {
            assert!(json["reasons"].get(key).is_none(), "{key} is measured but has a reason");
        }
        assert_eq!(json["reasons"]["client_time_vs_python_sdk"], json!("PyPI unreachable"));
        assert_eq!(
            json["reasons"]["ws_events_time_vs_python_sdk"],
            json!("the benchmark programs did not build")
        );
        assert_eq!(
            json["reasons"]["upload_time_vs_raw_reqwest"],
            json!("not measured in this run")
        );
        assert_eq!(json["goals"]["client_time_vs_raw_reqwest"], json!(1.05));
        assert_eq!(json["goals"]["upload_peak_rss_mb"], json!(64.0));
        assert!(json["goals"]["sync_time_vs_raw_fetch_local"].is_null());
        assert_eq!(json["clients"][0]["concurrency_16_calls_per_s"], json!(60000.0));
        assert_eq!(json["other"]["regen of the seeds"], json!("120 ms"));
    }

    #[test]
    fn markdown_marks_goals_and_escapes_cells() {
        let md = sample().to_markdown();
        assert!(md.starts_with("Machine: 2 cores\n"));
        assert!(md.contains("| `parse_time_vs_floor` | 1.23 (met) | ≤ 2 | a vs b |"), "{md}");
        assert!(
            md.contains(
                "| `client_time_vs_python_sdk` | n/a | ≤ 0.05 | not measured: PyPI unreachable |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| `compile_time_vs_peer_crate` | n/a | ≤ 1 | not measured in this run |"),
            "{md}"
        );
        assert!(
            md.contains("| `sync_time_vs_raw_fetch` | 1.31 (no goal) | none | sync vs fetch |"),
            "{md}"
        );
        assert!(md.contains("| `upload_peak_rss_mb` | 41.0 MB (met) | ≤ 64 MB | VmHWM |"), "{md}");
        assert!(
            md.contains("| `client_time_vs_raw_hyper` | 1.18 (missed) | ≤ 1.1 | a vs h |"),
            "{md}"
        );
        assert!(
            md.contains("| `compile_ms_per_operation_used` | 38.2 ms (no goal) | none | caller |"),
            "{md}"
        );
        assert!(md.contains("| raw \\| reqwest | n/a | 60,000 calls/s | n/a |"), "{md}");
        assert!(md.contains("| regen of the seeds | 120 ms |"), "{md}");
    }

    #[test]
    fn a_size_over_its_goal_is_missed_in_megabytes() {
        let report = Report {
            ratios: vec![Ratio {
                key: "upload_peak_rss_mb",
                value: Ok(200.0),
                detail: String::new(),
            }],
            ..Report::default()
        };
        assert!(
            report.to_markdown().contains("| `upload_peak_rss_mb` | 200 MB (missed) | ≤ 64 MB |")
        );
    }
}
