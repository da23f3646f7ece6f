//! The peers of the differential tests: the official Python SDK, lark-oapi,
//! pinned to [`LARK_OAPI_VERSION`], which `e2e/tests/differential.rs`
//! runs through `e2e/peers/lark_oapi_calls.py`.
//!
//! `cargo xtask test` calls [`ensure`] before `cargo test` and hands the
//! result to the test processes ([`Peers::apply`]):
//!
//! - If `FEISHU_PEER_PYTHON` is already set, that interpreter is used as it
//!   is and nothing is installed; it must import the pinned lark-oapi and
//!   openapi-spec-validator, or `cargo xtask test` stops with a message.
//! - Otherwise a virtual environment at `target/peers/venv` is created with
//!   `python3 -m venv` when missing (or broken), and `pip install
//!   lark-oapi==1.7.5` runs there from PyPI, unless `import lark_oapi` already
//!   works there with the pinned version. The tests get
//!   `FEISHU_PEER_PYTHON=target/peers/venv/bin/python`.
//! - Where `python3 -m venv` does not work (Debian without `python3-venv`),
//!   lark-oapi is installed with `python3 -m pip install --target
//!   target/peers/site` instead, and the tests get `FEISHU_PEER_PYTHON=python3`
//!   and `target/peers/site` in front of `PYTHONPATH`.
//!
//! A failed install fails `cargo xtask test` with a message naming the
//! registry: the differential test would fail on CI without the peer anyway.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The lark-oapi release the differential test is pinned to.
pub const LARK_OAPI_VERSION: &str = "1.7.5";
/// The openapi-spec-validator release that checks `cargo xtask openapi`'s
/// document (codegen/openapi/tests/validate.rs); installed next to lark-oapi.
pub const OPENAPI_SPEC_VALIDATOR_VERSION: &str = "0.9.0";
/// The environment variable naming the peer's Python interpreter.
pub const PEER_PYTHON_VAR: &str = "FEISHU_PEER_PYTHON";
/// The interpreter that creates the venv (or installs with `--target`).
const BASE_PYTHON: &str = "python3";

/// The interpreter (and extra module path) the test processes run the peer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peers {
    /// The Python interpreter with lark-oapi, for `FEISHU_PEER_PYTHON`.
    pub python: PathBuf,
    /// A `pip install --target` folder to put in front of `PYTHONPATH`, for the fallback without venv.
    pub pythonpath: Option<PathBuf>,
}

impl Peers {
    /// Sets `FEISHU_PEER_PYTHON` (and `PYTHONPATH` for the fallback) on `command`.
    pub fn apply(&self, command: &mut Command) {
        command.env(PEER_PYTHON_VAR, &self.python);
        if let Some(site) = &self.pythonpath {
            command.env("PYTHONPATH", pythonpath_with(site, std::env::var_os("PYTHONPATH")));
        }
    }
}

/// `site` in front of an existing `PYTHONPATH`.
pub fn pythonpath_with(site: &Path, existing: Option<OsString>) -> OsString {
    let mut paths = vec![site.to_path_buf()];
    if let Some(existing) = existing.filter(|e| !e.is_empty()) {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| site.as_os_str().to_owned())
}

/// Where the peers live: `target/peers` of the workspace.
pub fn peers_dir(root: &Path) -> PathBuf {
    root.join("target").join("peers")
}

/// The virtual environment's folder.
pub fn venv_dir(root: &Path) -> PathBuf {
    peers_dir(root).join("venv")
}

/// The `pip install --target` folder of the fallback.
pub fn site_dir(root: &Path) -> PathBuf {
    peers_dir(root).join("site")
}

/// The interpreter inside a virtual environment.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// The pip requirement: `lark-oapi==1.7.5`.
pub fn requirement() -> String {
    format!("lark-oapi=={LARK_OAPI_VERSION}")
}

/// Whether `python` (with `pythonpath` in front of its module path) imports
/// lark_oapi and openapi_spec_validator, at their pinned versions.
pub fn has_lark_oapi(python: &Path, pythonpath: Option<&Path>) -> bool {
    let mut command = Command::new(python);
    command.args([
        "-c",
        &format!(
            "import importlib.metadata, sys, lark_oapi, openapi_spec_validator\nsys.exit(importlib.metadata.version('lark-oapi') != '{LARK_OAPI_VERSION}' or importlib.metadata.version('openapi-spec-validator') != '{OPENAPI_SPEC_VALIDATOR_VERSION}')"
        ),
    ]);
    if let Some(site) = pythonpath {
        command.env("PYTHONPATH", pythonpath_with(site, std::env::var_os("PYTHONPATH")));
    }
    command.output().is_ok_and(|out| out.status.success())
}

