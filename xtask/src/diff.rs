//! `cargo xtask diff [--base REV]`: the API change between the spec at a git
//! revision (default `HEAD`) and the working tree's, as a Markdown report.
//!
//! Exit codes: 0 when nothing breaks code that uses the generated crate, 2 when
//! something does, 1 on error. The spec is the checked-in `spec/<service>/<resource>.json`
//! files; the pages under `spec/docs`, `spec/schema.json` and
//! `spec/diagnostics.txt` are not part of it. Run `cargo xtask regen` first when
//! the pages changed: it prints the same report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use feishu_spec::Spec;

/// Runs the command from the workspace root `root`.
pub fn run(flags: &crate::flags::Diff, root: &Path) -> Result<ExitCode, String> {
    let base = flags.base.clone().unwrap_or_else(|| "HEAD".to_string());
    let old = spec_at_revision(root, &base)?;
    let new = spec_in_dir(&root.join("spec"))?;
    let report = feishu_diff::diff(&old, &new);
    crate::print_stdout(&report.to_markdown())?;
    Ok(exit_code(&report))
}

/// 2 when the report has a breaking change, 0 otherwise.
pub fn exit_code(report: &feishu_diff::Report) -> ExitCode {
    if report.is_breaking() { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

/// Merges spec files, given as (path relative to `spec/`, contents), into
/// one spec; what is not a resource file ([`Spec::is_resource_file`]) is skipped.
pub fn spec_of<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Spec, String> {
    let files: Vec<(PathBuf, &str)> = files
        .into_iter()
        .filter(|(rel, _)| Spec::is_resource_file(rel))
        .map(|(rel, text)| (Path::new("spec").join(rel), text))
        .collect();
    Spec::from_texts(files.iter().map(|(path, text)| (path.as_path(), *text)))
        .map_err(|e| e.to_string())
}

/// The spec in a `spec/` folder on disk.
pub fn spec_in_dir(dir: &Path) -> Result<Spec, String> {
    Spec::read_dir(dir).map_err(|e| e.to_string())
}

/// The spec committed at git revision `rev`.
fn spec_at_revision(root: &Path, rev: &str) -> Result<Spec, String> {
    let listing = git(root, &["ls-tree", "-r", "--name-only", rev, "--", "spec/"])?;
    let mut files = BTreeMap::new();
    for path in listing.lines() {
        let Some(rel) = path.strip_prefix("spec/") else { continue };
        if Spec::is_resource_file(rel) {
            files.insert(rel.to_string(), git(root, &["show", &format!("{rev}:{path}")])?);
        }
    }
    spec_of(files.iter().map(|(rel, text)| (rel.as_str(), text.as_str())))
}

/// Runs git in `root`; its stdout, or an error with its stderr.
pub(crate) fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|e| format!("could not run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("git {}: not UTF-8: {e}", args.join(" ")))
}

/// The report between the files of `spec/` before and after regen (paths
/// relative to `spec/`), for regen to print.
pub fn report_between(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<feishu_diff::Report, String> {
    let old = spec_of(old.iter().map(|(rel, text)| (rel.as_str(), text.as_str())))?;
    let new = spec_of(new.iter().map(|(rel, text)| (rel.as_str(), text.as_str())))?;
    Ok(feishu_diff::diff(&old, &new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_spec_equals_itself() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let spec = spec_in_dir(&root.join("spec")).unwrap();
        assert!(!spec.endpoints.is_empty());
        let report = feishu_diff::diff(&spec, &spec);
        assert_eq!(report.to_markdown(), "## API changes\n\nNo API changes.\n");
        assert_eq!(exit_code(&report), ExitCode::SUCCESS);
    }

    #[test]
    fn a_breaking_change_exits_with_2() {
        let old: Spec =
            serde_json::from_str(r#"{"endpoints": [{"id": "im.v1.pin.create"}]}"#).unwrap();
        let report = feishu_diff::diff(&old, &Spec::default());
        assert!(report.is_breaking());
        assert_eq!(exit_code(&report), ExitCode::from(2));
        let report = feishu_diff::diff(&Spec::default(), &old);
        assert!(!report.is_empty() && !report.is_breaking());
        assert_eq!(exit_code(&report), ExitCode::SUCCESS);
    }

    #[test]
    fn merges_files_and_skips_what_is_not_spec() {
        let files = [
            (
                "im/a.json",
                r#"{"$comment": "x", "endpoints": [{"id": "im.v1.b.get"}], "events": []}"#,
            ),
            ("im/b.json", r#"{"endpoints": [{"id": "im.v1.a.get"}]}"#),
            ("schema.json", "not a spec"),
            ("diagnostics.txt", "# nothing"),
        ];
        let spec = spec_of(files).unwrap();
        let ids: Vec<&str> = spec.endpoints.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["im.v1.a.get", "im.v1.b.get"]);
        assert!(spec_of([("im/bad.json", "{")]).unwrap_err().contains("spec/im/bad.json"));
    }
}
