//! `cargo xtask release [--check] [--files-only] [--out OUT]`: releases of
//! `feishu` whose version follows the API change.
//!
//! [`plan`] is what `cargo xtask regen` asks: from the record of the last
//! release ([`record`]) and the API report against its spec, the crate's
//! version ([`version`]) and its changelog ([`changelog`]).
//!
//! `release` records a release of what regen wrote: `generated/RELEASE`, its
//! spec snapshot and its error variant names ([`names`]) move to the current
//! version and spec, the coming
//! section of the changelog loses its `(unreleased)` mark, and (in the
//! workspace, unless `--files-only`) the four files are committed and the
//! commit tagged `feishu-vX` (and `feishu-runtime-vY` when the runtime's
//! version is new). It refuses when regen is stale, the tree is dirty, or
//! the runtime changed since the last release while its version did not.
//!
//! `release --check` runs cargo-semver-checks on `feishu` and
//! `feishu-runtime` against the last release's commit: since the version
//! already follows the API report, a break it finds is one the report
//! missed. Exit codes: 0 when it finds none, 2 when it finds one, 1 on error
//! (or when the tool is not installed: the message says how to install it).

pub mod changelog;
pub mod names;
pub mod record;
pub mod version;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use feishu_spec::Spec;
use semver::Version;

use record::Record;
use version::Group;

/// The first version, when no release is recorded.
const FIRST: Version = Version::new(0, 1, 0);

/// The changelog's file name, in the generated crate's folder.
pub const CHANGELOG: &str = "CHANGELOG.md";

/// What regen writes for the version.
pub struct Plan {
    /// The crate's version.
    pub version: Version,
    /// The whole of `CHANGELOG.md`.
    pub changelog: String,
    /// One line for the terminal: the version and why.
    pub note: String,
}

/// The version and changelog for the spec `new` and the runtime version
/// `runtime`, from the record (and changelog) in `dir`.
pub fn plan(dir: &Path, new: &Spec, runtime: &Version) -> Result<Plan, String> {
    let existing = std::fs::read_to_string(dir.join(CHANGELOG)).unwrap_or_default();
    let Some(record) = Record::read(dir)? else {
        let typed = new.endpoints.iter().filter(|e| feishu_model::is_typed(e)).count();
        let first = format!(
            "## {FIRST} (unreleased)\n\nThe first release: {} operations ({typed} typed) and {} events.\n",
            new.endpoints.len(),
            new.events.len()
        );
        return Ok(Plan {
            version: FIRST,
            changelog: changelog::write(&existing, Some(&first)),
            note: format!(
                "feishu {FIRST}: no release recorded in {}",
                dir.join(record::FILE).display()
            ),
        });
    };
    let old = record.baseline(dir)?;
    let report = feishu_diff::diff(&old, new);
    let runtime_group = version::runtime_level(&record.runtime, runtime);
    let renames = match record.baseline_names(dir)? {
        Some(recorded) => names::renames(&recorded, &old),
        None => Vec::new(),
    };
    let renamed = (!renames.is_empty()).then_some(Group::Breaking);
    let level = version::level(&report).max(runtime_group).max(renamed);
    let next = version::next(&record.version, level);
    let mut extras: Vec<changelog::Extra> = runtime_group
        .map(|group| changelog::Extra {
            group,
            line: format!("requires `feishu-runtime` {runtime} (was {})", record.runtime),
        })
        .into_iter()
        .collect();
    extras
        .extend(renames.into_iter().map(|line| changelog::Extra { group: Group::Breaking, line }));
    let coming =
        level.map(|_| changelog::section(&next, &record.version, &report, new, &old, &extras));
    let breaking =
        report.breaking().count() + extras.iter().filter(|e| e.group == Group::Breaking).count();
    let total = report.changes.len() + extras.len();
    let note = match level {
        None => format!("feishu {next}: no API change since the release of {}", record.version),
        Some(_) => format!(
            "feishu {} → {next}: {total} change(s) since the release of {} ({breaking} breaking)",
            record.version, record.version
        ),
    };
    Ok(Plan { version: next, changelog: changelog::write(&existing, coming.as_deref()), note })
}

/// What the workspace's manifests say that the generated crate repeats.
pub struct Workspace {
    /// `feishu-runtime`'s version.
    pub runtime: Version,
    /// `rust-version`.
    pub rust_version: String,
    /// `license`.
    pub license: String,
    /// `repository`.
    pub repository: Option<String>,
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.parse::<toml::Table>().map_err(|e| format!("{}: {e}", path.display()))
}

