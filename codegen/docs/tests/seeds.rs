//! The project's own pages: a snapshot of each page's spec and of
//! the merged spec, plus the facts the issue names, asserted one by one so that
//! a snapshot update cannot quietly drop them.
//!
//! The pages are read from `tests/seeds/`, byte-for-byte copies of the five
//! seed pages of `spec/docs` in their four shapes (HTML-comment header with
//! `fullPath`, YAML header with `source_url`, no header, SDK examples). The
//! parser's tests, `codegen/diff`'s and xtask's read them there, so every shape
//! stays covered whatever `spec/docs` holds after `cargo xtask docs sync`.

use std::path::{Path, PathBuf};

use feishu_spec::{AccessToken, AppType, ContentType, Endpoint, Spec};

fn docs_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds")
}

fn pages() -> Vec<(String, String)> {
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for e in entries {
            if e.is_dir() { walk(&e, out) } else { out.push(e) }
        }
    }
    walk(&docs_root(), &mut files);
    files
        .iter()
        .map(|f| {
            (
                f.strip_prefix(docs_root()).unwrap().to_string_lossy().replace('\\', "/"),
                std::fs::read_to_string(f).unwrap(),
            )
        })
        .collect()
}

fn snapshot_text(spec: &Spec, diagnostics: &[feishu_docs::Diagnostic]) -> String {
    let mut text = spec.to_json();
    text.push_str("\n--- diagnostics ---\n");
    for d in diagnostics {
        text.push_str(&format!("{d}\n"));
    }
    text
}

#[test]
fn each_seed_page_snapshot() {
    for (file, text) in pages() {
        let (spec, diagnostics) = feishu_docs::read_page(&file, &text);
        let name = file.replace(['/', '.'], "_");
        insta::assert_snapshot!(name, snapshot_text(&spec, &diagnostics));
    }
}

#[test]
fn merged_seed_snapshot() {
    let parsed = feishu_docs::parse_pages(&pages());
    insta::assert_snapshot!("merged", snapshot_text(&parsed.spec, &parsed.diagnostics));
}

fn merged() -> Spec {
    feishu_docs::parse_pages(&pages()).spec
}

fn endpoint<'a>(spec: &'a Spec, id: &str) -> &'a Endpoint {
    spec.endpoints.iter().find(|e| e.id == id).unwrap_or_else(|| panic!("no endpoint {id}"))
}

#[test]
fn catalogue_has_34_endpoints_and_5_events() {
    let spec = merged();
    assert_eq!(spec.endpoints.len(), 34);
    assert_eq!(spec.endpoints.iter().filter(|e| e.detailed).count(), 3);
    let events: Vec<&str> = spec.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        events,
        [
            "im.message.message_read_v1",
            "im.message.reaction.created_v1",
            "im.message.reaction.deleted_v1",
            "im.message.recalled_v1",
            "im.message.receive_v1"
        ]
    );
    assert!(
        spec.events
            .iter()
            .all(|e| !e.scopes.is_empty() && e.app_types == [AppType::Custom, AppType::Isv])
    );
    for ep in &spec.endpoints {
        assert!(ep.path.starts_with("/open-apis/"), "{}", ep.path);
        assert!(!ep.access_tokens.is_empty(), "{} has no token types", ep.id);
        assert_eq!(ep.app_types, [AppType::Custom, AppType::Isv], "{}", ep.id);
    }
    let pins = endpoint(&spec, "im.v1.pin.list");
    assert_eq!(pins.access_tokens, [AccessToken::TenantAccessToken, AccessToken::UserAccessToken]);
    assert!(pins.scopes.iter().any(|s| s.name == "im:message.pins:read"));
}

#[test]
fn push_follow_up_is_the_union_of_two_pages() {
    let spec = merged();
    let ep = endpoint(&spec, "im.v1.message.push_follow_up");
    assert_eq!(ep.sources.len(), 3);
    let rate = ep.rate_limit.as_ref().unwrap();
    assert_eq!((rate.per_second, rate.per_minute), (Some(50), Some(1000)));
    assert_eq!(ep.request_content_type, Some(ContentType::Json));
    let follow_ups = &ep.request_body[0];
    assert_eq!((follow_ups.name.as_str(), follow_ups.required), ("follow_ups", true));
    assert_eq!(
        (follow_ups.constraints.min_items, follow_ups.constraints.max_items),
        (Some(1), Some(3))
    );
    let content = &follow_ups.children[0];
    assert_eq!(
        (content.constraints.min_length, content.constraints.max_length),
        (Some(1), Some(200))
    );
    let i18n = &follow_ups.children[1];
    assert_eq!(i18n.name, "i18n_contents");
    assert_eq!(i18n.constraints.max_items, Some(50));
    let language = &i18n.children[1];
    assert_eq!(language.constraints.enum_values.len(), 16);
    assert_eq!(language.constraints.enum_values[0].value, "en_us");
    assert_eq!(ep.errors.len(), 8);
    assert_eq!(ep.errors.iter().find(|e| e.code == 230002).unwrap().message, "expired message.");
    assert!(ep.path_params[0].example.as_deref() == Some("om_3210a18894e206715a4359115f4cf2f5"));
}

#[test]
fn reply_carries_rules_defaults_and_sub_codes() {
    let spec = merged();
    let ep = endpoint(&spec, "im.v1.message.reply");
    let field = |name: &str| ep.request_body.iter().find(|f| f.name == name).unwrap();
    assert_eq!(field("uuid").constraints.max_length, Some(50));
    assert_eq!(field("reply_in_thread").default.as_deref(), Some("false"));
    assert_eq!(field("msg_type").constraints.enum_values.len(), 10);
    assert!(field("content").required);
    let sub = &ep.errors.iter().find(|e| e.code == 230099).unwrap().sub_errors;
    assert_eq!(sub.len(), 10);
    assert_eq!(sub[0].code, 100290);
    // 230002 means something else here than on push_follow_up: codes belong to endpoints.
    assert!(
        ep.errors
            .iter()
            .find(|e| e.code == 230002)
            .unwrap()
            .message
            .contains("bot can not be outside")
    );
    let sender = ep.response_body.iter().find(|f| f.name == "sender").unwrap();
    assert_eq!(sender.children.len(), 4);
    assert_eq!(ep.scopes.len(), 3);
}

#[test]
fn reaction_create_nesting_rebuilt_from_example() {
    let spec = merged();
    let ep = endpoint(&spec, "im.v1.message_reaction.create");
    assert_eq!(ep.access_tokens, [AccessToken::TenantAccessToken, AccessToken::UserAccessToken]);
    let operator = ep.response_body.iter().find(|f| f.name == "operator").unwrap();
    assert_eq!(
        operator.children.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["operator_id", "operator_type"]
    );
    assert_eq!(ep.request_body[0].children[0].example.as_deref(), Some("SMILE"));
    assert_eq!(ep.errors.len(), 19);
}
