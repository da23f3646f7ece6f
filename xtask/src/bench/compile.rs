//! `compile_time_vs_peer_crate` and the regen figures.
//!
//! Each crate is built the way a user builds it: as a dependency of a small
//! program (`target/bench/compile/…`), in the dev profile, with its own
//! dependencies already built. `cargo clean -p CRATE` then a timed
//! `cargo build` rebuilds that crate alone (and the program's empty `main`);
//! ours and larksuite-oapi-sdk-rs alternate. Operations are counted as one
//! per API call in both: the `pub async fn` items of the crate's source, and
//! in ours also the catalogue-only operations, which are plain methods
//! returning a `feishu_runtime::RawCall` (counted by its constructor). Peak memory is GNU time's maximum resident set size, which is that
//! of the largest process of the build (rustc).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::report::{self, Ratio, Report, median};
use super::{Plan, cargo_in, output, progress, timed};

/// The peer crate and its pinned version.
const PEER: &str = "larksuite-oapi-sdk-rs";
const PEER_VERSION: &str = "0.3.13";
/// GNU time, for the peak memory of a build.
const GNU_TIME: &str = "/usr/bin/time";

/// Adds the regen and compile figures to `report`.
pub fn measure(root: &Path, dir: &Path, plan: &Plan, report: &mut Report) {
    let key = "compile_time_vs_peer_crate";
    let seeds = root.join("spec").join("docs");
    match regen_time(&seeds, &dir.join("seed-crate"), plan.regen_rounds) {
        Ok((s, summary)) => report.extra.push((
            format!("regen of the seed pages ({summary})"),
            format!("{} (median of {})", report::seconds(s), plan.regen_rounds),
        )),
        Err(e) => report.extra.push(("regen of the seed pages".into(), format!("n/a: {e}"))),
    }
    let corpus = root.join("..").join("shared").join("corpus").join("raw");
    if !corpus.is_dir() {
        let why = format!("the corpus {} is absent", corpus.display());
        report.extra.push(("regen of the whole corpus".into(), format!("n/a: {why}")));
        report.ratios.push(Ratio { key, value: Err(why), detail: String::new() });
        return;
    }
    // Timed into a folder emptied each time; the crate that is built is
    // regenerated in place, so that unchanged files keep their times and the
    // untimed first build does not redo what the last run built.
    let crate_dir = dir.join("corpus-crate");
    match regen_time(&corpus, &dir.join("corpus-regen"), plan.regen_rounds) {
        Ok((s, summary)) => report.extra.push((
            format!("regen of the whole corpus ({summary})"),
            format!("{} (median of {})", report::seconds(s), plan.regen_rounds),
        )),
        Err(e) => {
            report.extra.push(("regen of the whole corpus".into(), format!("n/a: {e}")));
            report.ratios.push(Ratio {
                key,
                value: Err(format!("regen of the corpus failed: {e}")),
                detail: String::new(),
            });
            return;
        }
    }
    let xtask = super::xtask_exe();
    let regenerated = xtask.and_then(|xtask| {
        output(
            Command::new(xtask)
                .arg("regen")
                .arg("--docs")
                .arg(&corpus)
                .arg("--out")
                .arg(&crate_dir),
        )
    });
    if let Err(e) = regenerated {
        report.ratios.push(Ratio {
            key,
            value: Err(format!("regen of the corpus failed: {e}")),
            detail: String::new(),
        });
        return;
    }
    let value = compare(root, dir, &crate_dir.join("generated"), plan, report);
    report.ratios.push(match value {
        Ok((v, detail)) => Ratio { key, value: Ok(v), detail },
        Err(why) => Ratio { key, value: Err(why), detail: String::new() },
    });
}

/// Median seconds of `xtask regen --docs DOCS --out OUT` into an emptied
/// `out`, and regen's own summary line.
fn regen_time(docs: &Path, out: &Path, rounds: usize) -> Result<(f64, String), String> {
    let xtask = super::xtask_exe()?;
    progress(&format!("regen: {} → {}, {rounds} run(s)", docs.display(), out.display()));
    let mut times = Vec::new();
    let mut summary = String::new();
    for _ in 0..rounds.max(1) {
        for tree in ["spec", "generated"] {
            let _ = std::fs::remove_dir_all(out.join(tree));
        }
        let mut command = Command::new(&xtask);
        command.arg("regen").arg("--docs").arg(docs).arg("--out").arg(out);
        let started = std::time::Instant::now();
        let result =
            command.stdin(std::process::Stdio::null()).output().map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_secs_f64());
        let stderr = String::from_utf8_lossy(&result.stderr);
        if !result.status.success() {
            return Err(format!("regen failed: {}", super::tail(&stderr, 800)));
        }
        // "regen: 2318 pages → 1012 endpoints (…), …; N file(s) written, …"
        if let Some(line) = stderr.lines().find(|l| l.starts_with("regen: ")) {
            summary =
                line.trim_start_matches("regen: ").split(';').next().unwrap_or("").to_string();
        }
    }
    Ok((median(&times).unwrap_or(0.0), summary))
}

