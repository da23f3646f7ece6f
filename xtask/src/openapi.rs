//! `cargo xtask openapi [--out FILE] [--spec DIR]`: the OpenAPI 3.1 document of
//! the checked-in spec (default `spec/`), as pretty JSON on stdout or in FILE.

use std::path::Path;
use std::process::ExitCode;

/// Runs the command from the workspace root `root`.
pub fn run(flags: &crate::flags::Openapi, root: &Path) -> Result<ExitCode, String> {
    let out = flags.out.clone();
    let dir = flags.spec.clone().unwrap_or_else(|| root.join("spec"));
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
