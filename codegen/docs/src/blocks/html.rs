//! The docs' own HTML-in-markdown: `<md-table>`, `<md-dt-table>` with
//! `<md-dt-tr level="N">`, `<md-perm>`, `<md-tag>`, `<md-enum>`,
//! `<md-code-json>`, read with scraper.

use std::sync::OnceLock;

use feishu_spec::{AccessToken, AppType, EnumValue, Scope};
use scraper::{ElementRef, Html, Node, Selector};

use crate::blocks::{Block, Cell, Code, Row, Table, Text};
use crate::page::Page;
use crate::text;

const TOP: &str = "md-table, md-dt-table, md-code-json";
const ROW: &str = "md-tr, md-dt-tr";

fn selector(css: &'static str) -> &'static Selector {
    static TOP_SEL: OnceLock<Selector> = OnceLock::new();
    static ROW_SEL: OnceLock<Selector> = OnceLock::new();
    let cell = if css == TOP { &TOP_SEL } else { &ROW_SEL };
    cell.get_or_init(|| Selector::parse(css).expect("the selectors are valid CSS"))
}

/// Appends the blocks of an HTML `region` starting at byte `start` of the page.
pub fn blocks(page: &Page<'_>, start: usize, region: &str, out: &mut Vec<Block>) {
    let doc = Html::parse_fragment(region);
    let tops: Vec<usize> = tag_offsets(region, &["<md-table", "<md-dt-table", "<md-code-json"]);
    let rows: Vec<usize> = tag_offsets(region, &["<md-tr", "<md-dt-tr"]);
    let line_at =
        |offsets: &[usize], k: usize| page.line_of(start + offsets.get(k).copied().unwrap_or(0));
    let all_rows: Vec<ElementRef<'_>> = doc.select(selector(ROW)).collect();
    let mut found = false;
    for (k, element) in doc.select(selector(TOP)).enumerate() {
        if has_table_ancestor(element) {
            continue;
        }
        found = true;
        let line = line_at(&tops, k);
        if element.value().name() == "md-code-json" {
            // The source, not the DOM: JSON strings may hold `<tags>` the HTML parser would eat.
            let text = tops.get(k).map_or("", |&at| code_source(&region[at..]));
            out.push(Block::Code(Code {
                line,
                lang: "json".into(),
                text: text.trim().to_string(),
            }));
            continue;
        }
        let mut table = Table { line, ..Table::default() };
        for row in element.select(selector(ROW)) {
            let index = all_rows.iter().position(|r| r.id() == row.id()).unwrap_or(usize::MAX);
            let in_head = row
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name().ends_with("thead"));
            let mut cells = Vec::new();
            let mut keyed = false;
            for (c, child) in row.children().filter_map(ElementRef::wrap).enumerate() {
                let name = child.value().name();
                if c == 0 && name.ends_with("th") && !in_head {
                    keyed = true;
                }
                cells.push(cell(child));
            }
            if in_head {
                table.header = cells.into_iter().map(|c| text::plain(&c.text)).collect();
                continue;
            }
            let level = row.value().attr("level").and_then(|l| l.trim().parse().ok());
            table.rows.push(Row { line: line_at(&rows, index), level, cells, keyed });
        }
        if table.header.is_empty() {
            // Some tables put the header in a bare `<tr>` the HTML parser drops;
            // its `<md-th>` cells survive as the thead's direct children.
            if let Some(head) = element
                .children()
                .filter_map(ElementRef::wrap)
                .find(|e| e.value().name().ends_with("thead"))
            {
                table.header = head
                    .descendants()
                    .filter_map(ElementRef::wrap)
                    .filter(|e| e.value().name().ends_with("th"))
                    .map(|e| text::plain(&cell(e).text))
                    .collect();
            }
        }
        out.push(Block::Table(table));
    }
    if !found {
        let text = text::clean(&doc.root_element().text().collect::<String>());
        if !text.is_empty() {
            out.push(Block::Text(Text { line: page.line_of(start), text }));
        }
    }
}

fn has_table_ancestor(element: ElementRef<'_>) -> bool {
    element
        .ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| matches!(a.value().name(), "md-table" | "md-dt-table"))
}

/// The text between `<md-code-json …>` at the start of `from` and its closing tag.
fn code_source(from: &str) -> &str {
    let Some(open_end) = from.find('>') else { return "" };
    let body = &from[open_end + 1..];
    body.find("</md-code-json>").map_or(body, |end| &body[..end])
}

/// Byte offsets of the start tags, in source order.
fn tag_offsets(region: &str, tags: &[&str]) -> Vec<usize> {
    let mut offsets = Vec::new();
    for tag in tags {
        for (i, _) in region.match_indices(tag) {
            let next = region[i + tag.len()..].chars().next();
            if matches!(next, Some('>' | ' ' | '\t' | '\n' | '\r' | '/')) {
                offsets.push(i);
            }
        }
    }
    offsets.sort_unstable();
    offsets
}

/// Reads one cell: its text as markdown, and the tags inside it.
fn cell(element: ElementRef<'_>) -> Cell {
    let mut out = Cell::default();
    let mut raw = String::new();
    walk(element, &mut raw, &mut out);
    out.text = text::clean(&raw);
    out
}

