//! The peer installation of `cargo xtask test` (xtask/src/peers.rs), without
//! network: where the venv's interpreter is, and that a venv which already
//! imports lark_oapi is used as it is.

#[allow(dead_code)]
#[path = "../src/peers.rs"]
mod peers;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

fn temp_root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-peers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_venv_and_its_python_live_under_target_peers() {
    let root = Path::new("/work/project");
    assert_eq!(peers::venv_dir(root), Path::new("/work/project/target/peers/venv"));
    assert_eq!(peers::site_dir(root), Path::new("/work/project/target/peers/site"));
    let python = peers::venv_python(&peers::venv_dir(root));
    if cfg!(windows) {
        assert_eq!(python, Path::new("/work/project/target/peers/venv/Scripts/python.exe"));
    } else {
        assert_eq!(python, Path::new("/work/project/target/peers/venv/bin/python"));
    }
    assert_eq!(peers::requirement(), "lark-oapi==1.7.5");
}

#[test]
fn the_fallback_site_goes_in_front_of_pythonpath() {
    let site = Path::new("/p/site");
    assert_eq!(peers::pythonpath_with(site, None), OsString::from("/p/site"));
    assert_eq!(peers::pythonpath_with(site, Some(OsString::new())), OsString::from("/p/site"));
    if cfg!(unix) {
        assert_eq!(
            peers::pythonpath_with(site, Some("/a:/b".into())),
            OsString::from("/p/site:/a:/b")
        );
    }
}

/// A stand-in interpreter under `root` that exits with `code` whatever it is asked.
#[cfg(unix)]
fn stand_in(root: &Path, code: u8) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let python = root.join("bin/python3");
    std::fs::create_dir_all(python.parent().unwrap()).unwrap();
    std::fs::write(&python, format!("#!/bin/sh\nexit {code}\n")).unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    python
}

#[cfg(unix)]
#[test]
fn a_given_interpreter_that_imports_the_peers_is_used_as_it_is() {
    let root = temp_root("given");
    let python = stand_in(&root, 0);
    let got = peers::ensure_with(&root, Some(python.clone().into())).unwrap();
    assert_eq!(got, peers::Peers { python, pythonpath: None });
    assert!(!root.join("target").exists(), "nothing is installed");
    std::fs::remove_dir_all(&root).unwrap();
}

/// Issue 30: a wrong `FEISHU_PEER_PYTHON` made the differential tests skip
/// and pass; now `cargo xtask test` stops and names it.
#[cfg(unix)]
#[test]
fn a_given_interpreter_without_the_peers_is_refused() {
    let root = temp_root("given-wrong");
    let python = stand_in(&root, 1);
    let error = peers::ensure_with(&root, Some(python.clone().into())).unwrap_err();
    assert!(error.contains(&python.display().to_string()), "{error}");
    assert!(error.contains("cannot import lark_oapi"), "{error}");
    let missing = peers::ensure_with(&root, Some("/no/such/python".into())).unwrap_err();
    assert!(missing.contains("/no/such/python"), "{missing}");
    assert!(!root.join("target").exists(), "nothing is installed");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_missing_interpreter_has_no_lark_oapi() {
    assert!(!peers::has_lark_oapi(Path::new("/no/such/python"), None));
}

#[cfg(unix)]
#[test]
fn a_venv_that_imports_lark_oapi_is_not_reinstalled() {
    use std::os::unix::fs::PermissionsExt;
    let root = temp_root("ready");
    let python = peers::venv_python(&peers::venv_dir(&root));
    std::fs::create_dir_all(python.parent().unwrap()).unwrap();
    // A stand-in interpreter that succeeds at everything, so the import
    // check passes; it logs its arguments to show no pip ran.
    let log = root.join("calls.log");
    std::fs::write(&python, format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 0\n", log.display()))
        .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();

    let got = peers::ensure_with(&root, None).unwrap();

    assert_eq!(got, peers::Peers { python: python.clone(), pythonpath: None });
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("import importlib.metadata, sys, lark_oapi"), "{calls}");
    assert!(!calls.contains("pip"), "no install: {calls}");
    std::fs::remove_dir_all(&root).unwrap();
}
