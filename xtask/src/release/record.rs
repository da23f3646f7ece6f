//! The record of the last release, `generated/RELEASE`, and the spec it
//! was generated from.
//!
//! `cargo xtask release` writes both; `cargo xtask regen` reads them to set
//! the crate's version and changelog from the API change since then.
//!
//! The baseline spec is a snapshot beside the record
//! (`generated/RELEASE.spec.json`, the merged spec), not a git tag read with
//! `git show`: regen then needs nothing but the files of the checkout. It
//! works the same in a shallow clone (the GitHub checkout action's default
//! fetches no tags and one commit), in a source archive, and in a temporary
//! copy, and `regen --check` cannot depend on which refs a clone fetched.
//! Spec files only gain keys with serde defaults, so an old snapshot still
//! loads. The price is one more copy of the spec in the repository (150 KB
//! for the seed pages). The release commit is still tagged (`feishu-vX`),
//! for cargo-semver-checks, which compares built crates, not specs.

use std::path::{Path, PathBuf};

use feishu_spec::Spec;
use semver::Version;

/// The record's file name, in the generated crate's folder.
pub const FILE: &str = "RELEASE";

/// The snapshot's file name, in the same folder.
pub const SPEC_FILE: &str = "RELEASE.spec.json";

/// The last release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The version of `feishu` released.
    pub version: Version,
    /// The `feishu-runtime` version it required.
    pub runtime: Version,
    /// The snapshot of the spec it was generated from: a file name in the
    /// record's folder.
    pub spec: String,
    /// The error variant names it shipped ([`super::names`]): a file name
    /// in the record's folder; `None` for releases that recorded none.
    pub names: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: String,
    runtime: String,
    spec: String,
    #[serde(default)]
    names: Option<String>,
}

impl Record {
    /// The record in `dir`; `None` when there is none (nothing released yet).
    pub fn read(dir: &Path) -> Result<Option<Record>, String> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Record::parse(&text).map(Some).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse(text: &str) -> Result<Record, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?;
        let version = |key: &str, value: &str| {
            Version::parse(value).map_err(|e| format!("`{key}` = {value:?} is not a version: {e}"))
        };
        // A pointer names a file beside the record, never a path elsewhere.
        let plain = |key: &str, name: &str| {
            if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
                return Err(format!("`{key}` = {name:?} must be a file name in the same folder"));
            }
            Ok(())
        };
        plain("spec", &raw.spec)?;
        if let Some(names) = &raw.names {
            plain("names", names)?;
        }
        Ok(Record {
            version: version("version", &raw.version)?,
            runtime: version("runtime", &raw.runtime)?,
            spec: raw.spec,
            names: raw.names,
        })
    }

    /// The record's text.
    pub fn to_text(&self) -> String {
        format!(
            "# The last release of the `feishu` crate: written by `cargo xtask release`, read by\n\
             # `cargo xtask regen`, which sets the crate's version and changelog from the API\n\
             # change since then. `runtime` is the feishu-runtime version it required; `spec`\n\
             # the snapshot of the spec it was generated from (xtask/src/release/record.rs says\n\
             # why a snapshot); `names` its error variant names (names.rs says why). Do not\n\
             # edit by hand.\n\
             version = \"{}\"\nruntime = \"{}\"\nspec = \"{}\"\n{}",
            self.version,
            self.runtime,
            self.spec,
            self.names.as_ref().map(|n| format!("names = \"{n}\"\n")).unwrap_or_default()
        )
    }

    /// The snapshot's path.
    pub fn spec_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.spec)
    }

    /// The spec of the release.
    pub fn baseline(&self, dir: &Path) -> Result<Spec, String> {
        let path = self.spec_path(dir);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Spec::from_texts([(path.as_path(), text.as_str())]).map_err(|e| e.to_string())
    }

    /// The error variant names the release shipped, when it recorded them.
    pub fn baseline_names(&self, dir: &Path) -> Result<Option<super::names::Names>, String> {
        match &self.names {
            Some(file) => super::names::read(&dir.join(file)),
            None => Ok(None),
        }
    }

    /// Writes the record, the snapshot of `spec` and (when the record
    /// points to a file) its error variant names into `dir`.
    pub fn write(&self, dir: &Path, spec: &Spec) -> Result<(), String> {
        let snapshot = spec.to_json_with_comment(
            "The spec of the last release of `feishu` (generated/RELEASE), written by `cargo xtask release`; do not edit.",
        );
        let mut files = vec![(self.spec_path(dir), snapshot), (dir.join(FILE), self.to_text())];
        if let Some(names) = &self.names {
            files.push((dir.join(names), super::names::to_text(&super::names::of(spec))));
        }
        for (path, text) in files {
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_names_what_is_wrong() {
        let record = Record {
            version: Version::new(0, 4, 2),
            runtime: Version::new(0, 1, 3),
            spec: SPEC_FILE.to_owned(),
            names: None,
        };
        assert_eq!(Record::parse(&record.to_text()).unwrap(), record);
        let record = Record { names: Some(super::super::names::FILE.to_owned()), ..record };
        assert_eq!(Record::parse(&record.to_text()).unwrap(), record);
        let error = Record::parse(
            "version = \"0.1.0\"\nruntime = \"0.1.0\"\nspec = \"a.json\"\nnames = \"../n.json\"\n",
        )
        .unwrap_err();
        assert!(error.contains("`names`"), "{error}");
        let error = Record::parse("version = \"0.x\"\nruntime = \"0.1.0\"\nspec = \"a.json\"\n")
            .unwrap_err();
        assert!(error.contains("`version`") && error.contains("0.x"), "{error}");
        let error =
            Record::parse("version = \"0.1.0\"\nruntime = \"0.1.0\"\nspec = \"../a.json\"\n")
                .unwrap_err();
        assert!(error.contains("`spec`"), "{error}");
        let error = Record::parse("version = \"0.1.0\"\nruntime = \"0.1.0\"\n").unwrap_err();
        assert!(error.contains("spec"), "{error}");
    }
}
