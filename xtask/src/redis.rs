//! The `redis-server` the Redis store tests run against: `cargo xtask test`
//! calls [`ensure`] before `cargo test`.
//!
//! When `redis-server` is not on the `PATH`, Debian's package is installed
//! with `apt-get update` and `apt-get install -y redis-server` (CI runs as
//! root on Debian). The tests start their own servers on free ports with
//! persistence off (`feishu_testkit::RedisServer`); the package's service is
//! not used. Where apt-get is missing or fails, the failure names the
//! package: under `CI` the Redis tests would fail without it anyway, and
//! outside CI they skip with a message.

use std::process::{Command, Stdio};

/// The program the tests start.
const PROGRAM: &str = "redis-server";

/// Makes sure `redis-server` is installed (see the module docs).
pub fn ensure() -> Result<(), String> {
    if installed() {
        return Ok(());
    }
    eprintln!("{PROGRAM} is missing: installing Debian's package `redis-server` with apt-get");
    for args in [&["update"][..], &["install", "-y", "--no-install-recommends", "redis-server"]] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("could not run apt-get to install redis-server: {e}"))?;
        if !status.success() {
            return Err(format!(
                "`apt-get {}` failed ({status}): install the Debian package redis-server, \
                 which the Redis store tests need",
                args.join(" ")
            ));
        }
    }
    if !installed() {
        return Err(format!("apt-get installed redis-server, but `{PROGRAM}` is not on the PATH"));
    }
    Ok(())
}

fn installed() -> bool {
    Command::new(PROGRAM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
