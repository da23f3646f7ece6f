//! A paged list generated from a page of the third-party doc corpus
//! (`../shared/corpus/raw`, next to the workspace; skipped when absent):
//! helpdesk's FAQ list becomes a typed operation with `items()`, built in a
//! crate of its own and run against a scripted server. A corpus list whose
//! response has no `has_more` is diagnosed instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use feishu_model::{Model, OperationKind, Paging};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn parse(corpus: &Path, pages: &[&str]) -> feishu_spec::Spec {
    let pages: Vec<(String, String)> = pages.iter().map(|p| (p.to_string(), std::fs::read_to_string(corpus.join(p)).unwrap())).collect();
    feishu_docs::parse_pages(&pages).spec
}

fn paging(model: &Model, id: &str) -> Paging {
    let op = model.services.values().flat_map(|s| s.resources.values()).flat_map(|r| &r.operations).find(|o| o.id == id).unwrap();
    match &op.kind {
        OperationKind::Typed(d) => d.paging.clone(),
        OperationKind::Catalogue { .. } => panic!("{id} is not detailed"),
    }
}

/// Runs in the generated crate: a scripted server with 7 FAQs.
const STREAM_TEST: &str = r##"
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

async fn server() -> (String, Arc<Mutex<Vec<String>>>) {
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
                    stream.read_exact(&mut body).await.unwrap();
                    let answer = if target.contains("tenant_access_token") {
                        r#"{"code":0,"msg":"ok","tenant_access_token":"t-1","expire":7200}"#.to_owned()
                    } else {
                        let query = target.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
                        log.lock().unwrap().push(query.clone());
                        let param = |name: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_owned));
                        let size: usize = param("page_size").map_or(20, |s| s.parse().unwrap()).min(3);
                        let start: usize = param("page_token").map_or(0, |t| t.trim_start_matches("t").parse().unwrap());
                        let end = (start + size).min(7);
                        let items: Vec<String> = (start..end).map(|i| format!("{{\"faq_id\":\"f{i}\"}}")).collect();
                        format!(r#"{{"code":0,"msg":"ok","data":{{"has_more":{},"page_token":"t{end}","items":[{}]}}}}"#, end < 7, items.join(","))
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

#[tokio::test]
async fn the_faq_list_streams_every_item() {
    let (url, seen) = server().await;
    let client = feishu_runtime::Client::builder("cli", "secret").base_url(url).build().unwrap();
    let request = corpus::helpdesk::faq::ListRequest::default().status("1");
    let ids: Vec<String> = request.items(&client).collect().await.unwrap().into_iter().map(|faq| faq.faq_id.unwrap()).collect();
    assert_eq!(ids, ["f0", "f1", "f2", "f3", "f4", "f5", "f6"]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|q| q.contains("page_size=100") && q.contains("status=1")), "{seen:?}");
    assert!(seen[1].contains("page_token=t3") && seen[2].contains("page_token=t6"), "{seen:?}");
}
"##;

#[test]
fn a_corpus_list_pages_through_a_scripted_server() {
    let root = workspace();
    let corpus = root.join("../shared/corpus/raw");
    if !corpus.is_dir() {
        println!("corpus_paging: {} is absent; nothing to check", corpus.display());
        return;
    }
    let faq = "helpdesk-v1/faq-management/faq/list.md";
    let odd = "mdm-v1/mdm-v3/country_region/list.md";
    let spec = parse(&corpus, &[faq, odd]);
    let model = Model::build(&spec);
    let Paging::Paged(p) = paging(&model, "helpdesk.v1.faq.list") else { panic!("the FAQ list is not paged") };
    assert_eq!((p.items.as_str(), p.next_token.as_str(), p.page_size), ("items", "page_token", Some(("page_size".to_owned(), 100))));
    match paging(&model, "mdm.v3.country_region.list") {
        Paging::Odd(why) => assert!(why.contains("no boolean has_more"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(model.diagnostics(), ["mdm.v3.country_region.list: paging: the request takes a page_token but the response has no boolean has_more"]);

    let spec = parse(&corpus, &[faq]);
    let options = feishu_code::Options {
        crate_name: "corpus".into(),
        runtime_path: root.join("runtime").to_string_lossy().into_owned(),
        spec_files: vec!["spec/helpdesk/faq.json".into()],
    };
    let generated = feishu_code::generate(&spec, &options);
    let dir = std::env::temp_dir().join(format!("feishu-corpus-paging-{}", std::process::id()));
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
    let output = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--offline", "--test", "stream"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the generated crate in {} fails:\n{stdout}\n{}", dir.display(), String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
