//! `im.v1.message_reaction.create` (`feishu::im::message_reaction::create`)
//! against a local server.

mod support;

use feishu::MessageId;
use feishu::RequestOptions;
use feishu::im::message_reaction::{CreateErrorKind, CreateRequest, create};
use feishu::im::types::{Emoji, OperatorType};
use serde_json::json;
use support::{
    APP_ID, APP_SECRET, JSON_CONTENT_TYPE, Reply, Server, TOKEN, UNDOCUMENTED_CODE, api_variant,
    assert_every_documented_code, spec_endpoint,
};

const SPEC: &str = "im/message_reaction.json";
const ID: &str = "im.v1.message_reaction.create";

fn request() -> CreateRequest {
    CreateRequest::new(MessageId::new("om_1"), Emoji::new("SMILE"))
}

fn example_answer() -> serde_json::Value {
    spec_endpoint(SPEC, ID)["response_example"].clone()
}

#[tokio::test]
async fn create_sends_the_exact_request() {
    let server = Server::start().await;
    server.push(Reply::json(example_answer()));

    create(&server.client(), request(), RequestOptions::default()).await.unwrap();

    let fetches = server.token_fetches();
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].json(), json!({"app_id": APP_ID, "app_secret": APP_SECRET}));
    let r = server.only_api_request();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/open-apis/im/v1/messages/om_1/reactions");
    assert_eq!(r.query, None);
    assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(r.header("content-type"), Some(JSON_CONTENT_TYPE));
    assert_eq!(r.json(), json!({"reaction_type": {"emoji_type": "SMILE"}}));
    assert_eq!(r.json(), spec_endpoint(SPEC, ID)["request_example"]);
}

#[tokio::test]
async fn create_percent_encodes_the_message_id() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));

    create(
        &server.client(),
        CreateRequest::new(MessageId::new("om_a/b c"), Emoji::new("OK")),
        RequestOptions::default(),
    )
    .await
    .unwrap();

    assert_eq!(server.only_api_request().path, "/open-apis/im/v1/messages/om_a%2Fb%20c/reactions");
}

#[tokio::test]
async fn create_with_a_user_token_sends_it_and_fetches_no_tenant_token() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));

    create(&server.client(), request(), RequestOptions::user("u-user-token-77")).await.unwrap();

    assert!(server.token_fetches().is_empty());
    assert_eq!(server.only_api_request().header("authorization"), Some("Bearer u-user-token-77"));
}

#[tokio::test]
async fn create_decodes_the_documented_example_answer() {
    let server = Server::start().await;
    server.push(Reply::json(example_answer()));

    let response = create(&server.client(), request(), RequestOptions::default()).await.unwrap();

    assert_eq!(response.reaction_id.as_deref(), Some("ZCaCIjUBVVWSrm5L-3ZTw****"));
    let operator = response.operator.as_ref().unwrap();
    assert_eq!(operator.operator_type, Some(OperatorType::User));
    assert_eq!(operator.operator_id.as_deref(), Some("ou_ff0b7ba35fb****"));
    assert_eq!(response.action_time.as_deref(), Some("1663054162546"));
    assert_eq!(response.reaction_type.as_ref().unwrap().emoji_type.as_deref(), Some("SMILE"));
    // The example has no other field.
    let data = example_answer()["data"].as_object().unwrap().len();
    assert_eq!(data, 4);
}

#[tokio::test]
async fn create_decodes_app_and_undocumented_operator_types() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({"operator": {"operator_id": "cli_1", "operator_type": "app"}})));
    server.push(Reply::ok(json!({"operator": {"operator_type": "bot"}})));
    let client = server.client();

    let app = create(&client, request(), RequestOptions::default()).await.unwrap().into_inner();
    let other = create(&client, request(), RequestOptions::default()).await.unwrap().into_inner();

    assert_eq!(app.operator.unwrap().operator_type, Some(OperatorType::App));
    assert_eq!(other.operator.unwrap().operator_type, Some(OperatorType::Other("bot".into())));
}

#[tokio::test]
async fn token_is_fetched_once_for_two_creates() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));
    server.push(Reply::ok(json!({})));
    let client = server.client();

    create(&client, request(), RequestOptions::default()).await.unwrap();
    create(&client, request(), RequestOptions::default()).await.unwrap();

    assert_eq!(server.token_fetches().len(), 1);
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn create_maps_every_documented_error_code_to_its_variant() {
    assert_every_documented_code(SPEC, ID, async |client| {
        create(client, request(), RequestOptions::default()).await
    })
    .await;
}

#[tokio::test]
async fn create_undocumented_code_lands_in_the_catch_all() {
    let server = Server::start().await;
    // A code documented for `reply` but not for this endpoint.
    server.push(Reply::error(400, 230001, "invalid request parameter"));
    server.push(Reply::error(400, UNDOCUMENTED_CODE, "new").header("X-Tt-Logid", "log-x"));
    let client = server.client();

    let foreign = api_variant(create(&client, request(), RequestOptions::default()).await);
    let unknown = api_variant(create(&client, request(), RequestOptions::default()).await);

    assert_eq!(foreign.kind(), CreateErrorKind::Unhandled, "{foreign:?}");
    assert_eq!(foreign.code(), Some(230001));
    assert_eq!(unknown.kind(), CreateErrorKind::Unhandled, "{unknown:?}");
    assert!(unknown.is_unhandled());
    assert_eq!(unknown.code(), Some(UNDOCUMENTED_CODE));
    assert_eq!(unknown.log_id(), Some("log-x"));
}

#[tokio::test]
async fn create_error_keeps_the_log_id() {
    let server = Server::start().await;
    server.push(
        Reply::error(400, 231003, "The message is not found").header("X-Tt-Logid", "log-231003"),
    );

    let error = create(&server.client(), request(), RequestOptions::default()).await.unwrap_err();

    assert!(
        error.kind() == CreateErrorKind::MessageNotFound && error.kind().is_message_not_found(),
        "{error:?}"
    );
    assert_eq!(error.log_id(), Some("log-231003"));
    assert!(error.to_string().contains("log-231003"), "{error}");
}
