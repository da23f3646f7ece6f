//! The local server every client is measured against: hyper (HTTP/1.1,
//! keep-alive) on 127.0.0.1, answering the token endpoints and
//! `POST /open-apis/im/v1/messages/:message_id/reply` with canned bodies.
//!
//! It does the least a server must: read the whole request, check that a
//! reply carries a bearer token, and write a prepared answer (the reply
//! page's own response example), so that the clients, not the server, are
//! what is measured.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The app the clients authenticate as (any id and secret are accepted).
pub const APP_ID: &str = "cli_bench";
/// The app secret the clients send.
pub const APP_SECRET: &str = "bench-secret";

const TENANT_TOKEN: &[u8] =
    br#"{"code":0,"msg":"ok","tenant_access_token":"t-bench-0123456789abcdef","expire":7200}"#;
const APP_TOKEN: &[u8] =
    br#"{"code":0,"msg":"ok","app_access_token":"a-bench-0123456789abcdef","tenant_access_token":"t-bench-0123456789abcdef","expire":7200}"#;
/// The response example of spec/docs/im/v1/message/reply.md.
const REPLY: &[u8] = br#"{"code":0,"msg":"success","data":{"message_id":"om_dc13264520392913993dd051dba21dcf","root_id":"om_40eb06e7b84dc71c03e009ad3c754195","parent_id":"om_d4be107c616aed9c1da8ed8068570a9f","thread_id":"omt_d4be107c616a","msg_type":"text","create_time":"1615380573411","update_time":"1615380573411","deleted":false,"updated":false,"chat_id":"oc_5ad11d72b830411d72b836c20","sender":{"id":"cli_9f427eec54ae901b","id_type":"app_id","sender_type":"app","tenant_key":"736588c9260f175e"},"body":{"content":"{\"text\":\"@_user_1 test content\"}"},"mentions":[{"key":"@_user_1","id":"ou_155184d1e73cbfb8973e5a9e698e74f2","id_type":"open_id","name":"Tom","tenant_key":"736588c9260f175e"}],"upper_message_id":"om_40eb06e7b84dc71c03e009ad3c754195"}}"#;
const NO_TOKEN: &[u8] = br#"{"code":99991661,"msg":"Missing access token for authorization. Please make a request with token attached."}"#;
const NOT_FOUND: &[u8] = br#"{"code":404,"msg":"404 page not found"}"#;

/// Serves on `listener` until the process ends.
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let is_post = request.method() == Method::POST;
    let path = request.uri().path().to_owned();
    let authorized = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    // Read the whole body, as a real server would, so the connection can be reused.
    let _ = request.into_body().collect().await;
    let (status, body) = match path.as_str() {
        "/open-apis/auth/v3/tenant_access_token/internal" if is_post => {
            (StatusCode::OK, TENANT_TOKEN)
        }
        "/open-apis/auth/v3/app_access_token/internal" if is_post => (StatusCode::OK, APP_TOKEN),
        p if is_post && p.starts_with("/open-apis/im/v1/messages/") && p.ends_with("/reply") => {
            if authorized {
                (StatusCode::OK, REPLY)
            } else {
                (StatusCode::UNAUTHORIZED, NO_TOKEN)
            }
        }
        _ => (StatusCode::NOT_FOUND, NOT_FOUND),
    };
    let response = Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header("x-tt-logid", "20260101000000BENCH0000000000000000")
        .body(Full::new(Bytes::from_static(body)))
        .expect("a static response is well-formed");
    Ok(response)
}
