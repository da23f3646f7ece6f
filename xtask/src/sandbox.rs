//! `cargo xtask sandbox`: runs the local Feishu server of `feishu-sandbox`
//! until the process is stopped (Ctrl-C); with `--docs DIR` it also serves
//! the pages of DIR as the doc portal that `cargo xtask docs sync` reads.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feishu_sandbox::{Sandbox, SandboxConfig};

/// The port used when `--port` is not given.
const DEFAULT_PORT: u16 = 8090;

#[derive(Debug, PartialEq)]
struct Options {
    port: u16,
    app_id: Option<String>,
    app_secret: Option<String>,
    spec: PathBuf,
    rate_limits: bool,
    docs: Option<PathBuf>,
    app_ticket_url: Option<String>,
    /// In bytes.
    upload_limit: Option<u64>,
}

fn options(flags: &crate::flags::Sandbox, root: &Path) -> Result<Options, String> {
    let upload_limit = match flags.upload_limit_mb {
        None => None,
        Some(0) => return Err("--upload-limit-mb 0: the limit must be at least 1 MiB".into()),
        Some(mb) => Some(
            mb.checked_mul(1024 * 1024)
                .ok_or_else(|| format!("--upload-limit-mb {mb}: too large"))?,
        ),
    };
    Ok(Options {
        port: flags.port.unwrap_or(DEFAULT_PORT),
        app_id: flags.app_id.clone(),
        app_secret: flags.app_secret.clone(),
        spec: flags.spec.clone().unwrap_or_else(|| root.join("spec")),
        rate_limits: !flags.no_rate_limits,
        docs: flags.docs.clone(),
        app_ticket_url: flags.app_ticket_url.clone(),
        upload_limit,
    })
}

/// Runs the sandbox from the workspace root `root`; returns only on a startup error.
pub fn run(flags: &crate::flags::Sandbox, root: &Path) -> Result<ExitCode, String> {
    let options = options(flags, root)?;
    let mut config = SandboxConfig::from_spec_dir(&options.spec).map_err(|e| e.to_string())?;
    if let Some(app_id) = options.app_id {
        config.app_id = app_id;
    }
    if let Some(app_secret) = options.app_secret {
        config.app_secret = app_secret;
    }
    config.rate_limits = options.rate_limits;
    if let Some(docs) = &options.docs {
        if !docs.is_dir() {
            return Err(format!("--docs {}: not a folder of doc pages", docs.display()));
        }
        config.docs = Some(docs.clone());
    }
    config.app_ticket_url = options.app_ticket_url;
    config.upload_limit = options.upload_limit;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the tokio runtime: {e}"))?;
    runtime.block_on(async {
        let endpoints = config.spec.endpoints.len();
        let summary = format!(
            "sandbox: {endpoints} endpoints from {}; app_id {}, app_secret {}; marketplace app_id {}, app_secret {}, tenants {}; rate limits {}; Ctrl-C stops",
            options.spec.display(),
            config.app_id,
            config.app_secret,
            config.marketplace_app_id,
            config.marketplace_app_secret,
            config.marketplace_tenants.join(", "),
            if config.rate_limits { "on" } else { "off" },
        ) + &match config.upload_limit {
            Some(limit) => format!("; uploads up to {} MiB (not the documented 10 MB / 30 MB)", limit / (1024 * 1024)),
            None => String::new(),
        } + &match &config.docs {
            Some(docs) => format!("; doc portal serving {} (`cargo xtask docs sync --portal URL`)", docs.display()),
            None => String::new(),
        };
        let sandbox = Sandbox::start(config, options.port).await.map_err(|e| format!("could not listen on 127.0.0.1:{}: {e}", options.port))?;
        eprintln!("{summary}");
        println!("listening on {}", sandbox.url());
        let _ = std::io::stdout().flush();
        std::future::pending::<()>().await;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_the_defaults() {
        let root = Path::new("/w");
        let flags = |list: &[&str]| match crate::flags::parse(
            list.iter().map(std::ffi::OsString::from).collect(),
        )
        .unwrap()
        .subcommand
        {
            crate::flags::XtaskCmd::Sandbox(flags) => flags,
            _ => unreachable!("a sandbox command line"),
        };
        let parsed = options(
            &flags(&[
                "sandbox",
                "--port",
                "0",
                "--app-id=cli_x",
                "--app-secret",
                "s",
                "--spec",
                "/tmp/spec",
                "--no-rate-limits",
                "--app-ticket-url",
                "http://127.0.0.1:9/hook",
                "--upload-limit-mb",
                "256",
            ]),
            root,
        )
        .unwrap();
        assert_eq!(
            parsed,
            Options {
                port: 0,
                app_id: Some("cli_x".into()),
                app_secret: Some("s".into()),
                spec: PathBuf::from("/tmp/spec"),
                rate_limits: false,
                docs: None,
                app_ticket_url: Some("http://127.0.0.1:9/hook".into()),
                upload_limit: Some(256 * 1024 * 1024),
            }
        );
        let defaults = options(&flags(&["sandbox"]), root).unwrap();
        assert_eq!(
            (defaults.port, defaults.spec, defaults.rate_limits, defaults.upload_limit),
            (8090, PathBuf::from("/w/spec"), true, None)
        );
        let zero = options(&flags(&["sandbox", "--upload-limit-mb", "0"]), root).unwrap_err();
        assert!(zero.contains("--upload-limit-mb 0"), "{zero}");
        let huge = options(&flags(&["sandbox", "--upload-limit-mb", &u64::MAX.to_string()]), root)
            .unwrap_err();
        assert!(huge.contains("too large"), "{huge}");
    }
}
