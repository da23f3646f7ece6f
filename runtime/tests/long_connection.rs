//! The long connection's bootstrap goes through the client (issue 23): a
//! refusal is the runtime's `Error::Api` with its code and log id, and the
//! error names the host; the request carries the client's credentials.

#![cfg(feature = "ws")]

use feishu_runtime::events::Dispatcher;
use feishu_runtime::ws::WsError;
use feishu_runtime::{Client, Error};
use feishu_testkit::{Reply, Server};
use serde_json::json;

#[tokio::test]
async fn a_refused_bootstrap_is_error_api_with_code_log_id_and_host() {
    let server = Server::start(|_| {
        Reply::json(json!({"code": 514, "msg": "auth failed"})).header("X-Tt-Logid", "LOG-WS-514")
    })
    .await;
    let client = Client::builder("cli_ws", "ws-secret-77").base_url(server.url()).build().unwrap();
    let connection = client.long_connection(Dispatcher::builder().build()).build().unwrap();
    let error = connection.start().await.unwrap_err();
    let WsError::Bootstrap { host, source: Error::Api(refusal) } = &error else {
        panic!("not a refused bootstrap: {error:?}")
    };
    assert_eq!((refusal.code, refusal.log_id.as_deref()), (514, Some("LOG-WS-514")));
    assert_eq!(host, server.url().trim_start_matches("http://"));
    let shown = error.to_string();
    assert!(shown.contains(host.as_str()) && shown.contains("LOG-WS-514"), "{shown}");
    assert!(!error.is_retryable(), "514 is fatal");
    let request = &server.requests()[0];
    assert_eq!(request.path, "/callback/ws/endpoint");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, json!({"AppID": "cli_ws", "AppSecret": "ws-secret-77"}));
    assert!(!format!("{error:?} {connection:?}").contains("ws-secret-77"));
}

#[tokio::test]
async fn a_busy_platform_is_retried_and_the_last_failure_names_the_host() {
    let server = Server::start(|_| Reply::json(json!({"code": 1, "msg": "system busy"}))).await;
    let client = Client::builder("cli_ws", "secret").base_url(server.url()).build().unwrap();
    let connection = client
        .long_connection(Dispatcher::builder().build())
        .reconnect_count(1)
        .reconnect_nonce(std::time::Duration::ZERO)
        .reconnect_interval(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let error = connection.start().await.unwrap_err();
    let WsError::GaveUp { attempts: 1, last } = &error else { panic!("{error:?}") };
    assert!(matches!(&**last, WsError::Bootstrap { source: Error::Api(api), .. } if api.code == 1));
    assert!(error.to_string().contains(server.url().trim_start_matches("http://")), "{error}");
    assert_eq!(server.requests().len(), 2);
}

/// Without a tracing subscriber, a program learns why the connection is
/// down from its status: `Reconnecting` carries the failure, naming the
/// host.
#[tokio::test]
async fn the_status_says_why_it_is_reconnecting() {
    let server = Server::start(|_| Reply::json(json!({"code": 1, "msg": "system busy"}))).await;
    let client = Client::builder("cli_ws", "secret").base_url(server.url()).build().unwrap();
    let connection = client
        .long_connection(Dispatcher::builder().build())
        .reconnect_nonce(std::time::Duration::from_secs(3600))
        .build()
        .unwrap();
    let mut status = connection.status();
    let running = tokio::spawn({
        let connection = connection.clone();
        async move { connection.start().await }
    });
    let reconnecting = status
        .wait_for(|s| matches!(s, feishu_runtime::ws::Status::Reconnecting { .. }))
        .await
        .unwrap()
        .clone();
    let feishu_runtime::ws::Status::Reconnecting { attempt, error, .. } = reconnecting else {
        unreachable!()
    };
    assert_eq!(attempt, 1);
    let host = server.url().trim_start_matches("http://").to_owned();
    assert!(error.contains(&host) && error.contains("system busy"), "{error}");
    connection.shutdown().await;
    running.await.unwrap().unwrap();
}

/// Issue 23 item 6: a socket that fails keeps the WebSocket library's
/// error as the source of `WsError::Lost`, not a message made of it.
#[tokio::test]
async fn a_lost_connection_keeps_the_sockets_error() {
    use tokio::io::AsyncWriteExt;
    use tokio_tungstenite::tungstenite;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = format!("ws://{}/ws?device_id=d1&service_id=1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        // Not a WebSocket frame: reserved bits set, a reserved opcode.
        ws.get_mut().write_all(&[0xff, 0x00]).await.unwrap();
        ws.get_mut().flush().await.unwrap();
        std::future::pending::<()>().await;
    });
    let server =
        Server::start(move |_| Reply::json(json!({"code": 0, "data": {"URL": socket.clone()}})))
            .await;
    let client = Client::builder("cli_ws", "secret").base_url(server.url()).build().unwrap();
    let connection =
        client.long_connection(Dispatcher::builder().build()).reconnect_count(0).build().unwrap();
    let error = connection.start().await.unwrap_err();
    let WsError::GaveUp { last, .. } = &error else { panic!("{error:?}") };
    let WsError::Lost { reason, .. } = &**last else { panic!("not lost: {last:?}") };
    assert_eq!(reason, "reading failed");
    let chain = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
    assert!(chain.into_iter().any(|e| e.is::<tungstenite::Error>()), "{error}");
}

/// A task that panics (or is aborted) while `start` runs drops its future:
/// the connection then counts as stopped, so that `shutdown` returns at
/// once (it waited for ever) and the connection can start again.
#[tokio::test]
async fn a_start_whose_task_panics_leaves_the_connection_stopped() {
    use std::future::Future;
    use std::task::Poll;

    let server = Server::start(|_| Reply::json(json!({"code": 1, "msg": "system busy"}))).await;
    let client = Client::builder("cli_ws", "secret").base_url(server.url()).build().unwrap();
    let connection =
        client.long_connection(Dispatcher::builder().build()).reconnect_count(0).build().unwrap();
    let task = tokio::spawn({
        let connection = connection.clone();
        async move {
            let mut start = std::pin::pin!(connection.start());
            // One poll: `start` now runs (and has marked itself running).
            std::future::poll_fn(|cx| {
                assert!(start.as_mut().poll(cx).is_pending(), "start did not wait");
                Poll::Ready(())
            })
            .await;
            panic!("the task running the long connection panics");
        }
    });
    assert!(task.await.unwrap_err().is_panic());

    // No timer: the shutdown is ready on its first poll, or it is a hang.
    let mut shutdown = std::pin::pin!(connection.shutdown());
    let ready = std::future::poll_fn(|cx| Poll::Ready(shutdown.as_mut().poll(cx).is_ready())).await;
    assert!(ready, "shutdown waits for a start that can no longer return");
    let status = connection.status().borrow().clone();
    let feishu_runtime::ws::Status::Disconnected { error: Some(error) } = status else {
        panic!("{status:?}")
    };
    assert!(error.contains("cancelled or panicked"), "{error}");
    // And it starts again, not `AlreadyRunning`: at once after that
    // shutdown, and then for real (the busy platform ends it).
    connection.start().await.unwrap();
    let again = connection.start().await.unwrap_err();
    assert!(matches!(again, WsError::GaveUp { .. }), "{again:?}");
}
