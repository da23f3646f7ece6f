//! Opening connections: straight to the host, or through the proxy the
//! environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`,
//! as curl and reqwest read them), then TLS by the crate's feature.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector the client pools: [`Route`] under TLS.
#[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
pub(crate) type Connector = hyper_rustls::HttpsConnector<Route>;
/// The connector the client pools: [`Route`] under TLS.
#[cfg(all(feature = "native-tls", not(any(feature = "rustls-ring", feature = "rustls-aws-lc"))))]
pub(crate) type Connector = hyper_tls::HttpsConnector<Route>;
/// Without a TLS feature only `http://` URLs can be reached; an `https://`
/// one fails to connect with an error that says so.
#[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc", feature = "native-tls")))]
pub(crate) type Connector = Route;

/// The connector for `proxies`, with TLS by the crate's feature.
pub(crate) fn connector(proxies: Arc<Matcher>, connect_timeout: Duration) -> io::Result<Connector> {
    let route = Route { http: http_connector(connect_timeout), proxies, tunnel_always: false };
    tls(route, cfg!(feature = "http2"))
}

/// The connector of byte streams that are not pooled HTTP requests (the
/// long connection's WebSocket): the same proxies and TLS as [`connector`],
/// but through a proxy always by a `CONNECT` tunnel (a proxy cannot relay an
/// upgraded connection in absolute form), and TLS offering HTTP/1.1 only
/// (a WebSocket upgrade is an HTTP/1.1 request).
#[cfg(feature = "ws")]
pub(crate) fn stream_connector(
    proxies: Arc<Matcher>,
    connect_timeout: Duration,
) -> io::Result<Connector> {
    let route = Route { http: http_connector(connect_timeout), proxies, tunnel_always: true };
    tls(route, false)
}

fn http_connector(connect_timeout: Duration) -> HttpConnector {
    let mut http = HttpConnector::new();
    // TLS wraps this connector, which must therefore accept https URIs.
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http
}

#[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
fn tls(route: Route, http2: bool) -> io::Result<Connector> {
    // The provider is passed in, not read from the process default, so that
    // the client never depends on (or panics for want of) a global choice.
    #[cfg(feature = "rustls-aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "rustls-aws-lc"))]
    let provider = ring_provider();
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_platform_verifier(provider)?
        .https_or_http()
        .enable_http1();
    #[cfg(feature = "http2")]
    if http2 {
        return Ok(builder.enable_http2().wrap_connector(route));
    }
    let _ = http2;
    Ok(builder.wrap_connector(route))
}

#[cfg(all(feature = "native-tls", not(any(feature = "rustls-ring", feature = "rustls-aws-lc"))))]
fn tls(route: Route, http2: bool) -> io::Result<Connector> {
    #[cfg_attr(not(feature = "http2"), allow(unused_mut))]
    let mut tls = hyper_tls::native_tls::TlsConnector::builder();
    // ALPN comes with the `http2` feature (native-tls's `alpn`).
    #[cfg(feature = "http2")]
    if http2 {
        tls.request_alpns(&["h2", "http/1.1"]);
    }
    #[cfg(not(feature = "http2"))]
    let _ = http2;
    let tls = tls.build().map_err(io::Error::other)?;
    Ok(hyper_tls::HttpsConnector::from((route, tls.into())))
}

#[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc", feature = "native-tls")))]
fn tls(route: Route, _http2: bool) -> io::Result<Connector> {
    Ok(route)
}

/// Opens the TCP connection a request needs: to the host itself, to the
/// proxy (plain `http://` targets, sent in absolute form), or through a
/// `CONNECT` tunnel of the proxy (`https://` targets, and every target when
/// `tunnel_always`).
#[derive(Clone)]
pub(crate) struct Route {
    http: HttpConnector,
    proxies: Arc<Matcher>,
    tunnel_always: bool,
}

impl Service<Uri> for Route {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        #[cfg(not(any(
            feature = "rustls-ring",
            feature = "rustls-aws-lc",
            feature = "native-tls"
        )))]
        if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            return Box::pin(async {
                Err("https needs a TLS feature of feishu-runtime (rustls-ring, rustls-aws-lc or native-tls)".into())
            });
        }
        let mut http = self.http.clone();
        let Some(proxy) = self.proxies.intercept(&dst) else {
            return Box::pin(async move { Ok(Conn { io: http.call(dst).await?, proxied: false }) });
        };
        let proxy_uri = proxy.uri().clone();
        if proxy_uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            let message =
                format!("proxy {}: only http:// proxies are supported", redact(&proxy_uri));
            return Box::pin(async move { Err(message.into()) });
        }
        if self.tunnel_always || dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            let mut tunnel = Tunnel::new(proxy_uri, http);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move { Ok(Conn { io: tunnel.call(dst).await?, proxied: false }) })
        } else {
            Box::pin(async move { Ok(Conn { io: http.call(proxy_uri).await?, proxied: true }) })
        }
    }
}

/// A proxy's address without its credentials, for messages.
fn redact(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    match (uri.scheme_str(), uri.port_u16()) {
        (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
        (Some(scheme), None) => format!("{scheme}://{host}"),
        _ => host.to_owned(),
    }
}

/// A TCP connection that knows whether it leads to a proxy: the pool then
/// sends requests on it in absolute form (`GET http://host/path`).
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

/// With the `rustls-ring` feature (and not `rustls-aws-lc`), makes ring the
/// process's rustls crypto provider unless the program installed one
/// already. Installing is idempotent and never replaces a choice.
///
/// The client's own TLS is given its provider directly and needs none of
/// this (the long connection's socket included: the transport opens it);
/// libraries that read the process default do (a reqwest built without a
/// provider in the same program). Building a client calls it; a program that
/// builds such clients of its own before any Feishu client should call it
/// first.
pub fn install_tls_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one first, which is as good.
        let _ = ring_provider().install_default();
    }
}

/// rustls's ring provider, the one place the runtime makes it.
///
/// rustls 0.23.48 deprecated `ring::default_provider` ("no support for
/// post-quantum algorithms") without a replacement that keeps ring: its own
/// crate-feature default calls the same function under
/// `#[allow(deprecated)]`, and the other route (the process default picked
/// from rustls's features) panics when a program's dependencies enable both
/// ring and aws-lc-rs. So does this, once, so that no build of a program
/// that uses the runtime prints the warning. For post-quantum key exchange,
/// build with the `rustls-aws-lc` feature.
#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_is_named_without_its_credentials() {
        let uri: Uri = "http://user:pa55@proxy.example:3128".parse().unwrap();
        assert_eq!(redact(&uri), "http://proxy.example:3128");
    }
}
