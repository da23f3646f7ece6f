//! `im.v1.message.push_follow_up` (`feishu::im::message::push_follow_up`)
//! against a local server.

mod support;

use feishu::MessageId;
use feishu::RequestOptions;
use feishu::im::message::{
    PushFollowUpErrorKind, PushFollowUpRequest, PushFollowUpResponse, push_follow_up,
};
use feishu::im::types::{FollowUp, I18nContent, Language};
use feishu_runtime::validate::rules;
use serde_json::json;
use support::{
    APP_ID, APP_SECRET, JSON_CONTENT_TYPE, Reply, Server, TOKEN, UNDOCUMENTED_CODE, api_variant,
    assert_every_documented_code, spec_endpoint, validation_error,
};

const SPEC: &str = "im/message.json";
const ID: &str = "im.v1.message.push_follow_up";

fn request(follow_ups: Vec<FollowUp>) -> PushFollowUpRequest {
    PushFollowUpRequest::new(MessageId::new("om_1"), follow_ups)
}

fn simple() -> PushFollowUpRequest {
    request(vec![FollowUp::new("ok")])
}

/// Sends `request`, expecting it to be refused without any traffic.
async fn refused(request: PushFollowUpRequest) -> feishu_runtime::ValidationError {
    let server = Server::start().await;
    let result = push_follow_up(&server.client(), request, RequestOptions::default()).await;
    let v = validation_error(result);
    // Validation runs before the token fetch: nothing reached the server.
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    v
}

/// Sends `request`, expecting it to go out; returns the body sent.
async fn sent(request: PushFollowUpRequest) -> serde_json::Value {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));
    push_follow_up(&server.client(), request, RequestOptions::default()).await.unwrap();
    server.only_api_request().json()
}

#[tokio::test]
async fn push_follow_up_sends_the_exact_request() {
    let server = Server::start().await;
    server.push(Reply::json(spec_endpoint(SPEC, ID)["response_example"].clone()));
    let request = request(vec![
        FollowUp::new("你好").i18n_contents(vec![I18nContent::new("hello", Language::EnUs)]),
    ]);

    let response =
        push_follow_up(&server.client(), request, RequestOptions::default()).await.unwrap();

    assert_eq!(format!("{:?}", response.data()), format!("{:?}", PushFollowUpResponse::default()));
    let fetches = server.token_fetches();
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].json(), json!({"app_id": APP_ID, "app_secret": APP_SECRET}));
    let r = server.only_api_request();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/open-apis/im/v1/messages/om_1/push_follow_up");
    assert_eq!(r.query, None);
    assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(r.header("content-type"), Some(JSON_CONTENT_TYPE));
    let expected = json!({"follow_ups": [
        {"content": "你好", "i18n_contents": [{"content": "hello", "language": "en_us"}]}
    ]});
    assert_eq!(r.json(), expected);
    assert_eq!(r.json(), spec_endpoint(SPEC, ID)["request_example"]);
}

#[tokio::test]
async fn push_follow_up_percent_encodes_the_message_id() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));

    push_follow_up(
        &server.client(),
        PushFollowUpRequest::new(MessageId::new("om_#1"), vec![FollowUp::new("ok")]),
        RequestOptions::default(),
    )
    .await
    .unwrap();

    assert_eq!(server.only_api_request().path, "/open-apis/im/v1/messages/om_%231/push_follow_up");
}

