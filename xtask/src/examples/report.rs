//! What `cargo xtask examples` prints: a summary line per kind and a line
//! per failure, or (`--json`) one document with the stable keys of the
//! contract, and the ratchet that `cargo xtask test` holds the corpus to.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::cases::{Kind, Plan};

/// The counts of one kind of example.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Usable examples checked.
    pub total: usize,
    /// Those that decoded (responses, events) or were accepted (requests).
    pub passed: usize,
    /// Their leaf values.
    pub fields_total: usize,
    /// The leaf values that landed in a typed field.
    pub fields_kept: usize,
    /// Not JSON, or with `...` placeholders.
    pub unusable: usize,
    /// Of an operation or event the crate does not type.
    pub untyped: usize,
}

/// One example that failed: where and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Failure {
    pub kind: Kind,
    pub page: String,
    pub item: String,
    pub path: String,
    pub reason: String,
}

/// The whole report.
#[derive(Debug, Default)]
pub struct Report {
    pub tallies: BTreeMap<Kind, Tally>,
    pub failures: Vec<Failure>,
    /// Where decoded examples held values their type dropped as unknown
    /// (`reason` is empty): what `fields_kept` does not count.
    pub dropped: Vec<Failure>,
}

impl Report {
    /// Adds up the checker's `results` (one per case of `plan`).
    pub fn new(plan: &Plan, results: &[Value]) -> Report {
        let mut report = Report::default();
        for kind in Kind::ALL {
            report.tallies.insert(
                kind,
                Tally {
                    unusable: plan.unusable.get(&kind).copied().unwrap_or(0),
                    untyped: plan.untyped.get(&kind).copied().unwrap_or(0),
                    ..Tally::default()
                },
            );
        }
        for (case, result) in plan.cases.iter().zip(results) {
            let tally = report.tallies.entry(case.kind).or_default();
            let count = |key: &str| result[key].as_u64().unwrap_or(0) as usize;
            tally.total += 1;
            tally.fields_total += count("total");
            tally.fields_kept += count("kept");
            if result["ok"] == true {
                tally.passed += 1;
                for path in result["dropped"].as_array().into_iter().flatten() {
                    report.dropped.push(Failure {
                        kind: case.kind,
                        page: case.page.clone(),
                        item: case.item.clone(),
                        path: path.as_str().unwrap_or_default().to_owned(),
                        reason: String::new(),
                    });
                }
                continue;
            }
            let failure = |path: &Value, reason: &Value| Failure {
                kind: case.kind,
                page: case.page.clone(),
                item: case.item.clone(),
                path: path.as_str().unwrap_or_default().to_owned(),
                reason: reason.as_str().unwrap_or("no reason given").to_owned(),
            };
            match result["findings"].as_array() {
                Some(findings) => report
                    .failures
                    .extend(findings.iter().map(|f| failure(&f["path"], &f["reason"]))),
                None => report.failures.push(failure(&result["path"], &result["reason"])),
            }
        }
        report
    }

    pub fn tally(&self, kind: Kind) -> Tally {
        self.tallies.get(&kind).copied().unwrap_or_default()
    }

