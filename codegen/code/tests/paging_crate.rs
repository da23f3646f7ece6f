//! A paged list operation and a multipart upload, generated from a spec
//! written for this test, built in a crate of its own and run against a
//! scripted server: the emitted `pages()` / `items()` follow the tokens,
//! default `page_size` to the documented maximum, leave the request alone
//! and stop on a repeated token with the typed error; the typed upload
//! sends its form fields as text and its file with its real name, and
//! refuses a file over the documented size before sending anything.

mod support;

use std::path::Path;

use support::GeneratedCrate;

const SPEC: &str = r#"{
  "endpoints": [{
    "id": "demo.v1.item.list", "service": "demo", "version": "v1", "resource": "item", "name": "list",
    "title": "List items", "method": "GET", "path": "/open-apis/demo/v1/items",
    "detailed": true, "access_tokens": ["tenant_access_token"],
    "query_params": [
      {"name": "page_size", "type": "integer", "type_name": "int", "constraints": {"minimum": 1, "maximum": 50}},
      {"name": "page_token", "type": "string", "type_name": "string"},
      {"name": "tag", "type": "string", "type_name": "string"}
    ],
    "response_body": [
      {"name": "has_more", "type": "boolean", "type_name": "boolean"},
      {"name": "page_token", "type": "string", "type_name": "string"},
      {"name": "items", "type": "array", "type_name": "item[]", "item_type": "object",
       "children": [{"name": "id", "type": "string", "type_name": "string"}]}
    ]
  }, {
    "id": "demo.v1.item.search", "service": "demo", "version": "v1", "resource": "item", "name": "search",
    "title": "Search items", "method": "GET", "path": "/open-apis/demo/v1/items/search",
    "detailed": true, "access_tokens": ["tenant_access_token"],
    "query_params": [{"name": "page_token", "type": "string", "type_name": "string"}],
    "response_body": [
      {"name": "has_more", "type": "boolean", "type_name": "boolean"},
      {"name": "page_token", "type": "string", "type_name": "string"},
      {"name": "items", "type": "array", "type_name": "string[]", "item_type": "string"},
      {"name": "suggestions", "type": "array", "type_name": "string[]", "item_type": "string"}
    ]
  }, {
    "id": "demo.v1.tag.list", "service": "demo", "version": "v1", "resource": "tag", "name": "list",
    "title": "List tags", "method": "GET", "path": "/open-apis/demo/v1/tags",
    "detailed": true, "access_tokens": ["tenant_access_token"],
    "query_params": [
      {"name": "items", "type": "string", "type_name": "string"},
      {"name": "page_token", "type": "string", "type_name": "string"}
    ],
    "response_body": [
      {"name": "has_more", "type": "boolean", "type_name": "boolean"},
      {"name": "page_token", "type": "string", "type_name": "string"},
      {"name": "tags", "type": "array", "type_name": "string[]", "item_type": "string"}
    ]
  }, {
    "id": "demo.v1.picture.create", "service": "demo", "version": "v1", "resource": "picture", "name": "create",
    "title": "Upload a picture", "method": "POST", "path": "/open-apis/demo/v1/pictures",
    "detailed": true, "access_tokens": ["tenant_access_token"], "request_content_type": "multipart",
    "request_body": [
      {"name": "picture_type", "type": "string", "type_name": "string", "required": true,
       "constraints": {"enum": [{"value": "message", "description": "for messages"}, {"value": "avatar", "description": "for avatars"}]}},
      {"name": "width", "type": "integer", "type_name": "int"},
      {"name": "picture", "type": "file", "type_name": "file", "required": true, "description": "The picture; its size may not exceed 1 KB."}
    ],
    "response_body": [{"name": "picture_key", "type": "string", "type_name": "string"}]
  }],
  "events": [{"type": "demo.item.created_v1", "service": "demo", "resource": "item", "title": "Item created"}]
}"#;

/// Runs in the generated crate: a scripted server in-process.
const STREAM_TEST: &str = r##"
use feishu_testkit::{Recorded, Reply, Server};
use serde_json::json;

/// Serves tokens and 5 items in pages of `page_size`; `repeat` hands the
/// second page's token out again. A picture upload gets a key.
async fn start(repeat: bool) -> Server {
    Server::with_token("t-1", move |request: &Recorded| {
        if request.path.ends_with("/pictures") {
            return Reply::ok(json!({"picture_key": "p1"}));
        }
        let query = request.query.clone().unwrap_or_default();
        let param = |name: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_owned));
        let size: usize = param("page_size").map_or(2, |s| s.parse().unwrap());
        let start: usize = param("page_token").map_or(0, |t| t.parse().unwrap());
        let end = (start + size).min(5);
        let items: Vec<_> = (start..end).map(|i| json!({"id": format!("i{i}")})).collect();
        let token = if repeat && start > 0 { start } else { end };
        Reply::ok(json!({"has_more": end < 5, "page_token": token.to_string(), "items": items}))
    })
    .await
}

/// The query of each list request and the body (lower-cased) of each upload.
fn seen(server: &Server) -> Vec<String> {
    let seen = |r: Recorded| if r.path.ends_with("/pictures") { String::from_utf8_lossy(&r.body).to_lowercase() } else { r.query.unwrap_or_default() };
    server.api_requests().into_iter().map(seen).collect()
}

