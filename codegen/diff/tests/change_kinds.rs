//! One test per change kind: edit a copy of a seed page the way the docs would
//! change, read both versions with the doc parser, diff them, and check the
//! report's line and its breaking mark.

use std::path::{Path, PathBuf};

use feishu_diff::{ChangeKind, Report, diff};
use feishu_spec::Spec;

const REPLY: &str = "im/v1/message/reply.md";
const PUSH: &str = "im/v1/message/push_follow_up.md";
const REACTION: &str = "im/v1/message_reaction/create.md";
const INTRODUCTION: &str = "im/v1/introduction.md";

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/tests/seeds")
}

fn page(name: &str) -> String {
    std::fs::read_to_string(docs().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse(pages: &[(&str, &str)]) -> Spec {
    let pages: Vec<(String, String)> =
        pages.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    feishu_docs::parse_pages(&pages).spec
}

/// Replaces the first `from` after `anchor` (the empty anchor is the page's
/// start) with `to`, failing when the page does not change.
fn edit(text: &str, anchor: &str, from: &str, to: &str) -> String {
    let start = text.find(anchor).unwrap_or_else(|| panic!("anchor {anchor:?} not in the page"));
    let at =
        start + text[start..].find(from).unwrap_or_else(|| panic!("{from:?} not after {anchor:?}"));
    let edited = format!("{}{to}{}", &text[..at], &text[at + from.len()..]);
    assert_ne!(edited, text, "the edit must change the page");
    edited
}

/// Diffs one page before and after an edit.
fn diff_page(name: &str, edit_page: impl Fn(&str) -> String) -> Report {
    let old = page(name);
    let new = edit_page(&old);
    assert_ne!(old, new, "the edit must change the page");
    let report = diff(&parse(&[(name, &old)]), &parse(&[(name, &new)]));
    assert!(!report.is_empty(), "the edit of {name} changed no API:\n{}", report.to_markdown());
    report
}

/// Asserts that the report has `line` (with its mark) as a change of `kind`.
fn assert_line(report: &Report, kind: ChangeKind, line: &str) {
    let markdown = report.to_markdown();
    let found = report.changes.iter().find(|c| c.to_markdown() == line);
    let change = found.unwrap_or_else(|| panic!("missing line\n{line}\nin\n{markdown}"));
    assert_eq!(change.kind, kind, "{line}");
    assert!(markdown.lines().any(|l| l == line), "{markdown}");
    assert_eq!(report.is_breaking(), report.changes.iter().any(|c| c.breaking));
}

#[test]
fn unchanged_pages_report_nothing() {
    let pages = [REPLY, PUSH, REACTION].map(|n| (n, page(n)));
    let pages: Vec<(&str, &str)> = pages.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let report = diff(&parse(&pages), &parse(&pages));
    assert!(report.is_empty());
    assert!(!report.is_breaking());
    assert_eq!(report.to_markdown(), "## API changes\n\nNo API changes.\n");
}

#[test]
fn max_length_lowered_is_a_breaking_tightening() {
    let report = diff_page(REPLY, |p| edit(p, "最大长度", "`50`", "`40`"));
    assert_line(
        &report,
        ChangeKind::ConstraintTightened,
        "- **breaking**: request body field `uuid`: max length 50 → 40 (tighter)",
    );
    assert!(report.is_breaking());
    assert_eq!(report.changes.len(), 1, "{}", report.to_markdown());
}

#[test]
fn max_length_raised_is_a_non_breaking_loosening() {
    let report = diff_page(REPLY, |p| edit(p, "最大长度", "`50`", "`60`"));
    assert_line(
        &report,
        ChangeKind::ConstraintLoosened,
        "- non-breaking: request body field `uuid`: max length 50 → 60 (looser)",
    );
    assert!(!report.is_breaking());
}

#[test]
fn min_length_raised_is_a_breaking_tightening() {
    let report = diff_page(PUSH, |p| edit(p, "气泡的内容", "`1` ～ `200`", "`2` ～ `200`"));
    assert_line(
        &report,
        ChangeKind::ConstraintTightened,
        "- **breaking**: request body field `follow_ups[].content`: min length 1 → 2 (tighter)",
    );
}

#[test]
fn fewer_items_allowed_is_a_breaking_tightening() {
    let report = diff_page(PUSH, |p| edit(p, "跟随气泡列表", "`1` ～ `3`", "`1` ～ `2`"));
    assert_line(
        &report,
        ChangeKind::ConstraintTightened,
        "- **breaking**: request body field `follow_ups`: max items 3 → 2 (tighter)",
    );
}

#[test]
fn more_items_allowed_is_a_non_breaking_loosening() {
    let report = diff_page(PUSH, |p| edit(p, "气泡的多语言内容", "`0` ～ `50`", "`0` ～ `100`"));
    assert_line(
        &report,
        ChangeKind::ConstraintLoosened,
        "- non-breaking: request body field `follow_ups[].i18n_contents`: max items 50 → 100 (looser)",
    );
}

#[test]
fn optional_field_made_required_breaks() {
    let report = diff_page(REPLY, |p| edit(p, ">reply_in_thread<", "否", "是"));
    assert_line(
        &report,
        ChangeKind::RequiredChanged,
        "- **breaking**: request body field `reply_in_thread`: now required",
    );
}

#[test]
fn required_field_made_optional_breaks() {
    let report =
        diff_page(PUSH, |p| edit(p, "content | string | 是 | 气泡的内容", "| 是 |", "| 否 |"));
    assert_line(
        &report,
        ChangeKind::RequiredChanged,
        "- **breaking**: request body field `follow_ups[].content`: no longer required",
    );
}

/// A request body row of reply.md in its HTML shape.
fn reply_row(name: &str, ty: &str, required: &str) -> String {
    format!(
        "<md-dt-tr level=\"0\">\n\t<md-dt-td>\n\t<md-text type=\"field-name\" >{name}</md-text>\n\t</md-dt-td>\n\t<md-dt-td>\n\t<md-text type=\"field-type\" >{ty}</md-text>\n\t</md-dt-td>\n\t<md-dt-td>\n\t{required}\n\t</md-dt-td>\n\t<md-dt-td>\n\t新的参数。\n\t</md-dt-td>\n</md-dt-tr>\n\n"
    )
}

/// Inserts a row before the `uuid` row of reply.md's request body.
fn add_reply_row(page: &str, row: &str) -> String {
    let uuid = page.find(">uuid<").expect("reply.md has a uuid row");
    let row_start =
        page[..uuid].rfind("<md-dt-tr level=\"0\">").expect("the uuid row starts before its name");
    format!("{}{row}{}", &page[..row_start], &page[row_start..])
}

#[test]
fn optional_request_field_added_does_not_break() {
    let report = diff_page(REPLY, |p| add_reply_row(p, &reply_row("silent", "boolean", "否")));
    assert_line(
        &report,
        ChangeKind::FieldAdded,
        "- non-breaking: request body field `silent` added (boolean, optional)",
    );
    assert!(!report.is_breaking(), "{}", report.to_markdown());
}

#[test]
fn required_request_field_added_breaks() {
    let report = diff_page(REPLY, |p| add_reply_row(p, &reply_row("tenant_key", "string", "是")));
    assert_line(
        &report,
        ChangeKind::FieldAdded,
        "- **breaking**: request body field `tenant_key` added (string, required)",
    );
}

#[test]
fn request_field_removed_breaks() {
    let report = diff_page(REPLY, |p| {
        let uuid = p.find(">uuid<").unwrap();
        let start = p[..uuid].rfind("<md-dt-tr level=\"0\">").unwrap();
        let end = uuid + p[uuid..].find("</md-dt-tr>").unwrap() + "</md-dt-tr>".len();
        format!("{}{}", &p[..start], &p[end..])
    });
    assert_line(
        &report,
        ChangeKind::FieldRemoved,
        "- **breaking**: request body field `uuid` removed",
    );
}

#[test]
fn request_field_retyped_breaks() {
    let report = diff_page(REPLY, |p| edit(p, ">reply_in_thread<", ">boolean<", ">int<"));
    assert_line(
        &report,
        ChangeKind::FieldRetyped,
        "- **breaking**: request body field `reply_in_thread`: type `boolean` → `integer`",
    );
}

#[test]
fn response_field_added_does_not_break() {
    let report =
        diff_page(REACTION, |p| edit(p, "└ action_time", "\n", "\n└ note | string | 备注。 |\n"));
    assert_line(
        &report,
        ChangeKind::FieldAdded,
        "- non-breaking: response field `note` added (string)",
    );
}

#[test]
fn response_field_removed_breaks() {
    let report = diff_page(REACTION, |p| {
        edit(p, "", "└ action_time | string | 添加消息表情回复的时间。Unix 时间戳,单位:ms |\n", "")
    });
    assert_line(
        &report,
        ChangeKind::FieldRemoved,
        "- **breaking**: response field `action_time` removed",
    );
}

#[test]
fn enum_value_removed_from_a_request_field_breaks() {
    let report = diff_page(PUSH, |p| edit(p, "", "- ko_kr：韩语  \n", ""));
    assert_line(
        &report,
        ChangeKind::EnumValueRemoved,
        "- **breaking**: request body field `follow_ups[].i18n_contents[].language`: value `ko_kr` removed",
    );
}

#[test]
fn enum_value_added_does_not_break() {
    let report = diff_page(PUSH, |p| {
        edit(p, "- ms_my：马来语", "- ms_my：马来语", "- ms_my：马来语  \n- ar_sa：阿拉伯语")
    });
    assert_line(
        &report,
        ChangeKind::EnumValueAdded,
        "- non-breaking: request body field `follow_ups[].i18n_contents[].language`: value `ar_sa` added (阿拉伯语)",
    );
    assert!(!report.is_breaking());
}

#[test]
fn default_changed_is_reported_without_breaking() {
    let report = diff_page(REPLY, |p| edit(p, "**默认值**", "`false`", "`true`"));
    assert_line(
        &report,
        ChangeKind::DefaultChanged,
        "- non-breaking: request body field `reply_in_thread`: default `false` → `true`",
    );
    assert!(!report.is_breaking());
}

#[test]
fn error_code_added_does_not_break() {
    let report = diff_page(PUSH, |p| {
        edit(p, "| 230008 |", "\n", "\n400 | 230009 | too many follow ups. | 气泡过多。\n")
    });
    assert_line(
        &report,
        ChangeKind::ErrorCodeAdded,
        "- non-breaking: error code 230009 added (HTTP 400): too many follow ups.",
    );
}

#[test]
fn error_code_removed_breaks() {
    let report = diff_page(PUSH, |p| {
        edit(
            p,
            "",
            "400 | 230008 | follow up already exist. | 指定消息已添加跟随气泡，无法执行本次操作。\n",
            "",
        )
    });
    assert_line(
        &report,
        ChangeKind::ErrorCodeRemoved,
        "- **breaking**: error code 230008 removed (HTTP 400): follow up already exist.",
    );
}

#[test]
fn a_reworded_error_message_renames_its_variant_and_breaks() {
    let report = diff_page(PUSH, |p| {
        edit(p, "| 230008 |", "follow up already exist.", "follow ups were added before.")
    });
    assert_line(
        &report,
        ChangeKind::ErrorVariantRenamed,
        "- **breaking**: error code 230008: variant `FollowUpAlreadyExist` renamed to `FollowUpsAddedBefore` (the docs' message changed: \"follow up already exist.\" → \"follow ups were added before.\")",
    );
    // The same words in another case give the same name: nothing to report.
    let old = page(PUSH);
    let new = edit(&old, "| 230008 |", "follow up already exist.", "Follow Up Already Exist.");
    let report = diff(&parse(&[(PUSH, &old)]), &parse(&[(PUSH, &new)]));
    assert!(
        !report.changes.iter().any(|c| c.kind == ChangeKind::ErrorVariantRenamed),
        "{}",
        report.to_markdown()
    );
}

#[test]
fn scope_changes_are_reported_without_breaking() {
    let report = diff_page(PUSH, |p| {
        edit(p, "", "以应用的身份发消息(im:message:send_as_bot)", "发送消息V2(im:message:send)")
    });
    assert_line(
        &report,
        ChangeKind::ScopeRemoved,
        "- non-breaking: scope `im:message:send_as_bot` removed",
    );
    assert_line(&report, ChangeKind::ScopeAdded, "- non-breaking: scope `im:message:send` added");
    assert!(!report.is_breaking());
}

#[test]
fn token_type_removed_that_changes_the_auth_breaks() {
    let report = diff_page(REACTION, |p| {
        edit(
            p,
            "| Authorization |",
            "tenant_access_token 或 user_access_token",
            "user_access_token",
        )
    });
    assert_line(
        &report,
        ChangeKind::AccessTokenRemoved,
        "- **breaking**: access token `tenant_access_token` no longer accepted (the call authenticates as `Auth::TenantOrUser` → `Auth::User`)",
    );
}

#[test]
fn token_type_added_does_not_break() {
    let report = diff_page(PUSH, |p| {
        edit(
            p,
            "Authorization |",
            "`tenant_access_token`",
            "`tenant_access_token` 或 `user_access_token`",
        )
    });
    assert_line(
        &report,
        ChangeKind::AccessTokenAdded,
        "- non-breaking: access token `user_access_token` now accepted (the call authenticates as `Auth::Tenant` → `Auth::TenantOrUser`)",
    );
}

#[test]
fn rate_limit_change_is_reported_without_breaking() {
    let report = diff_page(REPLY, |p| edit(p, "接口频率限制", "50 次/秒", "20 次/秒"));
    assert_line(
        &report,
        ChangeKind::RateLimitChanged,
        "- non-breaking: rate limit `1000 次/分钟、50 次/秒` → `1000 次/分钟、20 次/秒`: per second 50 → 20 (tighter)",
    );
}

#[test]
fn per_receiver_limit_change_is_reported() {
    let report =
        diff_page(REPLY, |p| edit(p, "向同一用户发送消息的限频为", "==5 QPS==", "==3 QPS=="));
    assert_line(
        &report,
        ChangeKind::RateLimitChanged,
        "- non-breaking: rate limit `1000 次/分钟、50 次/秒` → `1000 次/分钟、50 次/秒`: per receiver per second 5 → 3 (tighter)",
    );
}

#[test]
fn endpoints_added_and_removed() {
    let reply = page(REPLY);
    let push = page(PUSH);
    let both = parse(&[(REPLY, &reply), (PUSH, &push)]);
    let one = parse(&[(REPLY, &reply)]);
    let removed = diff(&both, &one);
    assert_line(
        &removed,
        ChangeKind::EndpointRemoved,
        "- **breaking**: endpoint removed: POST `/open-apis/im/v1/messages/:message_id/push_follow_up`",
    );
    assert_eq!(removed.changes.len(), 1);
    let added = diff(&one, &both);
    assert_line(
        &added,
        ChangeKind::EndpointAdded,
        "- non-breaking: endpoint added: POST `/open-apis/im/v1/messages/:message_id/push_follow_up` (typed)",
    );
    assert!(!added.is_breaking());
    assert!(added.to_markdown().contains("### `im.v1.message.push_follow_up` — POST `/open-apis/im/v1/messages/:message_id/push_follow_up` (添加跟随气泡)"));
}

#[test]
fn catalogue_entry_documented_in_detail_breaks() {
    let introduction = page(INTRODUCTION);
    let push = page(PUSH);
    let catalogue = parse(&[(INTRODUCTION, &introduction)]);
    let detailed = parse(&[(INTRODUCTION, &introduction), (PUSH, &push)]);
    let report = diff(&catalogue, &detailed);
    assert_line(
        &report,
        ChangeKind::DetailChanged,
        "- **breaking**: now documented in detail: the function takes and returns typed structs instead of JSON",
    );
    assert!(
        report.changes.iter().all(|c| c.endpoint == "im.v1.message.push_follow_up" || !c.breaking),
        "{}",
        report.to_markdown()
    );
}

#[test]
fn report_groups_changes_under_their_endpoint() {
    let report = diff_page(REPLY, |p| {
        edit(&edit(p, "最大长度", "`50`", "`40`"), "**默认值**", "`false`", "`true`")
    });
    let markdown = report.to_markdown();
    assert!(markdown.starts_with("## API changes\n\n2 changes: 1 breaking, 1 non-breaking.\n\n### `im.v1.message.reply` — POST `/open-apis/im/v1/messages/:message_id/reply` (回复消息)\n\n"), "{markdown}");
}

/// An event page the project wrote for its tests (a made-up event in the
/// docs' source shape), shared with the emitter's tests.
const EVENT_PAGE: &str = "demo/v1/note/events/shared.md";

fn event_page() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../code/tests/fixtures/demo_note_shared.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Diffs the event page before and after an edit.
fn diff_event(edit_page: impl Fn(&str) -> String) -> Report {
    let old = event_page();
    let new = edit_page(&old);
    let report = diff(&parse(&[(EVENT_PAGE, &old)]), &parse(&[(EVENT_PAGE, &new)]));
    assert!(!report.is_empty(), "the edit changed no API");
    report
}

/// The `<md-dt-tr>` row of the event body field `name`, from its opening tag.
fn event_row(page: &str, name: &str) -> String {
    let at = page.find(&format!(">{name}</md-text>")).unwrap_or_else(|| panic!("no row {name}"));
    let start = page[..at].rfind("<md-dt-tr").unwrap();
    let end = at + page[at..].find("</md-dt-tr>").unwrap() + "</md-dt-tr>\n".len();
    page[start..end].to_owned()
}

#[test]
fn event_field_removed_breaks() {
    let report = diff_event(|p| p.replace(&event_row(p, "is_public"), ""));
    assert_line(
        &report,
        ChangeKind::FieldRemoved,
        "- **breaking**: event field `is_public` removed",
    );
}

#[test]
fn event_field_retyped_breaks() {
    let report = diff_event(|p| {
        let row = event_row(p, "shared_at");
        p.replace(&row, &row.replace(">int<", ">string<"))
    });
    assert_line(
        &report,
        ChangeKind::FieldRetyped,
        "- **breaking**: event field `shared_at`: type `integer` → `string`",
    );
}

#[test]
fn event_field_added_does_not_break() {
    let report = diff_event(|p| {
        let row = event_row(p, "is_public");
        p.replace(&row, &format!("{row}{}", row.replace(">is_public<", ">pinned<")))
    });
    assert_line(
        &report,
        ChangeKind::FieldAdded,
        "- non-breaking: event field `pinned` added (boolean)",
    );
    assert!(!report.is_breaking());
}

#[test]
fn enum_value_removed_from_an_event_field_breaks() {
    let report = diff_event(|p| {
        edit(p, "", "<md-enum-item key=\"member\" >直接添加为协作者</md-enum-item>\n", "")
    });
    assert_line(
        &report,
        ChangeKind::EnumValueRemoved,
        "- **breaking**: event field `share_kind`: value `member` removed",
    );
}

#[test]
fn an_event_body_documented_for_the_first_time_breaks() {
    let page = event_page();
    let body_start = page.find("### 事件体\n").unwrap();
    let body_end = page.find("### 事件体示例").unwrap();
    let catalogue_like = format!("{}{}", &page[..body_start], &page[body_end..]);
    let old = parse(&[(EVENT_PAGE, &catalogue_like)]);
    assert!(old.events[0].body.is_empty(), "the page without its body table is untyped");
    let report = diff(&old, &parse(&[(EVENT_PAGE, &page)]));
    assert_line(
        &report,
        ChangeKind::DetailChanged,
        "- **breaking**: now typed: its body decodes into a struct and its own `Event` variant instead of `Event::Unknown`",
    );
    assert_eq!(report.changes.len(), 1, "no line per field:\n{}", report.to_markdown());
    let report = diff(&Spec::default(), &parse(&[(EVENT_PAGE, &page)]));
    assert_line(&report, ChangeKind::EventAdded, "- non-breaking: event added (typed)");
}
