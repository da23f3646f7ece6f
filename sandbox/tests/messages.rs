//! Messages: validation, send, reply, uuid dedup, get, list, recall,
//! reactions and follow-ups, over real HTTP.

mod common;

use common::{Env, start};
use reqwest::Method;
use serde_json::{Value, json};

const MESSAGES: &str = "/open-apis/im/v1/messages";

fn reply_path(message_id: &str) -> String {
    format!("{MESSAGES}/{message_id}/reply")
}

fn follow_up_path(message_id: &str) -> String {
    format!("{MESSAGES}/{message_id}/push_follow_up")
}

async fn reply_text(env: &Env, message_id: &str, text: &str, extra: Value) -> common::Answer {
    let mut body = json!({ "msg_type": "text", "content": json!({ "text": text }).to_string() });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    env.api(Method::POST, &reply_path(message_id), Some(body)).await
}

#[tokio::test]
async fn send_to_a_user_creates_the_p2p_chat_once() {
    let env = start().await;
    let first = env.send_text("open_id", "ou_alice", "hello").await;
    assert_eq!((first.status, first.code()), (200, 0), "{}", first.body);
    let data = &first.body["data"];
    let message_id = data["message_id"].as_str().unwrap();
    assert!(message_id.starts_with("om_") && message_id.len() == 35, "{message_id}");
    let chat_id = data["chat_id"].as_str().unwrap();
    assert!(chat_id.starts_with("oc_") && chat_id.len() == 35, "{chat_id}");
    assert_eq!(data["msg_type"], "text");
    assert_eq!(data["body"]["content"], r#"{"text":"hello"}"#);
    assert_eq!(
        data["sender"],
        json!({"id": "cli_sandbox", "id_type": "app_id", "sender_type": "app", "tenant_key": "sandbox-tenant"})
    );
    assert_eq!(data["deleted"], false);
    assert_eq!(data["updated"], false);
    assert!(data["create_time"].as_str().unwrap().parse::<i64>().unwrap() > 1_600_000_000_000);
    assert_eq!(data["create_time"], data["update_time"]);

    let second = env.send_text("open_id", "ou_alice", "again").await;
    assert_eq!(second.body["data"]["chat_id"], chat_id);
    let other = env.send_text("email", "bob@example.com", "hi bob").await;
    assert_ne!(other.body["data"]["chat_id"], chat_id);
    // The p2p chat made by the control API is the one sends go to.
    let carol = env.chat("p2p", Some("ou_carol")).await;
    assert_eq!(
        env.send_text("open_id", "ou_carol", "hi").await.body["data"]["chat_id"],
        carol.as_str()
    );
}

#[tokio::test]
async fn validation_names_the_field() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let send = |query: &'static str, body: Value| {
        let env = &env;
        async move { env.api(Method::POST, &format!("{MESSAGES}{query}"), Some(body)).await }
    };
    let text = json!({"text": "x"}).to_string();

    let no_type = send("", json!({"receive_id": chat, "msg_type": "text", "content": text})).await;
    assert_eq!((no_type.status, no_type.code()), (400, 230001));
    assert!(no_type.body["msg"].as_str().unwrap().contains("receive_id_type"), "{}", no_type.body);

    let bad_type = send(
        "?receive_id_type=phone",
        json!({"receive_id": chat, "msg_type": "text", "content": text}),
    )
    .await;
    assert_eq!(bad_type.code(), 230001);
    assert!(bad_type.body["msg"].as_str().unwrap().contains("receive_id_type"));

    let no_receiver =
        send("?receive_id_type=chat_id", json!({"msg_type": "text", "content": text})).await;
    assert_eq!(no_receiver.code(), 230001);
    assert!(no_receiver.body["msg"].as_str().unwrap().contains("receive_id"));

    let wrong_kind = send(
        "?receive_id_type=chat_id",
        json!({"receive_id": chat, "msg_type": "text", "content": {"text": "x"}}),
    )
    .await;
    assert_eq!(wrong_kind.code(), 230001);
    assert!(wrong_kind.body["msg"].as_str().unwrap().contains("content"), "{}", wrong_kind.body);

    let bad_msg_type = send(
        "?receive_id_type=chat_id",
        json!({"receive_id": chat, "msg_type": "video", "content": text}),
    )
    .await;
    assert!(bad_msg_type.body["msg"].as_str().unwrap().contains("msg_type"));

    let bad_shape = send(
        "?receive_id_type=chat_id",
        json!({"receive_id": chat, "msg_type": "image", "content": text}),
    )
    .await;
    assert_eq!(bad_shape.code(), 230001);
    assert!(bad_shape.body["msg"].as_str().unwrap().contains("image_key"), "{}", bad_shape.body);

    let long_uuid = send(
        "?receive_id_type=chat_id",
        json!({"receive_id": chat, "msg_type": "text", "content": text, "uuid": "u".repeat(51)}),
    )
    .await;
    assert_eq!(long_uuid.code(), 230001);
    assert!(long_uuid.body["msg"].as_str().unwrap().contains("uuid"));

    let unknown_chat = send(
        "?receive_id_type=chat_id",
        json!({"receive_id": "oc_nope", "msg_type": "text", "content": text}),
    )
    .await;
    assert_eq!(unknown_chat.code(), 230001);

    // The reply endpoint is checked against its detailed spec: msg_type's enum.
    let parent = env.send_ok(&chat, "parent").await;
    let bad_reply = env
        .api(Method::POST, &reply_path(&parent), Some(json!({"msg_type": "txt", "content": text})))
        .await;
    assert_eq!(bad_reply.code(), 230001);
    let msg = bad_reply.body["msg"].as_str().unwrap();
    assert!(msg.contains("msg_type") && msg.contains("not one of"), "{msg}");
    assert_eq!(bad_reply.body["error"]["field_violations"][0]["field"], "msg_type");
    let typed = env
        .api(
            Method::POST,
            &reply_path(&parent),
            Some(json!({"msg_type": "text", "content": text, "reply_in_thread": "yes"})),
        )
        .await;
    assert!(typed.body["msg"].as_str().unwrap().contains("reply_in_thread"));

    // Malformed JSON is a bad request.
    let broken = env
        .http
        .post(env.url(&format!("{MESSAGES}?receive_id_type=chat_id")))
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status().as_u16(), 400);
    let broken: Value = broken.json().await.unwrap();
    assert_eq!(broken["code"], 9499);
    // None of the rejected calls stored anything.
    assert_eq!(env.stored_messages().await.len(), 1);
}

