//! `https://` base URLs go through TLS: a server that does not speak it
//! fails the call as a connection error (nothing was sent, so a retry is
//! safe), and never as a panic or a decoded answer.

use feishu_runtime::{ApiRequest, Auth, Client, Error, Method, RetryPolicy};

#[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc", feature = "native-tls"))]
#[tokio::test]
async fn a_server_that_does_not_speak_tls_fails_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Answers whatever arrives with plain HTTP, which no TLS client accepts.
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 5];
        socket.read_exact(&mut hello).await.unwrap();
        let body = r#"{"code":0,"data":{}}"#;
        let _ = socket
            .write_all(
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len())
                    .as_bytes(),
            )
            .await;
        hello
    });
    let client = Client::builder("cli_tls", "secret")
        .base_url(format!("https://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .no_proxy()
        .build()
        .unwrap();
    let error = client
        .send_value(ApiRequest::new(Method::GET, "/open-apis/x/v1/ping").auth(Auth::None))
        .await
        .unwrap_err();
    let Error::Transport(transport) = &error else { panic!("not a transport error: {error:?}") };
    assert!(transport.is_connect(), "{error}");
    // The first bytes were a TLS handshake record (content type 22).
    let hello = server.await.unwrap();
    assert_eq!(hello[0], 22, "the client did not start a TLS handshake: {hello:?}");
}

#[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc", feature = "native-tls")))]
#[tokio::test]
async fn without_a_tls_feature_https_fails_with_an_error_that_says_so() {
    let client = Client::builder("cli_tls", "secret")
        .base_url("https://127.0.0.1:9")
        .retry(RetryPolicy::none())
        .no_proxy()
        .build()
        .unwrap();
    let error =
        client.send_value(ApiRequest::new(Method::GET, "/x").auth(Auth::None)).await.unwrap_err();
    let Error::Transport(transport) = &error else { panic!("not a transport error: {error:?}") };
    assert!(transport.is_connect(), "{error}");
    assert!(error.to_string().contains("TLS feature"), "{error}");
}
