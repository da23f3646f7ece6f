//! `cargo xtask sandbox`: runs the local Feishu server of `feishu-sandbox`
//! until the process is stopped (Ctrl-C).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feishu_sandbox::{Sandbox, SandboxConfig};

const USAGE: &str = "usage: cargo xtask sandbox [--port N] [--app-id ID] [--app-secret SECRET] [--spec DIR] [--no-rate-limits]";

/// The port used when `--port` is not given.
const DEFAULT_PORT: u16 = 8090;

#[derive(Debug, PartialEq)]
struct Options {
    port: u16,
    app_id: Option<String>,
    app_secret: Option<String>,
    spec: PathBuf,
    rate_limits: bool,
}

fn options(args: &[String], root: &Path) -> Result<Options, String> {
    let mut options = Options { port: DEFAULT_PORT, app_id: None, app_secret: None, spec: root.join("spec"), rate_limits: true };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        // `--flag value` and `--flag=value` both work.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| inline.clone().or_else(|| args.next().cloned()).ok_or(format!("{flag} needs {what}; {USAGE}"));
        match flag {
            "--port" => {
                let port = value("a port number")?;
                options.port = port.parse().map_err(|_| format!("--port: `{port}` is not a port number (0 to 65535)"))?;
            }
            "--app-id" => options.app_id = Some(value("an app id")?),
            "--app-secret" => options.app_secret = Some(value("a secret")?),
            "--spec" => options.spec = PathBuf::from(value("a folder")?),
            "--no-rate-limits" if inline.is_none() => options.rate_limits = false,
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    Ok(options)
}

/// Runs the sandbox from the workspace root `root`; returns only on a startup error.
pub fn run(args: &[String], root: &Path) -> Result<ExitCode, String> {
    let options = options(args, root)?;
    let mut config = SandboxConfig::from_spec_dir(&options.spec).map_err(|e| e.to_string())?;
    if let Some(app_id) = options.app_id {
        config.app_id = app_id;
    }
    if let Some(app_secret) = options.app_secret {
        config.app_secret = app_secret;
    }
    config.rate_limits = options.rate_limits;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("could not start the tokio runtime: {e}"))?;
    runtime.block_on(async {
        let endpoints = config.spec.endpoints.len();
        let summary = format!(
            "sandbox: {endpoints} endpoints from {}; app_id {}, app_secret {}; rate limits {}; Ctrl-C stops",
            options.spec.display(),
            config.app_id,
            config.app_secret,
            if config.rate_limits { "on" } else { "off" },
        );
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_every_flag() {
        let root = Path::new("/w");
        let parsed = options(&args(&["--port", "0", "--app-id=cli_x", "--app-secret", "s", "--spec", "/tmp/spec", "--no-rate-limits"]), root).unwrap();
        assert_eq!(
            parsed,
            Options { port: 0, app_id: Some("cli_x".into()), app_secret: Some("s".into()), spec: PathBuf::from("/tmp/spec"), rate_limits: false }
        );
        let defaults = options(&[], root).unwrap();
        assert_eq!((defaults.port, defaults.spec, defaults.rate_limits), (8090, PathBuf::from("/w/spec"), true));
    }

    #[test]
    fn refuses_bad_flags() {
        let root = Path::new("/w");
        assert!(options(&args(&["--port", "99999"]), root).unwrap_err().contains("--port"));
        assert!(options(&args(&["--port"]), root).unwrap_err().contains("needs"));
        assert!(options(&args(&["--verbose"]), root).unwrap_err().contains("unknown argument `--verbose`"));
    }
}
