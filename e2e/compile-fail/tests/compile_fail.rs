//! What must not compile: ids of different kinds swapped, and a request
//! sent without one of its required fields. Each case in `compile_fail/`
//! has the compiler's expected message next to it (`TRYBUILD=overwrite`
//! rewrites them after a deliberate change).
//!
//! trybuild checks the dependencies with its rustflags, then the cases with
//! the same flags plus `--diagnostic-width=140`: different flags, so cargo
//! checked every dependency twice (about 100 s of CI's fresh run). The test
//! therefore runs trybuild in a child process of itself whose
//! `CARGO_ENCODED_RUSTFLAGS` (which cargo prefers to the `--config` flags
//! trybuild passes) holds trybuild's flags and the width at once: both steps
//! then use the same flags, the dependencies are checked once, and the
//! messages are the same as before.

use std::process::Command;

/// Set in the child, which runs trybuild.
const CHILD: &str = "FEISHU_COMPILE_FAIL_CHILD";

/// trybuild 1's rustflags (`rustflags.rs`: `--cfg trybuild --verbose -A
/// dead_code`) and the width it adds for the cases, separated by 0x1f as
/// `CARGO_ENCODED_RUSTFLAGS` wants. Should a new trybuild change its flags,
/// the expected messages stop matching and this test fails: update both.
const TRYBUILD_FLAGS: &[&str] =
    &["--cfg", "trybuild", "--verbose", "-A", "dead_code", "--diagnostic-width=140"];

#[test]
fn misuse_does_not_compile() {
    if std::env::var_os(CHILD).is_some() {
        let cases = trybuild::TestCases::new();
        cases.compile_fail("tests/compile_fail/*.rs");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "misuse_does_not_compile", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env("CARGO_ENCODED_RUSTFLAGS", TRYBUILD_FLAGS.join("\u{1f}"))
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown whatever the outcome: trybuild's report of each case.
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(output.status.success(), "trybuild failed (its report is above)");
    assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
}
