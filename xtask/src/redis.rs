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

/// The program the tests start.
const PROGRAM: &str = "redis-server";

/// Makes sure `redis-server` is installed (see the module docs).
pub fn ensure() -> Result<(), String> {
    if installed() {
        return Ok(());
    }
    crate::debian::install(&["redis-server"], "the Redis store tests need")?;
    if !installed() {
        return Err(format!("apt-get installed redis-server, but `{PROGRAM}` is not on the PATH"));
    }
    Ok(())
}

fn installed() -> bool {
    crate::debian::runs(PROGRAM, &["--version"])
}