/// The string at `keys` in `table`, or an error naming the file and key.
fn string_at(table: &toml::Table, keys: &[&str], path: &Path) -> Result<String, String> {
    let mut value = table.get(keys[0]);
    for key in &keys[1..] {
        value = value.and_then(|v| v.get(key));
    }
    value
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: no string at `{}`", path.display(), keys.join(".")))
}

impl Workspace {
    /// Reads the root and runtime manifests of the workspace at `root`.
    pub fn read(root: &Path) -> Result<Workspace, String> {
        let path = root.join("Cargo.toml");
        let manifest = read_toml(&path)?;
        let runtime_path = root.join("runtime/Cargo.toml");
        let runtime =
            string_at(&read_toml(&runtime_path)?, &["package", "version"], &runtime_path)?;
        Ok(Workspace {
            runtime: Version::parse(&runtime)
                .map_err(|e| format!("{}: `package.version`: {e}", runtime_path.display()))?,
            rust_version: string_at(&manifest, &["workspace", "package", "rust-version"], &path)?,
            license: string_at(&manifest, &["workspace", "package", "license"], &path)?,
            repository: string_at(&manifest, &["workspace", "package", "repository"], &path).ok(),
        })
    }
}

/// Runs the command from the workspace root `root`.
///
/// `regen_is_current` says whether `generated/` is what regen writes: a
/// release records what regen wrote. It is the caller's (main.rs wires the
/// two), since regen reads the release record and the modules would
/// otherwise call each other.
pub fn run(
    flags: &crate::flags::Release,
    root: &Path,
    regen_is_current: impl FnOnce() -> Result<bool, String>,
) -> Result<ExitCode, String> {
    if flags.check {
        return check(root);
    }
    let out = flags.out.clone().unwrap_or_else(|| root.to_path_buf());
    let git = out == root && !flags.files_only;
    if out == root && !regen_is_current()? {
        return Err("generated/ is not what `cargo xtask regen` writes: run it first".into());
    }
    if git && !crate::diff::git(root, &["status", "--porcelain"])?.trim().is_empty() {
        return Err("the working tree has uncommitted changes: commit them first, since the release is a commit".into());
    }
    let dir = out.join("generated");
    let manifest_path = dir.join("Cargo.toml");
    let manifest = read_toml(&manifest_path)?;
    let version = Version::parse(&string_at(&manifest, &["package", "version"], &manifest_path)?)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let runtime = Version::parse(&string_at(
        &manifest,
        &["dependencies", "feishu-runtime", "version"],
        &manifest_path,
    )?)
    .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let last = Record::read(&dir)?;
    if let Some(last) = &last {
        if last.version == version && last.runtime == runtime {
            eprintln!(
                "release: nothing to release: feishu {version} (feishu-runtime {runtime}) is the last release, and the API has not changed since"
            );
            return Ok(ExitCode::SUCCESS);
        }
        if git {
            let commit = release_commit(root, last)?;
            let changed = Command::new("git")
                .current_dir(root)
                .args(["diff", "--quiet", &commit, "--", "runtime/src", "runtime/Cargo.toml"])
                .status()
                .map_err(|e| format!("could not run git: {e}"))?;
            if !changed.success() && runtime == last.runtime {
                return Err(format!(
                    "feishu-runtime changed since the last release (commit {}) but its version is still {runtime}: raise `version` in runtime/Cargo.toml (while 0.x a breaking change raises the minor version), run `cargo xtask regen`, commit, then release",
                    &commit[..commit.len().min(12)]
                ));
            }
        }
    }
    let spec = crate::diff::spec_in_dir(&out.join("spec"))?;
    let record = Record {
        version: version.clone(),
        runtime: runtime.clone(),
        spec: record::SPEC_FILE.into(),
        names: Some(names::FILE.into()),
    };
    record.write(&dir, &spec)?;
    if let Some(old) = last.as_ref().filter(|old| old.spec != record.spec) {
        let _ = std::fs::remove_file(old.spec_path(&dir));
    }
    let changelog_path = dir.join(CHANGELOG);
    let text = std::fs::read_to_string(&changelog_path).unwrap_or_default();
    std::fs::write(&changelog_path, changelog::mark_released(&text, &version))
        .map_err(|e| format!("{}: {e}", changelog_path.display()))?;
    eprintln!(
        "release: recorded feishu {version} (requires feishu-runtime {runtime}) in {}",
        dir.join(record::FILE).display()
    );
    if !git {
        return Ok(ExitCode::SUCCESS);
    }
    let files = [
        "generated/RELEASE",
        "generated/RELEASE.spec.json",
        "generated/RELEASE.names.json",
        "generated/CHANGELOG.md",
    ];
    crate::diff::git(root, &[&["add", "--"][..], &files].concat())?;
    crate::diff::git(
        root,
        &["commit", "-q", "-m", &format!("release: feishu {version} (feishu-runtime {runtime})")],
    )?;
    let mut tags = vec![format!("feishu-v{version}")];
    let runtime_tag = format!("feishu-runtime-v{runtime}");
    if crate::diff::git(root, &["rev-parse", "-q", "--verify", &format!("refs/tags/{runtime_tag}")])
        .is_err()
    {
        tags.push(runtime_tag);
    }
    for tag in &tags {
        crate::diff::git(root, &["tag", tag])?;
    }
    eprintln!(
        "release: committed and tagged {}. Push with `git push --atomic origin HEAD {}`; publish with {}`cargo publish -p feishu`.",
        tags.join(", "),
        tags.join(" "),
        if tags.len() > 1 { "`cargo publish -p feishu-runtime`, then " } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

/// The commit of the last release: its tag, else the last commit that
/// changed the record (the tag may not have been fetched or pushed).
fn release_commit(root: &Path, record: &Record) -> Result<String, String> {
    let tag = format!("feishu-v{}", record.version);
    if let Ok(commit) = crate::diff::git(
        root,
        &["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}^{{commit}}")],
    ) {
        return Ok(commit.trim().to_owned());
    }
    let commit = crate::diff::git(root, &["log", "-1", "--format=%H", "--", "generated/RELEASE"])?;
    let commit = commit.trim();
    if commit.is_empty() {
        return Err(format!(
            "no commit of the last release: no tag {tag}, and no commit changed generated/RELEASE (a shallow clone? fetch the history: `git fetch --unshallow`, or `fetch-depth: 0` in a workflow)"
        ));
    }
    Ok(commit.to_owned())
}

/// How to install the semver checker, quoted when it is missing.
const INSTALL: &str = "cargo install cargo-semver-checks --locked";

/// `release --check`.
fn check(root: &Path) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let installed = Command::new(&cargo)
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        eprintln!(
            "release --check: cargo-semver-checks is not installed. Install it with `{INSTALL}` (or a prebuilt binary: `cargo binstall cargo-semver-checks`), then run `cargo xtask release --check` again."
        );
        return Ok(ExitCode::from(1));
    }
    let dir = root.join("generated");
    let record = Record::read(&dir)?.ok_or_else(|| {
        format!(
            "no release recorded in {}: nothing to check against",
            dir.join(record::FILE).display()
        )
    })?;
    let commit = release_commit(root, &record)?;
    let out = Command::new(&cargo)
        .current_dir(root)
        .args([
            "semver-checks",
            "--package",
            "feishu",
            "--package",
            "feishu-runtime",
            "--baseline-rev",
            &commit,
        ])
        .output()
        .map_err(|e| format!("could not run cargo semver-checks: {e}"))?;
    let output =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let found = output.contains("semver requires new");
    let (verdict, code) = match (out.status.success(), found) {
        (true, _) => ("**passed**: the versions account for every change it found.".to_owned(), ExitCode::SUCCESS),
        (false, true) => (
            "**found a break that the versions do not account for.** The version of `feishu` follows the API report, so the report missed it (or `feishu-runtime` broke without a new minor version): fix `codegen/diff/src/rules.rs` (or raise the runtime's version) before merging.".to_owned(),
            ExitCode::from(2),
        ),
        (false, false) => {
            eprintln!("{output}");
            return Err("cargo semver-checks failed without a verdict (its output is above)".into());
        }
    };
    let short = &commit[..commit.len().min(12)];
    crate::print_stdout(&format!(
        "## Semver check\n\n`cargo semver-checks` on `feishu` {} and `feishu-runtime`, against the last release (`feishu` {}, commit `{short}`): {verdict}\n\n<details><summary>Its output</summary>\n\n```text\n{}\n```\n\n</details>\n",
        package_version(root, "feishu").unwrap_or_default(),
        record.version,
        output.trim_end()
    ))?;
    Ok(code)
}

/// The version in the manifest of `name`, `feishu` or `feishu-runtime`.
pub fn package_version(root: &Path, name: &str) -> Result<String, String> {
    let folder = if name == "feishu" { "generated" } else { "runtime" };
    let path: PathBuf = root.join(folder).join("Cargo.toml");
    string_at(&read_toml(&path)?, &["package", "version"], &path)
}
