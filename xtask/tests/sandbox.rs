//! `cargo xtask sandbox` as users run it: it announces its URL on stdout and serves there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the child when the test ends, pass or fail.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sandbox_prints_its_url_and_serves_the_control_api() {
    let child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["sandbox", "--port", "0", "--app-id", "cli_cli", "--no-rate-limits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask starts");
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let addr = url.strip_prefix("http://127.0.0.1:").expect("listens on 127.0.0.1");
    assert!(addr.parse::<u16>().is_ok_and(|p| p != 0), "{url}");

    // The token call over HTTP, as a bot would make it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, answer) = runtime.block_on(async {
        let answer = reqwest::Client::new()
            .post(format!("{url}/open-apis/auth/v3/tenant_access_token/internal"))
            .json(&serde_json::json!({"app_id": "cli_cli", "app_secret": "sandbox-secret"}))
            .send()
            .await
            .expect("the sandbox answers");
        (answer.status().as_u16(), answer.json::<serde_json::Value>().await.expect("a JSON answer"))
    });
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["tenant_access_token"].as_str().is_some_and(|t| t.starts_with("t-")),
        "{answer}"
    );
}

#[test]
fn sandbox_refuses_unknown_flags() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_xtask")).args(["sandbox", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument `--bogus`"));
}
