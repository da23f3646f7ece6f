//! What goes on the wire for a request.

mod support;

use feishu_runtime::codegen::encode_path_segment;
use feishu_runtime::{ApiRequest, Auth, Body, Error, Method, Multipart, RequestOptions};
use serde_json::json;
use support::{Recorded, Reply, Server, TOKEN_PATH};

fn ok() -> Reply {
    Reply::json(json!({"code": 0, "msg": "ok", "data": {}}))
}

fn only_api_request(server: &Server) -> Recorded {
    let api = server.api_requests();
    assert_eq!(api.len(), 1, "{api:?}");
    api.into_iter().next().unwrap()
}

#[tokio::test]
async fn json_request_is_sent_exactly() {
    let server = Server::with_token(|_| ok()).await;
    let client = server.client();
    let path = format!("/open-apis/im/v1/messages/{}/reply", encode_path_segment("om_1"));
    let request = ApiRequest::new(Method::POST, path)
        .query("receive_id_type", "open_id")
        .query("uuid", "a b&c=d")
        .json(&json!({"msg_type": "text", "content": "{\"text\":\"你好\"}"}))
        .unwrap();

    client.send_value(request).await.unwrap();

    let r = only_api_request(&server);
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/open-apis/im/v1/messages/om_1/reply");
    assert_eq!(r.query.as_deref(), Some("receive_id_type=open_id&uuid=a+b%26c%3Dd"));
    assert_eq!(r.header("authorization"), Some("Bearer t-1"));
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(r.json(), json!({"msg_type": "text", "content": "{\"text\":\"你好\"}"}));
}

