//! Message content: the exact JSON sent, round trips through
//! `to_content_string`/`from_parts`, received shapes, unknown types and
//! size limits.

use feishu_runtime::Validate;
use feishu_runtime::content::{
    self, AudioContent, CardContent, ContentError, FileContent, MediaContent, MessageContent,
    PostBody, PostContent, PostElement, TemplateCard, TextContent,
};
use serde_json::json;

fn round_trip(content: &MessageContent) {
    let string = content.to_content_string();
    let back = MessageContent::from_parts(content.msg_type(), &string)
        .unwrap_or_else(|e| panic!("{string}: {e}"));
    assert_eq!(&back, content, "{string}");
    assert_eq!(back.to_content_string(), string);
}

#[test]
fn text_json_is_exact_and_escaped() {
    let content = MessageContent::text("say \"hi\"\nback\\slash\ttab 你好 </at>");
    assert_eq!(content.msg_type(), "text");
    assert_eq!(
        content.to_content_string(),
        r#"{"text":"say \"hi\"\nback\\slash\ttab 你好 </at>"}"#
    );
    assert_eq!(MessageContent::text("").to_content_string(), r#"{"text":""}"#);
    let (msg_type, string) = content.to_parts();
    assert_eq!(msg_type, "text");
    assert_eq!(string, content.to_content_string());
}

#[test]
fn mentions_in_text() {
    let text = format!("{} {} look", TextContent::at("ou_1", "Tom"), TextContent::at_all());
    assert_eq!(text, r#"<at user_id="ou_1">Tom</at> <at user_id="all"></at> look"#);
    assert_eq!(
        MessageContent::text(text).to_content_string(),
        r#"{"text":"<at user_id=\"ou_1\">Tom</at> <at user_id=\"all\"></at> look"}"#
    );
    assert_eq!(TextContent::from("x"), TextContent::new("x"));
}

#[test]
fn exact_json_of_the_other_types() {
    let cases = [
        (MessageContent::image("img_1"), "image", r#"{"image_key":"img_1"}"#),
        (MessageContent::file("file_1"), "file", r#"{"file_key":"file_1"}"#),
        (MessageContent::audio("file_2"), "audio", r#"{"file_key":"file_2"}"#),
        (
            MessageContent::media("file_3", "img_3"),
            "media",
            r#"{"file_key":"file_3","image_key":"img_3"}"#,
        ),
        (MessageContent::sticker("file_4"), "sticker", r#"{"file_key":"file_4"}"#),
        (MessageContent::share_chat("oc_1"), "share_chat", r#"{"chat_id":"oc_1"}"#),
        (MessageContent::share_user("ou_1"), "share_user", r#"{"user_id":"ou_1"}"#),
        (
            MessageContent::card(json!({"elements": [{"tag": "div"}]})),
            "interactive",
            r#"{"elements":[{"tag":"div"}]}"#,
        ),
        (
            MessageContent::template("AAq1", json!({"name": "x"})),
            "interactive",
            r#"{"type":"template","data":{"template_id":"AAq1","template_variable":{"name":"x"}}}"#,
        ),
        (
            MessageContent::template("AAq1", serde_json::Value::Null),
            "interactive",
            r#"{"type":"template","data":{"template_id":"AAq1"}}"#,
        ),
    ];
    for (content, msg_type, json) in cases {
        assert_eq!(content.msg_type(), msg_type);
        assert_eq!(content.to_content_string(), json);
    }
}

#[test]
fn post_json() {
    let post = PostContent::zh_cn(
        PostBody::new("标题")
            .line(vec![
                PostElement::text("hi "),
                PostElement::at("ou_1"),
                PostElement::link("docs", "https://open.feishu.cn"),
            ])
            .line(vec![PostElement::image("img_1")])
            .line(vec![PostElement::hr()]),
    );
    assert_eq!(
        MessageContent::post(post).to_content_string(),
        concat!(
            r#"{"zh_cn":{"title":"标题","content":["#,
            r#"[{"tag":"text","text":"hi "},{"tag":"at","user_id":"ou_1"},{"tag":"a","text":"docs","href":"https://open.feishu.cn"}],"#,
            r#"[{"tag":"img","image_key":"img_1"}],"#,
            r#"[{"tag":"hr"}]]}}"#
        )
    );
}

#[test]
fn every_variant_round_trips() {
    let everything = PostBody::new("t").line(vec![
        PostElement::text("a"),
        PostElement::Text {
            text: "b".into(),
            un_escape: Some(true),
            style: vec!["bold".into(), "italic".into()],
        },
        PostElement::link("l", "https://example.com"),
        PostElement::At {
            user_id: "@_user_1".into(),
            user_name: Some("Tom".into()),
            style: vec![],
        },
        PostElement::image("img"),
        PostElement::media("file", Some("img".into())),
        PostElement::media("file", None),
        PostElement::emotion("SMILE"),
        PostElement::code_block("RUST", "fn main() {}"),
        PostElement::hr(),
        PostElement::markdown("**md**"),
        PostElement::Other(json!({"tag": "future", "x": [1, 2]})),
    ]);
    let cases = [
        MessageContent::text("hello \"world\"\n"),
        MessageContent::post(
            PostContent::zh_cn(everything.clone()).with_language("en_us", PostBody::new("en")),
        ),
        MessageContent::Post(PostContent::Single(everything)),
        MessageContent::image("img_1"),
        MessageContent::file("file_1"),
        MessageContent::File(FileContent {
            file_key: "file_1".into(),
            file_name: Some("a.pdf".into()),
        }),
        MessageContent::audio("file_2"),
        MessageContent::Audio(AudioContent { file_key: "file_2".into(), duration: Some(2000) }),
        MessageContent::media("file_3", "img_3"),
        MessageContent::Media(MediaContent::new("file_3")),
        MessageContent::sticker("file_4"),
        MessageContent::card(json!({"config": {"wide_screen_mode": true}, "elements": []})),
        MessageContent::card(json!({"type": "card", "data": {"card_id": "c1"}})),
        MessageContent::template("AAq1", json!({"k": [1, "v"]})),
        MessageContent::Interactive(CardContent::Template(
            TemplateCard::new("AAq2").with_variables(json!({})).with_version("1.0.3"),
        )),
        MessageContent::share_chat("oc_1"),
        MessageContent::share_user("ou_1"),
        MessageContent::from_parts("location", r#"{"name":"X","longitude":"1.5"}"#).unwrap(),
    ];
    for content in &cases {
        round_trip(content);
    }
}

#[test]
fn received_shapes_parse() {
    let post = MessageContent::from_parts(
        "post",
        r#"{"title":"T","content":[[{"tag":"text","text":"hi","style":["bold"]},{"tag":"at","user_id":"@_user_1","user_name":"Tom"}],[{"tag":"img","image_key":"img_1","width":10,"height":20}]]}"#,
    )
    .unwrap();
    let MessageContent::Post(post) = post else { panic!("not a post: {post:?}") };
    let body = post.get("zh_cn").expect("a single body answers every language");
    assert_eq!(body.title, "T");
    assert_eq!(
        body.content[0][1],
        PostElement::At {
            user_id: "@_user_1".into(),
            user_name: Some("Tom".into()),
            style: vec![]
        }
    );
    assert_eq!(body.content[1][0], PostElement::image("img_1"));

    let media = MessageContent::from_parts(
        "media",
        r#"{"file_key":"f","image_key":"i","file_name":"v.mp4","duration":3000}"#,
    )
    .unwrap();
    assert_eq!(
        media,
        MessageContent::Media(MediaContent {
            file_key: "f".into(),
            image_key: Some("i".into()),
            file_name: Some("v.mp4".into()),
            duration: Some(3000)
        })
    );
}

#[test]
fn unknown_msg_type_is_preserved() {
    let raw =
        r#"{"template":"{from_user} invited {to_chatters}","from_user":["A"],"to_chatters":["B"]}"#;
    let content = MessageContent::from_parts("system", raw).unwrap();
    match &content {
        MessageContent::Unknown { msg_type, content } => {
            assert_eq!(msg_type, "system");
            assert_eq!(content["from_user"], json!(["A"]));
        }
        other => panic!("not Unknown: {other:?}"),
    }
    assert_eq!(content.msg_type(), "system");
    assert_eq!(content.to_content_string(), raw);
    assert_eq!(content.validate(), Ok(()));
}

#[test]
fn malformed_content_names_its_msg_type() {
    for (msg_type, raw) in [
        ("text", "not json"),
        ("text", r#"{"text": 5}"#),
        ("image", "{}"),
        ("post", r#"{"zh_cn": "x"}"#),
        ("interactive", "{"),
        ("merge_forward", "Merged and Forwarded Message"),
    ] {
        let err = MessageContent::from_parts(msg_type, raw).unwrap_err();
        let ContentError::Malformed { msg_type: named, .. } = &err else {
            panic!("unexpected error {err:?}")
        };
        assert_eq!(named, msg_type);
        assert!(err.to_string().contains(&format!("`{msg_type}`")), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}

#[test]
fn size_limits_at_the_boundary() {
    for (msg_type, limit) in [("text", 153_600), ("post", 30_720), ("interactive", 30_720)] {
        assert_eq!(content::size_limit(msg_type), Some(limit));
        assert_eq!(content::check_size(msg_type, &"x".repeat(limit)), Ok(()));
        let err = content::check_size(msg_type, &"x".repeat(limit + 1)).unwrap_err();
        assert_eq!(err.field, "content");
        assert_eq!(err.rule, content::MAX_SIZE);
        assert_eq!(
            err.detail,
            format!(
                "`{msg_type}` content of {} bytes exceeds the maximum of {limit} bytes",
                limit + 1
            )
        );
    }
    // Bytes, not characters: 3 bytes per character here.
    assert!(content::check_size("post", &"你".repeat(10_240)).is_ok());
    assert!(content::check_size("post", &format!("{}x", "你".repeat(10_240))).is_err());
    assert_eq!(content::size_limit("image"), None);
    assert!(content::check_size("image", &"x".repeat(1 << 20)).is_ok());
    assert!(content::check_size("something_new", &"x".repeat(1 << 20)).is_ok());
}

#[test]
fn validate_measures_the_content_string() {
    // `{"text":"…"}` adds 11 bytes around the text.
    let at_limit = MessageContent::text("x".repeat(153_600 - 11));
    assert_eq!(at_limit.to_content_string().len(), 153_600);
    assert_eq!(at_limit.validate(), Ok(()));
    let over = MessageContent::text("x".repeat(153_600 - 10));
    assert_eq!(over.validate().unwrap_err().rule, content::MAX_SIZE);
    // Escapes count: each newline is two bytes in the string.
    let escaped = MessageContent::text("\n".repeat(76_795));
    assert_eq!(escaped.to_content_string().len(), 153_601);
    assert!(escaped.validate().is_err());
    let card = MessageContent::card(json!({"s": "y".repeat(30_720)}));
    assert!(card.validate().is_err());
    assert!(MessageContent::image("x".repeat(100_000)).validate().is_ok());
}
