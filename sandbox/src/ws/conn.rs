//! One long connection: the handshake (ticket and connection limit), then
//! the loop that answers pings with pongs carrying the ClientConfig, writes
//! what deliveries queue, and reads acks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use prost::Message as _;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::frame::{Frame, METHOD_CONTROL, METHOD_DATA};
use super::{CODE_AUTH_FAILED, CODE_EXCEED_CONN_LIMIT, MAX_CONNECTIONS, client_config};
use crate::call::parse_query;
use crate::state::hub::{Ack, Conn, Out};
use crate::state::{Shared, lock};

/// Checks the handshake and answers 101, or refuses with the
/// `Handshake-Status` / `Handshake-Msg` / `Handshake-Autherrcode` headers.
pub(super) fn upgrade(
    shared: Arc<Shared>,
    mut request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let query = parse_query(request.uri().query());
    let param = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    if !param("ticket").is_some_and(|t| shared.ws.take_ticket(t)) {
        return refuse(
            CODE_AUTH_FAILED,
            Some(CODE_AUTH_FAILED),
            "the ticket is unknown, used or expired: bootstrap again",
        );
    }
    let Some(key) =
        request.headers().get("sec-websocket-key").map(|k| derive_accept_key(k.as_bytes()))
    else {
        let mut response =
            Response::new(Full::new(Bytes::from_static(b"a WebSocket upgrade is expected")));
        *response.status_mut() = hyper::StatusCode::BAD_REQUEST;
        return response;
    };
    let service_id = param("service_id").and_then(|s| s.parse().ok()).unwrap_or(0);
    let (tx, rx) = mpsc::unbounded_channel();
    let (gone_tx, gone) = watch::channel(false);
    let stalled = Arc::new(AtomicBool::new(false));
    let id = shared.ws.next_conn.fetch_add(1, Ordering::Relaxed);
    {
        let mut conns = lock(&shared.ws.conns);
        if conns.len() >= MAX_CONNECTIONS {
            return refuse(
                CODE_AUTH_FAILED,
                Some(CODE_EXCEED_CONN_LIMIT),
                "exceeded the limit of 50 connections per app",
            );
        }
        conns.insert(id, Conn { tx, stalled: Arc::clone(&stalled), gone, service_id });
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let socket =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            run(&shared, socket, rx, &stalled, service_id).await;
        }
        lock(&shared.ws.conns).remove(&id);
        gone_tx.send_replace(true);
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert("upgrade", hyper::header::HeaderValue::from_static("websocket"));
    headers.insert("connection", hyper::header::HeaderValue::from_static("Upgrade"));
    if let Ok(value) = hyper::header::HeaderValue::from_str(&key) {
        headers.insert("sec-websocket-accept", value);
    }
    response
}

fn refuse(status: i64, auth_code: Option<i64>, msg: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(msg.to_string())));
    *response.status_mut() = hyper::StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert("handshake-status", status.into());
    if let Some(code) = auth_code {
        headers.insert("handshake-autherrcode", code.into());
    }
    if let Ok(value) = hyper::header::HeaderValue::from_str(msg) {
        headers.insert("handshake-msg", value);
    }
    response
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn run(
    shared: &Shared,
    socket: Socket,
    mut rx: mpsc::UnboundedReceiver<Out>,
    stalled: &AtomicBool,
    service_id: i32,
) {
    let (mut sink, mut stream) = socket.split();
    let mut closed = shared.ws.closed().subscribe();
    loop {
        tokio::select! {
            _ = until_true(&mut closed) => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
            out = rx.recv() => {
                // Everything queued goes out with one flush (one write), not
                // a write per frame: a bulk delivery queues many at once.
                let mut next = out;
                loop {
                    match next {
                        Some(Out::Frame(bytes)) => {
                            if !stalled.load(Ordering::Relaxed) && sink.feed(Message::Binary(bytes.into())).await.is_err() {
                                return;
                            }
                        }
                        // Dropped, not closed: the client sees the socket vanish.
                        Some(Out::Close) | None => {
                            let _ = sink.flush().await;
                            return;
                        }
                    }
                    match rx.try_recv() {
                        Ok(out) => next = Some(out),
                        Err(_) => break,
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
            message = stream.next() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Binary(bytes))) if !stalled.load(Ordering::Relaxed) => {
                    if let Some(pong) = on_frame(shared, &bytes, service_id)
                        && sink.send(Message::Binary(pong.into())).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Reads a client frame: a ping gets a pong (returned), an ack completes
/// its delivery. Anything else is ignored.
fn on_frame(shared: &Shared, bytes: &[u8], service_id: i32) -> Option<Vec<u8>> {
    let frame = Frame::decode(bytes).ok()?;
    match (frame.method, frame.header("type")) {
        (METHOD_CONTROL, Some("ping")) => {
            let pong = Frame {
                service: service_id,
                method: METHOD_CONTROL,
                payload: Some(client_config().to_string().into_bytes()),
                ..Frame::default()
            }
            .with_header("type", "pong");
            Some(pong.encode_to_vec())
        }
        (METHOD_DATA, Some("event" | "card")) => {
            let message_id = frame.header("message_id")?;
            let payload: Value =
                serde_json::from_slice(frame.payload.as_deref().unwrap_or_default())
                    .unwrap_or(Value::Null);
            let code = payload.get("code").and_then(Value::as_i64).unwrap_or(0);
            let data = payload
                .get("data")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
                .and_then(|raw| serde_json::from_slice(&raw).ok())
                .unwrap_or(Value::Null);
            shared.ws.complete(message_id, Ack { code, data });
            None
        }
        _ => None,
    }
}

/// Resolves once `flag` is true (or its sender is gone), holding no borrow
/// of it afterwards.
pub(super) async fn until_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|v| *v).await;
}