/// `.rs` files under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines, files and `pub async fn` items of the Rust source under `src`.
fn count_source(src: &Path) -> (usize, usize, usize) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let (mut lines, mut operations) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        lines += text.lines().count();
        operations += count_operations(&text);
    }
    (lines, files.len(), operations)
}

/// The operations of `text`: its `pub async fn` items (one per API call in
/// the peer crate), and in ours the typed operations (one
/// `impl feishu_runtime::codegen::Operation` each) and the catalogue-only ones, whose
/// methods build a `feishu_runtime::RawCall`.
pub fn count_operations(text: &str) -> usize {
    const MARKS: [&str; 3] = [
        "pub async fn ",
        "impl feishu_runtime::codegen::Operation for ",
        "feishu_runtime::RawCall::new(",
    ];
    text.lines().filter(|l| MARKS.iter().any(|m| l.trim_start().starts_with(m))).count()
}

/// A program depending on `dependency` (a TOML inline value).
fn write_user(dir: &Path, name: &str, dependency: &str, use_crate: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = format!(
        "# Written by `cargo xtask bench` (xtask/src/bench/compile.rs); do not edit.\n[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependency}\n\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(
        dir.join("src").join("main.rs"),
        format!("use {use_crate} as _;\n\nfn main() {{}}\n"),
    )
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(())
}

/// One timed rebuild of `package` in the program at `user`: seconds and peak kB.
fn rebuild(
    user: &Path,
    target: &Path,
    package: &str,
    memory_file: &Path,
) -> Result<(f64, Option<f64>), String> {
    output(
        cargo_in(user, target)
            .env("CARGO_INCREMENTAL", "0")
            .args(["clean", "--quiet", "-p", package]),
    )?;
    let gnu_time = Path::new(GNU_TIME).exists();
    let mut command = if gnu_time {
        let mut command = Command::new(GNU_TIME);
        command.args(["-f", "%M", "-o"]).arg(memory_file).arg(super::cargo());
        command
    } else {
        Command::new(super::cargo())
    };
    command
        .current_dir(user)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .args(["build", "--quiet"]);
    let seconds = timed(&mut command)?;
    let peak = if gnu_time {
        std::fs::read_to_string(memory_file)
            .ok()
            .and_then(|t| t.lines().last()?.trim().parse::<f64>().ok())
    } else {
        None
    };
    Ok((seconds, peak))
}

/// The folder of the peer's source, from `cargo metadata`.
fn peer_source(user: &Path, target: &Path) -> Result<PathBuf, String> {
    let text = output(cargo_in(user, target).args(["metadata", "--format-version", "1"]))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("cargo metadata: {e}"))?;
    let manifest = json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == PEER)
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or(format!("cargo metadata does not list {PEER}"))?;
    Ok(Path::new(manifest).parent().unwrap_or(Path::new(".")).join("src"))
}

/// The feature to build "with one": `im` if the crate has it, else its first service.
fn one_feature(crate_dir: &Path) -> Option<String> {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).ok()?;
    let features: Vec<String> = manifest
        .split("[features]")
        .nth(1)?
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .filter(|k| !k.is_empty() && k != "default" && k != "webhook")
        .collect();
    features.iter().find(|f| *f == "im").or(features.first()).cloned()
}

