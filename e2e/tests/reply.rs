//! `im.v1.message.reply` (`feishu::im::message::reply`) against a local server.

mod support;

use feishu::MessageId;
use feishu::RequestOptions;
use feishu::im::message::{ReplyErrorKind, ReplyRequest, ReplyResponse, reply};
use feishu::im::types::{IdType, MsgType, SenderType};
use feishu_runtime::validate::rules;
use serde_json::json;
use support::{
    APP_ID, APP_SECRET, JSON_CONTENT_TYPE, Reply, Server, TOKEN, TOKEN_PATH, UNDOCUMENTED_CODE,
    api_variant, assert_every_documented_code, spec_endpoint, spec_errors, validation_error,
};

const SPEC: &str = "im/message.json";
const ID: &str = "im.v1.message.reply";

fn request() -> ReplyRequest {
    ReplyRequest::new(MessageId::new("om_1"), r#"{"text":"hi"}"#, MsgType::Text).uuid("u-1")
}

/// The documented example answer of the endpoint.
fn example_answer() -> serde_json::Value {
    spec_endpoint(SPEC, ID)["response_example"].clone()
}

#[tokio::test]
async fn reply_sends_the_exact_request() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({"message_id": "om_2"})));
    let client = server.client();

    reply(&client, request(), RequestOptions::default()).await.unwrap();

    let fetches = server.token_fetches();
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].method, "POST");
    assert_eq!(fetches[0].json(), json!({"app_id": APP_ID, "app_secret": APP_SECRET}));
    let r = server.only_api_request();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/open-apis/im/v1/messages/om_1/reply");
    assert_eq!(r.query, None);
    assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(r.header("content-type"), Some(JSON_CONTENT_TYPE));
    // The path parameter is not repeated in the body; unset options are left out.
    assert_eq!(
        r.json(),
        json!({"content": "{\"text\":\"hi\"}", "msg_type": "text", "uuid": "u-1"})
    );
    // The token request happened before the API request.
    let order: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(order[0], TOKEN_PATH);
}

#[tokio::test]
async fn reply_sends_every_set_field_of_the_documented_example() {
    let server = Server::start().await;
    server.push(Reply::json(example_answer()));
    let example = spec_endpoint(SPEC, ID)["request_example"].clone();
    let request = ReplyRequest::new(
        MessageId::new("om_dc13264520392913993dd051dba21dcf"),
        example["content"].as_str().unwrap(),
        example["msg_type"].as_str().unwrap(),
    )
    .reply_in_thread(example["reply_in_thread"].as_bool().unwrap())
    .uuid(example["uuid"].as_str().unwrap());

    reply(&server.client(), request, RequestOptions::default()).await.unwrap();

    assert_eq!(server.only_api_request().json(), example);
}

#[tokio::test]
async fn reply_percent_encodes_the_message_id() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));
    let request = ReplyRequest::new(MessageId::new("om/1 ?x#y%你"), "{}", MsgType::Text);

    reply(&server.client(), request, RequestOptions::default()).await.unwrap();

    let r = server.only_api_request();
    assert_eq!(r.path, "/open-apis/im/v1/messages/om%2F1%20%3Fx%23y%25%E4%BD%A0/reply");
    assert_eq!(r.query, None);
}