fn client(server: &Server) -> feishu_runtime::Client {
    feishu_runtime::Client::builder("cli", "secret").base_url(server.url()).build().unwrap()
}

#[tokio::test]
async fn items_follow_the_tokens_with_the_documented_page_size() {
    let server = start(false).await;
    let request = demo::demo::item::ListRequest::default().tag("x");
    let ids: Vec<String> = request.clone().items(&client(&server)).collect().await.unwrap().into_iter().map(|i| i.id.unwrap()).collect();
    assert_eq!(ids, ["i0", "i1", "i2", "i3", "i4"]);
    assert_eq!(seen(&server), ["page_size=50&tag=x"]);
    assert_eq!(request.page_size, None, "the request is left alone");

    let server = start(false).await;
    let pages = demo::demo::item::ListRequest::default().page_size(2).pages(&client(&server)).collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(seen(&server), ["page_size=2", "page_size=2&page_token=2", "page_size=2&page_token=4"]);

    let server = start(false).await;
    let two = demo::demo::item::ListRequest::default().page_size(2).items(&client(&server)).limit(3).collect().await.unwrap();
    assert_eq!(two.len(), 3);
    assert_eq!(seen(&server).len(), 2);
}

#[tokio::test]
async fn a_typed_upload_streams_its_file_with_its_name_and_checks_the_size_first() {
    let server = start(false).await;
    let client = client(&server);
    let file = feishu_runtime::UploadFile::from_bytes(vec![7u8; 1024], "猫.png");
    let request = demo::demo::picture::CreateRequest::new("message", file).width(64);
    let created = demo::demo::picture::create(&client, request, Default::default()).await.unwrap();
    assert_eq!(created.picture_key.as_deref(), Some("p1"));
    let body = seen(&server).last().cloned().unwrap();
    assert!(body.contains("name=\"picture_type\"\r\n\r\nmessage\r\n"), "{body}");
    assert!(body.contains("name=\"width\"\r\n\r\n64\r\n"), "{body}");
    assert!(body.contains("name=\"picture\"; filename=\"猫.png\"\r\ncontent-type: image/png"), "{body}");

    let calls = seen(&server).len();
    let big = feishu_runtime::UploadFile::from_bytes(vec![7u8; 1025], "big.png");
    let error = demo::demo::picture::create(&client, demo::demo::picture::CreateRequest::new("message", big), Default::default()).await.unwrap_err();
    assert!(error.to_string().contains("picture"), "{error}");
    assert!(error.to_string().contains("1025 bytes"), "{error}");
    assert_eq!(seen(&server).len(), calls, "nothing was sent");
}

#[test]
fn a_request_with_an_items_field_keeps_its_setter_and_gets_stream_methods() {
    let _setter: fn(demo::demo::tag::ListRequest, String) -> demo::demo::tag::ListRequest = |r, v| r.items(v);
    let _pages = demo::demo::tag::ListRequest::stream_pages;
    let _items = demo::demo::tag::ListRequest::stream_items;
}

#[tokio::test]
async fn a_repeated_token_ends_with_the_typed_error() {
    let server = start(true).await;
    let mut pages = demo::demo::item::ListRequest::default().page_size(2).pages(&client(&server));
    assert!(pages.next().await.unwrap().is_ok());
    assert!(pages.next().await.unwrap().is_ok());
    let error = pages.next().await.unwrap().unwrap_err();
    let message = error.to_string();
    assert!(message.contains("hands out page_token \"2\" again"), "{message}");
    assert!(pages.next().await.is_none());
    assert_eq!(seen(&server).len(), 2);
}
"##;

#[test]
fn a_generated_paged_operation_streams_against_a_scripted_server() {
    let spec: feishu_spec::Spec = serde_json::from_str(SPEC).unwrap();
    let options = feishu_code::Options {
        crate_name: "demo".into(),
        runtime_path: support::runtime_path(),
        spec_files: vec!["spec/demo/item.json".into()],
        ..feishu_code::Options::default()
    };
    let generated = feishu_code::generate(&spec, &options);
    let list = &generated[Path::new("src/demo/item/list.rs")];
    assert!(list.contains("impl feishu_runtime::Paginated for ListResponse"), "{list}");
    // Two arrays: no guess, a note in the docs instead.
    let search = generated
        .iter()
        .find(|(p, _)| p.to_string_lossy().contains("search"))
        .map(|(_, t)| t)
        .unwrap();
    assert!(!search.contains("Paginated"), "{search}");
    assert!(search.contains("2 arrays (items, suggestions)"), "{search}");

    let generated = GeneratedCrate::write("paging", &generated);
    generated.add_test("stream", STREAM_TEST);
    // Generated code is clippy-clean with warnings denied.
    generated.run(&mut generated.cargo(&[
        "clippy",
        "--quiet",
        "--offline",
        "--lib",
        "--",
        "-D",
        "warnings",
    ]));
    let output =
        generated.run(&mut generated.cargo(&["test", "--quiet", "--offline", "--test", "stream"]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("4 passed"), "{stdout}");
}
