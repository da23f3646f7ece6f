//! Typed messages through the generated client, checked against what the
//! sandbox stored: content strings, size limits, reactions, follow-ups and
//! reading messages back.

mod sandbox_support;

use feishu::MessageId;
use feishu::im::message::{
    PushFollowUpErrorKind, PushFollowUpRequest, ReplyRequest, push_follow_up, reply,
};
use feishu::im::message_reaction::{CreateErrorKind, CreateRequest};
use feishu::im::types::{Emoji, FollowUp};
use feishu::{Body, MessageContent, RequestOptions};
use feishu_runtime::Validate;
use feishu_runtime::content::{
    MAX_SIZE, POST_MAX_BYTES, PostBody, PostContent, PostElement, TEXT_MAX_BYTES,
};
use sandbox_support::Env;
use serde_json::{Value, json};

/// A group chat with one message to reply to.
async fn chat_with_parent(env: &Env) -> (String, String) {
    let chat = env.group_chat().await;
    let parent = env.seed_text(&chat, "parent").await;
    (chat, parent)
}

/// Replies with typed content; returns the stored reply.
async fn reply_with(env: &Env, parent: &str, content: &MessageContent) -> Value {
    let request = ReplyRequest::with_message(MessageId::new(parent), content);
    let response = env
        .client()
        .im()
        .message()
        .reply(request)
        .await
        .unwrap_or_else(|e| panic!("replying with {content:?} failed: {e:?}"));
    assert!(response.log_id().is_some(), "the sandbox sends X-Tt-Logid");
    let id = response.into_inner().message_id.expect("a message_id");
    env.message(&id).await
}

