//! The local doc portal (`SandboxConfig::docs`): the tree and page calls,
//! re-reading the folder, faults aimed at one page, canned answers, and the
//! portal being off without a folder.

mod common;

use std::path::PathBuf;

use common::{config, start, start_with};
use reqwest::Method;
use serde_json::json;

const TREE: &str = "/api/tools/docment/directory_list";
const DETAIL: &str = "/document_portal/v1/document/get_detail";

fn folder(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sandbox-portal-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("im")).unwrap();
    std::fs::write(
        dir.join("im/send.md"),
        "---\ntitle: \"Send\"\nfullPath: \"/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create\"\nupdateTime: \"1700\"\nid: \"42\"\n---\n\n# Send\nText.\n",
    )
    .unwrap();
    std::fs::write(dir.join("im/bare.md"), "# Bare\nNo header.\n").unwrap();
    dir
}

#[tokio::test]
async fn serves_the_tree_and_pages_from_the_folder() {
    let dir = folder("serve");
    let mut config = config();
    config.docs = Some(dir.clone());
    let env = start_with(config).await;

    let tree = env.raw(Method::GET, TREE, None, None).await;
    assert_eq!((tree.status, tree.code()), (200, 0));
    let server_api = &tree.body["data"]["items"][0];
    assert_eq!(
        (server_api["id"].as_u64(), server_api["fullPath"].as_str()),
        (Some(103), Some("/uAjLw4CM/ukTMukTMukTM"))
    );
    let im = &server_api["items"][0];
    assert_eq!((im["type"].as_str(), im["name"].as_str()), (Some("DirectoryType"), Some("im")));
    let pages: Vec<(&str, &str)> = im["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["type"].as_str().unwrap(), p["fullPath"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pages,
        [
            ("DocumentType", "/uAjLw4CM/ukTMukTMukTM/im/bare"),
            ("DocumentType", "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create")
        ]
    );

    let page = env
        .raw(
            Method::GET,
            &format!("{DETAIL}?fullPath=/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create"),
            None,
            None,
        )
        .await;
    assert_eq!(page.code(), 0);
    assert_eq!(
        page.body["data"],
        json!({"id": "42", "fullPath": "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create", "type": "DocumentType", "title": "Send", "name": "Send", "updateTime": 1700, "content": "\n# Send\nText.\n"})
    );
    let bare = env
        .raw(
            Method::GET,
            &format!("{DETAIL}?fullPath=%2FuAjLw4CM%2FukTMukTMukTM%2Fim%2Fbare"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (bare.body["data"]["title"].as_str(), bare.body["data"]["content"].as_str()),
        (Some("Bare"), Some("# Bare\nNo header.\n"))
    );
    let missing = env.raw(Method::GET, &format!("{DETAIL}?fullPath=/nowhere"), None, None).await;
    assert_eq!((missing.status, missing.code()), (200, 404));

    // Edit, add and delete pages on disk: the portal follows.
    std::fs::write(
        dir.join("im/send.md"),
        "---\ntitle: \"Send\"\nfullPath: \"/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create\"\nupdateTime: \"1800\"\n---\nNew text.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("new.md"),
        "---\nfullPath: /uAjLw4CM/ukTMukTMukTM/new\n---\nNew page.\n",
    )
    .unwrap();
    std::fs::remove_file(dir.join("im/bare.md")).unwrap();
    let page = env
        .raw(
            Method::GET,
            &format!("{DETAIL}?fullPath=/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (page.body["data"]["updateTime"].as_i64(), page.body["data"]["content"].as_str()),
        (Some(1800), Some("New text.\n"))
    );
    let added = env
        .raw(Method::GET, &format!("{DETAIL}?fullPath=/uAjLw4CM/ukTMukTMukTM/new"), None, None)
        .await;
    assert_eq!(added.code(), 0, "a page added since the last tree is found");
    let gone = env
        .raw(Method::GET, &format!("{DETAIL}?fullPath=/uAjLw4CM/ukTMukTMukTM/im/bare"), None, None)
        .await;
    assert_eq!(gone.code(), 404);
    let tree = env.raw(Method::GET, TREE, None, None).await;
    assert_eq!(
        tree.body["data"]["items"][0]["items"].as_array().unwrap().len(),
        2,
        "{}",
        tree.body
    );

    let (_, stats) = env.control(Method::GET, "/portal", None).await;
    assert_eq!(
        (stats["directory_list"].as_u64(), stats["get_detail"].as_u64(), stats["pages"].as_u64()),
        (Some(2), Some(6), Some(2))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn faults_aim_at_one_page_and_canned_answers_stand_in() {
    let dir = folder("faults");
    let mut config = config();
    config.docs = Some(dir.clone());
    let env = start_with(config).await;
    let send = format!("{DETAIL}?fullPath=/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create");
    let bare = format!("{DETAIL}?fullPath=/uAjLw4CM/ukTMukTMukTM/im/bare");

    env.fault(
        json!({"kind": "too_many_requests", "retry_after": 7, "count": 1, "path_prefix": send}),
    )
    .await;
    env.fault(json!({"kind": "not_json", "count": 1, "path_prefix": DETAIL})).await;
    let limited = env.raw(Method::GET, &send, None, None).await;
    assert_eq!((limited.status, limited.header("retry-after")), (429, Some("7")));
    let html = env.raw(Method::GET, &bare, None, None).await;
    assert!(
        html.status == 200 && html.body.as_str().is_some_and(|b| b.starts_with("<html>")),
        "{}",
        html.body
    );
    assert_eq!(env.raw(Method::GET, &bare, None, None).await.code(), 0, "each rule fired once");
    env.fault(json!({"kind": "not_json"})).await;
    assert_eq!(
        env.raw(Method::GET, &bare, None, None).await.code(),
        0,
        "a rule without a path_prefix stays on /open-apis"
    );

    let (status, _) = env
        .control(
            Method::POST,
            "/portal/answers",
            Some(json!({"path_prefix": TREE, "body": "{\"code\":5,\"msg\":\"nope\"}", "count": 1})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.raw(Method::GET, TREE, None, None).await.code(), 5);
    assert_eq!(env.raw(Method::GET, TREE, None, None).await.code(), 0);
    let (status, body) = env
        .control(
            Method::POST,
            "/portal/answers",
            Some(json!({"path_prefix": "/open-apis", "body": "x"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_a_folder_the_portal_is_off() {
    let env = start().await;
    let answer = env.raw(Method::GET, TREE, None, None).await;
    assert_eq!(answer.status, 404);
}