fn walk(element: ElementRef<'_>, raw: &mut String, cell: &mut Cell) {
    for child in element.children() {
        match child.value() {
            Node::Text(t) => raw.push_str(t),
            Node::Element(e) => {
                let Some(child_ref) = ElementRef::wrap(child) else { continue };
                match e.name() {
                    "br" => raw.push('\n'),
                    "md-perm" => {
                        let name = e.attr("name").unwrap_or("").trim().to_string();
                        let description = e
                            .attr("desc")
                            .map(str::to_string)
                            .unwrap_or_else(|| child_ref.text().collect());
                        if !name.is_empty() && !cell.scopes.iter().any(|s| s.name == name) {
                            cell.scopes.push(Scope {
                                name: name.clone(),
                                description: description.trim().to_string(),
                            });
                        }
                        raw.push_str(&format!("{} ({name})\n", description.trim()));
                    }
                    "md-tag" => {
                        let kind = e.attr("type").unwrap_or("");
                        let label: String = child_ref.text().collect();
                        if let Some(token) = AccessToken::parse(kind)
                            .or_else(|| AccessToken::parse(&label))
                            .filter(|_| kind.starts_with("token") || label.contains("access_token"))
                            && !cell.tokens.contains(&token)
                        {
                            cell.tokens.push(token);
                        }
                        raw.push_str(&label);
                    }
                    "md-app-support" => {
                        for t in e.attr("types").unwrap_or("").split([',', ' ']) {
                            let app = match t.trim() {
                                "custom" => Some(AppType::Custom),
                                "isv" => Some(AppType::Isv),
                                _ => None,
                            };
                            if let Some(app) = app.filter(|a| !cell.app_types.contains(a)) {
                                cell.app_types.push(app);
                            }
                        }
                        raw.push_str(e.attr("types").unwrap_or(""));
                    }
                    "md-enum-item" => {
                        let value = e.attr("key").unwrap_or("").trim().to_string();
                        let description = text::clean(&child_ref.text().collect::<String>());
                        raw.push_str(&format!("\n- {value}：{description}\n"));
                        cell.enum_values.push(EnumValue { value, description });
                    }
                    _ => walk(child_ref, raw, cell),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::blocks::{Block, blocks};
    use crate::page::Page;
    use feishu_spec::{AccessToken, AppType};

    fn parse(text: &str) -> Vec<Block> {
        blocks(&Page::new("t.md", text))
    }

    #[test]
    fn dt_table_rows_carry_levels_names_and_lines() {
        let text = ":::html\n<md-dt-table>\n<md-dt-thead><md-dt-tr><md-dt-th>名称</md-dt-th><md-dt-th>类型</md-dt-th></md-dt-tr></md-dt-thead>\n<md-dt-tbody>\n<md-dt-tr level=\"0\">\n<md-dt-td><md-text type=\"field-name\" >data</md-text></md-dt-td><md-dt-td><md-text type=\"field-type\" >message</md-text></md-dt-td>\n</md-dt-tr>\n<md-dt-tr level=\"1\">\n<md-dt-td>\n\t<md-text type=\"field-name\" >message_id</md-text>\n</md-dt-td><md-dt-td>mention\\[\\]</md-dt-td>\n</md-dt-tr>\n</md-dt-tbody>\n</md-dt-table>\n:::\n";
        let Block::Table(t) = &parse(text)[0] else { panic!("no table") };
        assert_eq!(t.header, ["名称", "类型"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(
            (t.rows[1].level, t.rows[1].cells[0].text.as_str(), t.rows[1].line),
            (Some(1), "message_id", 8)
        );
        assert_eq!(t.rows[1].cells[1].text, "mention[]");
        assert_eq!(t.line, 2);
    }

    #[test]
    fn key_value_table_reads_perms_tags_and_app_types() {
        let text = ":::html\n<md-table>\n<md-thead><tr><md-th>基本</md-th><md-th></md-th></tr></md-thead>\n<md-tbody>\n<md-tr><md-th>支持的应用类型</md-th><md-td><md-app-support types=\"custom,isv\"></md-app-support></md-td></md-tr>\n<md-tr><md-th>权限要求<md-tooltip type=\"info\">任一</md-tooltip></md-th><md-td><md-perm name=\"im:message\" desc=\"获取与发送单聊、群组消息\" support_app_types=\"custom,isv\" tags=\"\">获取与发送单聊、群组消息</md-perm></md-td></md-tr>\n<md-tr><md-td>Authorization</md-td><md-td><md-tag mode=\"inline\" type=\"token-tenant\">tenant_access_token</md-tag></md-td></md-tr>\n</md-tbody>\n</md-table>\n:::\n";
        let Block::Table(t) = &parse(text)[0] else { panic!("no table") };
        assert_eq!(t.header, ["基本", ""]);
        assert!(t.rows[0].keyed);
        assert_eq!(t.rows[0].cells[1].app_types, [AppType::Custom, AppType::Isv]);
        assert_eq!(t.rows[1].cells[1].scopes[0].name, "im:message");
        assert_eq!(t.rows[2].cells[1].tokens, [AccessToken::TenantAccessToken]);
        assert!(!t.rows[2].keyed);
        assert_eq!(t.rows[2].line, 7);
    }

    #[test]
    fn enum_items_and_code_json() {
        let text = ":::html\n<md-dt-table><md-dt-tbody><md-dt-tr level=\"0\"><md-dt-td>x</md-dt-td><md-dt-td>**可选值有**：\n<md-enum>\n<md-enum-item key=\"tenant\" >租户类型标签</md-enum-item>\n</md-enum></md-dt-td></md-dt-tr></md-dt-tbody></md-dt-table>\n:::\n:::html\n<md-code-json>\n{\"a\": \"<b>\"}\n</md-code-json>\n:::\n";
        let blocks = parse(text);
        let Block::Table(t) = &blocks[0] else { panic!("no table") };
        assert_eq!(t.rows[0].cells[1].enum_values[0].value, "tenant");
        assert!(t.rows[0].cells[1].text.contains("- tenant：租户类型标签"));
        let Block::Code(c) = &blocks[1] else { panic!("no code") };
        assert_eq!(c.text, "{\"a\": \"<b>\"}");
        assert_eq!(c.line, 8);
    }
}
