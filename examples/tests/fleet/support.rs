//! What the fleet tests share: the sandbox's control API and the example
//! processes, their output gathered line by line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_sandbox::SandboxConfig;
use serde_json::Value;

/// The sandbox's self-built app.
pub const APP: [&str; 4] = ["--app-id", "cli_sandbox", "--app-secret", "sandbox-secret"];

/// The sandbox's configuration from the workspace's spec.
pub fn sandbox_config() -> SandboxConfig {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec");
    SandboxConfig::from_spec_dir(spec).unwrap()
}

/// A call of the sandbox's control API: its status and JSON answer.
pub async fn control(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    call: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http.request(method, format!("{base}/_sandbox/{call}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// The lines a process printed so far.
#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<String>>,
}

/// One example process, its standard output and error gathered by threads
/// (those of a killed process too, up to its death).
pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Lines>,
    stderr: Arc<Lines>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Process {
    /// Starts the example `name` (built by [`feishu_examples::example_binary`])
    /// with `args`.
    pub fn start(name: &str, args: &[&str]) -> Process {
        // Built once per test binary: each build is a cargo run of its own.
        static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
        let binary = BUILT
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_insert_with(|| feishu_examples::example_binary(name))
            .clone();
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stdout, stderr) = (Arc::new(Lines::default()), Arc::new(Lines::default()));
        let readers = vec![
            gather(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            gather(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        Process { stdin: child.stdin.take(), child, stdout, stderr, readers }
    }

    /// Waits (at most a minute) for a line of standard output that starts
    /// with `prefix`, and returns it.
    pub async fn wait_for(&self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let found = self.stdout().into_iter().find(|l| l.starts_with(prefix));
            if let Some(line) = found {
                return line;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no line `{prefix}…` from the process; its log:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Writes a line to its standard input.
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Its standard output so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lines.lock().unwrap().clone()
    }

    /// Its standard error (the log) so far.
    pub fn stderr(&self) -> String {
        self.stderr.lines.lock().unwrap().join("\n")
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL: no shutdown, no acks, claims left to lapse.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it with SIGINT (a no-op for a process that ended) and waits
    /// for it and for the rest of its output; whether it exited with 0.
    pub async fn stop(&mut self) -> bool {
        if self.child.try_wait().unwrap().is_none() {
            let interrupted =
                Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
            assert!(interrupted.success());
        }
        self.wait().await
    }

    /// Waits for it to end on its own and for the rest of its output;
    /// whether it exited with 0.
    pub async fn wait(&mut self) -> bool {
        drop(self.stdin.take());
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        status.success()
    }
}

fn gather(
    stream: impl std::io::Read + Send + 'static,
    sink: Arc<Lines>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lines.lock().unwrap().push(line);
        }
    })
}

impl Drop for Process {
    fn drop(&mut self) {
        // Still running only when the test failed: stop it by its own id.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