#[tokio::test]
async fn content_size_limits() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let send = |msg_type: &str, content: String| {
        let body = json!({"receive_id": chat, "msg_type": msg_type, "content": content});
        let env = &env;
        async move {
            env.api(Method::POST, &format!("{MESSAGES}?receive_id_type=chat_id"), Some(body)).await
        }
    };
    // The limit counts the bytes of the content string: 150 KB for text.
    let overhead = json!({"text": ""}).to_string().len();
    assert_eq!(
        send("text", json!({"text": "a".repeat(153_600 - overhead)}).to_string()).await.code(),
        0
    );
    let too_long = send("text", json!({"text": "a".repeat(153_601 - overhead)}).to_string()).await;
    assert_eq!((too_long.status, too_long.code()), (400, 230025));
    let card =
        json!({"elements": [{"tag": "markdown", "content": "a".repeat(31_000)}]}).to_string();
    assert_eq!(send("interactive", card).await.code(), 230025);
    let post = json!({"zh_cn": {"title": "t", "content": [[{"tag": "text", "text": "a".repeat(31_000)}]]}}).to_string();
    assert_eq!(send("post", post).await.code(), 230025);
    let small_post =
        json!({"zh_cn": {"title": "t", "content": [[{"tag": "text", "text": "ok"}]]}}).to_string();
    assert_eq!(send("post", small_post).await.code(), 0);
}

