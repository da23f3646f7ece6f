//! `cargo xtask sandbox` as users run it: it announces its URL on stdout and serves there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
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
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let addr = url.strip_prefix("http://127.0.0.1:").expect("listens on 127.0.0.1");
    assert!(addr.parse::<u16>().is_ok_and(|p| p != 0), "{url}");

    let body = r#"{"app_id":"cli_cli","app_secret":"sandbox-secret"}"#;
    let mut stream = TcpStream::connect(format!("127.0.0.1:{addr}")).unwrap();
    write!(
        stream,
        "POST /open-apis/auth/v3/tenant_access_token/internal HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"tenant_access_token\":\"t-"), "{answer}");
}

#[test]
fn sandbox_refuses_unknown_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["sandbox", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument `--bogus`"));
}