#[tokio::test]
async fn reply_decodes_the_documented_example_answer() {
    let server = Server::start().await;
    server.push(Reply::json(example_answer()));

    let response = reply(&server.client(), request(), RequestOptions::default()).await.unwrap();

    assert_eq!(response.message_id.as_deref(), Some("om_dc13264520392913993dd051dba21dcf"));
    assert_eq!(response.root_id.as_deref(), Some("om_40eb06e7b84dc71c03e009ad3c754195"));
    assert_eq!(response.thread_id.as_deref(), Some("omt_d4be107c616a"));
    assert_eq!(response.msg_type, Some(MsgType::Interactive));
    assert_eq!(response.deleted, Some(false));
    let sender = response.sender.as_ref().unwrap();
    assert_eq!(sender.id.as_deref(), Some("cli_9f427eec54ae901b"));
    assert_eq!(sender.id_type, Some(IdType::AppId));
    assert_eq!(sender.sender_type, Some(SenderType::App));
    assert_eq!(
        response.body.as_ref().unwrap().content.as_deref(),
        Some("{\"text\":\"@_user_1 test content\"}")
    );
    let mentions = response.mentions.as_ref().unwrap();
    assert_eq!(mentions.len(), 1);
    let mention = &mentions[0];
    assert_eq!(mention.key.as_deref(), Some("@_user_1"));
    assert_eq!(mention.id.as_deref(), Some("ou_155184d1e73cbfb8973e5a9e698e74f2"));
    assert_eq!(mention.id_type.as_deref(), Some("open_id"));
    assert_eq!(mention.name.as_deref(), Some("Tom"));
    assert_eq!(mention.tenant_key.as_deref(), Some("736588c9260f175e"));
    // Nothing of the answer was dropped on the way: the fields not checked
    // above hold the example's values too.
    let data = &example_answer()["data"];
    let text = |key: &str| data[key].as_str();
    assert_eq!(response.parent_id.as_deref(), text("parent_id"));
    assert_eq!(response.create_time.as_deref(), text("create_time"));
    assert_eq!(response.update_time.as_deref(), text("update_time"));
    assert_eq!(response.updated, data["updated"].as_bool());
    assert_eq!(response.chat_id.as_deref(), text("chat_id"));
    assert_eq!(response.upper_message_id.as_deref(), text("upper_message_id"));
    assert_eq!(sender.tenant_key.as_deref(), data["sender"]["tenant_key"].as_str());
}

#[tokio::test]
async fn reply_keeps_undocumented_enum_values() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({
        "msg_type": "hologram",
        "sender": {"id_type": "union_id", "sender_type": "robot"},
    })));

    let response =
        reply(&server.client(), request(), RequestOptions::default()).await.unwrap().into_inner();

    assert_eq!(response.msg_type, Some(MsgType::Other("hologram".into())));
    let sender = response.sender.unwrap();
    assert_eq!(sender.id_type, Some(IdType::Other("union_id".into())));
    assert_eq!(sender.sender_type, Some(SenderType::Other("robot".into())));
}

#[tokio::test]
async fn reply_with_empty_data_decodes_to_an_empty_response() {
    let server = Server::start().await;
    server.push(Reply::json(json!({"code": 0, "msg": "success"})));

    let response = reply(&server.client(), request(), RequestOptions::default()).await.unwrap();

    assert_eq!(format!("{:?}", response.data()), format!("{:?}", ReplyResponse::default()));
}

#[tokio::test]
async fn token_is_fetched_once_for_two_calls() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({"message_id": "om_a"})));
    server.push(Reply::ok(json!({"message_id": "om_b"})));
    let client = server.client();

    let first = reply(&client, request(), RequestOptions::default()).await.unwrap();
    let second = reply(&client.clone(), request(), RequestOptions::default()).await.unwrap();

    assert_eq!(first.message_id.as_deref(), Some("om_a"));
    assert_eq!(second.message_id.as_deref(), Some("om_b"));
    assert_eq!(server.token_fetches().len(), 1);
    let api = server.api_requests();
    assert_eq!(api.len(), 2);
    for r in &api {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    }
}

#[tokio::test]
async fn rejected_token_is_fetched_again_and_the_reply_resent_once() {
    let server = Server::start().await;
    server.push(Reply::error(400, 99991663, "Invalid access token for authorization."));
    server.push(Reply::ok(json!({"message_id": "om_ok"})));
    let client = server.client();

    let response = reply(&client, request(), RequestOptions::default()).await.unwrap();

    assert_eq!(response.message_id.as_deref(), Some("om_ok"));
    assert_eq!(server.token_fetches().len(), 2);
    let api = server.api_requests();
    assert_eq!(api.len(), 2);
    assert_eq!(api[0].json(), api[1].json());
}