#[tokio::test]
async fn bodiless_get_has_no_content_type() {
    let server = Server::with_token(|_| ok()).await;
    server.client().send_value(ApiRequest::new(Method::GET, "/open-apis/a")).await.unwrap();
    let r = only_api_request(&server);
    assert_eq!((r.method.as_str(), r.query.as_deref()), ("GET", None));
    assert_eq!(r.header("content-type"), None);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn encoded_path_segments_arrive_encoded() {
    let server = Server::with_token(|_| ok()).await;
    let path = format!("/open-apis/drive/v1/files/{}", encode_path_segment("a/b?c"));
    server.client().send_value(ApiRequest::new(Method::GET, path)).await.unwrap();
    let r = only_api_request(&server);
    assert_eq!(
        (r.path.as_str(), r.query.as_deref()),
        ("/open-apis/drive/v1/files/a%2Fb%3Fc", None)
    );
}

#[tokio::test]
async fn user_token_is_used_when_the_endpoint_accepts_it() {
    for auth in [Auth::User, Auth::TenantOrUser] {
        let server = Server::with_token(|_| ok()).await;
        let request = ApiRequest::new(Method::GET, "/open-apis/a")
            .auth(auth)
            .options(RequestOptions::user("u-123"));

        server.client().send_value(request).await.unwrap();

        assert_eq!(only_api_request(&server).header("authorization"), Some("Bearer u-123"));
        assert!(server.requests_to(TOKEN_PATH).is_empty(), "no tenant token needed");
    }
}

#[tokio::test]
async fn tenant_token_is_used_without_a_user_token() {
    for auth in [Auth::TenantOrUser, Auth::Tenant] {
        let server = Server::with_token(|_| ok()).await;
        let request = ApiRequest::new(Method::GET, "/open-apis/a").auth(auth);
        server.client().send_value(request).await.unwrap();
        assert_eq!(only_api_request(&server).header("authorization"), Some("Bearer t-1"));
    }
}

#[tokio::test]
async fn a_user_token_on_a_tenant_or_app_only_endpoint_fails_before_sending() {
    // Never a silent switch to the tenant token: the caller meant to act as
    // the user.
    for (auth, options) in [
        (Auth::Tenant, RequestOptions::user("u-123")),
        (Auth::App, RequestOptions::default().user_token("u-123")),
        (Auth::Tenant, RequestOptions::default().user_key("ou_1")),
        (Auth::None, RequestOptions::user("u-123")),
    ] {
        let server = Server::with_token(|_| ok()).await;
        let request = ApiRequest::new(Method::GET, "/open-apis/a")
            .endpoint("x.v1.a.get")
            .auth(auth)
            .options(options);
        let err = server.client().send_value(request).await.unwrap_err();
        match &err {
            Error::Auth(feishu_runtime::AuthError::TokenNotAccepted { endpoint, .. }) => {
                assert_eq!(endpoint, "x.v1.a.get")
            }
            other => panic!("expected TokenNotAccepted for {auth:?}, got {other:?}"),
        }
        assert!(!err.to_string().contains("u-123"), "{err}");
        assert!(server.requests().is_empty(), "{auth:?}: nothing may be sent");
    }
}

#[tokio::test]
async fn a_tenant_key_on_a_self_built_client_fails_before_sending() {
    let server = Server::with_token(|_| ok()).await;
    let request = ApiRequest::new(Method::GET, "/open-apis/a")
        .options(RequestOptions::default().tenant_key("tk-1"));
    let err = server.client().send_value(request).await.unwrap_err();
    assert!(
        matches!(err, Error::Auth(feishu_runtime::AuthError::TenantKeyNotUsed { .. })),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn user_endpoint_without_user_token_fails_before_sending() {
    let server = Server::with_token(|_| ok()).await;
    let request = ApiRequest::new(Method::GET, "/open-apis/a").auth(Auth::User);

    let err = server.client().send_value(request).await.unwrap_err();

    match &err {
        Error::Validation(v) => {
            assert_eq!((v.field.as_str(), v.rule.as_str()), ("user_access_token", "required"))
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn no_auth_sends_no_authorization() {
    let server = Server::with_token(|_| ok()).await;
    let request = ApiRequest::new(Method::GET, "/open-apis/a").auth(Auth::None);
    server.client().send_value(request).await.unwrap();
    assert_eq!(only_api_request(&server).header("authorization"), None);
    assert!(server.requests_to(TOKEN_PATH).is_empty());
}

#[tokio::test]
async fn extra_headers_are_sent() {
    let server = Server::with_token(|_| ok()).await;
    let options = RequestOptions::default()
        .header("X-Request-Id", "req-7")
        .header("Accept-Language", "zh-CN");
    let request = ApiRequest::new(Method::GET, "/open-apis/a").options(options);

    server.client().send_value(request).await.unwrap();

    let r = only_api_request(&server);
    assert_eq!(r.header("x-request-id"), Some("req-7"));
    assert_eq!(r.header("accept-language"), Some("zh-CN"));
    assert_eq!(r.header("authorization"), Some("Bearer t-1"));
}

/// Splits a multipart body into (headers, content) per part.
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).expect("boundary").trim_matches('"');
    let delimiter = format!("--{boundary}");
    let text = split_on(body, delimiter.as_bytes());
    let (first, rest) = text.split_first().unwrap();
    assert!(first.is_empty(), "body starts with the delimiter");
    let (last, parts) = rest.split_last().unwrap();
    assert_eq!(last.as_slice(), b"--\r\n", "body ends with the closing delimiter");
    parts
        .iter()
        .map(|part| {
            let part = part.strip_prefix(b"\r\n").unwrap().strip_suffix(b"\r\n").unwrap();
            let split = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            (String::from_utf8(part[..split].to_vec()).unwrap(), part[split + 4..].to_vec())
        })
        .collect()
}

fn split_on(haystack: &[u8], needle: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if &haystack[i..i + needle.len()] == needle {
            out.push(haystack[start..i].to_vec());
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(haystack[start..].to_vec());
    out
}

#[tokio::test]
async fn multipart_body_has_the_described_parts_and_survives_a_retry() {
    let server = Server::start({
        let fetches = std::sync::atomic::AtomicUsize::new(0);
        move |r| {
            if r.path == TOKEN_PATH {
                let n = fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                support::token_reply(&format!("t-{n}"), 7200)
            } else if r.header("authorization") == Some("Bearer t-1") {
                Reply::json(json!({"code": 99991663, "msg": "invalid token"}))
            } else {
                Reply::json(json!({"code": 0, "data": {"image_key": "img_1"}}))
            }
        }
    })
    .await;
    let png = vec![0x89, b'P', b'N', b'G', 0, 255];
    let form = Multipart::new().text("image_type", "message").file(
        "image",
        png.clone(),
        "logo.png",
        Some("image/png".into()),
    );
    let request =
        ApiRequest::new(Method::POST, "/open-apis/im/v1/images").body(Body::Multipart(form));

    let data = server.client().send_value(request).await.unwrap();

    assert_eq!(data, json!({"image_key": "img_1"}));
    let api = server.api_requests();
    assert_eq!(api.len(), 2, "rejected once, then retried");
    for r in &api {
        let content_type = r.header("content-type").unwrap();
        assert!(content_type.starts_with("multipart/form-data; boundary="), "{content_type}");
        let parts = parse_multipart(content_type, &r.body);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, "Content-Disposition: form-data; name=\"image_type\"");
        assert_eq!(parts[0].1, b"message");
        let file_headers = parts[1].0.to_ascii_lowercase();
        assert!(
            file_headers
                .contains("content-disposition: form-data; name=\"image\"; filename=\"logo.png\""),
            "{file_headers}"
        );
        assert!(file_headers.contains("content-type: image/png"), "{file_headers}");
        assert_eq!(parts[1].1, png);
    }
}

#[tokio::test]
async fn file_part_without_mime_is_octet_stream() {
    let server = Server::with_token(|_| ok()).await;
    let form = Multipart::new().file("file", b"abc".to_vec(), "a.bin", None);
    let request =
        ApiRequest::new(Method::POST, "/open-apis/im/v1/files").body(Body::Multipart(form));
    server.client().send_value(request).await.unwrap();
    let r = only_api_request(&server);
    let parts = parse_multipart(r.header("content-type").unwrap(), &r.body);
    assert!(
        parts[0].0.to_ascii_lowercase().contains("content-type: application/octet-stream"),
        "{}",
        parts[0].0
    );
    assert_eq!(parts[0].1, b"abc");
}

#[tokio::test]
async fn base_url_with_trailing_slash_and_lark_constant() {
    let server = Server::with_token(|_| ok()).await;
    let client = feishu_runtime::Client::builder("cli_test", "s")
        .base_url(format!("{}/", server.url()))
        .build()
        .unwrap();
    client.send_value(ApiRequest::new(Method::GET, "/open-apis/a")).await.unwrap();
    assert_eq!(only_api_request(&server).path, "/open-apis/a");

    let lark = feishu_runtime::Client::builder("cli_test", "s").lark().build().unwrap();
    assert_eq!(lark.config().base_url, "https://open.larksuite.com");
}