#[tokio::test]
async fn token_is_fetched_once_for_two_pushes() {
    let server = Server::start().await;
    server.push(Reply::ok(json!({})));
    server.push(Reply::json(json!({"code": 0, "msg": "success"})));
    let client = server.client();

    push_follow_up(&client, simple(), RequestOptions::default()).await.unwrap();
    push_follow_up(&client, simple(), RequestOptions::default()).await.unwrap();

    assert_eq!(server.token_fetches().len(), 1);
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn push_follow_up_maps_every_documented_error_code_to_its_variant() {
    assert_every_documented_code(SPEC, ID, async |client| {
        push_follow_up(client, simple(), RequestOptions::default()).await
    })
    .await;
}

#[tokio::test]
async fn push_follow_up_undocumented_code_lands_in_the_catch_all() {
    let server = Server::start().await;
    server.push(Reply::error(500, UNDOCUMENTED_CODE, "internal").header("X-Tt-Logid", "log-u"));

    let error =
        api_variant(push_follow_up(&server.client(), simple(), RequestOptions::default()).await);

    assert!(error.kind() == PushFollowUpErrorKind::Unhandled, "{error:?}");
    assert!(error.is_unhandled());
    assert_eq!(error.code(), Some(UNDOCUMENTED_CODE));
    assert_eq!(error.api_error().unwrap().http_status, 500);
    assert_eq!(error.api_error().unwrap().log_id.as_deref(), Some("log-u"));
    // An unknown code on a 5xx may go away by itself.
    assert!(error.is_retryable());
}

#[tokio::test]
async fn push_follow_up_error_keeps_the_log_id() {
    let server = Server::start().await;
    server.push(Reply::error(400, 230002, "expired message.").header("X-Tt-Logid", "log-exp"));

    let error =
        push_follow_up(&server.client(), simple(), RequestOptions::default()).await.unwrap_err();

    assert_eq!(error.code(), Some(230002));
    let api = &error;
    assert!(api.api_error().is_some(), "an API error");
    assert_eq!(api.kind(), PushFollowUpErrorKind::ExpiredMessage, "{api:?}");
    assert_eq!(api.api_error().unwrap().log_id.as_deref(), Some("log-exp"));
    assert!(error.to_string().contains("log-exp"), "{error}");
}

#[tokio::test]
async fn no_follow_ups_are_refused() {
    let v = refused(request(vec![])).await;

    assert_eq!(v.field, "follow_ups");
    assert_eq!(v.rule, rules::MIN_ITEMS);
    assert!(v.detail.contains('0') && v.detail.contains('1'), "{v}");
}

#[tokio::test]
async fn four_follow_ups_are_refused() {
    let four = (1..=4).map(|i| FollowUp::new(format!("f{i}"))).collect();

    let v = refused(request(four)).await;

    assert_eq!(v.field, "follow_ups");
    assert_eq!(v.rule, rules::MAX_ITEMS);
    assert!(v.detail.contains('4') && v.detail.contains('3'), "{v}");
}

#[tokio::test]
async fn one_and_three_follow_ups_are_sent() {
    let one = sent(request(vec![FollowUp::new("a")])).await;
    let three = sent(request(["a", "b", "c"].into_iter().map(FollowUp::new).collect())).await;

    assert_eq!(one, json!({"follow_ups": [{"content": "a"}]}));
    assert_eq!(
        three,
        json!({"follow_ups": [{"content": "a"}, {"content": "b"}, {"content": "c"}]})
    );
}

#[tokio::test]
async fn content_of_201_characters_is_refused() {
    let v = refused(request(vec![FollowUp::new("x".repeat(201))])).await;

    assert_eq!(v.field, "follow_ups[0].content");
    assert_eq!(v.rule, rules::MAX_LENGTH);
    assert_eq!(
        v.to_string(),
        "follow_ups[0].content: length 201 characters exceeds the maximum of 200"
    );
}

#[tokio::test]
async fn content_error_names_the_offending_follow_up() {
    let v = refused(request(vec![FollowUp::new("fine"), FollowUp::new("好".repeat(201))])).await;

    assert_eq!(v.field, "follow_ups[1].content");
    assert_eq!(v.rule, rules::MAX_LENGTH);
}

#[tokio::test]
async fn empty_content_is_refused() {
    let v = refused(request(vec![FollowUp::new("")])).await;

    assert_eq!(v.field, "follow_ups[0].content");
    assert_eq!(v.rule, rules::MIN_LENGTH);
}

#[tokio::test]
async fn content_of_200_chinese_characters_is_sent() {
    // 200 characters but 600 bytes: the limit counts characters.
    let content = "好".repeat(200);
    assert_eq!(content.len(), 600);

    let body = sent(request(vec![FollowUp::new(content.clone())])).await;

    assert_eq!(body, json!({"follow_ups": [{"content": content}]}));
}

#[tokio::test]
async fn i18n_content_of_201_characters_is_refused() {
    let follow_up = FollowUp::new("ok").i18n_contents(vec![
        I18nContent::new("hi", Language::EnUs),
        I18nContent::new("é".repeat(201), Language::FrFr),
    ]);

    let v = refused(request(vec![follow_up])).await;

    assert_eq!(v.field, "follow_ups[0].i18n_contents[1].content");
    assert_eq!(v.rule, rules::MAX_LENGTH);
}

#[tokio::test]
async fn language_outside_the_enum_is_refused() {
    let follow_up = FollowUp::new("ok")
        .i18n_contents(vec![I18nContent::new("hi", Language::Other("xx".into()))]);

    let v = refused(request(vec![follow_up])).await;

    assert_eq!(v.field, "follow_ups[0].i18n_contents[0].language");
    assert_eq!(v.rule, rules::ENUM);
    assert!(v.detail.contains("\"xx\""), "{v}");
}

#[tokio::test]
async fn every_documented_language_is_sent() {
    let contents =
        Language::DOCUMENTED.iter().map(|&l| I18nContent::new(format!("in {l}"), l)).collect();

    let body = sent(request(vec![FollowUp::new("ok").i18n_contents(contents)])).await;

    let languages: Vec<&str> = body["follow_ups"][0]["i18n_contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["language"].as_str().unwrap())
        .collect();
    assert_eq!(languages, Language::DOCUMENTED);
}

#[tokio::test]
async fn fifty_one_i18n_contents_are_refused() {
    let contents = (0..51).map(|i| I18nContent::new(format!("c{i}"), Language::EnUs)).collect();

    let v = refused(request(vec![FollowUp::new("ok").i18n_contents(contents)])).await;

    assert_eq!(v.field, "follow_ups[0].i18n_contents");
    assert_eq!(v.rule, rules::MAX_ITEMS);
}
