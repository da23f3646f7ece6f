//! Where a page lives under the docs folder: a stable, collision-free
//! relative path derived from its portal `fullPath` alone, readable for the
//! common shape and safe for any other (no name from the network can leave
//! the folder).
//!
//! - `/uAjLw4CM/ukTMukTMukTM/reference/<svc>-v<N>/<rest…>` (the API
//!   reference) → `<svc>/v<N>/<rest…>.md`, the seed layout:
//!   `…/reference/im-v1/message/create` → `im/v1/message/create.md`.
//! - Any other page under the Server API prefix `/uAjLw4CM/ukTMukTMukTM/<rest…>`
//!   → `<rest…>.md` (`corehr-v2/job/get.md`).
//! - Anything else → `_/<every segment>.md`.
//!
//! Each segment keeps `A-Z a-z 0-9 _ -` and writes every other byte as
//! `%XX` (so `.`, `..`, `/`, `\` and NUL cannot reach the file system); an
//! empty segment is `%`. Two shapes that would read like another rule's
//! output are escaped too: a second rule whose first two segments look like
//! `<svc>/v<N>` writes the `v` as `%76`, and a first segment that is exactly
//! `_` is written `%5F`. So the mapping is injective: two fullPaths never share
//! a file, and a page keeps its file whatever else the portal holds. On a
//! case-insensitive file system two fullPaths differing only in case would
//! share one; the portal's ids are case-sensitive, so that is not supported.

use std::path::{Component, Path, PathBuf};

/// The Server API prefix of the reference pages' fullPaths.
pub const SERVER_API_PREFIX: [&str; 2] = ["uAjLw4CM", "ukTMukTMukTM"];
/// Segments longer than this (after escaping) are refused: file names have limits.
const MAX_SEGMENT: usize = 200;
/// Deeper fullPaths are refused.
const MAX_DEPTH: usize = 32;

/// The relative path (with `/`) of the page `full_path`, or why it has none.
pub fn page_path(full_path: &str) -> Result<String, String> {
    let rest = full_path
        .strip_prefix('/')
        .ok_or_else(|| format!("fullPath {full_path:?} does not start with `/`"))?;
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() > MAX_DEPTH {
        return Err(format!("fullPath {full_path:?} has more than {MAX_DEPTH} segments"));
    }
    let under_prefix = segments.len() > 2 && segments[..2] == SERVER_API_PREFIX;
    let mut out: Vec<String> = Vec::new();
    if under_prefix
        && segments.len() > 4
        && segments[2] == "reference"
        && let Some((service, version)) = service_version(segments[3])
    {
        out.push(service.to_string());
        out.push(version.to_string());
        out.extend(segments[4..].iter().map(|s| escape(s)));
    } else if under_prefix {
        out.extend(segments[2..].iter().map(|s| escape(s)));
        if out[0] == "_" {
            out[0] = "%5F".into();
        }
        if out.len() > 2 && looks_like_service(&out[0]) && is_version(&out[1]) {
            out[1] = format!("%76{}", &out[1][1..]);
        }
    } else {
        out.push("_".into());
        out.extend(segments.iter().map(|s| escape(s)));
    }
    if let Some(long) = out.iter().find(|s| s.len() > MAX_SEGMENT) {
        return Err(format!(
            "fullPath {full_path:?} has a segment longer than {MAX_SEGMENT} bytes ({}…)",
            &long[..40]
        ));
    }
    Ok(format!("{}.md", out.join("/")))
}

/// `im-v1` → (`im`, `v1`): a service and its version, split at the last `-v`.
pub fn service_version(segment: &str) -> Option<(&str, &str)> {
    let (service, digits) = segment.rsplit_once("-v")?;
    let version = &segment[service.len() + 1..];
    (looks_like_service(service)
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit()))
    .then_some((service, version))
}

/// The service a page belongs to: the first `<svc>-v<N>` segment of its fullPath.
pub fn service_of(full_path: &str) -> Option<&str> {
    full_path.split('/').find_map(|s| service_version(s).map(|(service, _)| service))
}

