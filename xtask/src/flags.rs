//! Every `cargo xtask` command and flag, declared once with `xflags` (as
//! rust-analyzer's `flags.rs` does): the grammar below is the contract, the
//! command modules get typed structs, and `cargo xtask help` / `--help`
//! print the same text.
//!
//! Three shapes that `xflags` does not read on its own are normalised before
//! parsing, so that the commands keep taking what they always took:
//! `--flag=value` is split into `--flag value`; everything after `test` is
//! handed to cargo untouched; and `docs sync --service a b` (several values
//! after one `--service` or `--path`) becomes `--service a --service b`.

#![allow(missing_docs)]

use std::ffi::OsString;
use std::path::PathBuf;

xflags::xflags! {
    /// The project's tasks.
    cmd xtask {
        /// The merged spec of some doc pages on stdout, diagnostics on stderr.
        cmd parse {
            /// Files or folders of doc pages.
            repeated paths: PathBuf
        }
        /// Doc pages → spec → client crate.
        cmd regen {
            /// Write nothing; fail with a diff when a file is stale.
            optional --check
            /// The doc pages (default spec/docs).
            optional --docs dir: PathBuf
            /// Where spec/ and generated/ go (default: the workspace).
            optional --out out: PathBuf
        }
        /// fmt check, every test, clippy, regen --check; extra arguments go to `cargo test`.
        cmd test {
            /// Extra arguments for `cargo test`.
            repeated args: OsString
        }
        /// The local Feishu server (and, with --docs, the local doc portal).
        cmd sandbox {
            /// The port (default 8090; 0 picks a free one).
            optional --port port: u16
            /// The app id token requests must name.
            optional --app-id id: String
            /// The app secret token requests must give.
            optional --app-secret secret: String
            /// The spec folder (default spec/).
            optional --spec dir: PathBuf
            /// Do not enforce the documented rate limits.
            optional --no-rate-limits
            /// Serve the doc portal API from this folder of pages.
            optional --docs dir: PathBuf
            /// Push the marketplace app's app_ticket to this webhook URL (on start, on resend, on request).
            optional --app-ticket-url url: String
            /// Take image and file uploads up to N MiB instead of the documented 10 MB / 30 MB (an extension, for benchmarks).
            optional --upload-limit-mb n: u64
        }
        /// The doc pages' own examples, through the client generated from them.
        cmd examples {
            /// The doc pages (default spec/docs).
            optional --docs dir: PathBuf
            /// Print one JSON document instead of the summary.
            optional --json
        }
        /// The API change between the spec at a revision and the working tree's.
        cmd diff {
            /// The git revision (default HEAD).
            optional --base rev: String
        }
        /// Record a release of `feishu` (tag it, move the baseline), or check one with cargo-semver-checks.
        cmd release {
            /// Run cargo-semver-checks against the last release instead of recording one.
            optional --check
            /// Write the record and the changelog but neither commit nor tag.
            optional --files-only
            /// Where spec/ and generated/ are (default: the workspace), as `regen --out`; implies --files-only.
            optional --out out: PathBuf
        }
        /// The OpenAPI 3.1 document of the spec.
        cmd openapi {
            /// Write to FILE instead of stdout.
            optional --out file: PathBuf
            /// The spec folder (default spec/).
            optional --spec dir: PathBuf
        }
        /// This project side by side with what a user would pick instead.
        cmd bench {
            /// Print JSON instead of the Markdown table.
            optional --json
            /// Fewer rounds.
            optional --quick
            /// Some sections only: parse,client,compile,sync,ws,upload,redis.
            optional --only sections: String
        }
        /// The doc pages themselves.
        cmd docs {
            /// Pull doc pages from the doc portal into a folder.
            cmd sync {
                /// The portal (default https://open.feishu.cn).
                optional --portal url: String
                /// The folder of pages (default spec/docs).
                optional --docs dir: PathBuf
                /// Every page under the Server API node.
                optional --all
                /// The pages of a service (im, drive, …); repeatable.
                repeated --service name: String
                /// One page by its fullPath; repeatable.
                repeated --path full_path: String
                /// zh (default) or en.
                optional --lang lang: String
                /// Write nothing; list what would change.
                optional --dry-run
                /// Requests in flight at once (default 8).
                optional --jobs n: usize
                /// Delete synced pages gone upstream even when they are more than 5% of them.
                optional --prune
                /// Fetch at most N pages in one run (default 5000).
                optional --max-pages n: usize
                /// Fetch at most N MiB of pages in one run (default 512).
                optional --max-mb n: u64
                /// Run `cargo xtask regen` afterwards.
                optional --regen
                /// With --regen: where spec/ and generated/ go (default: the workspace), as `regen --out`.
                optional --out out: PathBuf
            }
        }
    }
}

