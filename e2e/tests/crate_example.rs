//! The crate-level example of the generated client sends what the docs mean.
//!
//! The example is `no_run`, so nothing else notices if a string in it is
//! escaped once too often: this reads it from the generated source.

use std::path::PathBuf;

/// The Rust string literals of a line, unescaped (only the escapes the
/// generator writes: `\\`, `\"`, `\n`, `\t`).
fn string_literals(line: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut chars = line.chars();
    while chars.by_ref().any(|c| c == '"') {
        let mut value = String::new();
        loop {
            match chars.next().expect("unterminated string literal") {
                '"' => break,
                '\\' => match chars.next().expect("dangling escape") {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        }
        literals.push(value);
    }
    literals
}

#[test]
fn literals_are_unescaped_like_rust_does() {
    let line = r#"f("a", "{\\\"k\\\":1}", "\"q\"")"#;
    assert_eq!(string_literals(line), ["a", r#"{\"k\":1}"#, "\"q\""]);
}

/// The documented example of reply's path parameter `message_id`.
fn documented_message_id() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/im/message.json");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let reply = spec["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "im.v1.message.reply")
        .expect("reply is in spec/im/message.json");
    let param = reply["path_params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "message_id")
        .expect("reply has a message_id path parameter");
    param["example"].as_str().expect("message_id has a documented example").to_owned()
}

#[test]
fn crate_example_reply_arguments_are_the_documented_examples() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../generated/src/lib.rs");
    let source = std::fs::read_to_string(&path).unwrap();
    let line = source
        .lines()
        .find(|l| l.starts_with("//!") && l.contains("ReplyRequest::with_message("))
        .expect("the crate example builds a ReplyRequest");
    // ReplyRequest::with_message(MessageId::new(message_id), &MessageContent::text(text)):
    // the content is typed (MessageContent builds its JSON), so the message
    // id is what comes from the docs, and it must be their example as the
    // value itself, not escaped once more.
    let literals = string_literals(line);
    assert_eq!(literals.len(), 2, "{line}");
    assert_eq!(literals[0], documented_message_id(), "{line}");
    assert!(line.contains("&MessageContent::text("), "{line}");
}