fn compare(
    root: &Path,
    dir: &Path,
    crate_dir: &Path,
    plan: &Plan,
    report: &mut Report,
) -> Result<(f64, String), String> {
    let (lines, files, ours_ops) = count_source(&crate_dir.join("src"));
    report.extra.push((
        "crate generated from the whole corpus".into(),
        format!(
            "{} lines in {} files, {} operations",
            report::thousands(lines as u64),
            report::thousands(files as u64),
            report::thousands(ours_ops as u64)
        ),
    ));
    if ours_ops == 0 {
        return Err(format!("no operations in {}", crate_dir.display()));
    }
    let compile = dir.join("compile");
    let (ours_target, peer_target) = (compile.join("target-ours"), compile.join("target-peer"));
    let (all, one, peer) =
        (compile.join("ours-all"), compile.join("ours-one"), compile.join("peer"));
    let path = format!("{:?}", crate_dir.to_string_lossy());
    write_user(&all, "bench-user-all", &format!("feishu = {{ path = {path} }}"), "feishu")?;
    let feature = one_feature(crate_dir);
    if let Some(feature) = &feature {
        write_user(
            &one,
            "bench-user-one",
            &format!(
                "feishu = {{ path = {path}, default-features = false, features = [\"{feature}\"] }}"
            ),
            "feishu",
        )?;
    }
    write_user(
        &peer,
        "bench-user-peer",
        &format!("{PEER} = \"={PEER_VERSION}\""),
        &PEER.replace('-', "_"),
    )?;
    let caller = compile.join("ours-caller");
    let typed = typed_operations(&crate_dir.join("src"));
    write_user(&caller, "bench-user-caller", &format!("feishu = {{ path = {path} }}"), "feishu")?;
    std::fs::write(caller.join("src").join("main.rs"), caller_main(&typed))
        .map_err(|e| format!("{}: {e}", caller.display()))?;
    for user in [&all, &one, &caller] {
        let lock = user.join("Cargo.lock");
        if user.exists() && !lock.exists() {
            std::fs::copy(root.join("Cargo.lock"), &lock)
                .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
        }
    }

    // Dependencies first, untimed.
    progress(&format!(
        "compile: building the corpus crate and its dependencies once in {}",
        all.display()
    ));
    output(cargo_in(&all, &ours_target).env("CARGO_INCREMENTAL", "0").args(["build", "--quiet"]))
        .map_err(|e| format!("the corpus crate does not build: {e}"))?;
    if feature.is_some() {
        output(
            cargo_in(&one, &ours_target).env("CARGO_INCREMENTAL", "0").args(["build", "--quiet"]),
        )
        .map_err(|e| format!("the corpus crate does not build with one feature: {e}"))?;
    }
    progress(&format!(
        "compile: fetching and building {PEER} {PEER_VERSION} from crates.io once in {}",
        peer.display()
    ));
    output(cargo_in(&peer, &peer_target).env("CARGO_INCREMENTAL", "0").args(["build", "--quiet"]))
        .map_err(|e| {
            format!("{PEER} {PEER_VERSION} could not be fetched from crates.io or built: {e}")
        })?;
    let (_, _, peer_ops) = count_source(&peer_source(&peer, &peer_target)?);
    if peer_ops == 0 {
        return Err(format!("no `pub async fn` found in the source of {PEER}"));
    }

    let caller_built = output(
        cargo_in(&caller, &ours_target).env("CARGO_INCREMENTAL", "0").args(["build", "--quiet"]),
    );
    if let Err(e) = &caller_built {
        progress(&format!(
            "compile: the program calling every typed operation does not build: {e}"
        ));
    }

    let (mut ours, mut theirs, mut ours_mem, mut theirs_mem) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..plan.compile_rounds {
        progress(&format!(
            "compile: round {} of {}: rebuilding the corpus crate, then {PEER}",
            round + 1,
            plan.compile_rounds
        ));
        let (s, m) = rebuild(&all, &ours_target, "feishu", &compile.join("memory-ours.txt"))?;
        ours.push(s);
        ours_mem.extend(m);
        let (s, m) = rebuild(&peer, &peer_target, PEER, &compile.join("memory-peer.txt"))?;
        theirs.push(s);
        theirs_mem.extend(m);
        progress(&format!(
            "compile: ours {}, {PEER} {}",
            report::seconds(ours[round]),
            report::seconds(theirs[round])
        ));
    }
    let (a, b) = (median(&ours).ok_or("no build time")?, median(&theirs).ok_or("no build time")?);
    let (per_a, per_b) = (a / ours_ops as f64, b / peer_ops as f64);
    let memory = |m: &[f64]| {
        m.iter().copied().fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))))
    };
    let (mem_a, mem_b) = (memory(&ours_mem), memory(&theirs_mem));
    let show_mem = |m: Option<f64>| m.map_or("n/a (no GNU time)".to_string(), report::kilobytes);
    report.extra.push((
        "build of the corpus crate alone, all features (dev profile, dependencies built)".into(),
        format!(
            "{} for {ours_ops} operations: {:.1} ms per operation; peak memory {}",
            report::seconds(a),
            per_a * 1000.0,
            show_mem(mem_a)
        ),
    ));
    report.extra.push((
        format!("build of {PEER} {PEER_VERSION} alone (same conditions)"),
        format!(
            "{} for {peer_ops} operations: {:.1} ms per operation; peak memory {}",
            report::seconds(b),
            per_b * 1000.0,
            show_mem(mem_b)
        ),
    ));
    if let Some(feature) = &feature {
        let (_, _, one_ops) = count_one_feature(crate_dir, feature);
        let mut builds = Vec::new();
        for _ in 0..plan.compile_rounds {
            builds.push(rebuild(&one, &ours_target, "feishu", &compile.join("memory-one.txt")));
        }
        let builds: Result<Vec<(f64, Option<f64>)>, String> = builds.into_iter().collect();
        let one_build = builds.map(|b| {
            let seconds: Vec<f64> = b.iter().map(|(s, _)| *s).collect();
            (
                median(&seconds).unwrap_or(0.0),
                memory(&b.iter().filter_map(|(_, m)| *m).collect::<Vec<_>>()),
            )
        });
        match one_build {
            Ok((s, m)) => report.extra.push((
                format!(
                    "build of the corpus crate alone, one feature (`{feature}`), median of {}",
                    plan.compile_rounds
                ),
                format!(
                    "{}{}; peak memory {}",
                    report::seconds(s),
                    one_ops.map_or(String::new(), |n| format!(
                        " for {n} operations: {:.1} ms per operation",
                        s * 1000.0 / n as f64
                    )),
                    show_mem(m)
                ),
            )),
            Err(e) => report.extra.push((
                format!("build of the corpus crate alone, one feature (`{feature}`)"),
                format!("n/a: {e}"),
            )),
        }
    }
    report.ratios.push(caller_figure(
        &all,
        &caller,
        &ours_target,
        &compile,
        typed.len(),
        caller_built,
        plan,
    ));
    let memory_note = match (mem_a, mem_b) {
        (Some(x), Some(y)) => {
            format!("; peak memory {} vs {}", report::kilobytes(x), report::kilobytes(y))
        }
        _ => String::new(),
    };
    let detail = format!(
        "{:.1} ms vs {:.1} ms per operation ({} for {ours_ops} vs {} for {peer_ops}, medians of {} alternate builds{memory_note})",
        per_a * 1000.0,
        per_b * 1000.0,
        report::seconds(a),
        report::seconds(b),
        plan.compile_rounds
    );
    progress(&format!("compile: {detail}"));
    Ok((per_a / per_b, detail))
}

