//! The app secret and the access token never show in `Debug` or error output.

mod support;

use feishu::MessageId;
use feishu::RequestOptions;
use feishu::im::message::{ReplyRequest, reply};
use feishu::im::types::MsgType;
use serde_json::json;
use support::{APP_SECRET, Reply, Server, TOKEN};

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(APP_SECRET), "{what} shows the app secret: {text}");
    assert!(!text.contains(TOKEN), "{what} shows the token: {text}");
}

#[tokio::test]
async fn client_debug_hides_the_secret_and_the_token() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({"message_id": "om_2"})));
    server.push(Reply::error(400, 230002, "bot not in group").header("X-Tt-Logid", "log-s"));
    let client = server.client();
    assert_hidden("Client before any call", &format!("{client:?}"));

    let request = ReplyRequest::new(MessageId::new("om_1"), "{}", MsgType::Text);
    reply(&client, request.clone(), RequestOptions::default()).await.unwrap();
    // The token is cached now; it must still not show.
    let debug = format!("{client:?}");
    assert_hidden("Client with a cached token", &debug);
    assert!(debug.contains("cached"), "{debug}");

    let error = reply(&client, request, RequestOptions::default()).await.unwrap_err();
    assert_hidden("OperationError", &format!("{error} {error:?}"));

    // The values were really on the wire, so the checks above are not vacuous.
    assert!(server.token_fetches().iter().all(|r| r.json()["app_secret"] == APP_SECRET));
    assert_eq!(
        server.api_requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}
