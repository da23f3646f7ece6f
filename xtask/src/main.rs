//! The project's tasks, behind `cargo xtask` (see `.cargo/config.toml`).

use std::process::ExitCode;

mod parse;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("parse") => parse::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <parse PATH…>");
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