/// The one-line usage of each command, quoted in its errors.
pub fn usage(command: &str) -> &'static str {
    match command {
        "parse" => "usage: cargo xtask parse PATH… (files or folders of doc pages)",
        "regen" => "usage: cargo xtask regen [--check] [--docs DIR] [--out OUT]",
        "test" => "usage: cargo xtask test [extra cargo test arguments]",
        "sandbox" => {
            "usage: cargo xtask sandbox [--port N] [--app-id ID] [--app-secret SECRET] [--spec DIR] [--no-rate-limits] [--docs DIR] [--app-ticket-url URL] [--upload-limit-mb N]"
        }
        "examples" => "usage: cargo xtask examples [--docs DIR] [--json]",
        "diff" => "usage: cargo xtask diff [--base REV]",
        "release" => "usage: cargo xtask release [--check] [--files-only] [--out OUT]",
        "openapi" => "usage: cargo xtask openapi [--out FILE] [--spec DIR]",
        "bench" => {
            "usage: cargo xtask bench [--json] [--quick] [--only parse,client,compile,sync,ws,upload,redis]"
        }
        "docs" => {
            "usage: cargo xtask docs sync [--portal URL] [--docs DIR] [--all | --service NAME… | --path FULLPATH…] [--lang zh|en] [--dry-run] [--jobs N] [--prune] [--max-pages N] [--max-mb N] [--regen [--out OUT]]"
        }
        _ => {
            "usage: cargo xtask <parse PATH… | regen [--check] [--docs DIR] [--out OUT] | test | examples [--docs DIR] [--json] | sandbox [--port N] [--app-id ID] [--app-secret SECRET] [--spec DIR] [--no-rate-limits] [--docs DIR] | diff [--base REV] | release [--check] [--files-only] [--out OUT] | openapi [--out FILE] [--spec DIR] | bench [--json] [--quick] [--only parse,client,compile,sync,ws,upload,redis] | docs sync …>"
        }
    }
}

/// What went wrong reading the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// `--help`: the help text, for stdout.
    Help(String),
    /// No command, or one that does not exist: the overall usage (exit 2).
    NoCommand(String),
    /// A command with a bad flag or value: the message and its usage (exit 1).
    Bad(String),
}

/// Parses the arguments after `cargo xtask`.
pub fn parse(args: Vec<OsString>) -> Result<Xtask, Refused> {
    let command = args.first().and_then(|a| a.to_str()).unwrap_or("").to_string();
    let known = [
        "parse", "regen", "test", "examples", "sandbox", "diff", "release", "openapi", "bench",
        "docs",
    ];
    if !known.contains(&command.as_str()) && !matches!(command.as_str(), "--help" | "-h") {
        return Err(Refused::NoCommand(usage("").to_string()));
    }
    match Xtask::from_vec(normalise(args)) {
        Ok(flags) => Ok(flags),
        Err(error) if error.is_help() => Err(Refused::Help(error.to_string())),
        Err(error) => {
            let message = error.to_string();
            // xflags says "unexpected flag: `--x`"; the commands always said "unknown argument".
            let message = match message
                .strip_prefix("unexpected flag: ")
                .or_else(|| message.strip_prefix("unexpected argument: "))
            {
                Some(what) => format!("unknown argument {what}"),
                None => message,
            };
            Err(Refused::Bad(format!("{message}; {}", usage(&command))))
        }
    }
}

