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
    // The same literals, compiled.
    assert_eq!("{\\\"k\\\":1}", r#"{\"k\":1}"#);
}

#[test]
fn crate_example_reply_content_is_json() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../generated/src/lib.rs");
    let source = std::fs::read_to_string(&path).unwrap();
    let line = source
        .lines()
        .find(|l| l.starts_with("//!") && l.contains("ReplyRequest::with_message("))
        .expect("the crate example builds a ReplyRequest");
    let literals = string_literals(line);
    // ReplyRequest::with_message(MessageId::new(message_id), &MessageContent::text(text)):
    // the content is typed, so only the message id comes from the docs.
    assert_eq!(literals.len(), 2, "{line}");
    let message_id = &literals[0];
    assert!(
        message_id.starts_with("om_")
            && message_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "the example's message id {message_id:?} is not one ({line})"
    );
    let content = feishu::MessageContent::text(literals[1].as_str()).to_content_string();
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(&content);
    assert!(
        parsed.is_ok_and(|v| v.is_object()),
        "the example's content {content:?} is not a JSON object ({line})"
    );
}
