//! `upload_time_vs_raw_reqwest` and `upload_peak_rss_mb`: a 200 MiB file
//! uploaded to the sandbox (`POST /open-apis/im/v1/files`) by the generated
//! client, streamed through feishu-runtime's `UploadFile`, against a
//! hand-written streaming reqwest multipart upload; and the client process's
//! peak RSS during it. The design is in `bench/README.md`.
//!
//! Each upload is a process of its own (`upload-bench generated|raw BASE
//! FILE`, built by the runner) that prints one JSON line ([`parse_run`]).
//! One sandbox serves every upload, with the documented 30 MB limit raised
//! (`--upload-limit-mb`, an extension) and rate limits off; it is reset after
//! each upload so that its temporary files never hold more than one copy.

use std::path::Path;
use std::process::Command;

use super::report::{self, Ratio, Report, median};
use super::{Bins, Plan, Server, json_lines, output, progress};

const KEYS: [&str; 2] = ["upload_time_vs_raw_reqwest", "upload_peak_rss_mb"];
/// The file uploaded: 200 MiB.
const SIZE: u64 = 200 * 1024 * 1024;
/// The seed of its pseudo-random bytes (any fixed value: the same file every run).
const SEED: u64 = 0x5EED_F11E;
/// The sandbox's raised limit, in MiB: room for [`SIZE`].
const LIMIT_MB: &str = "256";

/// Adds the upload figures to `report`, or why there are none.
pub fn measure(dir: &Path, bins: Option<&Result<Bins, String>>, plan: &Plan, report: &mut Report) {
    let measured = match bins {
        Some(Ok(bins)) => compare(dir, bins, plan, report),
        Some(Err(why)) => Err(format!("the benchmark programs did not build: {why}")),
        None => Err("the benchmark programs were not built".into()),
    };
    match measured {
        Ok(figures) => {
            report.ratios.push(Ratio {
                key: KEYS[0],
                value: Ok(figures.time_ratio),
                detail: figures.time_detail,
            });
            report.ratios.push(Ratio {
                key: KEYS[1],
                value: Ok(figures.peak_mb),
                detail: figures.peak_detail,
            });
        }
        Err(why) => {
            progress(&format!("upload: not measured: {why}"));
            for key in KEYS {
                report.ratios.push(Ratio { key, value: Err(why.clone()), detail: String::new() });
            }
        }
    }
}

struct Figures {
    time_ratio: f64,
    time_detail: String,
    peak_mb: f64,
    peak_detail: String,
}

/// CPU seconds (user + system) spent during one upload.
struct Cpu {
    /// By the sandbox process.
    sandbox: Option<f64>,
    /// By the `upload-bench` process.
    client: Option<f64>,
}

/// What one `upload-bench` run printed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    seconds: f64,
    peak_rss_kb: f64,
}

/// The two sides, in the order they alternate.
const CLIENTS: [&str; 2] = ["generated", "raw"];

