//! Proxies from the environment, against a local stand-in for a proxy.
//!
//! The client reads the proxy variables when it is built, and a test may not
//! set variables in its own process (other tests run in it, and `set_var`
//! is unsafe), so each test runs its client in a child process: this same
//! test binary, started with the variables set and `PROXY_TEST_CHILD`.

use std::process::Command;

use feishu_runtime::{ApiRequest, Auth, Client, Method};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CHILD: &str = "PROXY_TEST_CHILD";
/// A host that cannot be resolved: only a proxy can carry a request to it.
const UNREACHABLE: &str = "http://feishu-proxy-test.invalid";

/// Runs test `name` of this binary again with `proxy_env` set (and every
/// other proxy variable removed); true when the child passed.
fn run_child(name: &str, proxy_env: &[(&str, String)]) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", name, "--nocapture", "--test-threads", "1"]).env(CHILD, "1");
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "REQUEST_METHOD",
    ] {
        child.env_remove(var);
    }
    for (name, value) in proxy_env {
        child.env(name, value);
    }
    child.status().unwrap().success()
}

/// Accepts one connection and reads the request head (up to the blank
/// line), then writes `answer` and closes.
async fn one_exchange(listener: TcpListener, answer: &'static str) -> String {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "the connection closed before the request head ended: {}",
            String::from_utf8_lossy(&head)
        );
        head.extend_from_slice(&buf[..n]);
    }
    socket.write_all(answer.as_bytes()).await.unwrap();
    socket.shutdown().await.unwrap();
    String::from_utf8(head).unwrap()
}

/// A proxy's answer carrying the platform's envelope.
const PROXIED_ANSWER: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 44\r\n\r\n{\"code\":0,\"msg\":\"ok\",\"data\":{\"via\":\"proxy\"}}";

/// A stand-in proxy that answers one request with `answer`: its URL (with
/// the credentials `user:pa55`) and the request head it read, lowercased.
async fn stand_in_proxy(answer: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://user:pa55@{}", listener.local_addr().unwrap());
    (url, tokio::spawn(async move { one_exchange(listener, answer).await.to_ascii_lowercase() }))
}

/// A request the platform would answer; `Auth::None`, so no token fetch.
fn ping() -> ApiRequest {
    ApiRequest::new(Method::GET, "/open-apis/x/v1/ping").auth(Auth::None)
}

/// The request went to the proxy in absolute form, with its credentials.
fn assert_proxied(head: &str) {
    assert!(
        head.starts_with("get http://feishu-proxy-test.invalid/open-apis/x/v1/ping http/1.1\r\n"),
        "{head}"
    );
    assert_credentials(head);
}

fn assert_credentials(head: &str) {
    // base64("user:pa55")
    assert!(head.contains("\r\nproxy-authorization: basic dxnlcjpwytu1\r\n"), "{head}");
}

/// A proxy that nothing listens on: using it fails the call.
async fn dead_proxy() -> String {
    let unused = TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://{}", unused.local_addr().unwrap())
}

/// In a child: a call to a local server, which only a direct connection reaches.
async fn call_directly(builder: feishu_runtime::ClientBuilder) {
    let server = feishu_testkit::Server::start(|_| {
        feishu_testkit::Reply::json(serde_json::json!({"code": 0, "data": {"via": "direct"}}))
    })
    .await;
    let client = builder.base_url(server.url()).build().unwrap();
    assert_eq!(client.send_value(ping()).await.unwrap(), serde_json::json!({"via": "direct"}));
}

#[tokio::test]
async fn a_plain_http_request_goes_to_the_proxy_in_absolute_form_with_its_credentials() {
    const NAME: &str =
        "a_plain_http_request_goes_to_the_proxy_in_absolute_form_with_its_credentials";
    if std::env::var_os(CHILD).is_some() {
        let client = Client::builder("cli_proxy", "secret").base_url(UNREACHABLE).build().unwrap();
        assert_eq!(client.send_value(ping()).await.unwrap(), serde_json::json!({"via": "proxy"}));
        return;
    }
    let (proxy, head) = stand_in_proxy(PROXIED_ANSWER).await;
    let passed = tokio::task::spawn_blocking(move || run_child(NAME, &[("http_proxy", proxy)]))
        .await
        .unwrap();
    let head = head.await.unwrap();
    assert!(passed, "the client did not get the proxy's answer");
    assert_proxied(&head);
}

#[tokio::test]
async fn an_https_request_asks_the_proxy_for_a_tunnel_and_a_refusal_is_a_connect_error() {
    const NAME: &str =
        "an_https_request_asks_the_proxy_for_a_tunnel_and_a_refusal_is_a_connect_error";
    if std::env::var_os(CHILD).is_some() {
        let client = Client::builder("cli_proxy", "secret")
            .base_url("https://feishu-proxy-test.invalid")
            .build()
            .unwrap();
        let error = client.send_value(ping()).await.unwrap_err();
        let feishu_runtime::Error::Transport(transport) = &error else {
            panic!("not a transport error: {error:?}")
        };
        // Nothing reached the platform: a retry is safe.
        assert!(transport.is_connect(), "{error}");
        return;
    }
    let (proxy, head) = stand_in_proxy("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
    let passed = tokio::task::spawn_blocking(move || run_child(NAME, &[("HTTPS_PROXY", proxy)]))
        .await
        .unwrap();
    let head = head.await.unwrap();
    assert!(passed, "the child's assertions failed");
    assert!(head.starts_with("connect feishu-proxy-test.invalid:443 http/1.1\r\n"), "{head}");
    assert_credentials(&head);
}

#[tokio::test]
async fn a_host_the_no_proxy_list_names_is_reached_directly() {
    const NAME: &str = "a_host_the_no_proxy_list_names_is_reached_directly";
    if std::env::var_os(CHILD).is_some() {
        return call_directly(Client::builder("cli_proxy", "secret")).await;
    }
    let env = [("http_proxy", dead_proxy().await), ("no_proxy", "127.0.0.1,localhost".to_owned())];
    assert!(tokio::task::spawn_blocking(move || run_child(NAME, &env)).await.unwrap());
}

#[tokio::test]
async fn a_proxy_set_on_the_builder_carries_every_request() {
    let (proxy, head) = stand_in_proxy(PROXIED_ANSWER).await;
    let client =
        Client::builder("cli_proxy", "secret").base_url(UNREACHABLE).proxy(proxy).build().unwrap();
    assert_eq!(client.send_value(ping()).await.unwrap(), serde_json::json!({"via": "proxy"}));
    assert_proxied(&head.await.unwrap());
}

#[test]
fn an_unusable_proxy_url_fails_the_build_without_showing_its_password() {
    for bad in [
        "socks5://user:hunter2@127.0.0.1:1080",
        "https://user:hunter2@proxy.example",
        "user:hunter2@proxy.example:3128",
        "http://",
    ] {
        let error = Client::builder("cli_proxy", "secret").proxy(bad).build().unwrap_err();
        assert!(matches!(error, feishu_runtime::Error::Config(_)), "{bad}: {error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}

#[tokio::test]
async fn no_proxy_on_the_builder_ignores_the_environment() {
    const NAME: &str = "no_proxy_on_the_builder_ignores_the_environment";
    if std::env::var_os(CHILD).is_some() {
        return call_directly(Client::builder("cli_proxy", "secret").no_proxy()).await;
    }
    let proxy = dead_proxy().await;
    assert!(
        tokio::task::spawn_blocking(move || run_child(NAME, &[("http_proxy", proxy)]))
            .await
            .unwrap()
    );
}
