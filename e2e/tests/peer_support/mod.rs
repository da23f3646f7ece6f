//! The peer of the differential tests: the official Python SDK, lark-oapi,
//! pinned to one version, run by the interpreter named by
//! `FEISHU_PEER_PYTHON` (default `python3`; `cargo xtask test` installs it
//! into `target/peers/venv` and points the variable there). Without it a
//! test says so and passes, unless on CI, where it fails.

#![allow(dead_code)] // each test binary uses a different part

use std::process::Command;

/// The lark-oapi version the peers are written against.
pub const LARK_OAPI_VERSION: &str = "1.7.5";

/// Whether the tests run on CI: the one rule, `feishu_testkit::on_ci`.
pub fn on_ci() -> bool {
    feishu_testkit::on_ci()
}

/// The interpreter to run the peer with, or why there is none.
pub fn peer_python() -> Result<String, String> {
    let python = std::env::var("FEISHU_PEER_PYTHON").unwrap_or_else(|_| "python3".into());
    // Finding the package is enough here: importing it takes seconds.
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata, importlib.util, sys\n\
             if importlib.util.find_spec('lark_oapi') is None: sys.exit('No module named lark_oapi')\n\
             print(importlib.metadata.version('lark-oapi'))",
        ])
        .output();
    match probe {
        Err(e) => Err(format!("cannot run {python}: {e}")),
        Ok(out) if !out.status.success() => Err(format!(
            "{python} cannot import lark_oapi: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(out) => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if version == LARK_OAPI_VERSION {
                Ok(python)
            } else {
                Err(format!(
                    "{python} has lark-oapi {version}, the test is pinned to {LARK_OAPI_VERSION}"
                ))
            }
        }
    }
}

/// `test` cannot run without the peer: on CI it fails, saying how to
/// install the peer; elsewhere it passes with a message.
pub fn peer_missing(test: &str, why: &str) {
    if on_ci() {
        panic!(
            "{test} needs lark-oapi {LARK_OAPI_VERSION}: {why}. `cargo xtask test` installs it \
             into target/peers/venv and sets FEISHU_PEER_PYTHON; by hand: \
             `python3 -m venv target/peers/venv && target/peers/venv/bin/pip install lark-oapi=={LARK_OAPI_VERSION}` \
             and FEISHU_PEER_PYTHON=target/peers/venv/bin/python"
        );
    }
    eprintln!(
        "SKIPPED {test}: {why}. Run `cargo xtask test` (it installs lark-oapi=={LARK_OAPI_VERSION} into \
         target/peers/venv), or set FEISHU_PEER_PYTHON to a python that has it."
    );
}

/// The interpreter to run the peer with; `None` (after [`peer_missing`])
/// when there is none.
pub fn peer_python_or_skip(test: &str) -> Option<String> {
    peer_python().map_err(|why| peer_missing(test, &why)).ok()
}
