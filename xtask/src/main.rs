//! The project's tasks, behind `cargo xtask` (see `.cargo/config.toml`).

use std::process::ExitCode;

mod actionlint;
mod bench;
mod checkout;
mod debian;
mod diff;
mod docs;
mod examples;
mod features;
mod flags;
mod openapi;
mod parse;
mod peers;
mod redis;
mod regen;
mod release;
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
    // Every command but `parse` acts on the checkout it is run in, found now.
    let root = checkout::root;
    let result = match flags.subcommand {
        XtaskCmd::Parse(flags) => parse::run(&flags),
        XtaskCmd::Regen(flags) => root().and_then(|root| regen::run(&flags, &root)),
        XtaskCmd::Test(flags) => root().and_then(|root| test::run(&flags, &root)),
        XtaskCmd::Examples(flags) => root().and_then(|root| examples::run(&flags, &root)),
        XtaskCmd::Sandbox(flags) => root().and_then(|root| sandbox::run(&flags, &root)),
        XtaskCmd::Diff(flags) => root().and_then(|root| diff::run(&flags, &root)),
        XtaskCmd::Release(flags) => root().and_then(|root| {
            let regen_is_current = || {
                let check = flags::Regen { check: true, docs: None, out: None };
                Ok(regen::run(&check, &root)? == ExitCode::SUCCESS)
            };
            release::run(&flags, &root, regen_is_current)
        }),
        XtaskCmd::Openapi(flags) => root().and_then(|root| openapi::run(&flags, &root)),
        XtaskCmd::Bench(flags) => root().and_then(|root| bench::run(&flags, &root)),
        XtaskCmd::Docs(flags) => match flags.subcommand {
            flags::DocsCmd::Sync(flags) => root().and_then(|root| docs::run(&flags, &root)),
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
