//! A paged list operation and a multipart upload, generated from a spec
//! written for this test, built in a crate of its own and run against a
//! scripted server: the emitted `pages()` / `items()` follow the tokens,
//! default `page_size` to the documented maximum, leave the request alone
//! and stop on a repeated token with the typed error; the typed upload
//! sends its form fields as text and its file with its real name, and
//! refuses a file over the documented size before sending anything.
//!
//! The crate is built in the workspace's own target directory so that the
//! dependencies the runtime's tests built are reused.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

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
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Serves tokens and 5 items in pages of `page_size`; `repeat` hands the
/// second page's token out again. Records each list query.
async fn server(repeat: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 { return; }
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        stream.read_line(&mut header).await.unwrap();
                        if header.trim().is_empty() { break; }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") { length = v.trim().parse().unwrap(); }
                    }
                    let mut body = vec![0u8; length];
                    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut body).await.unwrap();
                    let answer = if target.contains("tenant_access_token") {
                        r#"{"code":0,"msg":"ok","tenant_access_token":"t-1","expire":7200}"#.to_owned()
                    } else if target.contains("/pictures") {
                        log.lock().unwrap().push(String::from_utf8_lossy(&body).to_lowercase());
                        r#"{"code":0,"msg":"ok","data":{"picture_key":"p1"}}"#.to_owned()
                    } else {
                        let query = target.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
                        log.lock().unwrap().push(query.clone());
                        let param = |name: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_owned));
                        let size: usize = param("page_size").map_or(2, |s| s.parse().unwrap());
                        let start: usize = param("page_token").map_or(0, |t| t.parse().unwrap());
                        let end = (start + size).min(5);
                        let items: Vec<String> = (start..end).map(|i| format!("{{\"id\":\"i{i}\"}}")).collect();
                        let token = if repeat && start > 0 { start } else { end };
                        format!(r#"{{"code":0,"msg":"ok","data":{{"has_more":{},"page_token":"{token}","items":[{}]}}}}"#, end < 5, items.join(","))
                    };
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", answer.len());
                    let out = stream.get_mut();
                    if out.write_all(head.as_bytes()).await.is_err() || out.write_all(answer.as_bytes()).await.is_err() { return; }
                }
            });
        }
    });
    (url, seen)
}

fn client(url: &str) -> feishu_runtime::Client {
    feishu_runtime::Client::builder("cli", "secret").base_url(url).build().unwrap()
}

