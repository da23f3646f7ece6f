//! The error variant names of the last release, `generated/RELEASE.names.json`.
//!
//! A variant's name is made by the generator from the docs' English
//! message (`feishu_model::errors`). The API report compares two specs
//! under today's naming rule, so it sees a rename that a reworded message
//! causes, but not one that a change of the rule itself causes: the spec
//! did not change. Users' `match` arms break all the same. So the release
//! records the names it shipped, and regen compares them with what today's
//! rule makes of the release's own spec; each difference is a breaking
//! changelog line. A record without the file (older releases) compares
//! nothing.

use std::collections::BTreeMap;
use std::path::Path;

use feishu_spec::Spec;

/// The file's name, in the generated crate's folder.
pub const FILE: &str = "RELEASE.names.json";

/// Endpoint id → code → variant name, for every typed operation (untyped
/// calls have no error enum).
pub type Names = BTreeMap<String, BTreeMap<i64, String>>;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "//")]
    comment: String,
    error_variants: Names,
}

/// The names today's rule gives the error codes of `spec`.
pub fn of(spec: &Spec) -> Names {
    spec.endpoints
        .iter()
        .filter(|e| feishu_model::is_typed(e))
        .map(|e| (e.id.clone(), feishu_model::errors::endpoint_variant_names(&e.errors)))
        .filter(|(_, names)| !names.is_empty())
        .collect()
}

/// The file's text for `names`.
pub fn to_text(names: &Names) -> String {
    let file = File {
        comment: "The error variant names of the last release of `feishu` (generated/RELEASE), written by `cargo xtask release`; do not edit.".into(),
        error_variants: names.clone(),
    };
    serde_json::to_string_pretty(&file).expect("names serialise") + "\n"
}

/// The names recorded at `path`; `None` when the release recorded none.
pub fn read(path: &Path) -> Result<Option<Names>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let file: File = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(file.error_variants))
}

/// One changelog line per variant that the release shipped under another
/// name than today's rule gives it, for the same spec (`released`).
pub fn renames(recorded: &Names, released: &Spec) -> Vec<String> {
    let now = of(released);
    let mut lines = Vec::new();
    for (id, codes) in recorded {
        let Some(current) = now.get(id) else { continue };
        for (code, old) in codes {
            if let Some(new) = current.get(code).filter(|new| *new != old) {
                lines.push(format!(
                    "`{id}`: error code {code}: variant `{old}` renamed to `{new}` (the generator's naming rule changed)"
                ));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let names = Names::from([(
            "im.v1.message.reply".to_owned(),
            BTreeMap::from([
                (230002, "BotCannotBeOutsideGroup".to_owned()),
                (-1, "CodeMinus1".into()),
            ]),
        )]);
        let dir = std::env::temp_dir().join(format!("xtask-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        std::fs::write(&path, to_text(&names)).unwrap();
        assert_eq!(read(&path).unwrap(), Some(names));
        assert_eq!(read(&dir.join("absent.json")).unwrap(), None);
        std::fs::write(&path, "{\"error_variants\": 3}").unwrap();
        assert!(read(&path).unwrap_err().contains(FILE));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
