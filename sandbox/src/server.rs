//! The HTTP side: the accept loop, and the router that sends each request
//! to its part of the sandbox by path (the long connection, the control API,
//! `/open-apis`, the doc portal), with the `X-Tt-Logid` header on every
//! answer. It routes only: the state is [`crate::state`], the `/open-apis`
//! pipeline [`crate::open_api`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::call::parse_query;
use crate::ids;
use crate::open_api::{OpenApiRequest, open_api};
use crate::reply::Reply;
use crate::state::Shared;
use crate::{control, tenants, uploads};

/// The largest request body read; larger ones are refused.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by a sandbox fault")
    }
}

impl std::error::Error for Dropped {}

/// Accepts connections until `stopped` fires (or its sender goes away), then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    // Stops with this future, also when the sandbox is dropped and it is aborted.
    let _tickets = tenants::TicketPusher::start(shared.clone());
    let _close_long_connections = crate::ws::CloseOnDrop(shared.clone());
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(shared.clone(), request));
                        let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// One request, from hyper. `Err` closes the connection without an answer.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    if request.uri().path().starts_with("/callback/ws/") {
        return Ok(crate::ws::handle(shared, request).await);
    }
    let log_id = ids::log_id(&shared.ids);
    let (parts, body) = request.into_parts();
    // Uploads are streamed to disk, not read whole like other bodies.
    let header =
        |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (body, upload) = match uploads::Kind::of_upload(parts.method.as_str(), parts.uri.path()) {
        Some(kind) => {
            let limit = kind.limit(shared.config.upload_limit);
            (
                Ok(Bytes::new()),
                Some(uploads::receive(kind, limit, header("content-type").as_deref(), body).await),
            )
        }
        None => match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => (Ok(collected.to_bytes()), None),
            Err(error) => (Err(error.to_string()), None),
        },
    };
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query());
    let reply = if path == "/_sandbox" || path.starts_with("/_sandbox/") {
        match body {
            Ok(bytes) => control::handle(&shared, parts.method.as_str(), &path, &bytes).await,
            Err(error) => Reply::control_error(400, format!("could not read the body: {error}")),
        }
    } else if path == "/open-apis" || path.starts_with("/open-apis/") {
        let incoming = OpenApiRequest {
            method: parts.method.as_str().to_string(),
            path,
            query,
            authorization: header("authorization"),
            content_type: header("content-type"),
            body,
            upload,
            at: std::time::Instant::now(),
        };
        match open_api(&shared, incoming).await {
            Some(reply) => reply,
            None => return Err(Dropped),
        }
    } else if shared.portal.serves(&path) {
        // The local doc portal (portal.rs); faults see the path with its query.
        let target = parts.uri.path_and_query().map_or(path.clone(), |p| p.as_str().to_string());
        let language =
            parts.headers.get("accept-language").and_then(|v| v.to_str().ok()).map(str::to_string);
        match crate::portal::handle(&shared, &target, &query, language).await {
            Some(reply) => reply,
            None => return Err(Dropped),
        }
    } else {
        Reply::not_found()
    };
    Ok(into_response(reply, &log_id))
}

fn into_response(reply: Reply, log_id: &str) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(reply.status).header("x-tt-logid", log_id);
    // A download names its own type.
    if !reply.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
        builder = builder.header("content-type", reply.content_type);
    }
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(Full::new(Bytes::from(reply.body))).unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::from_static(
            b"{\"code\":500,\"msg\":\"sandbox could not build the response\"}",
        )));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