fn looks_like_service(text: &str) -> bool {
    text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_version(text: &str) -> bool {
    text.len() > 1 && text.starts_with('v') && text[1..].bytes().all(|b| b.is_ascii_digit())
}

fn escape(segment: &str) -> String {
    if segment.is_empty() {
        return "%".into();
    }
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `dir` joined with a relative page path, refusing anything that could leave `dir`.
pub fn join_inside(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let rel_path = Path::new(rel);
    if rel.is_empty() || !rel_path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!("{rel:?} is not a plain relative path"));
    }
    Ok(dir.join(rel_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_pages_get_the_seed_layout() {
        assert_eq!(
            page_path("/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create").unwrap(),
            "im/v1/message/create.md"
        );
        assert_eq!(
            page_path("/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message-reaction/create").unwrap(),
            "im/v1/message-reaction/create.md"
        );
        assert_eq!(
            page_path("/uAjLw4CM/ukTMukTMukTM/corehr-v2/job/get").unwrap(),
            "corehr-v2/job/get.md"
        );
        assert_eq!(
            page_path("/uAjLw4CM/ukTMukTMukTM/group/im-v2/tag/create").unwrap(),
            "group/im-v2/tag/create.md"
        );
        assert_eq!(
            page_path("/ukTMukTMukTM/uMzM1YjLzMTN24yMzUjN/hire-v1/job/get").unwrap(),
            "_/ukTMukTMukTM/uMzM1YjLzMTN24yMzUjN/hire-v1/job/get.md"
        );
        assert_eq!(
            page_path("/ukTMukTMukTM/ukjMzUjL5IzM14SOyMTN/").unwrap(),
            "_/ukTMukTMukTM/ukjMzUjL5IzM14SOyMTN/%.md"
        );
    }

    #[test]
    fn hostile_names_stay_inside_the_folder() {
        for hostile in [
            "/../../etc/passwd",
            "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/../../x",
            "/a/./b",
            "/a\\..\\b",
            "/a\0b",
            "//abs",
            "/C:/x",
            "/.hidden",
        ] {
            let rel = page_path(hostile).unwrap();
            let joined = join_inside(Path::new("/docs"), &rel).unwrap();
            assert!(
                joined.starts_with("/docs")
                    && !rel.contains("..")
                    && !rel.contains('\\')
                    && !rel.contains('\0'),
                "{hostile} → {rel}"
            );
            assert!(
                rel.split('/').all(|s| !s.starts_with('.')),
                "{hostile} → {rel}: no hidden names"
            );
        }
        assert!(page_path("no-slash").is_err());
        assert!(page_path(&format!("/{}", "a".repeat(300))).is_err());
        assert!(page_path(&"/a".repeat(40)).is_err());
        assert!(join_inside(Path::new("/docs"), "../x.md").is_err());
        assert!(join_inside(Path::new("/docs"), "/x.md").is_err());
    }

    #[test]
    fn shapes_that_would_collide_are_escaped() {
        let a = page_path("/uAjLw4CM/ukTMukTMukTM/reference/im-v1/x").unwrap();
        let b = page_path("/uAjLw4CM/ukTMukTMukTM/im/v1/x").unwrap();
        let c = page_path("/uAjLw4CM/ukTMukTMukTM/_/ukTMukTMukTM/x").unwrap();
        let d = page_path("/ukTMukTMukTM/x").unwrap();
        let e = page_path("/_/ukTMukTMukTM/x").unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("im/v1/x.md", "im/%761/x.md"));
        let all = [a, b, c, d, e];
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "{all:?}");
        assert_eq!(service_of("/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create"), Some("im"));
        assert_eq!(service_of("/ukTMukTMukTM/uMzM1YjLzMTN24yMzUjN/hire-v1/job/get"), Some("hire"));
        assert_eq!(service_of("/ukTMukTMukTM/uUzN04SN3QjL1cDN"), None);
    }

    /// Every fullPath of the shared corpus gets its own file.
    #[test]
    fn the_corpus_maps_without_collisions() {
        let raw = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/raw");
        if feishu_testkit::corpus_folder("the_corpus_maps_without_collisions", &raw).is_none() {
            return;
        }
        let mut files = Vec::new();
        feishu_docs::page_files(&raw, &mut files).unwrap();
        let mut seen = std::collections::BTreeMap::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let full_path = feishu_docs::page::front_matter(&text).0.remove("fullPath").unwrap();
            let rel = page_path(&full_path).unwrap();
            if let Some(other) = seen.insert(rel.clone(), full_path.clone()) {
                panic!("{full_path} and {other} both map to {rel}");
            }
        }
        assert!(seen.len() > 1000, "{}", seen.len());
    }
}
