//! `parse_time_vs_floor`: `cargo xtask parse ../shared/corpus spec/docs`, as
//! a user runs it (through cargo, dev profile, the spec to a file), against
//! `parse-floor` over the same pages. Both are timed as whole processes,
//! alternately, after one untimed run each (so the pages are in the page cache).
//!
//! On equal footing (issue 30): `cargo xtask parse` reads the pages on every
//! core and the floor on one, so both run pinned to one core (`taskset -c
//! 0`, which the parse's thread count follows: `available_parallelism` reads
//! the affinity). The parse on every core, as a user runs it, is timed in
//! the same rounds and reported under `other`, against the same floor.

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
            "parse: cargo xtask parse (on one core, then on every core) vs parse-floor (one core) over {} and {}, {} alternate runs",
            corpus.display(),
            seeds.display(),
            plan.parse_rounds
        ));
        let taskset = which("taskset").ok_or(
            "taskset (util-linux) is not installed: the one-core figure pins both programs with it",
        )?;
        // `pinned`: on core 0 alone.
        let xtask_parse = |pinned: bool| {
            let mut command = if pinned {
                let mut command = Command::new(&taskset);
                command.args(["-c", "0"]).arg(cargo());
                command
            } else {
                Command::new(cargo())
            };
            command.current_dir(root).args(["xtask", "parse"]).arg(&corpus).arg(&seeds);
            command
        };
        let floor = || {
            let mut command = Command::new(&taskset);
            command.args(["-c", "0"]).arg(&bins.parse_floor).arg(&corpus).arg(&seeds);
            command
        };
        timed(&mut xtask_parse(true))?;
        timed(&mut floor())?;
        let (mut ours, mut theirs, mut every_core) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..plan.parse_rounds {
            ours.push(timed(&mut xtask_parse(true))?);
            theirs.push(timed(&mut floor())?);
            every_core.push(timed(&mut xtask_parse(false))?);
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let (c, b) = (median(&every_core), median(&theirs));
        report.extra.push((
            format!(
                "cargo xtask parse on every core ({cores}) ÷ parse-floor on one (medians of {}, the same rounds as parse_time_vs_floor)",
                plan.parse_rounds
            ),
            format!(
                "{} vs {}: ratio {}",
                c.map_or("n/a".into(), report::seconds),
                b.map_or("n/a".into(), report::seconds),
                report::ratio(c, b).map_or("n/a".into(), report::fmt_ratio)
            ),
        ));
        let (a, b) = (median(&ours), median(&theirs));
        let detail = format!(
            "both on one core (taskset -c 0): cargo xtask parse {} vs parse-floor {} (medians of {})",
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

/// The path of `program` on `PATH`, if it is there.
fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}
