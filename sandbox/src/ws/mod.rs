//! The long connection (WebSocket) the official SDKs receive events on:
//! `POST /callback/ws/endpoint` hands out a connection URL, the WebSocket
//! endpoint speaks the protobuf `Frame` protocol (pings answered with a pong
//! carrying the ClientConfig; events and card callbacks pushed to one
//! connected client at random and pushed again until acked), and
//! `POST /_sandbox/events` with `"via": "ws"` delivers through it, one
//! event or (with `"count"`) many.
//!
//! Written from the official SDKs' behaviour, not from this project's
//! runtime, which it must never depend on: it is the runtime's oracle.

mod bulk;
mod conn;
mod deliver;
mod frame;
mod push;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::state::{Shared, lock};

pub(crate) use deliver::deliver;

/// The bootstrap path.
pub(crate) const ENDPOINT_PATH: &str = "/callback/ws/endpoint";
/// The WebSocket path the bootstrap's URL points at.
pub(crate) const CONNECT_PATH: &str = "/callback/ws/connect";
/// The most connections per app; the next one is refused.
pub(crate) const MAX_CONNECTIONS: usize = 50;
/// Bootstrap and handshake codes, as the platform's.
pub(crate) const CODE_AUTH_FAILED: i64 = 514;
pub(crate) const CODE_EXCEED_CONN_LIMIT: i64 = 1_000_040_350;
/// The ClientConfig handed out at bootstrap and in every pong (seconds).
pub(crate) fn client_config() -> Value {
    json!({ "ReconnectCount": -1, "ReconnectInterval": 120, "ReconnectNonce": 30, "PingInterval": 120 })
}

/// Closes every long connection when dropped: held by the accept loop, so
/// that stopping (or dropping) the sandbox closes them too.
pub(crate) struct CloseOnDrop(pub Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.ws.close_all();
    }
}

/// Answers `/callback/ws/…`: the bootstrap, or the WebSocket upgrade.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().trim_end_matches('/').to_string();
    if path == ENDPOINT_PATH && request.method() == hyper::Method::POST {
        let host = request
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_string();
        let body = Limited::new(request.into_body(), 64 * 1024)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return json_response(200, bootstrap(&shared, &host, &body));
    }
    if path == CONNECT_PATH {
        return conn::upgrade(shared, request);
    }
    json_response(404, json!({ "code": 404, "msg": "404 page not found" }))
}

fn json_response(status: u16, value: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// `POST /callback/ws/endpoint` with `{"AppID","AppSecret"}`.
fn bootstrap(shared: &Shared, host: &str, body: &[u8]) -> Value {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or("");
    if field("AppID") != shared.config.app_id || field("AppSecret") != shared.config.app_secret {
        return json!({ "code": CODE_AUTH_FAILED, "msg": "auth failed: the AppID or AppSecret is wrong" });
    }
    if shared.ws.connections() >= MAX_CONNECTIONS {
        return json!({ "code": CODE_EXCEED_CONN_LIMIT, "msg": format!("the app has {MAX_CONNECTIONS} connections already") });
    }
    let ticket = shared.ids.hex32();
    shared.ws.issue_ticket(ticket.clone());
    let (device_id, service_id) = {
        let mut rng = lock(&shared.rng);
        (format!("{}", rng.next_u64() % 1_000_000_000_000), rng.next_u64() % 100_000 + 1)
    };
    let url = format!(
        "ws://{host}{CONNECT_PATH}?device_id={device_id}&service_id={service_id}&access_key={}&ticket={ticket}",
        shared.ids.hex32()
    );
    json!({ "code": 0, "msg": "ok", "data": { "URL": url, "ClientConfig": client_config() } })
}
