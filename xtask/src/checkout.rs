//! The checkout xtask acts on, found when it runs, never from a path compiled
//! into the binary: with a `CARGO_TARGET_DIR` shared by two checkouts (a
//! global target folder, git worktrees), cargo hands one checkout the binary
//! built in the other, and a compiled-in path would make `regen` read and
//! write the wrong tree.
//!
//! A checkout is a folder whose `Cargo.toml` has a `[workspace]` table and
//! which holds `xtask/Cargo.toml`. It is, in order:
//!
//! 1. the one above `CARGO_MANIFEST_DIR` as cargo sets it when it runs xtask
//!    (`cargo xtask` is `cargo run -p xtask`, and cargo exports the variable
//!    to the program it runs, for the checkout it resolved); taken only when
//!    `CARGO_PKG_NAME` is `xtask`, so that a variable inherited from cargo
//!    running some other package is not mistaken for it;
//! 2. else the first one at or above the current directory (the binary run
//!    by its path).

use std::path::{Path, PathBuf};

/// The root of the checkout to act on, or why there is none.
pub fn root() -> Result<PathBuf, String> {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR")
        .filter(|_| std::env::var_os("CARGO_PKG_NAME").is_some_and(|name| name == "xtask"))
        .map(PathBuf::from);
    let current = std::env::current_dir()
        .map_err(|e| format!("could not read the current directory: {e}"))?;
    find(from_cargo.as_deref(), &current).ok_or_else(|| {
        format!(
            "{}: not inside a checkout of this project (no Cargo.toml with [workspace] next to \
             xtask/ here or above); run cargo xtask from inside the checkout",
            current.display()
        )
    })
}

/// The checkout for cargo's manifest folder of xtask, else the first one at or above `current`.
fn find(from_cargo: Option<&Path>, current: &Path) -> Option<PathBuf> {
    from_cargo
        .and_then(Path::parent)
        .filter(|dir| is_checkout(dir))
        .or_else(|| current.ancestors().find(|dir| is_checkout(dir)))
        .map(Path::to_path_buf)
}

/// Whether `dir` is a checkout's root: a workspace manifest, and xtask in it.
fn is_checkout(dir: &Path) -> bool {
    dir.join("xtask/Cargo.toml").is_file()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_checkout_from_cargo_or_from_the_current_folder() {
        let base = std::env::temp_dir().join(format!("xtask-checkout-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (one, two) = (base.join("one"), base.join("two"));
        for dir in [&one, &two] {
            std::fs::create_dir_all(dir.join("xtask")).unwrap();
            std::fs::create_dir_all(dir.join("generated/src")).unwrap();
            std::fs::write(dir.join("Cargo.toml"), "[workspace]\nmembers = [\"xtask\"]\n").unwrap();
            std::fs::write(dir.join("xtask/Cargo.toml"), "[package]\nname = \"xtask\"\n").unwrap();
            // A nested crate with a workspace of its own is not the checkout.
            std::fs::write(dir.join("generated/Cargo.toml"), "[workspace]\n").unwrap();
        }
        let deep = two.join("generated/src");
        assert_eq!(find(None, &deep), Some(two.clone()));
        assert_eq!(find(Some(&one.join("xtask")), &deep), Some(one.clone()), "cargo's word first");
        assert_eq!(find(Some(&base.join("gone/xtask")), &deep), Some(two.clone()));
        assert_eq!(find(None, &base), None);
        let _ = std::fs::remove_dir_all(&base);
    }
}
