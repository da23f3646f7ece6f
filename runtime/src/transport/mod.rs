//! The HTTP exchange under every call: hyper-util's pooled client, TLS by
//! the crate's feature, proxies from the environment. The one module that
//! knows the HTTP library; the rest of the runtime speaks `http` types and
//! [`RawResponse`].
//!
//! Why not reqwest, which the runtime used before: measured with callgrind
//! on the client benchmark (`bench/README.md`), reqwest's own work per
//! request (its URL type, its request builder, its layers) cost about a
//! quarter of a call, more than everything the runtime adds on purpose.
//! Pooling, TLS and proxies are hyper-util's, hyper-rustls' and
//! hyper-tls'; this module only wires them.

mod body;
mod connect;
pub(crate) mod envelope;
pub(crate) mod multipart;
pub(crate) mod response;
mod uri;

use std::sync::Arc;
use std::time::Duration;

use http::header::{PROXY_AUTHORIZATION, USER_AGENT};
use http::uri::Scheme;
use http::{HeaderValue, Method, Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

pub(crate) use body::{RequestBody, ResponseBody};
pub use connect::install_tls_provider;
pub(crate) use response::RawResponse;
pub(crate) use uri::BaseUri;

use crate::error::{ConfigError, Error, TransportError};

const AGENT: HeaderValue =
    HeaderValue::from_static(concat!("feishu-runtime/", env!("CARGO_PKG_VERSION")));

/// The `Content-Type` of a JSON request body.
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// A pooled HTTP client. Cloning is cheap; clones share the pool.
#[derive(Clone)]
pub(crate) struct Http {
    client: legacy::Client<connect::Connector, RequestBody>,
    proxies: Arc<Matcher>,
    /// The long connection's streams connect within it too.
    #[cfg(feature = "ws")]
    connect_timeout: Duration,
    /// The connector of [`Http::open_stream`], built when first needed.
    #[cfg(feature = "ws")]
    streams: Arc<std::sync::OnceLock<connect::Connector>>,
}

/// A byte stream opened by [`Http::open_stream`]: TCP, through the proxy's
/// tunnel if any, under TLS for `https`.
#[cfg(feature = "ws")]
pub(crate) type Stream =
    hyper_util::rt::TokioIo<<connect::Connector as tower_service::Service<Uri>>::Response>;

// The pool's state says nothing useful, and the proxies may hold
// credentials.
impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").finish_non_exhaustive()
    }
}

/// Why an exchange failed, and whether the request may have reached the
/// server (`true` unless the connection was never opened).
pub(crate) type Failure = (Error, bool);

/// Which proxy a client's connections go through.
#[derive(Clone, Default)]
pub(crate) enum Proxy {
    /// The one the environment names (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`), as curl reads them; none if none is set.
    #[default]
    Environment,
    /// None, whatever the environment says.
    Direct,
    /// This `http://` proxy, for every request.
    Through(crate::secret::Secret),
}

// The URL may carry the proxy's password.
impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proxy::Environment => f.write_str("Environment"),
            Proxy::Direct => f.write_str("Direct"),
            Proxy::Through(_) => f.write_str("Through(***)"),
        }
    }
}

impl Proxy {
    fn matcher(&self) -> Result<Matcher, Error> {
        Ok(match self {
            Proxy::Environment => Matcher::from_env(),
            Proxy::Direct => Matcher::builder().build(),
            Proxy::Through(url) => {
                // Never the URL itself in the message: it may hold a password.
                // Nor the parser's error, which may quote it.
                let bad =
                    || ConfigError::new("proxy URL", "must be http://[user:password@]host[:port]");
                let uri: Uri = url.expose().parse().map_err(|_| bad())?;
                if uri.scheme() != Some(&Scheme::HTTP) || uri.host().is_none_or(str::is_empty) {
                    return Err(bad().into());
                }
                Matcher::builder().all(url.expose().to_owned()).build()
            }
        })
    }
}

