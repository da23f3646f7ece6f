//! `cargo xtask openapi [--out FILE] [--spec DIR]`: the OpenAPI 3.1 document of
//! the checked-in spec (default `spec/`), as pretty JSON on stdout or in FILE.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask openapi [--out FILE] [--spec DIR]";

/// Runs the command from the workspace root `root`.
pub fn run(args: &[String], root: &Path) -> Result<ExitCode, String> {
    let mut out: Option<PathBuf> = None;
    let mut dir = root.join("spec");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(args.next().ok_or(format!("--out needs a file; {USAGE}"))?)),
            "--spec" => dir = PathBuf::from(args.next().ok_or(format!("--spec needs a folder; {USAGE}"))?),
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    let spec = crate::diff::spec_in_dir(&dir)?;
    let document = feishu_openapi::openapi(&spec).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    text.push('\n');
    match out {
        Some(file) => {
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
            eprintln!("openapi: {} operations written to {}", spec.endpoints.len(), file.display());
        }
        None => crate::print_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