#[tokio::test]
async fn replies_carry_root_and_parent() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let root = env.send_ok(&chat, "root").await;
    let first = reply_text(&env, &root, "first", json!({})).await;
    assert_eq!(first.code(), 0, "{}", first.body);
    let first_id = first.body["data"]["message_id"].as_str().unwrap().to_string();
    assert_eq!(first.body["data"]["root_id"], root.as_str());
    assert_eq!(first.body["data"]["parent_id"], root.as_str());
    assert_eq!(first.body["data"]["chat_id"], chat.as_str());
    assert!(first.body["data"].get("thread_id").is_none());

    let second = reply_text(&env, &first_id, "second", json!({})).await;
    assert_eq!(second.body["data"]["root_id"], root.as_str());
    assert_eq!(second.body["data"]["parent_id"], first_id.as_str());

    let threaded = reply_text(&env, &root, "in thread", json!({"reply_in_thread": true})).await;
    let thread_id = threaded.body["data"]["thread_id"].as_str().unwrap().to_string();
    assert!(thread_id.starts_with("omt_"));
    let in_same =
        reply_text(&env, threaded.body["data"]["message_id"].as_str().unwrap(), "more", json!({}))
            .await;
    assert_eq!(in_same.body["data"]["thread_id"], thread_id.as_str());

    let missing = reply_text(&env, "om_missing", "x", json!({})).await;
    assert_eq!(missing.code(), 230001);
    assert!(missing.body["msg"].as_str().unwrap().contains("message_id"));
    let deleted = env
        .api(
            Method::DELETE,
            &format!(
                "{MESSAGES}/{second_id}",
                second_id = second.body["data"]["message_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(deleted.code(), 0);
    let to_recalled =
        reply_text(&env, second.body["data"]["message_id"].as_str().unwrap(), "x", json!({})).await;
    assert_eq!(to_recalled.code(), 230011);
}

#[tokio::test]
async fn the_same_uuid_returns_the_first_message() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let body = |text: &str, uuid: &str| json!({"receive_id": chat, "msg_type": "text", "content": json!({"text": text}).to_string(), "uuid": uuid});
    let path = format!("{MESSAGES}?receive_id_type=chat_id");
    let first = env.api(Method::POST, &path, Some(body("one", "key-1"))).await;
    let again = env.api(Method::POST, &path, Some(body("two", "key-1"))).await;
    assert_eq!(again.code(), 0);
    assert_eq!(again.body["data"], first.body["data"]);
    let other = env.api(Method::POST, &path, Some(body("three", "key-2"))).await;
    assert_ne!(other.body["data"]["message_id"], first.body["data"]["message_id"]);
    // Replies dedup the same way.
    let parent = first.body["data"]["message_id"].as_str().unwrap().to_string();
    let r1 = reply_text(&env, &parent, "r", json!({"uuid": "key-3"})).await;
    let r2 = reply_text(&env, &parent, "r", json!({"uuid": "key-3"})).await;
    assert_eq!(r1.body["data"]["message_id"], r2.body["data"]["message_id"]);
    let stored = env.stored_messages().await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0]["uuid"], "key-1");
    assert_eq!(stored[0]["content"], r#"{"text":"one"}"#);
}

#[tokio::test]
async fn get_list_and_recall() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(env.send_ok(&chat, &format!("m{i}")).await);
        // Stay under the 5-per-second limit of one chat.
        tokio::time::sleep(std::time::Duration::from_millis(210)).await;
    }
    let got = env.api(Method::GET, &format!("{MESSAGES}/{}", ids[2]), None).await;
    assert_eq!(got.code(), 0);
    assert_eq!(got.body["data"]["items"][0]["message_id"], ids[2].as_str());
    assert_eq!(got.body["data"]["items"][0]["body"]["content"], r#"{"text":"m2"}"#);
    assert_eq!(env.api(Method::GET, &format!("{MESSAGES}/om_nope"), None).await.code(), 230001);

    let page = |token: Option<String>| {
        let env = &env;
        let chat = chat.clone();
        async move {
            let mut path =
                format!("{MESSAGES}?container_id_type=chat&container_id={chat}&page_size=2");
            if let Some(token) = token {
                path.push_str(&format!("&page_token={token}"));
            }
            env.api(Method::GET, &path, None).await
        }
    };
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let answer = page(token.clone()).await;
        assert_eq!(answer.code(), 0, "{}", answer.body);
        for item in answer.body["data"]["items"].as_array().unwrap() {
            seen.push(item["message_id"].as_str().unwrap().to_string());
        }
        if answer.body["data"]["has_more"] == true {
            token = Some(answer.body["data"]["page_token"].as_str().unwrap().to_string());
        } else {
            break;
        }
    }
    assert_eq!(seen, ids, "oldest first, every message once");
    let no_container =
        env.api(Method::GET, &format!("{MESSAGES}?container_id_type=chat"), None).await;
    assert!(no_container.body["msg"].as_str().unwrap().contains("container_id"));
    let big_page = env
        .api(
            Method::GET,
            &format!("{MESSAGES}?container_id_type=chat&container_id={chat}&page_size=51"),
            None,
        )
        .await;
    assert!(big_page.body["msg"].as_str().unwrap().contains("page_size"));

    let recalled = env.api(Method::DELETE, &format!("{MESSAGES}/{}", ids[0]), None).await;
    assert_eq!(recalled.code(), 0);
    let again = env.api(Method::DELETE, &format!("{MESSAGES}/{}", ids[0]), None).await;
    assert_eq!(again.code(), 230011);
    let got = env.api(Method::GET, &format!("{MESSAGES}/{}", ids[0]), None).await;
    assert_eq!(got.body["data"]["items"][0]["deleted"], true);
    assert_eq!(env.stored_messages().await[0]["deleted"], true);
}

