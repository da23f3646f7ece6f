//! A local Feishu server driven by the checked-in spec, for testing bots and
//! this project's client offline.
//!
//! [`Sandbox::start`] binds `127.0.0.1` and serves every endpoint of the spec:
//! tokens, spec-driven validation, messages kept in memory, rate limits,
//! injected faults, event delivery to webhooks and over the long connection
//! (WebSocket) the official SDKs use, plus a control API under `/_sandbox`
//! for tests. With [`SandboxConfig::docs`] it also serves a local doc portal
//! (see [`portal`]). `sandbox/README.md` is the contract.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use feishu_sandbox::{Sandbox, SandboxConfig};
//! let config = SandboxConfig::from_spec_dir(std::path::Path::new("spec")).expect("spec loads");
//! let sandbox = Sandbox::start(config, 0).await?;
//! println!("listening on {}", sandbox.url());
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use feishu_spec::Spec;

mod auth;
mod bodies;
mod call;
mod control;
mod events;
mod faults;
mod files;
mod ids;
mod im;
mod limits;
mod oauth;
mod open_api;
mod paging;
pub mod portal;
mod reply;
mod routes;
mod server;
mod state;
mod store;
mod tenants;
mod uploads;
mod validate;
mod ws;

/// Everything a sandbox needs to know: credentials, behaviour switches and the spec it serves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The app id that token requests must name (default `cli_sandbox`).
    pub app_id: String,
    /// The app secret that token requests must give (default `sandbox-secret`).
    pub app_secret: String,
    /// The verification token put into event headers (default `sandbox-verification-token`).
    pub verification_token: String,
    /// The key events are encrypted and signed with (default `sandbox-encrypt-key`).
    pub encrypt_key: String,
    /// How long an issued access token lives (default 7200 s).
    pub token_ttl: Duration,
    /// Whether the documented rate limits are enforced (default true).
    pub rate_limits: bool,
    /// The marketplace (ISV) app's id (default `cli_marketplace`).
    pub marketplace_app_id: String,
    /// The marketplace app's secret (default `marketplace-secret`).
    pub marketplace_app_secret: String,
    /// The tenants that installed the marketplace app (default `tenant-a`, `tenant-b`).
    pub marketplace_tenants: Vec<String>,
    /// Where the marketplace app's `app_ticket` event is pushed: on start,
    /// on `app_ticket/resend` and on `POST /_sandbox/app_ticket` (default
    /// none; the control call can set it).
    pub app_ticket_url: Option<String>,
    /// How long a user access token lives (default 7200 s).
    pub user_token_ttl: Duration,
    /// How long a refresh token lives (default 30 days).
    pub refresh_token_ttl: Duration,
    /// The endpoints and events served.
    pub spec: Spec,
    /// A folder of doc pages to serve as the doc portal (default none; see [`portal`]).
    pub docs: Option<PathBuf>,
    /// The largest image or file upload taken, in bytes, instead of the
    /// documented 10 MB (images) and 30 MB (files) (default none: the
    /// documented limits). An extension beyond Feishu's behaviour, for
    /// measuring large streamed uploads (`cargo xtask sandbox
    /// --upload-limit-mb N`); Feishu itself refuses a file over 30 MB.
    pub upload_limit: Option<u64>,
}

impl SandboxConfig {
    /// The README's default credentials, rate limits on, serving `spec`.
    pub fn new(spec: Spec) -> Self {
        SandboxConfig {
            app_id: "cli_sandbox".into(),
            app_secret: "sandbox-secret".into(),
            verification_token: "sandbox-verification-token".into(),
            encrypt_key: "sandbox-encrypt-key".into(),
            token_ttl: Duration::from_secs(7200),
            rate_limits: true,
            marketplace_app_id: "cli_marketplace".into(),
            marketplace_app_secret: "marketplace-secret".into(),
            marketplace_tenants: vec!["tenant-a".into(), "tenant-b".into()],
            app_ticket_url: None,
            user_token_ttl: Duration::from_secs(7200),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            spec,
            docs: None,
            upload_limit: None,
        }
    }

    /// The defaults of [`SandboxConfig::new`] with the spec read from `dir`
    /// by [`Spec::read_dir`]: every `dir/<service>/<resource>.json`, endpoints
    /// and events merged.
    pub fn from_spec_dir(dir: impl AsRef<Path>) -> Result<Self, SpecDirError> {
        let dir = dir.as_ref();
        let spec = Spec::read_dir(dir)?;
        if spec.endpoints.is_empty() {
            return Err(SpecDirError::NoEndpoints { dir: dir.to_owned() });
        }
        Ok(SandboxConfig::new(spec))
    }
}

/// Why [`SandboxConfig::from_spec_dir`] found nothing to serve.
#[derive(Debug, thiserror::Error)]
pub enum SpecDirError {
    /// A spec file could not be read or is not a spec; the error names it.
    #[error(transparent)]
    Read(#[from] feishu_spec::ReadError),
    /// The folder holds no endpoint, so the sandbox would answer nothing.
    #[error("{}: no spec files with endpoints found", dir.display())]
    NoEndpoints {
        /// The folder read.
        dir: PathBuf,
    },
}

/// A running sandbox server. Dropping it stops the server too; [`Sandbox::shutdown`] also waits for that.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Binds `127.0.0.1:port` (0 picks a free port) and serves on the current tokio runtime.
    pub async fn start(config: SandboxConfig, port: u16) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(state::Shared::new(config));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(server::serve(listener, shared, stopped));
        Ok(Sandbox { addr, stop: Some(stop), task: Some(task) })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes every open connection and waits until the port is free.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The Rust snippet of `sandbox/README.md`, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_dir_without_endpoints_or_with_a_broken_file_is_refused() {
        let dir =
            std::env::temp_dir().join(format!("feishu-sandbox-spec-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("im")).unwrap();
        let empty = SandboxConfig::from_spec_dir(&dir).unwrap_err();
        std::fs::write(dir.join("im/message.json"), "{\"endpoints\": [}").unwrap();
        let broken = SandboxConfig::from_spec_dir(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(&empty, SpecDirError::NoEndpoints { dir: d } if *d == dir), "{empty:?}");
        assert!(matches!(broken, SpecDirError::Read(_)), "{broken:?}");
        assert!(
            broken.to_string().contains("message.json") && broken.to_string().contains("line 1"),
            "{broken}"
        );
    }
}
