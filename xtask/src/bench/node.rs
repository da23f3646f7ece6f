//! The Node peer: @larksuiteoapi/node-sdk, pinned to [`NODE_SDK_VERSION`],
//! installed from the npm registry into `target/peers/node` (skipped when
//! that version is already there).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::progress;

/// The @larksuiteoapi/node-sdk release the benchmark is pinned to.
pub const NODE_SDK_VERSION: &str = "1.74.0";
/// The npm package of the Node peer.
pub const PACKAGE: &str = "@larksuiteoapi/node-sdk";

/// Where the Node peer is installed.
pub fn prefix(root: &Path) -> PathBuf {
    crate::peers::peers_dir(root).join("node")
}

/// The installed version of the SDK under `prefix`, if any.
fn installed(prefix: &Path) -> Option<String> {
    let manifest =
        prefix.join("node_modules").join("@larksuiteoapi").join("node-sdk").join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// Makes sure `node` runs and the pinned SDK is installed; returns the
/// `node_modules` folder to put in `NODE_PATH`.
pub fn ensure(root: &Path) -> Result<PathBuf, String> {
    let version = Command::new("node").arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        _ => return Err("`node` is not installed (Debian: apt-get install nodejs npm)".into()),
    }
    let prefix = prefix(root);
    if installed(&prefix).as_deref() != Some(NODE_SDK_VERSION) {
        progress(&format!(
            "installing {PACKAGE}@{NODE_SDK_VERSION} from the npm registry into {}",
            prefix.display()
        ));
        std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(format!("{PACKAGE}@{NODE_SDK_VERSION}"))
            .output()
            .map_err(|e| {
                format!("cannot run npm ({e}); install npm (Debian: apt-get install npm)")
            })?;
        if !out.status.success() {
            return Err(format!(
                "npm could not install {PACKAGE}@{NODE_SDK_VERSION} from the npm registry ({}); check that the registry is reachable: {}",
                out.status,
                super::tail(&String::from_utf8_lossy(&out.stderr), 600)
            ));
        }
        if installed(&prefix).as_deref() != Some(NODE_SDK_VERSION) {
            return Err(format!(
                "npm ran, but {} has no {PACKAGE} {NODE_SDK_VERSION}",
                prefix.display()
            ));
        }
    }
    Ok(prefix.join("node_modules"))
}