/// The typed operations of the generated crate at `src`: the path of each
/// request type (`feishu::im::message::ReplyRequest`), from its
/// `impl feishu_runtime::codegen::Operation for NAME` block. A leaf module
/// that its parent re-exports (`mod reply; pub use reply::*;`) is left out
/// of the path.
fn typed_operations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut paths = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let Ok(relative) = file.strip_prefix(src) else { continue };
        let mut module: Vec<String> = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|m| m == "lib" || m == "mod") {
            module.pop();
        } else if let Some(stem) = module.last().cloned() {
            let parent = file.parent().map(|p| p.with_extension("rs"));
            let reexported = parent
                .and_then(|p| std::fs::read_to_string(p).ok())
                .is_some_and(|t| t.contains(&format!("pub use {stem}::*;")));
            if reexported {
                module.pop();
            }
        }
        for line in text.lines() {
            let Some(rest) =
                line.trim_start().strip_prefix("impl feishu_runtime::codegen::Operation for ")
            else {
                continue;
            };
            let name = rest.trim_end_matches('{').trim();
            let mut path = vec!["feishu".to_string()];
            path.extend(module.iter().cloned());
            path.push(name.to_string());
            paths.push(path.join("::"));
        }
    }
    paths
}

/// A program that instantiates the call of each of `typed` (sent and polled
/// once, so that rustc compiles each operation's future, request encoder and
/// answer decoder in this crate, as for a caller that awaits it).
fn caller_main(typed: &[String]) -> String {
    let mut main = String::from(
        "// Written by `cargo xtask bench` (xtask/src/bench/compile.rs); do not edit.\n\
         //! Calls every typed operation of the crate generated from the corpus.\n\n\
         use std::future::Future;\n\n\
         fn call<R: feishu::runtime::codegen::Operation>(client: &feishu::Client, request: R) {\n    \
         let sent = feishu::runtime::Call::new(client, request).send();\n    \
         let mut sent = std::pin::pin!(sent);\n    \
         let _ = sent.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));\n\
         }\n\n\
         fn main() {\n    let calls: &[*const ()] = &[\n",
    );
    for path in typed {
        main.push_str(&format!(
            "        call::<{path}> as fn(&feishu::Client, {path}) as *const (),\n"
        ));
    }
    main.push_str("    ];\n    std::hint::black_box(calls);\n}\n");
    main
}

