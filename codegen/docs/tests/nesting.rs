//! Issue 32's three classes of misplaced fields, one fixture page per class and
//! shape, written for these tests (no corpus page is copied). Each test states
//! the whole tree its page must give, as an indented outline.

use feishu_docs::DiagnosticKind;
use feishu_spec::{Endpoint, Field};

/// The tree as an outline: one field a line, two spaces a level.
fn outline(fields: &[Field]) -> String {
    fn go(fields: &[Field], depth: usize, out: &mut String) {
        for f in fields {
            out.push_str(&format!("{}{}\n", "  ".repeat(depth), f.name));
            go(&f.children, depth + 1, out);
        }
    }
    let mut out = String::new();
    go(fields, 0, &mut out);
    out
}

/// The one endpoint a page describes, and its diagnostics.
fn read(text: &str) -> (Endpoint, Vec<feishu_docs::Diagnostic>) {
    let (spec, diagnostics) = feishu_docs::read_page("fixture.md", text);
    assert_eq!(spec.endpoints.len(), 1, "{diagnostics:#?}");
    (spec.endpoints.into_iter().next().unwrap(), diagnostics)
}

/// A page whose body tables are given: the basic-information table first.
fn page(path: &str, method: &str, body: &str) -> String {
    format!(
        "# A fixture\n\n## 请求\n\n| 名称 | 值 |\n| --- | --- |\n| HTTP URL | https://open.feishu.cn/open-apis/{path} |\n| HTTP Method | {method} |\n\n{body}"
    )
}

/// `(name, type, level)` rows as an `<md-dt-table>` (the docs' own source).
fn structured(rows: &[(&str, &str, usize)]) -> String {
    let mut out = String::from(
        ":::html\n<md-dt-table>\n<md-dt-thead><md-dt-tr><md-dt-th>名称</md-dt-th><md-dt-th>类型</md-dt-th><md-dt-th>描述</md-dt-th></md-dt-tr></md-dt-thead>\n<md-dt-tbody>\n",
    );
    for (name, kind, level) in rows {
        out.push_str(&format!(
            "<md-dt-tr level=\"{level}\">\n<md-dt-td><md-text type=\"field-name\" >{name}</md-text></md-dt-td>\n<md-dt-td><md-text type=\"field-type\" >{}</md-text></md-dt-td>\n<md-dt-td>说明</md-dt-td>\n</md-dt-tr>\n",
            kind.replace("[]", "\\[\\]")
        ));
    }
    out.push_str("</md-dt-tbody>\n</md-dt-table>\n:::\n");
    out
}

/// The same rows as a GFM pipe table, nesting drawn with `&nbsp;&nbsp;└`.
fn gfm(rows: &[(&str, &str, usize)]) -> String {
    let mut out = String::from("| 名称 | 类型 | 描述 |\n| --- | --- | --- |\n");
    for (name, kind, level) in rows {
        let mark = if *level == 0 {
            String::new()
        } else {
            format!("{}└ ", "&nbsp;&nbsp;".repeat(*level))
        };
        out.push_str(&format!("| {mark}`{name}` | `{}` | 说明 |\n", kind.replace("[]", "\\[\\]")));
    }
    out
}

fn json(title: &str, value: &str) -> String {
    format!("### {title}\n\n```json\n{value}\n```\n")
}

