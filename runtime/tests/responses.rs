//! How answers are decoded and how failures are reported.

mod support;

use std::time::Duration;

use feishu_runtime::{ApiRequest, Client, Empty, Error, Method, RequestOptions};
use serde::Deserialize;
use serde_json::json;
use support::{Reply, Server};

fn get(path: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, path)
}

#[derive(Debug, Deserialize, PartialEq)]
struct Message {
    message_id: String,
    #[serde(default)]
    mentions: Vec<String>,
}

#[tokio::test]
async fn data_is_decoded_into_the_response_type() {
    let server = Server::with_token(|_| {
        Reply::json(
            json!({"code": 0, "msg": "success", "data": {"message_id": "om_1", "unknown": true}}),
        )
    })
    .await;

    let message: Message = server.client().send_json(get("/open-apis/m")).await.unwrap();

    assert_eq!(message, Message { message_id: "om_1".into(), mentions: vec![] });
}

#[tokio::test]
async fn empty_data_decodes_into_empty_and_unit() {
    for body in [json!({"code": 0, "msg": "ok", "data": {}}), json!({"code": 0, "msg": "ok"})] {
        let server = Server::with_token(move |_| Reply::json(body.clone())).await;
        let client = server.client();
        let _: Empty = client.send_json(get("/open-apis/a")).await.unwrap();
        let _: () = client.send_json(get("/open-apis/a")).await.unwrap();
    }
}

#[tokio::test]
async fn send_value_and_send_expose_data_log_id_and_status() {
    let server = Server::with_token(|_| {
        Reply::json(json!({"code": 0, "data": {"items": [1, 2]}, "expire": 5}))
            .header("X-Tt-Logid", "LOG-OK")
    })
    .await;
    let client = server.client();

    assert_eq!(client.send_value(get("/open-apis/a")).await.unwrap(), json!({"items": [1, 2]}));
    let response = client.send(get("/open-apis/a")).await.unwrap();
    assert_eq!(response.http_status, 200);
    assert_eq!(response.log_id.as_deref(), Some("LOG-OK"));
    assert_eq!(response.extra.get("expire"), Some(&json!(5)));
    assert_eq!(response.data, Some(json!({"items": [1, 2]})));
}

