//! The sync's view of the docs folder, which never goes through a symbolic
//! link: a link under the folder could point outside it (and the sync would
//! rewrite or delete files there) or back into it (and a walk would never
//! end). The folder itself may be a link; below it, links are listed as
//! skipped and nothing is read, written or deleted through one.
//!
//! The page files are those `feishu_docs::page_files` lists (every file but
//! hidden ones and READMEs, in sorted order), found with `symlink_metadata`.

use std::path::{Path, PathBuf};

/// What the walk found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The page files, sorted depth-first as `feishu_docs::page_files` sorts them.
    pub files: Vec<PathBuf>,
    /// The symbolic links skipped, relative to the folder, with `/`.
    pub links: Vec<String>,
}

/// The page files under `dir`, not following links below it.
pub fn page_files(dir: &Path) -> Result<Listing, String> {
    let mut listing = Listing::default();
    if dir.exists() {
        visit(dir, dir, &mut listing)?;
    }
    Ok(listing)
}

fn visit(root: &Path, folder: &Path, listing: &mut Listing) -> Result<(), String> {
    let failed = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| failed(folder, e))?
        .map(|entry| entry.map(|e| e.path()).map_err(|e| failed(folder, e)))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
            continue;
        }
        let kind = std::fs::symlink_metadata(&path).map_err(|e| failed(&path, e))?.file_type();
        if kind.is_symlink() {
            listing.links.push(relative(root, &path));
        } else if kind.is_dir() {
            visit(root, &path, listing)?;
        } else if kind.is_file() {
            listing.files.push(path);
        }
    }
    Ok(())
}

/// `path` under `root`, with `/`.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Refuses a page path (`rel`, relative to `root`) that goes through a
/// symbolic link, the file itself included; folders not made yet are fine.
pub fn refuse_links(root: &Path, rel: &str) -> Result<(), String> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symbolic link: the sync never writes or deletes through one",
                    relative(root, &path)
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_listed_never_followed() {
        let base = std::env::temp_dir().join(format!("docs-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (docs, outside) = (base.join("docs"), base.join("outside"));
        std::fs::create_dir_all(docs.join("im/v1")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(docs.join("im/v1/a.md"), "a").unwrap();
        std::fs::write(docs.join("im/v1/.hidden.md"), "h").unwrap();
        std::fs::write(outside.join("b.md"), "b").unwrap();
        symlink(&outside, docs.join("im/out")).unwrap();
        symlink("..", docs.join("im/v1/loop")).unwrap();
        symlink(outside.join("b.md"), docs.join("b.md")).unwrap();
        let listing = page_files(&docs).unwrap();
        assert_eq!(listing.files, [docs.join("im/v1/a.md")]);
        assert_eq!(listing.links, ["b.md", "im/out", "im/v1/loop"]);
        assert!(refuse_links(&docs, "im/v1/a.md").is_ok());
        assert!(refuse_links(&docs, "im/v2/new/c.md").is_ok(), "folders not made yet");
        assert!(
            refuse_links(&docs, "im/out/b.md")
                .unwrap_err()
                .starts_with("im/out is a symbolic link")
        );
        assert!(refuse_links(&docs, "b.md").unwrap_err().starts_with("b.md is a symbolic link"));
        assert!(page_files(&base.join("none")).unwrap().files.is_empty());
        let _ = std::fs::remove_dir_all(&base);
    }
}
