//! A paged list generated from a page of the third-party doc corpus
//! (`../shared/corpus/raw`, next to the workspace; skipped when absent):
//! helpdesk's FAQ list becomes a typed operation with `items()`, built in a
//! crate of its own and run against a scripted server. A corpus list whose
//! response has no `has_more` is diagnosed instead.

mod support;

use feishu_model::{Model, OperationKind, Paging};
use support::{GeneratedCrate, corpus, pages};

fn paging(model: &Model, id: &str) -> Paging {
    let op = model
        .services
        .values()
        .flat_map(|s| s.resources.values())
        .flat_map(|r| &r.operations)
        .find(|o| o.id == id)
        .unwrap();
    match &op.kind {
        OperationKind::Typed(d) => d.paging.clone(),
        OperationKind::Catalogue { .. } => panic!("{id} is not detailed"),
    }
}

/// Runs in the generated crate: a scripted server with 7 FAQs.
const STREAM_TEST: &str = r##"
use feishu_testkit::{Recorded, Reply, Server};
use serde_json::json;

/// Lists 7 FAQs in pages of at most 3, whatever `page_size` asks for.
fn faqs(request: &Recorded) -> Reply {
    let query = request.query.clone().unwrap_or_default();
    let param = |name: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_owned));
    let size: usize = param("page_size").map_or(20, |s| s.parse().unwrap()).min(3);
    let start: usize = param("page_token").map_or(0, |t| t.trim_start_matches("t").parse().unwrap());
    let end = (start + size).min(7);
    let items: Vec<_> = (start..end).map(|i| json!({"faq_id": format!("f{i}")})).collect();
    Reply::ok(json!({"has_more": end < 7, "page_token": format!("t{end}"), "items": items}))
}

#[tokio::test]
async fn the_faq_list_streams_every_item() {
    let server = Server::with_token("t-1", faqs).await;
    let client = feishu_runtime::Client::builder("cli", "secret").base_url(server.url()).build().unwrap();
    let request = corpus::helpdesk::faq::ListRequest::default().status("1");
    let ids: Vec<String> = request.items(&client).collect().await.unwrap().into_iter().map(|faq| faq.faq_id.unwrap()).collect();
    assert_eq!(ids, ["f0", "f1", "f2", "f3", "f4", "f5", "f6"]);
    let seen: Vec<String> = server.api_requests().into_iter().map(|r| r.query.unwrap_or_default()).collect();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|q| q.contains("page_size=100") && q.contains("status=1")), "{seen:?}");
    assert!(seen[1].contains("page_token=t3") && seen[2].contains("page_token=t6"), "{seen:?}");
}
"##;

#[test]
fn a_corpus_list_pages_through_a_scripted_server() {
    let Some(corpus) = corpus("corpus_paging", "raw") else { return };
    let faq = "helpdesk-v1/faq-management/faq/list.md";
    let odd = "mdm-v1/mdm-v3/country_region/list.md";
    let spec = feishu_docs::parse_pages(&pages(&corpus, &[faq, odd])).spec;
    let model = Model::build(&spec);
    let Paging::Paged(p) = paging(&model, "helpdesk.v1.faq.list") else {
        panic!("the FAQ list is not paged")
    };
    assert_eq!(
        (p.items.as_str(), p.next_token.as_str(), p.page_size),
        ("items", "page_token", Some(("page_size".to_owned(), 100)))
    );
    match paging(&model, "mdm.v3.country_region.list") {
        Paging::Odd(why) => assert!(why.contains("no boolean has_more"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        model.diagnostics(),
        [
            "mdm.v3.country_region.list: paging: the request takes a page_token but the response has no boolean has_more"
        ]
    );

    let spec = feishu_docs::parse_pages(&pages(&corpus, &[faq])).spec;
    let options = feishu_code::Options {
        crate_name: "corpus".into(),
        runtime_path: support::runtime_path(),
        spec_files: vec!["spec/helpdesk/faq.json".into()],
        ..feishu_code::Options::default()
    };
    let generated = GeneratedCrate::write("corpus-paging", &feishu_code::generate(&spec, &options));
    generated.add_test("stream", STREAM_TEST);
    let output =
        generated.run(&mut generated.cargo(&["test", "--quiet", "--offline", "--test", "stream"]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 passed"), "{stdout}");
}