/// `compile_ms_per_operation_used`: the program calling every typed
/// operation rebuilt alone, less the empty program rebuilt alone, per
/// operation, alternately (`plan.compile_rounds` each).
fn caller_figure(
    empty: &Path,
    caller: &Path,
    target: &Path,
    compile: &Path,
    typed: usize,
    built: Result<String, String>,
    plan: &Plan,
) -> Ratio {
    let key = "compile_ms_per_operation_used";
    let figure = (|| {
        built.map_err(|e| {
            format!("the program calling every typed operation does not build: {e}")
        })?;
        if typed == 0 {
            return Err("no typed operation found in the corpus crate".to_string());
        }
        let (mut calls, mut none, mut peak) = (Vec::new(), Vec::new(), None);
        for round in 0..plan.compile_rounds {
            progress(&format!(
                "compile: round {} of {}: the program calling {typed} typed operations, then the empty one",
                round + 1,
                plan.compile_rounds
            ));
            let (s, m) =
                rebuild(caller, target, "bench-user-caller", &compile.join("memory-caller.txt"))?;
            calls.push(s);
            peak = match (peak, m) {
                (Some(p), Some(m)) => Some(f64::max(p, m)),
                (p, m) => p.or(m),
            };
            none.push(
                rebuild(empty, target, "bench-user-all", &compile.join("memory-empty.txt"))?.0,
            );
        }
        let (a, b) =
            (median(&calls).ok_or("no build time")?, median(&none).ok_or("no build time")?);
        let per = (a - b).max(0.0) * 1000.0 / typed as f64;
        let detail = format!(
            "a program calling each of the {typed} typed operations builds in {} vs {} for an empty one (its crate alone, dependencies built, medians of {}; peak memory {}): the cost moved from the library into the caller",
            report::seconds(a),
            report::seconds(b),
            plan.compile_rounds,
            peak.map_or("n/a".to_string(), report::kilobytes)
        );
        progress(&format!("compile: {per:.1} ms per operation used ({detail})"));
        Ok((per, detail))
    })();
    match figure {
        Ok((v, detail)) => Ratio { key, value: Ok(v), detail },
        Err(why) => Ratio { key, value: Err(why), detail: String::new() },
    }
}

/// Lines, files and operations of one service's module of the generated crate.
fn count_one_feature(crate_dir: &Path, feature: &str) -> (usize, usize, Option<usize>) {
    let src = crate_dir.join("src");
    let (lines, files, ops) = count_source(&src.join(feature));
    let top = std::fs::read_to_string(src.join(format!("{feature}.rs"))).unwrap_or_default();
    let ops = ops + count_operations(&top);
    (lines, files, (ops > 0).then_some(ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_operations_are_found_by_their_public_path() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/src");
        let typed = typed_operations(&src);
        assert!(typed.contains(&"feishu::im::message::ReplyRequest".to_string()), "{typed:?}");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let impls: usize = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.matches("impl feishu_runtime::codegen::Operation for ").count()
            })
            .sum();
        assert_eq!(typed.len(), impls);
        let main = caller_main(&typed);
        assert!(main.contains(
            "call::<feishu::im::message::ReplyRequest> as fn(&feishu::Client, feishu::im::message::ReplyRequest) as *const (),"
        ));
    }

    #[test]
    fn operations_are_pub_async_fns_or_operation_impls() {
        let text = "pub async fn reply(\n    client: &Client,\n) {}\n    pub async fn get(&self) {}\nasync fn private() {}\n// pub async fn in a comment\npub fn new() {}\n";
        assert_eq!(count_operations(text), 2);
        let typed = "impl feishu_runtime::codegen::Operation for ReplyRequest {\n    type Output = ReplyResponse;\n}\nimpl feishu_runtime::Validate for ReplyRequest {}\n";
        assert_eq!(count_operations(typed), 1);
        let catalogue = "    pub fn get(&self, id: &str) -> feishu_runtime::RawCall<'a, serde_json::Value> {\n        feishu_runtime::RawCall::new(\n            self.client,\n";
        assert_eq!(count_operations(catalogue), 1);
    }
}