#[tokio::test]
async fn reply_maps_every_documented_error_code_to_its_variant() {
    let server = assert_every_documented_code(SPEC, ID, async |client| {
        reply(client, request(), RequestOptions::default()).await
    })
    .await;
    assert_eq!(server.token_fetches().len(), 1);
}

#[tokio::test]
async fn reply_operation_error_exposes_code_and_retryability() {
    let server = Server::start().await;
    let client = server.client();

    server.push(Reply::error(400, 230020, "This operation triggers the frequency limit."));
    let limited = reply(&client, request(), RequestOptions::default()).await.unwrap_err();
    assert_eq!(limited.code(), Some(230020));
    assert_eq!(limited.kind(), ReplyErrorKind::OperationTriggersFrequencyLimit);
    assert!(limited.is_rate_limited() && limited.is_retryable());
    assert!(limited.is_retryable());

    server.push(Reply::error(400, 230001, "invalid request parameter"));
    let invalid = reply(&client, request(), RequestOptions::default()).await.unwrap_err();
    assert_eq!(invalid.code(), Some(230001));
    assert!(!invalid.is_retryable());
}

#[tokio::test]
async fn reply_undocumented_code_lands_in_the_catch_all() {
    let server = Server::start().await;
    server.push(
        Reply::error(200, UNDOCUMENTED_CODE, "something new").header("X-Tt-Logid", "log-new"),
    );

    let result = reply(&server.client(), request(), RequestOptions::default()).await;

    let error = api_variant(result);
    assert_eq!(error.kind(), ReplyErrorKind::Unhandled, "{error:?}");
    assert!(error.is_unhandled());
    assert_eq!(error.code(), Some(UNDOCUMENTED_CODE));
    assert_eq!(error.api_error().unwrap().msg, "something new");
    assert_eq!(error.api_error().unwrap().http_status, 200);
    assert_eq!(error.api_error().unwrap().log_id.as_deref(), Some("log-new"));
}

#[tokio::test]
async fn reply_error_keeps_the_log_id_and_the_whole_body() {
    let server = Server::start().await;
    let body = json!({
        "code": 230002,
        "msg": "The bot can not be outside the group.",
        "error": {"log_id": "20240913abc", "troubleshooter": "see https://example.invalid"},
    });
    server.push(Reply::json(body.clone()).status(400).header("X-Tt-Logid", "20240913abc"));

    let error = reply(&server.client(), request(), RequestOptions::default()).await.unwrap_err();

    let api = &error;
    assert!(api.api_error().is_some(), "an API error");
    assert_eq!(api.kind(), ReplyErrorKind::BotCannotBeOutsideGroup, "{api:?}");
    assert_eq!(api.api_error().unwrap().log_id.as_deref(), Some("20240913abc"));
    assert_eq!(api.api_error().unwrap().body.as_ref(), Some(&body));
    assert!(error.to_string().contains("20240913abc"), "{error}");
}

#[tokio::test]
async fn reply_230099_exposes_every_documented_sub_code() {
    let card_error =
        spec_errors(SPEC, ID).into_iter().find(|e| e.code == 230099).expect("230099 is documented");
    // Only the sub-errors whose documented message carries `ErrCode: n`.
    let subs: Vec<_> =
        card_error.sub_errors.iter().filter(|(_, msg)| msg.contains("ErrCode:")).collect();
    assert!(subs.iter().any(|(code, _)| *code == 200621), "{subs:?}");
    let server = Server::start().await;
    let client = server.client();

    for (sub_code, msg) in &subs {
        server.push(Reply::error(400, 230099, msg));
        let error = api_variant(reply(&client, request(), RequestOptions::default()).await);
        assert_eq!(error.kind(), ReplyErrorKind::FailedCreateCardContent, "{error:?}");
        assert_eq!(error.sub_code(), Some(*sub_code), "{msg}");
    }

    server.push(Reply::error(400, 230099, "Failed to create card content."));
    let error = api_variant(reply(&client, request(), RequestOptions::default()).await);
    assert_eq!(error.sub_code(), None);
}

