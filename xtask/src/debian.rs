//! Debian packages the test command needs and installs when they are
//! missing (CI runs as root on Debian): `redis-server` for the Redis store
//! tests ([`crate::redis`]), `cmake` for the `rustls-aws-lc` build and
//! `pkg-config` with `libssl-dev` for the `native-tls` one
//! ([`crate::features`]).
//!
//! Each is installed with `apt-get update` and `apt-get install -y
//! --no-install-recommends`. Where apt-get is missing or fails, the error
//! names the packages and what needs them.

use std::process::{Command, Stdio};

/// Installs `packages` with apt-get; `why` says what needs them.
pub fn install(packages: &[&str], why: &str) -> Result<(), String> {
    eprintln!("installing Debian's {} with apt-get ({why})", packages.join(", "));
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    for args in [&["update"][..], &install[..]] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| {
                format!("could not run apt-get to install {}: {e}", packages.join(", "))
            })?;
        if !status.success() {
            return Err(format!(
                "`apt-get {}` failed ({status}): install the Debian packages {}, which {why}",
                args.join(" "),
                packages.join(", ")
            ));
        }
    }
    Ok(())
}

/// Whether `program args` runs and succeeds (quietly).
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
