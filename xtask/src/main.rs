//! The project's tasks, behind `cargo xtask` (see `.cargo/config.toml`).

use std::process::ExitCode;

mod bench;
mod diff;
mod openapi;
mod parse;
mod peers;
mod regen;
mod sandbox;
mod test;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("parse") => parse::run(&args[1..]),
        Some("regen") => regen::run(&args[1..], &workspace_root()),
        Some("test") => test::run(&args[1..], &workspace_root()),
        Some("sandbox") => sandbox::run(&args[1..], &workspace_root()),
        Some("diff") => diff::run(&args[1..], &workspace_root()),
        Some("openapi") => openapi::run(&args[1..], &workspace_root()),
        Some("bench") => bench::run(&args[1..], &workspace_root()),
        _ => {
            eprintln!(
                "usage: cargo xtask <parse PATH… | regen [--check] [--docs DIR] [--out OUT] | test | sandbox [--port N] [--app-id ID] [--app-secret SECRET] [--spec DIR] [--no-rate-limits] [--app-ticket-url URL] | diff [--base REV] | openapi [--out FILE] [--spec DIR] | bench [--json] [--quick] [--only parse,client,compile]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// Writes a command's main output to stdout. A reader that stops early
/// (`| head`) closes the pipe; that is not an error worth a panic.
pub(crate) fn print_stdout(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("writing to stdout: {e}")),
        _ => Ok(()),
    }
}

/// The workspace root: xtask's manifest lives one folder below it.
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits inside the workspace").to_path_buf()
}