fn compare(dir: &Path, bins: &Bins, plan: &Plan, report: &mut Report) -> Result<Figures, String> {
    let file = dir.join("upload").join("200mb.bin");
    ensure_file(&file, SIZE, SEED)?;
    let sandbox = Server::sandbox(&[
        "--no-rate-limits".as_ref(),
        "--upload-limit-mb".as_ref(),
        LIMIT_MB.as_ref(),
    ])
    .map_err(|e| format!("the sandbox with the raised upload limit did not start: {e}"))?;
    let pid = sandbox.child.id();
    let upload = |client: &str| -> Result<(Run, Cpu), String> {
        let before = (process_cpu(pid), children_cpu());
        let stdout =
            output(Command::new(&bins.upload_bench).arg(client).arg(&sandbox.base).arg(&file));
        let cpu = Cpu {
            sandbox: process_cpu(pid).zip(before.0).map(|(after, before)| after - before),
            client: children_cpu().zip(before.1).map(|(after, before)| after - before),
        };
        // The stored copy goes at once, whatever the run gave: twelve of them would be 2.4 GB of temporary files.
        reset(&sandbox.base)?;
        Ok((parse_run(&stdout?, SIZE).map_err(|e| format!("upload-bench {client}: {e}"))?, cpu))
    };
    progress(&format!(
        "upload: {} MiB to the sandbox, generated client vs raw reqwest: one untimed run each, then {} alternate runs",
        SIZE >> 20,
        plan.upload_rounds
    ));
    for client in CLIENTS {
        upload(client)?;
    }
    let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    let (mut sandbox_cpu, mut client_cpu): ([Vec<f64>; 2], [Vec<f64>; 2]) = Default::default();
    for _ in 0..plan.upload_rounds {
        for (side, client) in CLIENTS.iter().enumerate() {
            let (run, cpu) = upload(client)?;
            runs[side].push(run);
            sandbox_cpu[side].extend(cpu.sandbox);
            client_cpu[side].extend(cpu.client);
        }
    }
    drop(sandbox);

    let seconds = |side: usize| median(&runs[side].iter().map(|r| r.seconds).collect::<Vec<_>>());
    let peak_kb =
        |side: usize| median(&runs[side].iter().map(|r| r.peak_rss_kb).collect::<Vec<_>>());
    let (ours, theirs) = (seconds(0), seconds(1));
    let mib_per_s = |s: Option<f64>| {
        s.map_or("n/a".into(), |s| format!("{:.0} MiB/s", (SIZE >> 20) as f64 / s))
    };
    let time_detail = format!(
        "{} MiB at concurrency 1: generated {} ({}) vs raw reqwest {} ({}) (medians of {} alternate runs)",
        SIZE >> 20,
        ours.map_or("n/a".into(), report::seconds),
        mib_per_s(ours),
        theirs.map_or("n/a".into(), report::seconds),
        mib_per_s(theirs),
        plan.upload_rounds
    );
    progress(&format!("upload: {time_detail}"));
    let time_ratio = report::ratio(ours, theirs)?;
    let ours_kb = peak_kb(0).ok_or("upload-bench generated reported no peak memory")?;
    let peak_detail = format!(
        "VmHWM of the generated client's process, uploading {} MiB (median of {})",
        SIZE >> 20,
        plan.upload_rounds
    );
    if let Some(theirs_kb) = peak_kb(1) {
        report.extra.push((
            format!(
                "peak RSS (VmHWM) of the uploading process, {} MiB (medians of {})",
                SIZE >> 20,
                plan.upload_rounds
            ),
            format!(
                "generated {} vs raw reqwest {}",
                report::kilobytes(ours_kb),
                report::kilobytes(theirs_kb)
            ),
        ));
    }
    if let (Some(a), Some(b)) = (median(&client_cpu[0]), median(&client_cpu[1])) {
        report.extra.push((
            format!(
                "CPU time (user + system) of the uploading process, {} MiB (medians of {})",
                SIZE >> 20,
                plan.upload_rounds
            ),
            format!(
                "generated {} vs raw reqwest {}: ratio {}",
                report::seconds(a),
                report::seconds(b),
                report::ratio(Some(a), Some(b)).map_or("n/a".into(), report::fmt_ratio)
            ),
        ));
    }
    if let (Some(a), Some(b)) = (median(&sandbox_cpu[0]), median(&sandbox_cpu[1])) {
        // Whether the sandbox, not the client, sets the pace: its CPU time per upload beside the wall time.
        report.extra.push((
            format!(
                "CPU time (user + system) of the sandbox per {} MiB upload (medians of {})",
                SIZE >> 20,
                plan.upload_rounds
            ),
            format!(
                "receiving the generated client's {} (wall {}), raw reqwest's {} (wall {})",
                report::seconds(a),
                ours.map_or("n/a".into(), report::seconds),
                report::seconds(b),
                theirs.map_or("n/a".into(), report::seconds)
            ),
        ));
    }
    Ok(Figures { time_ratio, time_detail, peak_mb: ours_kb / 1024.0, peak_detail })
}

/// The run's figures from `upload-bench`'s stdout; an error unless the
/// sandbox stored exactly `expected` bytes.
fn parse_run(stdout: &str, expected: u64) -> Result<Run, String> {
    let lines = json_lines(stdout);
    let [line] = lines.as_slice() else {
        return Err(format!(
            "expected one JSON line, got {}: {}",
            lines.len(),
            super::tail(stdout, 300)
        ));
    };
    let number = |key: &str| {
        line[key]
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("no number {key:?} in {line}"))
    };
    let bytes = line["bytes"].as_u64().ok_or_else(|| format!("no \"bytes\" in {line}"))?;
    if bytes != expected {
        return Err(format!(
            "the sandbox stored {bytes} bytes of the {expected}-byte file: the upload is not the file"
        ));
    }
    let peak_rss_kb = number("peak_rss_kb")
        .map_err(|e| format!("{e} (VmHWM is read from /proc/self/status, Linux only)"))?;
    Ok(Run { seconds: number("seconds")?, peak_rss_kb })
}

/// Writes `size` pseudo-random bytes from `seed` to `path`, unless a file of
/// that size is there already (from an earlier run of the bench).
fn ensure_file(path: &Path, size: u64, seed: u64) -> Result<(), String> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == size) {
        return Ok(());
    }
    let error = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    progress(&format!(
        "upload: writing {} bytes of pseudo-random data to {}",
        size,
        path.display()
    ));
    // Written aside and renamed, so that an interrupted write is never taken for the file.
    let partial = path.with_extension("partial");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).map_err(error)?);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(block.len());
        rng.fill(&mut block[..n]);
        std::io::Write::write_all(&mut out, &block[..n]).map_err(error)?;
        left -= n as u64;
    }
    out.into_inner().map_err(|e| error(e.into_error()))?.sync_all().map_err(error)?;
    std::fs::rename(&partial, path).map_err(error)
}

