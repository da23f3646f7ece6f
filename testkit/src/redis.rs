//! A real `redis-server` for tests: started on a free port with persistence
//! off, stopped on drop, and stoppable and restartable in between (for the
//! "Redis went down" tests). No mock: the stores are tested against the
//! server they will meet in production.
//!
//! Without `redis-server` on the `PATH`, [`RedisServer::start`] prints why
//! and returns `None`, so that plain `cargo test` on a machine without it
//! passes; with `CI` set it panics instead, since CI must run these tests
//! (`cargo xtask test` installs Debian's `redis-server` first).

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The program started.
const PROGRAM: &str = "redis-server";

/// How long a started server gets to answer `PING` before the test fails:
/// a server that does not come up in this time will not come up at all.
const STARTUP: Duration = Duration::from_secs(20);

/// The test certificates of a TLS server ([`RedisServer::start_tls`]): a CA
/// made for these tests only and a certificate it signed for `localhost`
/// and `127.0.0.1`, valid until 2126. Made with `openssl` (see
/// `testkit/tls/README.md`); never trusted outside a test.
const TLS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tls");

/// A `redis-server` process of this test, on `127.0.0.1`.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    /// The TLS port, for a server started by [`RedisServer::start_tls`].
    tls_port: Option<u16>,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port, or says why it cannot and returns
    /// `None` (panicking instead when the `CI` variable is set). `test`
    /// names the caller in that message.
    pub fn start(test: &str) -> Option<RedisServer> {
        RedisServer::start_with(test, false)
    }

    /// Like [`start`](Self::start), and also listening for TLS on a second
    /// port ([`tls_url`](Self::tls_url)), with a certificate signed by the
    /// test CA at [`ca_file`](Self::ca_file). [`command`](Self::command)
    /// still uses the plain port.
    pub fn start_tls(test: &str) -> Option<RedisServer> {
        RedisServer::start_with(test, true)
    }

    fn start_with(test: &str, tls: bool) -> Option<RedisServer> {
        if !available() {
            let why = format!(
                "{test}: skipped, `{PROGRAM}` is not installed (`apt-get install redis-server`; \
                 `cargo xtask test` installs it)"
            );
            if crate::on_ci() {
                panic!("{why}, and CI is set: these tests must run in CI");
            }
            eprintln!("{why}");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "feishu-testkit-redis-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder for redis-server");
        // A free port can be taken between asking and binding; a few tries
        // settle that race.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let tls_port = tls.then(free_port);
            let mut server = RedisServer { port, tls_port, dir: dir.clone(), child: None };
            match server.spawn() {
                Ok(()) => return Some(server),
                Err(e) => last_error = e,
            }
        }
        panic!("{test}: could not start {PROGRAM}: {last_error}");
    }

    /// The URL clients connect to, `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS URL, `rediss://localhost:PORT`, of a server started by
    /// [`start_tls`](Self::start_tls) (`None` otherwise). Its certificate
    /// verifies only against [`ca_file`](Self::ca_file).
    pub fn tls_url(&self) -> Option<String> {
        self.tls_port.map(|port| format!("rediss://localhost:{port}"))
    }

    /// The PEM file of the test CA that signed the TLS certificate.
    pub fn ca_file() -> PathBuf {
        Path::new(TLS_DIR).join("ca.pem")
    }

    /// Stops the server (a SIGKILL: as abrupt as a crash). Clients see their
    /// connections closed and new ones refused until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty (persistence is
    /// off). Panics if it cannot: the port was taken meanwhile, say.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.spawn() {
            panic!("could not restart {PROGRAM} on port {}: {e}", self.port);
        }
    }

    /// Runs one command (inline protocol, no spaces inside arguments) and
    /// returns the first line of the answer: for checks a test makes
    /// behind the client's back, such as `DBSIZE` or `PTTL key`.
    pub fn command(&self, line: &str) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))
            .unwrap_or_else(|e| panic!("connecting to {PROGRAM} on {}: {e}", self.port));
        stream.write_all(format!("{line}\r\n").as_bytes()).expect("writing to redis-server");
        let mut reader = BufReader::new(stream);
        let mut answer = String::new();
        reader.read_line(&mut answer).expect("reading from redis-server");
        // A bulk string comes as `$len` and then its line.
        if answer.starts_with('$') && !answer.starts_with("$-1") {
            answer.clear();
            reader.read_line(&mut answer).expect("reading from redis-server");
        }
        answer.trim_end().to_owned()
    }

    /// The whole answer of `INFO section` (`commandstats`, say): for the
    /// bench's count of commands per event.
    pub fn info(&self, section: &str) -> String {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        info(&address, section)
            .unwrap_or_else(|| panic!("{PROGRAM} on {} did not answer INFO {section}", self.port))
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut child = Command::new(PROGRAM)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--logfile", "", "--daemonize", "no", "--protected-mode", "no"])
            .args(self.tls_args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawning {PROGRAM}: {e}"))?;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let started = std::time::Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{PROGRAM} exited at once ({status}); port {}", self.port));
            }
            // Another test's server may hold the port: only this child's
            // own process id counts as up.
            if server_pid(&address) == Some(child.id()) {
                self.child = Some(child);
                return Ok(());
            }
            if started.elapsed() > STARTUP {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{PROGRAM} did not answer PING within {STARTUP:?}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl RedisServer {
    /// The arguments that open the TLS port (none without one). Clients
    /// need no certificate of their own.
    fn tls_args(&self) -> Vec<String> {
        let Some(port) = self.tls_port else { return Vec::new() };
        let file = |name: &str| Path::new(TLS_DIR).join(name).display().to_string();
        vec![
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            file("redis.pem"),
            "--tls-key-file".into(),
            file("redis.key"),
            "--tls-ca-cert-file".into(),
            file("ca.pem"),
            "--tls-auth-clients".into(),
            "no".into(),
        ]
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        remove_dir(&self.dir);
    }
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn remove_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// Whether `redis-server` can be run.
fn available() -> bool {
    Command::new(PROGRAM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// The process id of the server answering on `address`, if one answers.
fn server_pid(address: &SocketAddr) -> Option<u32> {
    info(address, "server")?
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

/// The answer of `INFO section` from the server on `address`, if one answers.
fn info(address: &SocketAddr, section: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(address, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    stream.write_all(format!("INFO {section}\r\n").as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header).ok()?;
    let len: usize = header.trim_end().strip_prefix('$')?.parse().ok()?;
    let mut body = vec![0; len];
    std::io::Read::read_exact(&mut reader, &mut body).ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}