#[tokio::test]
async fn missing_data_is_null_for_send_value() {
    let server = Server::with_token(|_| Reply::json(json!({"code": 0, "msg": "ok"}))).await;
    assert_eq!(
        server.client().send_value(get("/open-apis/a")).await.unwrap(),
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn non_zero_code_is_an_api_error_with_everything_kept() {
    let body = json!({
        "code": 230002,
        "msg": "The bot is not in the chat.",
        "error": {"troubleshooter": "https://example.invalid/t"}
    });
    let server = {
        let body = body.clone();
        Server::with_token(move |_| {
            Reply::json(body.clone()).status(400).header("X-Tt-Logid", "LOG-E")
        })
        .await
    };

    let err = server.client().send_value(get("/open-apis/a")).await.unwrap_err();

    let Error::Api(api) = &err else { panic!("expected an API error, got {err:?}") };
    assert_eq!(api.http_status, 400);
    assert_eq!(api.code, 230002);
    assert_eq!(api.msg, "The bot is not in the chat.");
    assert_eq!(api.log_id.as_deref(), Some("LOG-E"));
    assert_eq!(api.body.as_ref(), Some(&body));
    assert_eq!(
        (err.code(), err.log_id(), err.http_status()),
        (Some(230002), Some("LOG-E"), Some(400))
    );
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("230002") && text.contains("not in the chat") && text.contains("LOG-E"),
        "{text}"
    );
}

#[tokio::test]
async fn non_zero_code_under_http_200_is_an_error_too() {
    let server = Server::with_token(|_| {
        Reply::json(json!({"code": 99991400, "msg": "request trigger frequency limit"}))
    })
    .await;
    let err = server.client().send_json::<Empty>(get("/open-apis/a")).await.unwrap_err();
    assert_eq!(err.as_api().map(|a| (a.http_status, a.code)), Some((200, 99991400)));
    assert!(err.is_retryable(), "rate limits are retryable");
}

#[tokio::test]
async fn http_500_with_a_non_json_body_keeps_status_and_log_id() {
    let server = Server::with_token(|_| {
        Reply::raw(500, "text/html", "<html>Internal Server Error</html>")
            .header("X-Tt-Logid", "LOG-500")
    })
    .await;

    let err = server.client().send_value(get("/open-apis/a")).await.unwrap_err();

    match &err {
        Error::Http { status, log_id, body } => {
            assert_eq!(*status, 500);
            assert_eq!(log_id.as_deref(), Some("LOG-500"));
            assert_eq!(body, "<html>Internal Server Error</html>");
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    assert_eq!((err.http_status(), err.log_id(), err.code()), (Some(500), Some("LOG-500"), None));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("HTTP 500") && err.to_string().contains("LOG-500"), "{err}");
}

#[tokio::test]
async fn success_status_with_a_non_json_body_is_a_decode_error() {
    let server = Server::with_token(|_| {
        Reply::raw(200, "text/plain", "hello").header("X-Tt-Logid", "LOG-D")
    })
    .await;
    let err = server.client().send_value(get("/open-apis/a")).await.unwrap_err();
    assert!(matches!(&err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.log_id(), Some("LOG-D"));
}

#[tokio::test]
async fn data_of_the_wrong_shape_is_a_decode_error_with_log_id() {
    let server = Server::with_token(|_| {
        Reply::json(json!({"code": 0, "data": {"message_id": 5}})).header("X-Tt-Logid", "LOG-S")
    })
    .await;
    let err = server.client().send_json::<Message>(get("/open-apis/a")).await.unwrap_err();
    match &err {
        Error::Decode { message, log_id, source } => {
            assert_eq!(message, "`data` does not match the expected type");
            assert_eq!(log_id.as_deref(), Some("LOG-S"));
            // The parser's own error is kept, not flattened into the message.
            let source = source.as_ref().expect("the parser's error is kept");
            assert!(source.to_string().contains("invalid type"), "{source}");
            let chained = std::error::Error::source(&err).expect("a source");
            assert!(chained.downcast_ref::<serde_json::Error>().is_some(), "{chained:?}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn download_returns_bytes_content_type_and_filename() {
    let content: Vec<u8> = (0..=255).collect();
    let server = {
        let content = content.clone();
        Server::with_token(move |_| {
            Reply::raw(200, "image/png", content.clone())
                .header(
                    "Content-Disposition",
                    "attachment; filename=\"pic.png\"; filename*=UTF-8''%E5%9B%BE.png",
                )
                .header("X-Tt-Logid", "LOG-DL")
        })
        .await
    };

    let file = server.client().send_bytes(get("/open-apis/im/v1/images/img_1")).await.unwrap();

    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert_eq!(file.filename.as_deref(), Some("图.png"));
    assert_eq!(file.log_id.as_deref(), Some("LOG-DL"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), content.as_slice());
}

#[tokio::test]
async fn download_errors_are_decoded_from_the_envelope() {
    let cases = [
        (200, "application/json; charset=utf-8"),
        (404, "application/json"),
        (400, "text/plain"), // a mislabelled error body is still recognised
    ];
    for (status, content_type) in cases {
        let server = Server::with_token(move |_| {
            Reply::raw(status, content_type, r#"{"code":234003,"msg":"File not in msg."}"#)
                .header("X-Tt-Logid", "LOG-X")
        })
        .await;
        let err = server.client().send_bytes(get("/open-apis/a")).await.unwrap_err();
        let api = err.as_api().unwrap_or_else(|| panic!("expected an API error, got {err:?}"));
        assert_eq!(
            (api.http_status, api.code, api.msg.as_str()),
            (status, 234003, "File not in msg.")
        );
        assert_eq!(api.log_id.as_deref(), Some("LOG-X"));
    }
}

#[tokio::test]
async fn download_of_a_non_json_error_page_is_an_http_error() {
    let server = Server::with_token(|_| {
        Reply::raw(502, "text/html", "bad gateway").header("X-Tt-Logid", "LOG-G")
    })
    .await;
    let err = server.client().send_bytes(get("/open-apis/a")).await.unwrap_err();
    assert!(matches!(&err, Error::Http { status: 502, .. }), "{err:?}");
    assert_eq!(err.log_id(), Some("LOG-G"));
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server =
        Server::with_token(|_| Reply::json(json!({"code": 0})).delay(Duration::from_secs(30)))
            .await;
    let client = Client::builder("cli_test", "s")
        .base_url(server.url())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    // A POST without an idempotency key: the server may have acted, so the
    // call is not repeated (retries of timeouts are in tests/retries.rs).
    let err = client.send_value(ApiRequest::new(Method::POST, "/open-apis/a")).await.unwrap_err();

    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(server.api_requests().len(), 1, "the request went out and was not retried");
}

#[tokio::test]
async fn the_per_call_timeout_replaces_the_client_one() {
    let server =
        Server::with_token(|_| Reply::json(json!({"code": 0})).delay(Duration::from_secs(30)))
            .await;
    let client = server.client(); // 30 s default
    let request =
        get("/open-apis/a").options(RequestOptions::default().timeout(Duration::from_millis(200)));
    assert!(matches!(client.send_value(request).await, Err(Error::Timeout)));
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // Bind then drop to get a port with nothing listening.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder("cli_test", "s")
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = client.send_value(get("/open-apis/a")).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}