    /// The summary lines, then one line per failure.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for kind in Kind::ALL {
            let t = self.tally(kind);
            let verb = if kind == Kind::Requests { "accepted" } else { "decoded" };
            out.push_str(&format!(
                "{}: {} of {} {verb} ({}), {} of {} leaf values kept ({}); {} unusable, {} untyped\n",
                kind.key(),
                t.passed,
                t.total,
                percent(t.passed, t.total),
                t.fields_kept,
                t.fields_total,
                percent(t.fields_kept, t.fields_total),
                t.unusable,
                t.untyped,
            ));
        }
        for f in &self.failures {
            let path = if f.path.is_empty() { "(root)" } else { f.path.as_str() };
            out.push_str(&format!(
                "{} {}: {} at {path}: {}\n",
                f.page,
                f.kind.key(),
                f.item,
                f.reason
            ));
        }
        out
    }

    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        let mut doc = serde_json::Map::new();
        for kind in Kind::ALL {
            let t = self.tally(kind);
            let passed = if kind == Kind::Requests { "accepted" } else { "decoded" };
            doc.insert(
                kind.key().to_owned(),
                json!({
                    "total": t.total,
                    passed: t.passed,
                    "fields_total": t.fields_total,
                    "fields_kept": t.fields_kept,
                    "unusable": t.unusable,
                    "untyped": t.untyped,
                }),
            );
        }
        let failures: Vec<Value> = self
            .failures
            .iter()
            .map(|f| {
                json!({"page": f.page, "item": f.item, "path": f.path, "reason": f.reason, "kind": f.kind.key()})
            })
            .collect();
        doc.insert("failures".to_owned(), Value::Array(failures));
        let dropped: Vec<Value> = self
            .dropped
            .iter()
            .map(|f| json!({"page": f.page, "item": f.item, "path": f.path, "kind": f.kind.key()}))
            .collect();
        doc.insert("dropped".to_owned(), Value::Array(dropped));
        Value::Object(doc)
    }

    /// The counts the ratchet holds: per kind, the examples that pass and
    /// the leaf values kept.
    pub fn ratchet(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for kind in Kind::ALL {
            let t = self.tally(kind);
            let passed = if kind == Kind::Requests { "accepted" } else { "decoded" };
            out.insert(format!("{}.{passed}", kind.key()), t.passed);
            out.insert(format!("{}.fields_kept", kind.key()), t.fields_kept);
        }
        out
    }
}

/// `n` of `of` as a percentage with one decimal.
fn percent(n: usize, of: usize) -> String {
    if of == 0 { "-".into() } else { format!("{:.1}%", n as f64 * 100.0 / of as f64) }
}

/// The counts of `now` that fell below `committed`: `kind.count: now (committed n)`.
pub fn fallen(committed: &BTreeMap<String, usize>, now: &BTreeMap<String, usize>) -> Vec<String> {
    committed
        .iter()
        .filter_map(|(key, &was)| {
            let is = now.get(key).copied().unwrap_or(0);
            (is < was).then(|| format!("{key}: {is} (committed {was})"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::cases::Case;

    fn case(kind: Kind, item: &str) -> Case {
        Case { kind, page: "p.md".into(), item: item.into(), value: Value::Null }
    }

    #[test]
    fn adds_up_results_and_names_each_failure() {
        let plan = Plan {
            cases: vec![
                case(Kind::Responses, "a.v1.x.get"),
                case(Kind::Responses, "a.v1.x.list"),
                case(Kind::Requests, "a.v1.x.create"),
            ],
            unusable: [(Kind::Events, 2)].into(),
            ..Plan::default()
        };
        let results = [
            json!({"ok": true, "total": 4, "kept": 3}),
            json!({"ok": false, "total": 2, "kept": 0, "path": "items[0].id", "reason": "invalid type"}),
            json!({"ok": false, "total": 3, "kept": 2, "findings": [{"path": "x", "reason": "not a field of `R`"}]}),
        ];
        let report = Report::new(&plan, &results);
        let responses = report.tally(Kind::Responses);
        assert_eq!((responses.total, responses.passed), (2, 1));
        assert_eq!((responses.fields_total, responses.fields_kept), (6, 3));
        assert_eq!(report.tally(Kind::Events).unusable, 2);
        assert_eq!(report.failures.len(), 2);
        let doc = report.to_json();
        assert_eq!(doc["requests"]["accepted"], 0);
        assert_eq!(doc["responses"]["decoded"], 1);
        assert_eq!(doc["failures"][0]["path"], "items[0].id");
        assert_eq!(doc["failures"][1]["item"], "a.v1.x.create");
        let text = report.to_text();
        assert!(
            text.starts_with("responses: 1 of 2 decoded (50.0%), 3 of 6 leaf values kept (50.0%)"),
            "{text}"
        );
        assert!(text.contains("p.md requests: a.v1.x.create at x: not a field of `R`"), "{text}");
    }

    #[test]
    fn the_ratchet_lets_counts_rise_never_fall() {
        let committed: BTreeMap<String, usize> =
            [("responses.decoded".to_string(), 10), ("events.decoded".to_string(), 5)].into();
        let mut now = committed.clone();
        now.insert("responses.decoded".into(), 11);
        assert!(fallen(&committed, &now).is_empty());
        now.insert("events.decoded".into(), 4);
        assert_eq!(fallen(&committed, &now), ["events.decoded: 4 (committed 5)"]);
    }
}