impl Http {
    /// A client that connects within `connect_timeout`, through `proxy`.
    pub(crate) fn new(connect_timeout: Duration, proxy: &Proxy) -> Result<Self, Error> {
        let proxies = Arc::new(proxy.matcher()?);
        let connector = connect::connector(proxies.clone(), connect_timeout)
            .map_err(|e| Error::Transport(TransportError::other(e)))?;
        let client = legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(connector);
        Ok(Self {
            client,
            proxies,
            #[cfg(feature = "ws")]
            connect_timeout,
            #[cfg(feature = "ws")]
            streams: Arc::default(),
        })
    }

    /// Opens a byte stream to `uri`'s host and port (`http` or `https`,
    /// with an explicit port) as the client's requests go: through the same
    /// proxy (always by a `CONNECT` tunnel) and, for `https`, the same TLS
    /// (offering HTTP/1.1 only), connecting within the client's connect
    /// timeout. For the long connection's WebSocket.
    #[cfg(feature = "ws")]
    pub(crate) async fn open_stream(
        &self,
        uri: Uri,
    ) -> Result<Stream, Box<dyn std::error::Error + Send + Sync>> {
        use tower_service::Service as _;
        let mut connector = match self.streams.get() {
            Some(connector) => connector.clone(),
            None => {
                let connector =
                    connect::stream_connector(self.proxies.clone(), self.connect_timeout)?;
                // Another thread may have set one meanwhile: as good.
                let _ = self.streams.set(connector.clone());
                connector
            }
        };
        Ok(hyper_util::rt::TokioIo::new(connector.call(uri).await?))
    }

    /// A request carrying the runtime's `User-Agent`, and the proxy's
    /// credentials when a plain `http://` request goes through a proxy.
    pub(crate) fn request(
        &self,
        method: Method,
        uri: Uri,
        body: RequestBody,
    ) -> Request<RequestBody> {
        let mut request = Request::new(body);
        *request.method_mut() = method;
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, AGENT);
        if uri.scheme() == Some(&Scheme::HTTP)
            && let Some(auth) =
                self.proxies.intercept(&uri).and_then(|proxy| proxy.basic_auth().cloned())
        {
            headers.insert(PROXY_AUTHORIZATION, auth);
        }
        *request.uri_mut() = uri;
        request
    }

    /// Sends `request` and reads the whole answer, all within `timeout`.
    pub(crate) async fn exchange(
        &self,
        request: Request<RequestBody>,
        timeout: Duration,
    ) -> Result<RawResponse, Failure> {
        // One timer for both halves: the deadline covers the whole call.
        let exchange = async {
            let response = self.client.request(request).await.map_err(client_error)?;
            response::read(response, None).await.map_err(|e| (e, true))
        };
        tokio::time::timeout(timeout, exchange).await.unwrap_or(Err((Error::Timeout, true)))
    }

    /// Sends `request` and returns the answer's head, its body unread;
    /// reading it must end by `deadline` too.
    async fn send(
        &self,
        request: Request<RequestBody>,
        deadline: Instant,
    ) -> Result<Response<Incoming>, Failure> {
        match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => Err((Error::Timeout, true)),
            Ok(answer) => answer.map_err(client_error),
        }
    }

    /// Sends `request` for a download: the body is read only when
    /// `must_read(status, content type)` says so (an error answer), and
    /// otherwise left on the wire as [`RawResponse::stream`], to be read
    /// within `timeout` of now as well.
    pub(crate) async fn fetch(
        &self,
        request: Request<RequestBody>,
        timeout: Duration,
        must_read: fn(u16, Option<&str>) -> bool,
    ) -> Result<RawResponse, Failure> {
        let deadline = crate::clock::after(Instant::now(), timeout);
        let response = self.send(request, deadline).await?;
        response::read_head(response, deadline, must_read).await.map_err(|e| (e, true))
    }
}

fn client_error(e: legacy::Error) -> Failure {
    // A refused connection never carried the request.
    let sent = !e.is_connect();
    (Error::Transport(TransportError::new(e.is_connect(), e)), sent)
}