/// Class 1: a four-level structured tree, arrays of objects at levels 2 and
/// 4 and a sibling after each. Names repeat from level to level, and the
/// example's first section has no `layout`: the deep `name` and `kind` must
/// stay in `tiles`, and what follows them where the levels say.
#[test]
fn a_deep_structured_tree_keeps_its_levels() {
    let rows = [
        ("catalog", "catalog", 0),
        ("name", "string", 1),
        ("sections", "section[]", 1),
        ("name", "string", 2),
        ("kind", "string", 2),
        ("layout", "layout", 2),
        ("tiles", "tile[]", 3),
        ("name", "string", 4),
        ("kind", "string", 4),
        ("kind", "string", 3),
        ("position", "int", 2),
        ("owner", "string", 1),
        ("dry_run", "boolean", 0),
    ];
    let example = r#"{"catalog": {"name": "Spring", "sections": [
        {"name": "Intro", "kind": "text", "position": 1},
        {"name": "Plates", "kind": "grid", "position": 2,
         "layout": {"tiles": [{"name": "Fern", "kind": "photo"}], "kind": "masonry"}}
    ], "owner": "ou_41"}, "dry_run": false}"#;
    let body = format!("### 请求体\n\n{}\n{}", structured(&rows), json("请求体示例", example));
    let (ep, _) = read(&page("shop/v1/catalogs", "POST", &body));
    assert_eq!(
        outline(&ep.request_body),
        "catalog\n  name\n  sections\n    name\n    kind\n    layout\n      tiles\n        name\n        kind\n      kind\n    position\n  owner\ndry_run\n"
    );
}

/// Class 2: a nested array (`labels`) followed by two sub-objects with
/// children. The example leaves both sub-objects out of the entry, which has
/// `id` and `name` keys of its own: their `id` and `name` stay theirs.
fn sub_objects_after_a_nested_array(table: fn(&[(&str, &str, usize)]) -> String) {
    let rows = [
        ("code", "int", 0),
        ("data", "-", 0),
        ("entries", "entry[]", 1),
        ("id", "string", 2),
        ("name", "string", 2),
        ("labels", "label[]", 2),
        ("text", "string", 3),
        ("author", "person", 2),
        ("id", "string", 3),
        ("name", "string", 3),
        ("editor", "person", 2),
        ("id", "string", 3),
        ("name", "string", 3),
        ("has_more", "boolean", 1),
    ];
    let example = r#"{"code": 0, "data": {"entries": [{"id": "e7", "name": "Memo", "labels": [{"text": "red"}]}], "has_more": false}}"#;
    let body =
        format!("## 响应\n\n### 响应体\n\n{}\n{}", table(&rows), json("响应体示例", example));
    let (ep, _) = read(&page("notes/v1/entries", "GET", &body));
    assert_eq!(
        outline(&ep.response_body),
        "entries\n  id\n  name\n  labels\n    text\n  author\n    id\n    name\n  editor\n    id\n    name\nhas_more\n"
    );
}

#[test]
fn sub_objects_after_a_nested_array_structured() {
    sub_objects_after_a_nested_array(structured);
}

#[test]
fn sub_objects_after_a_nested_array_gfm() {
    sub_objects_after_a_nested_array(gfm);
}

/// Class 3: a flat table (no nesting marks) whose example omits the three
/// top-level fields after an array field. They stay at the top level, never
/// inside the array, and each guess is a diagnostic naming the field.
#[test]
fn a_flat_page_keeps_fields_the_example_omits_out_of_the_array() {
    let body = "### 请求体\n\n名称 | 类型 | 必填 | 描述\n--- | --- | --- | ---\ntopic | string | 是 | 主题\nattendees | attendee[] | 是 | 参会人\nuser_id | string | 是 | 用户\nrole | string | 否 | 角色\nremind | boolean | 否 | 是否提醒\nlocation | string | 否 | 地点\nnotes | string | 否 | 备注\n\n"
        .to_string()
        + &json(
            "请求体示例",
            r#"{"topic": "Standup", "attendees": [{"user_id": "ou_9", "role": "host"}]}"#,
        );
    let (ep, diagnostics) = read(&page("meet/v1/meetings", "POST", &body));
    assert_eq!(
        outline(&ep.request_body),
        "topic\nattendees\n  user_id\n  role\nremind\nlocation\nnotes\n"
    );
    let guessed: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::NestingGuessed)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(guessed.len(), 3, "{guessed:#?}");
    for (message, field) in guessed.iter().zip(["remind", "location", "notes"]) {
        assert!(message.contains(&format!("`{field}`")), "{message}");
        assert!(message.contains("top level"), "{message}");
    }
}