/// The three rewrites of the module docs.
fn normalise(args: Vec<OsString>) -> Vec<OsString> {
    let command = args.first().and_then(|a| a.to_str()).unwrap_or("");
    if command == "test" {
        // `--` makes xflags take everything after it as plain values, a user's own `--` included.
        let mut out = vec![args[0].clone(), OsString::from("--")];
        out.extend(args.into_iter().skip(1));
        return out;
    }
    let docs = command == "docs";
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut repeating: Option<String> = None;
    for arg in args {
        match arg.to_str() {
            Some(text) if text.starts_with("--") && text != "--" => {
                let (flag, inline) = match text.split_once('=') {
                    Some((flag, value)) => (flag, Some(value)),
                    None => (text, None),
                };
                repeating =
                    (docs && matches!(flag, "--service" | "--path")).then(|| flag.to_string());
                out.push(OsString::from(flag));
                if let Some(value) = inline {
                    out.push(OsString::from(value));
                }
            }
            Some(text) if repeating.is_some() => {
                // A further bare value after `--service a`: repeat the flag in front of it.
                let flag = repeating.clone().unwrap_or_default();
                if out.last().and_then(|last| last.to_str()) != Some(flag.as_str()) {
                    out.push(OsString::from(flag));
                }
                out.push(OsString::from(text));
            }
            _ => {
                repeating = None;
                out.push(arg);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn strings(list: Vec<OsString>) -> Vec<String> {
        list.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn normalises_inline_values_test_arguments_and_repeated_values() {
        assert_eq!(
            strings(normalise(args(&["sandbox", "--app-id=cli_x", "--port", "0"]))),
            ["sandbox", "--app-id", "cli_x", "--port", "0"]
        );
        assert_eq!(
            strings(normalise(args(&["test", "--release", "--", "--nocapture"]))),
            ["test", "--", "--release", "--", "--nocapture"]
        );
        assert_eq!(
            strings(normalise(args(&[
                "docs",
                "sync",
                "--service",
                "im",
                "drive",
                "--dry-run",
                "--path",
                "/a",
                "/b"
            ]))),
            [
                "docs",
                "sync",
                "--service",
                "im",
                "--service",
                "drive",
                "--dry-run",
                "--path",
                "/a",
                "--path",
                "/b"
            ]
        );
        assert_eq!(
            strings(normalise(args(&["docs", "sync", "--service=im", "--jobs", "2"]))),
            ["docs", "sync", "--service", "im", "--jobs", "2"]
        );
    }

    #[test]
    fn reads_every_command() {
        let flags = parse(args(&[
            "sandbox",
            "--port",
            "0",
            "--app-id=cli_x",
            "--app-secret",
            "s",
            "--spec",
            "/tmp/spec",
            "--no-rate-limits",
        ]))
        .unwrap();
        let XtaskCmd::Sandbox(sandbox) = flags.subcommand else { panic!("not sandbox") };
        assert_eq!(
            (sandbox.port, sandbox.app_id.as_deref(), sandbox.app_secret.as_deref()),
            (Some(0), Some("cli_x"), Some("s"))
        );
        assert_eq!(
            (sandbox.spec, sandbox.no_rate_limits, sandbox.docs, sandbox.upload_limit_mb),
            (Some(PathBuf::from("/tmp/spec")), true, None, None)
        );
        let XtaskCmd::Sandbox(sandbox) =
            parse(args(&["sandbox", "--upload-limit-mb=256"])).unwrap().subcommand
        else {
            panic!("not sandbox")
        };
        assert_eq!(sandbox.upload_limit_mb, Some(256));

        let XtaskCmd::Test(test) =
            parse(args(&["test", "--release", "-p", "x"])).unwrap().subcommand
        else {
            panic!("not test")
        };
        assert_eq!(test.args, args(&["--release", "-p", "x"]));

        let XtaskCmd::Docs(docs) =
            parse(args(&["docs", "sync", "--service", "im", "drive", "--jobs", "3", "--dry-run"]))
                .unwrap()
                .subcommand
        else {
            panic!("not docs")
        };
        let DocsCmd::Sync(sync) = docs.subcommand;
        assert_eq!(
            (sync.service, sync.jobs, sync.dry_run, sync.all),
            (vec!["im".to_string(), "drive".to_string()], Some(3), true, false)
        );

        let XtaskCmd::Examples(examples) =
            parse(args(&["examples", "--docs=/tmp/pages", "--json"])).unwrap().subcommand
        else {
            panic!("not examples")
        };
        assert_eq!((examples.docs, examples.json), (Some(PathBuf::from("/tmp/pages")), true));

        let XtaskCmd::Bench(bench) =
            parse(args(&["bench", "--json", "--only", "parse,client"])).unwrap().subcommand
        else {
            panic!("not bench")
        };
        assert_eq!(
            (bench.json, bench.quick, bench.only.as_deref()),
            (true, false, Some("parse,client"))
        );
    }

    #[test]
    fn refuses_bad_flags_with_the_usage() {
        let Err(Refused::Bad(message)) = parse(args(&["sandbox", "--verbose"])) else {
            panic!("accepted")
        };
        assert!(
            message.contains("unknown argument `--verbose`")
                && message.contains("usage: cargo xtask sandbox"),
            "{message}"
        );
        let Err(Refused::Bad(message)) = parse(args(&["sandbox", "--port", "99999"])) else {
            panic!("accepted")
        };
        assert!(message.contains("--port"), "{message}");
        let Err(Refused::Bad(message)) = parse(args(&["sandbox", "--port"])) else {
            panic!("accepted")
        };
        assert!(message.contains("--port"), "{message}");
        let Err(Refused::Bad(message)) = parse(args(&["sandbox", "--upload-limit-mb", "lots"]))
        else {
            panic!("accepted")
        };
        assert!(
            message.contains("--upload-limit-mb") && message.contains("[--upload-limit-mb N]"),
            "{message}"
        );
        assert!(matches!(parse(args(&["frobnicate"])), Err(Refused::NoCommand(_))));
        assert!(matches!(parse(args(&[])), Err(Refused::NoCommand(_))));
        assert!(matches!(parse(args(&["regen", "--help"])), Err(Refused::Help(_))));
    }
}