#[tokio::test]
async fn reply_230099_documented_example_envelope() {
    // The example answer the docs give for sub-code 200550, verbatim.
    let body = json!({
        "code": 230099,
        "msg": "Failed to create card content, ext=ErrCode: 200550; ErrPath: ROOT -> elements -> [2](tag: chart); ErrMsg: chart spec is invalid; ErrorValue: - (root): Must validate at least one schema (anyOf)\n- axes: Invalid type. Expected: array, given: null\n; ",
        "error": {
            "log_id": "202409131613579778D691D6E05516DE2D",
            "troubleshooter": "排查建议查看（Troubleshooting suggestions）： https://open.feishu.cn/search?from=openapi&log_id=202409131613579778D691D6E05516DE2D&code=230099&method_id=6921911482032898068"
        }
    });
    let server = Server::start().await;
    server.push(
        Reply::json(body.clone())
            .status(400)
            .header("X-Tt-Logid", "202409131613579778D691D6E05516DE2D"),
    );

    let error = api_variant(reply(&server.client(), request(), RequestOptions::default()).await);

    assert_eq!(error.kind(), ReplyErrorKind::FailedCreateCardContent, "{error:?}");
    assert_eq!(error.sub_code(), Some(200550));
    assert_eq!(error.api_error().unwrap().body.as_ref(), Some(&body));
    assert_eq!(
        error.api_error().unwrap().log_id.as_deref(),
        Some("202409131613579778D691D6E05516DE2D")
    );
}

#[tokio::test]
async fn reply_uuid_of_51_characters_is_refused_before_anything_is_sent() {
    let server = Server::start().await;
    let client = server.client();
    let uuid = "u".repeat(51);

    let result = reply(&client, request().uuid(uuid), RequestOptions::default()).await;

    let v = validation_error(result);
    assert_eq!(v.field, "uuid");
    assert_eq!(v.rule, rules::MAX_LENGTH);
    assert!(v.detail.contains("51") && v.detail.contains("50"), "{v}");
    // Validation runs first: not even the token was fetched.
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

#[tokio::test]
async fn reply_uuid_of_50_characters_is_sent() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));
    // 50 characters, 150 bytes: the limit counts characters.
    let uuid = "去".repeat(50);

    reply(&server.client(), request().uuid(uuid.clone()), RequestOptions::default()).await.unwrap();

    assert_eq!(server.only_api_request().json()["uuid"], json!(uuid));
}

#[tokio::test]
async fn reply_msg_type_outside_the_enum_is_refused() {
    let server = Server::start().await;
    let request = ReplyRequest::new(MessageId::new("om_1"), "{}", MsgType::Other("xx".into()));

    let v = validation_error(reply(&server.client(), request, RequestOptions::default()).await);

    assert_eq!(v.field, "msg_type");
    assert_eq!(v.rule, rules::ENUM);
    assert!(v.detail.contains("\"xx\""), "{v}");
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

#[tokio::test]
async fn reply_to_an_empty_message_id_is_refused_before_anything_is_sent() {
    let server = Server::start().await;
    let client = server.client();

    // Sent, `messages//reply` would address another endpoint.
    let result = reply(
        &client,
        ReplyRequest::new(MessageId::new(""), "{\"text\":\"hi\"}", "text"),
        RequestOptions::default(),
    )
    .await;

    let v = validation_error(result);
    assert_eq!(v.field, "message_id");
    assert_eq!(v.rule, rules::MIN_LENGTH);
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}