#[tokio::test]
async fn items_follow_the_tokens_with_the_documented_page_size() {
    let (url, seen) = server(false).await;
    let request = demo::demo::item::ListRequest::default().tag("x");
    let ids: Vec<String> = request.clone().items(&client(&url)).collect().await.unwrap().into_iter().map(|i| i.id.unwrap()).collect();
    assert_eq!(ids, ["i0", "i1", "i2", "i3", "i4"]);
    assert_eq!(*seen.lock().unwrap(), ["page_size=50&tag=x"]);
    assert_eq!(request.page_size, None, "the request is left alone");

    let (url, seen) = server(false).await;
    let pages = demo::demo::item::ListRequest::default().page_size(2).pages(&client(&url)).collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(*seen.lock().unwrap(), ["page_size=2", "page_size=2&page_token=2", "page_size=2&page_token=4"]);

    let (url, seen) = server(false).await;
    let two = demo::demo::item::ListRequest::default().page_size(2).items(&client(&url)).limit(3).collect().await.unwrap();
    assert_eq!(two.len(), 3);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_typed_upload_streams_its_file_with_its_name_and_checks_the_size_first() {
    let (url, seen) = server(false).await;
    let client = client(&url);
    let file = feishu_runtime::UploadFile::from_bytes(vec![7u8; 1024], "猫.png");
    let request = demo::demo::picture::CreateRequest::new("message", file).width(64);
    let created = demo::demo::picture::create(&client, request, Default::default()).await.unwrap();
    assert_eq!(created.picture_key.as_deref(), Some("p1"));
    let body = seen.lock().unwrap().last().cloned().unwrap();
    assert!(body.contains("name=\"picture_type\"\r\n\r\nmessage\r\n"), "{body}");
    assert!(body.contains("name=\"width\"\r\n\r\n64\r\n"), "{body}");
    assert!(body.contains("name=\"picture\"; filename=\"猫.png\"\r\ncontent-type: image/png"), "{body}");

    let calls = seen.lock().unwrap().len();
    let big = feishu_runtime::UploadFile::from_bytes(vec![7u8; 1025], "big.png");
    let error = demo::demo::picture::create(&client, demo::demo::picture::CreateRequest::new("message", big), Default::default()).await.unwrap_err();
    assert!(error.to_string().contains("picture"), "{error}");
    assert!(error.to_string().contains("1025 bytes"), "{error}");
    assert_eq!(seen.lock().unwrap().len(), calls, "nothing was sent");
}

#[test]
fn a_request_with_an_items_field_keeps_its_setter_and_gets_stream_methods() {
    let _setter: fn(demo::demo::tag::ListRequest, String) -> demo::demo::tag::ListRequest = |r, v| r.items(v);
    let _pages = demo::demo::tag::ListRequest::stream_pages;
    let _items = demo::demo::tag::ListRequest::stream_items;
}

#[tokio::test]
async fn a_repeated_token_ends_with_the_typed_error() {
    let (url, seen) = server(true).await;
    let mut pages = demo::demo::item::ListRequest::default().page_size(2).pages(&client(&url));
    assert!(pages.next().await.unwrap().is_ok());
    assert!(pages.next().await.unwrap().is_ok());
    let error = pages.next().await.unwrap().unwrap_err();
    let message = error.to_string();
    assert!(message.contains("hands out page_token \"2\" again"), "{message}");
    assert!(pages.next().await.is_none());
    assert_eq!(seen.lock().unwrap().len(), 2);
}
"##;

#[test]
fn a_generated_paged_operation_streams_against_a_scripted_server() {
    let root = workspace();
    let spec: feishu_spec::Spec = serde_json::from_str(SPEC).unwrap();
    let options = feishu_code::Options {
        crate_name: "demo".into(),
        runtime_path: root.join("runtime").to_string_lossy().into_owned(),
        spec_files: vec!["spec/demo/item.json".into()],
    };
    let generated = feishu_code::generate(&spec, &options);
    let list = &generated[Path::new("src/demo/item/list.rs")];
    assert!(list.contains("impl feishu_runtime::Paginated for ListResponse"), "{list}");
    // Two arrays: no guess, a note in the docs instead.
    let search = generated.iter().find(|(p, _)| p.to_string_lossy().contains("search")).map(|(_, t)| t).unwrap();
    assert!(!search.contains("Paginated"), "{search}");
    assert!(search.contains("2 arrays (items, suggestions)"), "{search}");

    let dir = std::env::temp_dir().join(format!("feishu-paging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in &generated {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let manifest = dir.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    // The tokio features the runtime's own tests use, so that the build
    // reuses what they built.
    toml.push_str("\n[dev-dependencies]\ntokio = { version = \"1\", features = [\"sync\", \"time\", \"fs\", \"io-util\", \"macros\", \"rt-multi-thread\", \"net\"] }\n\n[workspace]\n");
    std::fs::write(&manifest, toml).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("tests/stream.rs"), STREAM_TEST).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    // Generated code is clippy-clean with warnings denied.
    let clippy = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--offline", "--lib", "--", "-D", "warnings"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(clippy.status.success(), "clippy on the generated crate in {}:\n{}", dir.display(), String::from_utf8_lossy(&clippy.stderr));

    let output = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--offline", "--test", "stream"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the generated crate in {} fails:\n{stdout}\n{stderr}", dir.display());
    assert!(stdout.contains("4 passed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
