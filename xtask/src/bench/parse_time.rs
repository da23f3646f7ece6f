//! `parse_time_vs_floor`: `cargo xtask parse ../shared/corpus spec/docs`, as
//! a user runs it (through cargo, dev profile, the spec to a file), against
//! `parse-floor` over the same pages. Both are timed as whole processes,
//! alternately, after one untimed run each (so the pages are in the page cache).

use std::path::Path;
use std::process::Command;

use super::report::{self, Ratio, Report, median};
use super::{Bins, Plan, cargo, progress, timed};

/// Adds the parse figure to `report`.
pub fn measure(root: &Path, bins: Option<&Bins>, plan: &Plan, report: &mut Report) {
    let key = "parse_time_vs_floor";
    let corpus = root.join("..").join("shared").join("corpus");
    let seeds = root.join("spec").join("docs");
    let value = (|| {
        if !corpus.is_dir() {
            return Err(format!("the corpus {} is absent", corpus.display()));
        }
        let bins = bins.ok_or("the benchmark programs did not build")?;
        progress(&format!(
            "parse: cargo xtask parse vs parse-floor over {} and {}, {} alternate runs",
            corpus.display(),
            seeds.display(),
            plan.parse_rounds
        ));
        let xtask_parse = || {
            let mut command = Command::new(cargo());
            command.current_dir(root).args(["xtask", "parse"]).arg(&corpus).arg(&seeds);
            command
        };
        let floor = || {
            let mut command = Command::new(&bins.parse_floor);
            command.arg(&corpus).arg(&seeds);
            command
        };
        timed(&mut xtask_parse())?;
        timed(&mut floor())?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..plan.parse_rounds {
            ours.push(timed(&mut xtask_parse())?);
            theirs.push(timed(&mut floor())?);
        }
        let (a, b) = (median(&ours), median(&theirs));
        let detail = format!(
            "cargo xtask parse {} vs parse-floor {} (medians of {})",
            a.map_or("n/a".into(), report::seconds),
            b.map_or("n/a".into(), report::seconds),
            plan.parse_rounds
        );
        progress(&format!("parse: {detail}"));
        Ok((report::ratio(a, b)?, detail))
    })();
    report.ratios.push(match value {
        Ok((v, detail)) => Ratio { key, value: Ok(v), detail },
        Err(why) => Ratio { key, value: Err(why), detail: String::new() },
    });
}