/// The CPU time (user + system) in seconds that process `pid` has used so
/// far (`utime` + `stime` of `/proc/PID/stat`, in the kernel's 100 Hz ticks);
/// `None` off Linux or once it has ended.
fn process_cpu(pid: u32) -> Option<f64> {
    stat_seconds(&format!("/proc/{pid}/stat"), 14)
}

/// The CPU time in seconds of this process's children that have ended and
/// been waited for (`cutime` + `cstime` of `/proc/self/stat`); `None` off Linux.
fn children_cpu() -> Option<f64> {
    stat_seconds("/proc/self/stat", 16)
}

/// Fields `first` and `first + 1` (1-based, as proc(5) numbers them) of a
/// `stat` file, ticks of 1/100 s, added up in seconds.
fn stat_seconds(path: &str, first: usize) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The fields after the command name, which is in parentheses, start at the third.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(first)? + ticks(first + 1)?) / 100.0)
}

/// Empties the sandbox (`POST /_sandbox/reset`), which deletes its stored files.
fn reset(base: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{base}/_sandbox/reset"))
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| format!("POST /_sandbox/reset: {e}"))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            let body: String = body.chars().take(160).collect();
            Err(format!("POST /_sandbox/reset: HTTP {}: {}", status.as_u16(), body.trim()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_the_same_pseudo_random_bytes_every_time() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-upload-{}", std::process::id()));
        let (a, b, c) = (dir.join("a.bin"), dir.join("b.bin"), dir.join("c.bin"));
        let size = 3 * (1 << 20) + 12_345;
        ensure_file(&a, size, SEED).unwrap();
        ensure_file(&b, size, SEED).unwrap();
        ensure_file(&c, size, SEED + 1).unwrap();
        let (a_bytes, b_bytes, c_bytes) =
            (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), std::fs::read(&c).unwrap());
        assert_eq!(a_bytes.len() as u64, size);
        assert!(a_bytes == b_bytes, "one seed, one file");
        assert!(a_bytes != c_bytes, "another seed, another file");
        // Not a repeated block: the second MiB differs from the first, and every byte value occurs.
        assert_ne!(a_bytes[..1 << 20], a_bytes[1 << 20..2 << 20]);
        let mut seen = [false; 256];
        a_bytes.iter().for_each(|&b| seen[b as usize] = true);
        assert!(seen.iter().all(|&s| s));
        // A file of the right size is kept; one of another size is written anew.
        std::fs::write(&b, b"short").unwrap();
        ensure_file(&b, size, SEED).unwrap();
        assert!(std::fs::read(&b).unwrap() == a_bytes);
        assert!(!dir.join("b.partial").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_run_counts_only_when_the_sandbox_stored_the_whole_file() {
        let line = r#"{"client":"raw","seconds":1.25,"bytes":1000,"file_key":"file_v3_x","peak_rss_kb":20480}"#;
        assert_eq!(
            parse_run(&format!("noise\n{line}\n"), 1000).unwrap(),
            Run { seconds: 1.25, peak_rss_kb: 20480.0 }
        );
        let short = parse_run(line, 1001).unwrap_err();
        assert!(short.contains("stored 1000 bytes of the 1001-byte file"), "{short}");
        let no_peak = parse_run(&line.replace("20480", "null"), 1000).unwrap_err();
        assert!(no_peak.contains("peak_rss_kb"), "{no_peak}");
        assert!(
            parse_run(&line.replace("1.25", "\"fast\""), 1000).unwrap_err().contains("seconds")
        );
        assert!(parse_run(&format!("{line}\n{line}"), 1000).unwrap_err().contains("got 2"));
        assert!(parse_run("", 1000).unwrap_err().contains("got 0"));
    }

    #[test]
    fn cpu_time_of_a_process_is_read_from_proc() {
        let Some(before) = process_cpu(std::process::id()) else { return };
        // Work until the kernel has counted some of it (a tick is 10 ms).
        let mut x = 0u64;
        for _ in 0..200 {
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            if process_cpu(std::process::id()).unwrap() > before {
                break;
            }
        }
        let after = process_cpu(std::process::id()).unwrap();
        assert!(after > before, "{before} → {after}");
        assert_eq!(process_cpu(u32::MAX), None, "no such process");

        let before = children_cpu().unwrap();
        let status = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(children_cpu().unwrap() > before);
    }
}
