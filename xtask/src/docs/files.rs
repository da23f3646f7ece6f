//! Writing pages so that an interrupted sync leaves no half-written page:
//! each page is written to a hidden temporary file next to it and renamed
//! over the page (atomic on one file system). A run that was killed can leave
//! a temporary file behind; it is hidden (the parser skips it) and the next
//! run removes it before anything else.

use std::path::{Path, PathBuf};

/// The suffix of the temporary files.
pub const TEMP_SUFFIX: &str = ".docs-sync-tmp";

/// Writes `text` to `path` atomically, creating its folder.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().ok_or_else(|| format!("{}: no parent folder", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("page");
    let temp = dir.join(format!(".{name}.{}{TEMP_SUFFIX}", std::process::id()));
    // The folder is made only when the write finds it missing: most pages
    // share their folder with others, and a `create_dir_all` per page was a
    // thousand needless calls on a file system that can be slow.
    let first = match std::fs::write(&temp, text) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            std::fs::write(&temp, text)
        }
        other => other,
    };
    let written = first.and_then(|()| std::fs::rename(&temp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("{}: {e}", path.display())
    })
}

/// Removes the temporary files a killed run left under `dir`; answers how many.
pub fn remove_leftovers(dir: &Path) -> Result<usize, String> {
    let mut removed = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
            } else if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Deletes a page, then the folders it leaves empty up to (not including) `root`.
pub fn remove_page(root: &Path, path: &Path) -> Result<(), String> {
    std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut folder: Option<PathBuf> = path.parent().map(Path::to_path_buf);
    while let Some(dir) = folder {
        if dir == root || !dir.starts_with(root) || std::fs::remove_dir(&dir).is_err() {
            break;
        }
        folder = dir.parent().map(Path::to_path_buf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_cleans_up() {
        let root = std::env::temp_dir().join(format!("docs-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let page = root.join("im/v1/x.md");
        write_atomic(&page, "one").unwrap();
        write_atomic(&page, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&page).unwrap(), "two");
        let names: Vec<String> = std::fs::read_dir(root.join("im/v1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["x.md"], "no temporary file stays");
        std::fs::write(
            root.join("im/.y.md.1").with_extension(format!("md.1{TEMP_SUFFIX}")),
            "half",
        )
        .unwrap();
        assert_eq!(remove_leftovers(&root).unwrap(), 1);
        assert_eq!(remove_leftovers(&root).unwrap(), 0);
        remove_page(&root, &page).unwrap();
        assert!(!root.join("im").exists(), "empty folders go too");
        assert!(root.exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