#[tokio::test]
async fn reactions_need_a_live_message() {
    let env = start().await;
    let chat = env.chat("group", None).await;
    let message = env.send_ok(&chat, "react to me").await;
    let react = |id: String| {
        let env = &env;
        async move {
            env.api(
                Method::POST,
                &format!("{MESSAGES}/{id}/reactions"),
                Some(json!({"reaction_type": {"emoji_type": "SMILE"}})),
            )
            .await
        }
    };
    let ok = react(message.clone()).await;
    assert_eq!(ok.code(), 0, "{}", ok.body);
    assert_eq!(ok.body["data"]["reaction_type"]["emoji_type"], "SMILE");
    assert_eq!(ok.body["data"]["operator"]["operator_type"], "app");
    assert!(ok.body["data"]["reaction_id"].as_str().is_some_and(|r| !r.is_empty()));

    let missing = react("om_missing".into()).await;
    assert_eq!((missing.status, missing.code()), (400, 231003));
    env.api(Method::DELETE, &format!("{MESSAGES}/{message}"), None).await;
    assert_eq!(react(message.clone()).await.code(), 231003);

    let no_emoji = env
        .api(
            Method::POST,
            &format!("{MESSAGES}/{message}/reactions"),
            Some(json!({"reaction_type": {}})),
        )
        .await;
    assert_eq!(no_emoji.code(), 230001);
    assert!(no_emoji.body["msg"].as_str().unwrap().contains("reaction_type.emoji_type"));

    let stored = env.stored_messages().await;
    assert_eq!(stored[0]["reactions"].as_array().unwrap().len(), 1);
    assert_eq!(stored[0]["reactions"][0]["emoji_type"], "SMILE");
}

fn follow_ups(n: usize) -> Value {
    json!({ "follow_ups": (0..n).map(|i| json!({"content": format!("option {i}")})).collect::<Vec<_>>() })
}

#[tokio::test]
async fn follow_ups_go_on_the_latest_fresh_p2p_bot_message_once() {
    let env = start().await;
    let p2p = env.chat("p2p", Some("ou_dave")).await;
    let older = env.send_ok(&p2p, "older").await;
    let latest = env.send_ok(&p2p, "latest").await;

    let not_latest = env.api(Method::POST, &follow_up_path(&older), Some(follow_ups(1))).await;
    assert_eq!((not_latest.status, not_latest.code()), (400, 230006));

    let ok = env.api(Method::POST, &follow_up_path(&latest), Some(follow_ups(2))).await;
    assert_eq!(ok.code(), 0, "{}", ok.body);
    let again = env.api(Method::POST, &follow_up_path(&latest), Some(follow_ups(1))).await;
    assert_eq!(again.code(), 230008);
    let stored = env.stored_messages().await;
    let stored = stored.iter().find(|m| m["message_id"] == latest.as_str()).unwrap();
    assert_eq!(stored["follow_ups"], follow_ups(2)["follow_ups"]);

    let group = env.chat("group", None).await;
    let in_group = env.send_ok(&group, "group message").await;
    let not_p2p = env.api(Method::POST, &follow_up_path(&in_group), Some(follow_ups(1))).await;
    assert_eq!(not_p2p.code(), 230003);
}

