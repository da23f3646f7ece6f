//! The one rule for "are we in CI", and what a test does when something CI
//! provides (the third-party corpus beside the clone, a tool `cargo xtask
//! test` installs) is missing: skip with a line saying why, or, on CI, fail
//! naming it, since there a skip would pass a test that checked nothing.

use std::path::{Path, PathBuf};

/// Whether the tests run on CI: `CI` is set to anything but empty, `0` or
/// `false` (in any case), as CI services set it (`CI=true`).
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| is_ci_value(&v))
}

/// The rule of [`on_ci`] on a value of `CI`.
pub fn is_ci_value(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && value != "0" && !value.eq_ignore_ascii_case("false")
}

/// What `test` does without `what`: on CI it fails with `why`; elsewhere it
/// prints that it skips, and why, and the caller returns.
pub fn skip_or_fail(test: &str, why: &str) {
    if on_ci() {
        panic!("{test}: {why}, and CI is set: this test must run in CI");
    }
    eprintln!("{test}: skipped: {why}");
}

/// `dir` when it is a folder. When it is absent (the corpus is third-party and
/// lives outside the repository): `None` after [`skip_or_fail`], so on CI the
/// test fails with a message naming the missing folder.
pub fn corpus_folder(test: &str, dir: &Path) -> Option<PathBuf> {
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    skip_or_fail(test, &format!("{} is absent", dir.display()));
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use super::{corpus_folder, is_ci_value};

    /// Set in the child process of the test below.
    const CHILD: &str = "FEISHU_TESTKIT_CI_CHILD";

    #[test]
    fn a_missing_corpus_fails_on_ci_naming_it_and_skips_elsewhere() {
        if std::env::var_os(CHILD).is_some() {
            assert_eq!(corpus_folder("child", Path::new("/no/such/corpus")), None);
            return;
        }
        let test = "ci::tests::a_missing_corpus_fails_on_ci_naming_it_and_skips_elsewhere";
        for (ci, fails) in
            [("true", true), ("1", true), ("false", false), ("0", false), ("", false)]
        {
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", test, "--nocapture", "--test-threads", "1"])
                .env(CHILD, "1")
                .env("CI", ci)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(!out.status.success(), fails, "CI={ci:?}:\n{text}");
            assert!(text.contains("/no/such/corpus is absent"), "CI={ci:?}:\n{text}");
        }
    }

    #[test]
    fn ci_false_and_empty_are_not_ci() {
        for value in ["", "0", "false", "FALSE", " False "] {
            assert!(!is_ci_value(value), "{value:?}");
        }
        for value in ["true", "1", "yes", "github-actions"] {
            assert!(is_ci_value(value), "{value:?}");
        }
    }
}
