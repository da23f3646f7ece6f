//! One line on the machine a run measured.

use std::process::Command;

/// CPU model and count, memory, OS and rustc, as far as they can be read.
pub fn describe() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_string())
    });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let kb: f64 = m
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()?;
        Some(format!("{:.0} GiB of memory", kb / 1024.0 / 1024.0))
    });
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let mut parts =
        vec![format!("{cores} cores{}", model.map(|m| format!(" ({m})")).unwrap_or_default())];
    parts.extend(memory);
    parts.extend(run("uname", &["-sr"]));
    parts.extend(run("rustc", &["--version"]));
    parts.join(", ")
}