#[tokio::test]
async fn text_with_quotes_and_a_newline_is_stored_exactly() {
    let env = Env::start().await;
    let (chat, parent) = chat_with_parent(&env).await;
    let content = MessageContent::text("he said \"hi\"\nbye");

    let stored = reply_with(&env, &parent, &content).await;

    assert_eq!(stored["msg_type"], "text");
    // One level of JSON escaping, done by the client: the content string is
    // the JSON object, not a doubly escaped string.
    assert_eq!(stored["content"], r#"{"text":"he said \"hi\"\nbye"}"#);
    assert_eq!(stored["chat_id"], chat.as_str());
    assert_eq!(stored["parent_id"], parent.as_str());
    assert_eq!(
        MessageContent::from_parts("text", stored["content"].as_str().unwrap()).unwrap(),
        content
    );
    // And that is what went over the wire.
    let requests = env.requests().await;
    let sent = requests.last().unwrap();
    assert_eq!(sent["path"], format!("/open-apis/im/v1/messages/{parent}/reply"));
    assert_eq!(sent["body"]["msg_type"], "text");
    assert_eq!(sent["body"]["content"], stored["content"]);
}

#[tokio::test]
async fn post_and_interactive_content_arrive_as_built() {
    let env = Env::start().await;
    let (_, parent) = chat_with_parent(&env).await;
    let post = MessageContent::post(
        PostContent::zh_cn(
            PostBody::new("标题 \"quoted\"")
                .line(vec![
                    PostElement::text("第一行\t<b>not bold</b>"),
                    PostElement::link("链接", "https://open.feishu.cn/?a=1&b=2"),
                ])
                .line(vec![PostElement::at("ou_someone"), PostElement::emotion("SMILE")]),
        )
        .with_language(
            "en_us",
            PostBody::new("Title").line(vec![PostElement::code_block("rust", "fn main() {}\n")]),
        ),
    );
    let card = MessageContent::card(json!({
        "config": {"wide_screen_mode": true},
        "header": {"title": {"tag": "plain_text", "content": "卡片 \\ \"header\""}},
        "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "**bold**\nline"}}],
    }));
    let template = MessageContent::template("AAqk1xxxx", json!({"name": "小明", "n": 3}));

    for (content, msg_type) in [(&post, "post"), (&card, "interactive"), (&template, "interactive")]
    {
        let stored = reply_with(&env, &parent, content).await;
        assert_eq!(stored["msg_type"], msg_type);
        assert_eq!(stored["content"], content.to_content_string().as_str());
        let back = MessageContent::from_parts(msg_type, stored["content"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{stored}: {e}"));
        assert_eq!(&back, content);
    }
    // The post really is the nested structure, not a string inside a string.
    let stored_post = reply_with(&env, &parent, &post).await;
    let parsed: Value = serde_json::from_str(stored_post["content"].as_str().unwrap()).unwrap();
    assert_eq!(parsed["zh_cn"]["title"], "标题 \"quoted\"");
    assert_eq!(parsed["zh_cn"]["content"][0][1]["tag"], "a");
    assert_eq!(parsed["zh_cn"]["content"][0][1]["href"], "https://open.feishu.cn/?a=1&b=2");
    assert_eq!(parsed["en_us"]["content"][0][0]["tag"], "code_block");
}

#[tokio::test]
async fn text_over_150_kb_is_refused_before_anything_is_sent() {
    let env = Env::start().await;
    let (_, parent) = chat_with_parent(&env).await;
    let client = env.client();
    // `{"text":"…"}` adds 11 bytes to the text.
    let at_limit = MessageContent::text("x".repeat(TEXT_MAX_BYTES - 11));
    assert_eq!(at_limit.to_content_string().len(), TEXT_MAX_BYTES);
    let over = MessageContent::text("x".repeat(TEXT_MAX_BYTES - 10));

    let request = ReplyRequest::new(MessageId::new(parent.as_str()), "", "text").message(&over);
    let error = request.validate().unwrap_err();
    assert_eq!((error.field.as_str(), error.rule.as_str()), ("content", MAX_SIZE));
    env.clear_requests().await;
    let result = reply(&client, request, RequestOptions::default()).await;
    match result {
        Err(e) if e.validation().is_some() => {
            assert_eq!(e.validation(), Some(&error))
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // Not even a token was fetched.
    assert_eq!(env.requests().await, Vec::<Value>::new());

    // A post over 30 KB likewise.
    let big_post = MessageContent::post(PostContent::zh_cn(
        PostBody::new("t").line(vec![PostElement::text("y".repeat(POST_MAX_BYTES))]),
    ));
    let request = ReplyRequest::new(MessageId::new(parent.as_str()), "", "text").message(&big_post);
    assert_eq!(request.validate().unwrap_err().rule, MAX_SIZE);
    assert!(reply(&client, request, RequestOptions::default()).await.is_err());
    assert_eq!(env.requests().await, Vec::<Value>::new());

    // Exactly at the limit, the client sends and the sandbox, with the same
    // limit, stores it.
    let stored = reply_with(&env, &parent, &at_limit).await;
    assert_eq!(stored["content"].as_str().unwrap().len(), TEXT_MAX_BYTES);
}

#[tokio::test]
async fn a_reaction_on_a_recalled_message_is_error_231003() {
    let env = Env::start().await;
    let (_, message) = chat_with_parent(&env).await;
    let client = env.client();
    let react = |id: &str| {
        client
            .im()
            .message_reaction()
            .create(CreateRequest::new(MessageId::new(id), Emoji::new("THUMBSUP")))
    };

    let added = react(&message).await.unwrap().into_inner();
    assert_eq!(added.reaction_type.and_then(|r| r.emoji_type).as_deref(), Some("THUMBSUP"));
    assert_eq!(env.message(&message).await["reactions"][0]["emoji_type"], "THUMBSUP");

    // Recall through the catalogue-only delete, then react again.
    client.im().message().delete(&message).body(Body::None).await.unwrap();
    assert_eq!(env.message(&message).await["deleted"], true);
    match react(&message).await {
        Err(e) if e.kind() == CreateErrorKind::MessageNotFound => {
            assert_eq!(e.code(), Some(231003));
            assert!(e.log_id().is_some(), "{e:?}");
        }
        other => panic!("expected Code231003, got {other:?}"),
    }
    // The refusal is final: sent once, not retried.
    let requests = env.requests().await;
    let refused: Vec<&Value> = requests.iter().filter(|r| r["code"] == 231003).collect();
    assert_eq!(refused.len(), 1, "{requests:#?}");
    assert_eq!(env.message(&message).await["reactions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn push_follow_up_succeeds_once_and_maps_documented_errors() {
    let env = Env::start().await;
    let client = env.client();
    let follow_up = |id: &str, text: &str| {
        push_follow_up(
            &client,
            PushFollowUpRequest::new(MessageId::new(id), vec![FollowUp::new(text)]),
            RequestOptions::default(),
        )
    };
    let p2p = env.p2p_chat("ou_follow_up_user").await;
    let older = env.seed_text(&p2p, "older").await;
    let latest = env.seed_text(&p2p, "latest").await;

    follow_up(&latest, "继续？").await.unwrap();
    let stored = env.message(&latest).await;
    assert_eq!(stored["follow_ups"], json!([{"content": "继续？"}]));

    // Once only.
    match follow_up(&latest, "again").await {
        Err(e) if e.kind() == PushFollowUpErrorKind::FollowUpAlreadyExist => {
            assert_eq!(e.code(), Some(230008))
        }
        other => panic!("expected Code230008, got {other:?}"),
    }
    // Only on the newest message.
    match follow_up(&older, "late").await {
        Err(e) if e.kind() == PushFollowUpErrorKind::OnlySupportLatestMessage => {}
        other => panic!("expected Code230006, got {other:?}"),
    }
    // Only in p2p chats.
    let group = env.group_chat().await;
    let in_group = env.seed_text(&group, "group message").await;
    match follow_up(&in_group, "x").await {
        Err(e) if e.kind() == PushFollowUpErrorKind::OnlySupportP2pChat => {}
        other => panic!("expected Code230003, got {other:?}"),
    }
    // Only within ten minutes.
    let other_p2p = env.p2p_chat("ou_follow_up_other").await;
    let old = env.seed_message(&other_p2p, "old", json!({"age_seconds": 700})).await;
    match follow_up(old["message_id"].as_str().unwrap(), "x").await {
        Err(e) if e.kind() == PushFollowUpErrorKind::ExpiredMessage => {}
        other => panic!("expected Code230002, got {other:?}"),
    }
    // None of the refusals changed anything.
    assert_eq!(env.message(&latest).await["follow_ups"], stored["follow_ups"]);
    assert_eq!(env.message(&older).await["follow_ups"], json!([]));
}

#[tokio::test]
async fn message_get_and_list_return_what_was_stored() {
    let env = Env::start().await;
    let (chat, parent) = chat_with_parent(&env).await;
    let client = env.client();
    let content = MessageContent::text("read me back: ✓ \"q\"");
    let stored = reply_with(&env, &parent, &content).await;
    let id = stored["message_id"].as_str().unwrap();

    let got = client.im().message().get(id).await.unwrap();
    let items = got["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["message_id"], id);
    assert_eq!(item["msg_type"], "text");
    assert_eq!(item["body"]["content"], stored["content"]);
    assert_eq!(item["chat_id"], chat.as_str());
    assert_eq!(item["parent_id"], parent.as_str());
    assert_eq!(item["root_id"], parent.as_str());
    assert_eq!(item["create_time"], stored["create_time"]);
    assert_eq!(item["sender"]["sender_type"], "app");
    assert_eq!(
        MessageContent::from_parts(
            item["msg_type"].as_str().unwrap(),
            item["body"]["content"].as_str().unwrap()
        )
        .unwrap(),
        content
    );

    let listed = client
        .im()
        .message()
        .list()
        .queries([("container_id_type", "chat"), ("container_id", chat.as_str())])
        .await
        .unwrap();
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [parent.as_str(), id]);

    // A message that does not exist is the sandbox's 230001, untyped here.
    let missing = client.im().message().get("om_missing").await.unwrap_err();
    assert_eq!(missing.code(), Some(230001));
}
