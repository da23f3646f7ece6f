//! The test server records what was sent and answers what was scripted.

use std::time::Duration;

use feishu_testkit::{Reply, Server, TENANT_TOKEN_PATH, WebhookReceiver};
use serde_json::json;

#[tokio::test]
async fn records_method_path_query_headers_and_body() {
    let server =
        Server::start(|r| Reply::json(json!({"seen": r.path})).header("X-Tt-Logid", "log-1")).await;
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/open-apis/a%20b?x=1&y=%2F", server.url()))
        .header("X-Custom", "v")
        .body("{\"k\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-tt-logid"], "log-1");
    assert_eq!(answer.headers()["content-type"], "application/json; charset=utf-8");
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap(),
        json!({"seen": "/open-apis/a%20b"})
    );

    let [r] = server.requests().try_into().unwrap();
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
        ("POST", "/open-apis/a%20b", Some("x=1&y=%2F"))
    );
    assert_eq!(r.header("x-custom"), Some("v"));
    assert_eq!(r.header("X-CUSTOM"), Some("v"), "header lookups ignore case");
    assert_eq!(r.json(), json!({"k": 1}));
}

#[tokio::test]
async fn a_chunked_body_is_recorded_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start(|_| Reply::ok(json!({}))).await;
    let mut stream =
        tokio::net::TcpStream::connect(server.url().trim_start_matches("http://")).await.unwrap();
    let request = "POST /up HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let r = server.next_request().await;
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body, b"abcd");
}

#[tokio::test]
async fn a_scripted_server_answers_tokens_then_the_script_then_599() {
    let server = Server::scripted("t-9").await;
    server.push(Reply::error(400, 230001, "bad").delay(Duration::from_millis(10)));
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}{TENANT_TOKEN_PATH}", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (token["tenant_access_token"].as_str(), token["expire"].as_i64()),
        (Some("t-9"), Some(7200))
    );
    let first = http.get(format!("{}/x", server.url())).send().await.unwrap();
    assert_eq!(first.status(), 400);
    assert_eq!(
        first.json::<serde_json::Value>().await.unwrap(),
        json!({"code": 230001, "msg": "bad"})
    );
    assert_eq!(
        http.get(format!("{}/x", server.url())).send().await.unwrap().status().as_u16(),
        599
    );
    assert_eq!(server.token_fetches().len(), 1);
    assert_eq!(server.api_requests().len(), 2);
    assert_eq!(server.requests_to("/x").len(), 2);
}

#[tokio::test]
async fn the_webhook_receiver_hands_out_deliveries_in_order() {
    let receiver = WebhookReceiver::answering(Reply::raw(200, "application/json", "{}")).await;
    assert!(receiver.url().ends_with("/webhook/event"), "{}", receiver.url());
    let http = reqwest::Client::new();
    for body in ["one", "two"] {
        assert_eq!(
            http.post(receiver.url()).body(body).send().await.unwrap().text().await.unwrap(),
            "{}"
        );
    }
    assert_eq!(receiver.next_delivery().await.body, b"one");
    assert_eq!(receiver.next_delivery().await.body, b"two");
    assert_eq!(receiver.deliveries().len(), 2);
    assert_eq!(receiver.deliveries()[0].path, "/webhook/event");
}

#[tokio::test]
#[should_panic(expected = "push needs a Server::scripted server")]
async fn pushing_to_a_server_without_a_script_is_a_mistake() {
    Server::start(|_| Reply::ok(json!({}))).await.push(Reply::ok(json!({})));
}
