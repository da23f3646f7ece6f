//! A forwarding HTTP proxy for tests: `CONNECT host:port` opens a tunnel
//! (as HTTPS requests and WebSockets use), and a request in absolute form
//! (`GET http://host/path`, as plain HTTP requests go to a proxy) is passed
//! on to its host. Each connection's first request line is recorded, with
//! its `Proxy-Authorization` header, so that a test can check what went
//! through it.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The largest request head read before the proxy gives up on a connection.
const MAX_HEAD: usize = 64 * 1024;

/// A running proxy; stops when dropped.
pub struct ForwardProxy {
    url: String,
    seen: Arc<Mutex<Vec<ProxiedRequest>>>,
    task: JoinHandle<()>,
}

/// A connection's first request, as the proxy read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// The request line, e.g. `CONNECT 127.0.0.1:8080 HTTP/1.1` or
    /// `POST http://127.0.0.1:8080/callback/ws/endpoint HTTP/1.1`.
    pub line: String,
    /// The `Proxy-Authorization` header's value, if sent.
    pub authorization: Option<String>,
}

impl ForwardProxy {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let _ = forward(client, &log).await;
                });
            }
        });
        Self { url, seen, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The first request of every connection so far, in order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the first request head, connects to its target and relays bytes
/// both ways until either side closes.
async fn forward(mut client: TcpStream, log: &Mutex<Vec<ProxiedRequest>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_HEAD {
            return Ok(());
        }
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default().to_owned();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_owned());
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(ProxiedRequest { line: line.clone(), authorization });
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    if method == "CONNECT" {
        let mut upstream = match TcpStream::connect(target).await {
            Ok(upstream) => upstream,
            Err(_) => {
                client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await?;
                return Ok(());
            }
        };
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
        // Bytes read past the head belong to the tunnel.
        upstream.write_all(&head[end..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    // Absolute form: `http://host[:port]/path`. The request goes on as it
    // came; an HTTP/1.1 server accepts the absolute form.
    let authority =
        target.strip_prefix("http://").and_then(|rest| rest.split('/').next()).unwrap_or_default();
    let address =
        if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let Ok(mut upstream) = TcpStream::connect(&address).await else {
        client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await?;
        return Ok(());
    };
    upstream.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