#[tokio::test]
async fn follow_ups_expire_after_600_seconds() {
    let env = start().await;
    let p2p = env.chat("p2p", Some("ou_erin")).await;
    let seed = |age: u64| {
        let env = &env;
        let p2p = p2p.clone();
        async move {
            let (status, body) = env
                .control(
                    Method::POST,
                    "/messages",
                    Some(json!({"chat_id": p2p, "msg_type": "text", "content": "{\"text\":\"old\"}", "sender_type": "app", "age_seconds": age})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let old = seed(601).await;
    let expired = env
        .api(
            Method::POST,
            &follow_up_path(old["message_id"].as_str().unwrap()),
            Some(follow_ups(1)),
        )
        .await;
    assert_eq!((expired.status, expired.code()), (400, 230002));
    let fresh = seed(590).await;
    assert_eq!(
        env.api(
            Method::POST,
            &follow_up_path(fresh["message_id"].as_str().unwrap()),
            Some(follow_ups(1))
        )
        .await
        .code(),
        0
    );
}

#[tokio::test]
async fn follow_up_counts_and_lengths_come_from_the_spec() {
    let env = start().await;
    let p2p = env.chat("p2p", Some("ou_frank")).await;
    let message = env.send_ok(&p2p, "pick one").await;
    let path = follow_up_path(&message);
    let none = env.api(Method::POST, &path, Some(follow_ups(0))).await;
    assert_eq!(none.code(), 230001);
    assert!(none.body["msg"].as_str().unwrap().contains("follow_ups"), "{}", none.body);
    let four = env.api(Method::POST, &path, Some(follow_ups(4))).await;
    assert_eq!(four.code(), 230001);
    assert!(four.body["msg"].as_str().unwrap().contains("maximum of 3"), "{}", four.body);
    let long = env
        .api(Method::POST, &path, Some(json!({"follow_ups": [{"content": "长".repeat(201)}]})))
        .await;
    assert_eq!(long.code(), 230001);
    assert!(long.body["msg"].as_str().unwrap().contains("follow_ups[0].content"), "{}", long.body);
    let exactly = env
        .api(Method::POST, &path, Some(json!({"follow_ups": [{"content": "长".repeat(200)}]})))
        .await;
    assert_eq!(exactly.code(), 0, "200 characters (600 bytes) are fine: {}", exactly.body);
    let language =
        env.api(Method::POST, &path, Some(json!({"follow_ups": [{"content": "x", "i18n_contents": [{"content": "x", "language": "xx_yy"}]}]}))).await;
    assert_eq!(language.code(), 230001);
    assert!(
        language.body["msg"].as_str().unwrap().contains("follow_ups[0].i18n_contents[0].language"),
        "{}",
        language.body
    );
}

#[tokio::test]
async fn follow_ups_refuse_user_messages() {
    let env = start().await;
    let p2p = env.chat("p2p", Some("ou_gina")).await;
    let (_, seeded) = env
        .control(Method::POST, "/messages", Some(json!({"chat_id": p2p, "msg_type": "text", "content": "{\"text\":\"hi bot\"}", "sender_type": "user"})))
        .await;
    assert_eq!(seeded["sender_type"], "user");
    let answer = env
        .api(
            Method::POST,
            &follow_up_path(seeded["message_id"].as_str().unwrap()),
            Some(follow_ups(1)),
        )
        .await;
    assert_eq!(answer.code(), 230001);
    // A user message after the bot's makes the bot's one no longer the latest.
    let bot = env.send_ok(&p2p, "bot").await;
    env.control(Method::POST, "/messages", Some(json!({"chat_id": p2p, "msg_type": "text", "content": "{\"text\":\"thanks\"}", "sender_type": "user"}))).await;
    assert_eq!(
        env.api(Method::POST, &follow_up_path(&bot), Some(follow_ups(1))).await.code(),
        230006
    );
}

#[tokio::test]
async fn endpoints_without_behaviour_answer_their_example_or_empty_data() {
    let env = start().await;
    let pins = env.api(Method::GET, "/open-apis/im/v1/pins", None).await;
    assert_eq!(pins.body, json!({"code": 0, "msg": "success", "data": {}}));
    let batch = env.api(Method::POST, "/open-apis/message/v4/batch_send/", Some(json!({}))).await;
    assert_eq!(batch.code(), 0);
}