/// Whether `python` runs at all.
fn runs(python: &Path) -> bool {
    Command::new(python).args(["-c", "pass"]).output().is_ok_and(|out| out.status.success())
}

/// Makes sure lark-oapi is installed, see the module docs; returns what the tests need.
pub fn ensure(root: &Path) -> Result<Peers, String> {
    ensure_with(root, std::env::var_os(PEER_PYTHON_VAR))
}

/// [`ensure`], with the value of `FEISHU_PEER_PYTHON` given.
pub fn ensure_with(root: &Path, peer_python: Option<OsString>) -> Result<Peers, String> {
    if let Some(python) = peer_python.filter(|p| !p.is_empty()) {
        // Checked like the venv's: with a wrong interpreter the differential
        // tests and the OpenAPI validations would skip, and pass.
        let python = PathBuf::from(python);
        if !has_lark_oapi(&python, None) {
            return Err(format!(
                "{PEER_PYTHON_VAR}={} cannot import lark_oapi {LARK_OAPI_VERSION} and \
                 openapi_spec_validator {OPENAPI_SPEC_VALIDATOR_VERSION}: install them there \
                 (`{} -m pip install {} openapi-spec-validator=={OPENAPI_SPEC_VALIDATOR_VERSION}`), \
                 or unset it and `cargo xtask test` installs them into target/peers/venv",
                python.display(),
                python.display(),
                requirement()
            ));
        }
        eprintln!("peers: using {PEER_PYTHON_VAR}={}", python.display());
        return Ok(Peers { python, pythonpath: None });
    }
    let venv = venv_dir(root);
    let python = venv_python(&venv);
    if has_lark_oapi(&python, None) {
        return Ok(Peers { python, pythonpath: None });
    }
    if !runs(&python) {
        if venv.exists() {
            std::fs::remove_dir_all(&venv)
                .map_err(|e| format!("cannot remove the broken {}: {e}", venv.display()))?;
        }
        eprintln!("peers: creating {} ({BASE_PYTHON} -m venv)", venv.display());
        let created = Command::new(BASE_PYTHON).arg("-m").arg("venv").arg(&venv).output();
        match created {
            Ok(out) if out.status.success() && runs(&python) => {}
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    Err(e) => format!("cannot run {BASE_PYTHON}: {e}"),
                };
                let _ = std::fs::remove_dir_all(&venv);
                eprintln!(
                    "peers: `{BASE_PYTHON} -m venv` does not work here ({why}); installing with pip --target instead"
                );
                return ensure_site(root);
            }
        }
    }
    pip_install(&python, &[], &venv)?;
    if has_lark_oapi(&python, None) {
        Ok(Peers { python, pythonpath: None })
    } else {
        Err(format!(
            "{} still cannot import lark_oapi {LARK_OAPI_VERSION} after pip install",
            python.display()
        ))
    }
}

/// The fallback without venv: `pip install --target target/peers/site`.
fn ensure_site(root: &Path) -> Result<Peers, String> {
    let site = site_dir(root);
    let python = PathBuf::from(BASE_PYTHON);
    if !has_lark_oapi(&python, Some(&site)) {
        let target = [
            OsString::from("--upgrade"),
            OsString::from("--target"),
            site.clone().into_os_string(),
        ];
        pip_install(&python, &target, &site)?;
        if !has_lark_oapi(&python, Some(&site)) {
            return Err(format!(
                "{BASE_PYTHON} still cannot import lark_oapi {LARK_OAPI_VERSION} from {}",
                site.display()
            ));
        }
    }
    Ok(Peers { python, pythonpath: Some(site) })
}

/// `python -m pip install [extra…] lark-oapi==1.7.5`, failing with a message naming PyPI.
fn pip_install(python: &Path, extra: &[OsString], into: &Path) -> Result<(), String> {
    let requirement = requirement();
    eprintln!("peers: installing {requirement} from PyPI into {}", into.display());
    let status = Command::new(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet"])
        .args(extra)
        .arg(&requirement)
        .arg(format!("openapi-spec-validator=={OPENAPI_SPEC_VALIDATOR_VERSION}"))
        .status()
        .map_err(|e| format!("cannot run {} -m pip: {e}", python.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "pip could not install {requirement} from PyPI (the Python Package Index) into {} ({status}); \
             the differential test needs it. Check that PyPI is reachable, or set {PEER_PYTHON_VAR} to a Python \
             that has lark-oapi {LARK_OAPI_VERSION}",
            into.display()
        ))
    }
}
