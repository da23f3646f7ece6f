//! The project's tasks, behind `cargo xtask` (see `.cargo/config.toml`).

use std::process::ExitCode;

mod actionlint;
mod bench;
mod diff;
mod docs;
mod flags;
mod openapi;
mod parse;
mod peers;
mod regen;
mod sandbox;
mod test;

use flags::{Refused, XtaskCmd};

fn main() -> ExitCode {
    let flags = match flags::parse(std::env::args_os().skip(1).collect()) {
        Ok(flags) => flags,
        Err(Refused::Help(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(Refused::NoCommand(usage)) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
        Err(Refused::Bad(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    let root = workspace_root();
    let result = match flags.subcommand {
        XtaskCmd::Parse(flags) => parse::run(&flags),
        XtaskCmd::Regen(flags) => regen::run(&flags, &root),
        XtaskCmd::Test(flags) => test::run(&flags, &root),
        XtaskCmd::Sandbox(flags) => sandbox::run(&flags, &root),
        XtaskCmd::Diff(flags) => diff::run(&flags, &root),
        XtaskCmd::Openapi(flags) => openapi::run(&flags, &root),
        XtaskCmd::Bench(flags) => bench::run(&flags, &root),
        XtaskCmd::Docs(flags) => match flags.subcommand {
            flags::DocsCmd::Sync(flags) => docs::run(&flags, &root),
        },
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
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("writing to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// The workspace root: xtask's manifest lives one folder below it.
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
