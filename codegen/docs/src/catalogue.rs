//! Catalogue tables of overview pages: one row per endpoint (方法 (API)) or
//! per event (事件 (Event)), with scopes, tokens and app types.

use feishu_spec::{AppType, Endpoint, Event, Method};

use crate::blocks::{Cell, Row, Table};
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::fields::row_text;
use crate::{rules, text};

/// What a catalogue table lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Endpoints.
    Api,
    /// Events.
    Event,
}

/// Recognises a catalogue table by its header.
pub fn kind(header: &[String]) -> Option<Kind> {
    let first = header.first()?;
    if first.contains("方法") || first.contains("API") && !first.contains("事件") {
        Some(Kind::Api)
    } else if (first.contains("事件") || first.contains("Event"))
        && header.iter().any(|h| h.contains("事件类型"))
    {
        Some(Kind::Event)
    } else {
        None
    }
}

/// The first cell of a catalogue row: `[title](url)`, `` `METHOD` /path ``, `> summary`.
#[derive(Debug, Default, PartialEq)]
struct Head {
    title: String,
    doc_url: Option<String>,
    method: Option<Method>,
    path: Option<String>,
    summary: String,
}

fn head(cell: &Cell) -> Head {
    // Overview pages put the parts on separate lines; converted pages run them together on one.
    let text = cell.text.as_str();
    let mut head = Head::default();
    if let Some(start) = text.find('[')
        && let Some((title, url)) = link(&text[start..])
    {
        head.title = title;
        head.doc_url = Some(url);
    }
    if let Some((method, path)) = find_method_and_path(text) {
        head.method = Some(method);
        head.path = Some(path);
    }
    if let Some(at) = text.find('>') {
        head.summary = text::plain(text[at + 1..].trim());
    }
    if head.title.is_empty() {
        head.title = text.lines().next().map(text::plain).unwrap_or_default();
    }
    head
}

/// The first `METHOD /path` anywhere in a cell, backticks or not, spaces or not.
fn find_method_and_path(text: &str) -> Option<(Method, String)> {
    let plain = text.replace('`', " ");
    let at = plain.find("/open-apis/").or_else(|| plain.find(" /"))?;
    let before = plain[..at].trim_end();
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let method = Method::parse(&before[word_start..])?;
    let path: String =
        plain[at..].trim_start().chars().take_while(|c| !c.is_whitespace()).collect();
    Some((method, path))
}

/// `[text](url)` at the start of a line.
fn link(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('[')?;
    let (title, rest) = rest.split_once("](")?;
    let (url, _) = rest.split_once(')')?;
    Some((text::plain(title), url.trim().to_string()))
}

/// App types from the ✓ columns (商店 = store apps, 自建 = custom apps).
fn app_types(header: &[String], row: &Row) -> Vec<AppType> {
    let mut out = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let ticked = row.cells.get(i).is_some_and(|c| c.text.contains('✓') || c.text.contains('√'));
        let app = if h.contains("自建") {
            Some(AppType::Custom)
        } else if h.contains("商店") {
            Some(AppType::Isv)
        } else {
            None
        };
        if let Some(app) = app.filter(|_| ticked) {
            out.push(app);
        }
    }
    out.sort();
    out
}

fn column(header: &[String], words: &[&str]) -> Option<usize> {
    header.iter().position(|h| words.iter().any(|w| h.contains(w)))
}

/// Reads a catalogue table into endpoints or events. Rows it cannot read become diagnostics.
pub fn read(
    table: &Table,
    kind: Kind,
    file: &str,
    diags: &mut Diagnostics,
) -> (Vec<Endpoint>, Vec<Event>) {
    let header = &table.header;
    let scopes_col = column(header, &["权限"]);
    let tokens_col = column(header, &["凭证", "令牌", "token"]);
    let type_col = column(header, &["事件类型"]);
    let mut endpoints = Vec::new();
    let mut events = Vec::new();
    for row in &table.rows {
        let Some(first) = row.cells.first() else { continue };
        let head = head(first);
        let scopes = scopes_col
            .and_then(|i| row.cells.get(i))
            .map(|c| if c.scopes.is_empty() { rules::scopes(&c.text) } else { c.scopes.clone() })
            .unwrap_or_default();
        match kind {
            Kind::Api => {
                let (Some(method), Some(path)) = (head.method, head.path) else {
                    diags.push(
                        row.line,
                        DiagnosticKind::BadCatalogueRow,
                        format!("catalogue row without `METHOD /path`: {}", row_text(row)),
                    );
                    continue;
                };
                let tokens = tokens_col
                    .and_then(|i| row.cells.get(i))
                    .map(|c| {
                        if c.tokens.is_empty() {
                            rules::access_tokens(&c.text)
                        } else {
                            c.tokens.clone()
                        }
                    })
                    .unwrap_or_default();
                endpoints.push(Endpoint {
                    title: head.title,
                    description: head.summary,
                    doc_url: head.doc_url,
                    method,
                    path,
                    scopes,
                    access_tokens: tokens,
                    app_types: app_types(header, row),
                    sources: vec![file.to_string()],
                    ..Endpoint::default()
                });
            }
            Kind::Event => {
                let event_type = type_col
                    .and_then(|i| row.cells.get(i))
                    .map(|c| text::plain(&c.text))
                    .unwrap_or_default();
                if event_type.is_empty() || event_type.contains(' ') {
                    diags.push(
                        row.line,
                        DiagnosticKind::BadCatalogueRow,
                        format!("event row without an event type: {}", row_text(row)),
                    );
                    continue;
                }
                events.push(Event {
                    event_type,
                    title: head.title,
                    description: head.summary,
                    doc_url: head.doc_url,
                    scopes,
                    app_types: app_types(header, row),
                    sources: vec![file.to_string()],
                    ..Event::default()
                });
            }
        }
    }
    (endpoints, events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_cell_in_both_layouts() {
        let cell = Cell::text(
            "[发送消息](https://open.feishu.cn/document/uAjLw4CM/reference/im-v1/message/create)\n`POST` /open-apis/im/v1/messages\n> 给指定用户发送消息。"
                .into(),
        );
        let h = head(&cell);
        assert_eq!(h.title, "发送消息");
        assert_eq!(h.method, Some(Method::Post));
        assert_eq!(h.path.as_deref(), Some("/open-apis/im/v1/messages"));
        assert_eq!(h.summary, "给指定用户发送消息。");
        assert_eq!(
            find_method_and_path("GET /open-apis/im/v1/pins"),
            Some((Method::Get, "/open-apis/im/v1/pins".into()))
        );
        assert_eq!(
            find_method_and_path("[撤回流程](https://x/a)`PUT`/open-apis/corehr/v2/a > 撤回"),
            Some((Method::Put, "/open-apis/corehr/v2/a".into()))
        );
        assert_eq!(find_method_and_path("获取 /x"), None);
        let h = head(&Cell::text(
            "[撤回流程](https://x/a)`PUT`/open-apis/corehr/v2/a > 撤回流程。".into(),
        ));
        assert_eq!((h.title.as_str(), h.summary.as_str()), ("撤回流程", "撤回流程。"));
    }

    #[test]
    fn recognises_catalogue_headers() {
        assert_eq!(kind(&["方法 (API)".into()]), Some(Kind::Api));
        assert_eq!(kind(&["事件 (Event)".into(), "事件类型".into()]), Some(Kind::Event));
        assert_eq!(kind(&["事件名称".into(), "事件码".into()]), None);
        assert_eq!(kind(&["名称".into()]), None);
    }
}
