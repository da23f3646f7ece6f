//! The state machine over a page's blocks: headings set the section, tables
//! are read by their header and section, and the facts of one page come out
//! as endpoints and events.

use feishu_spec::{Endpoint, Event, Method, ResponseContentType, Spec, SubError};
use serde_json::Value;

use crate::blocks::{self, Block, Table};
use crate::catalogue;
use crate::diag::{DiagnosticKind, Diagnostics, quote};
use crate::fields::{self, Columns, RawField, row_text};
use crate::nesting::{self, TypeNotes};
use crate::page::Page;
use crate::{rules, text};

mod basic;
mod errors;
mod json;
mod sections;

use basic::{is_basic, rejoin_keys, strip_try_it};
use errors::ErrorColumns;
use json::parse_json;
pub use sections::Section;
use sections::{bare_section, example_kind, section_of};

/// Reads one page into the endpoints and events it describes: extraction,
/// then [assembly](crate::assemble).
pub fn read(page: &Page<'_>, diags: &mut Diagnostics) -> Spec {
    extract(page, diags).assemble(diags)
}

/// What the blocks of one page say, row by row and cell by cell: the state
/// machine over the blocks fills it, and nothing here is settled or checked.
pub(crate) fn extract(page: &Page<'_>, diags: &mut Diagnostics) -> RawPage {
    let mut raw = RawPage::new(page);
    for block in blocks::blocks(page) {
        raw.block(block, diags);
    }
    raw
}

/// One page as extracted: its facts, field rows, examples and info cells,
/// before [`RawPage::assemble`] turns them into endpoints and events.
#[derive(Default)]
pub(crate) struct RawPage {
    pub(crate) file: String,
    pub(crate) section: Option<Section>,
    pub(crate) title: String,
    pub(crate) description: Vec<String>,
    pub(crate) doc_url: Option<String>,
    pub(crate) method: Option<Method>,
    pub(crate) path: Option<String>,
    pub(crate) endpoint: Endpoint,
    pub(crate) scope_names: Vec<String>,
    pub(crate) headers: Vec<RawField>,
    pub(crate) path_params: Vec<RawField>,
    pub(crate) query_params: Vec<RawField>,
    pub(crate) request: Vec<RawField>,
    pub(crate) response: Vec<RawField>,
    pub(crate) event_body: Vec<RawField>,
    pub(crate) event_type: Option<String>,
    pub(crate) event_example: Option<(usize, Value)>,
    pub(crate) request_example: Option<(usize, Value)>,
    pub(crate) response_example: Option<(usize, Value)>,
    pub(crate) notes: TypeNotes,
    pub(crate) pending_sub_errors: Vec<(Option<i64>, usize, SubError)>,
    pub(crate) catalogue: Vec<Endpoint>,
    pub(crate) events: Vec<Event>,
    /// Field rows read where no field table belongs, kept for the no-endpoint report.
    pub(crate) stray_rows: Vec<(usize, String)>,
    /// A per-receiver limit read from prose (使用限制).
    pub(crate) per_receiver: Option<u32>,
}

impl RawPage {
    fn new(page: &Page<'_>) -> RawPage {
        RawPage {
            file: page.file.to_string(),
            title: page.title().unwrap_or_default().to_string(),
            doc_url: page.doc_url(),
            ..RawPage::default()
        }
    }

    fn section(&self) -> Section {
        self.section.unwrap_or(Section::Intro)
    }

    fn block(&mut self, block: Block, diags: &mut Diagnostics) {
        match block {
            Block::Heading(h) => {
                if h.level == 1 && self.section.is_none() {
                    if self.title.is_empty() {
                        self.title = text::plain(&h.text);
                    }
                } else {
                    self.section = Some(section_of(&text::plain(&h.text)));
                }
            }
            Block::Table(table) => self.table(&table, diags),
            Block::Code(code) => self.code(code.line, &code.lang, &code.text, diags),
            Block::Text(t) => self.text(t.line, &t.text, diags),
        }
    }

    fn text(&mut self, line: usize, body: &str, diags: &mut Diagnostics) {
        if self.section() == Section::TypeNotes {
            for (name, fields) in nesting::type_notes(body) {
                self.notes.entry(name).or_insert(fields);
            }
            return;
        }
        let mut offset = 0;
        let lines: Vec<&str> = body.split_inclusive('\n').collect();
        let mut k = 0;
        while k < lines.len() {
            let raw_line = lines[k];
            let here = line + k;
            let l = raw_line.trim();
            offset += raw_line.len();
            k += 1;
            if let Some(section) = bare_section(l) {
                self.section = Some(section);
                continue;
            }
            let section = self.section();
            let in_example = matches!(
                section,
                Section::RequestExample | Section::ResponseExample | Section::EventExample
            );
            if in_example && (l.starts_with('{') || l.starts_with('[')) {
                // A flattened page's unfenced example: parse one value, then go on after it.
                let from = offset - raw_line.len() + (raw_line.len() - raw_line.trim_start().len());
                let rest = &body[from..];
                let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
                match stream.next() {
                    Some(Ok(value)) => {
                        let end = from + stream.byte_offset();
                        self.example(section, here, value);
                        let tail = &body[end..];
                        let tail_line = here + body[from..end].matches('\n').count();
                        self.text(tail_line, tail, diags);
                        return;
                    }
                    _ => diags.push(
                        here,
                        DiagnosticKind::InvalidExample,
                        format!("{} example is not JSON: {}", example_kind(section), quote(rest)),
                    ),
                }
                return;
            }
            if let Some(n) = rules::per_receiver_limit(l) {
                self.per_receiver = Some(self.per_receiver.map_or(n, |m: u32| m.min(n)));
            }
            match section {
                Section::Intro => {
                    if self.title.is_empty() && !l.is_empty() {
                        self.title = text::plain(l);
                    } else if !l.is_empty()
                        && !l.starts_with("最后更新于")
                        && !l.starts_with("![")
                        && !l.starts_with(":::")
                    {
                        let cleaned = strip_try_it(l);
                        if !cleaned.is_empty() {
                            self.description.push(cleaned);
                        }
                    }
                }
                Section::Response | Section::ResponseBody
                    if l.contains("二进制") || l.contains("文件流") =>
                {
                    self.endpoint.response_content_type = ResponseContentType::Binary;
                }
                _ => {}
            }
        }
    }

    fn code(&mut self, line: usize, lang: &str, code: &str, diags: &mut Diagnostics) {
        let section = self.section();
        let slot_empty = match section {
            Section::RequestExample => self.request_example.is_none(),
            Section::ResponseExample => self.response_example.is_none(),
            Section::EventExample => self.event_example.is_none(),
            _ => return,
        };
        let trimmed = code.trim_start();
        if !slot_empty || !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return;
        }
        match parse_json(code) {
            Some(value) => self.example(section, line, value),
            None if lang.is_empty() || lang == "json" => {
                diags.push(
                    line,
                    DiagnosticKind::InvalidExample,
                    format!("{} example is not JSON: {}", example_kind(section), quote(code)),
                );
            }
            None => {}
        }
    }

    fn example(&mut self, section: Section, line: usize, value: Value) {
        let slot = match section {
            Section::RequestExample => &mut self.request_example,
            Section::EventExample => &mut self.event_example,
            _ => &mut self.response_example,
        };
        if slot.is_none() {
            *slot = Some((line, value));
        }
    }

    fn table(&mut self, table: &Table, diags: &mut Diagnostics) {
        if let Some(kind) = catalogue::kind(&table.header) {
            let (endpoints, events) = catalogue::read(table, kind, &self.file, diags);
            self.catalogue.extend(endpoints);
            self.events.extend(events);
            return;
        }
        if is_basic(table) {
            for row in rejoin_keys(&table.rows) {
                self.basic_row(&row, diags);
            }
            return;
        }
        if let Some(columns) = ErrorColumns::of(&table.header) {
            self.errors(table, columns, diags);
            return;
        }
        if let Some(columns) = Columns::of(&table.header) {
            let rows = fields::raw_fields(table, columns, diags);
            fields::check_types(&rows, diags);
            let target = match self.section() {
                Section::Headers => Some(&mut self.headers),
                Section::PathParams => Some(&mut self.path_params),
                Section::QueryParams => Some(&mut self.query_params),
                Section::RequestBody | Section::Request => Some(&mut self.request),
                Section::ResponseBody | Section::Response => Some(&mut self.response),
                Section::EventBody => Some(&mut self.event_body),
                _ => None,
            };
            match target {
                Some(target) => target.extend(rows),
                None => self.stray_rows.extend(rows.iter().map(|r| {
                    (
                        r.line,
                        format!(
                            "field `{}` in a table outside any request or response section",
                            r.field.name
                        ),
                    )
                })),
            }
            return;
        }
        for row in &table.rows {
            diags.push(
                row.line,
                DiagnosticKind::UnknownTable,
                format!(
                    "row of a table with header [{}]: {}",
                    table.header.join(" | "),
                    row_text(row)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::basic::path_of;
    use super::*;

    #[test]
    fn names_sections() {
        assert_eq!(section_of("230099 子错误码"), Section::SubErrors(Some(230099)));
        assert_eq!(section_of("错误码"), Section::Errors);
        assert_eq!(section_of("请求体示例"), Section::RequestExample);
        assert_eq!(section_of("请求体"), Section::RequestBody);
        assert_eq!(section_of("响应"), Section::Response);
        assert_eq!(section_of("前提条件"), Section::Other);
        assert_eq!(bare_section("**类型额外说明**:"), Some(Section::TypeNotes));
        assert_eq!(bare_section("**响应示例**:"), Some(Section::ResponseExample));
        assert_eq!(bare_section("请求体是 JSON"), None);
    }

    #[test]
    fn reads_paths_from_url_cells() {
        assert_eq!(
            path_of("`https://open.feishu.cn/open-apis/im/v1/messages/:message_id/reply`")
                .as_deref(),
            Some("/open-apis/im/v1/messages/:message_id/reply")
        );
        assert_eq!(
            path_of("https://open.feishu.cn/open-apis/hire/v1/user_roles").as_deref(),
            Some("/open-apis/hire/v1/user_roles")
        );
        assert_eq!(path_of("无"), None);
    }

    #[test]
    fn lenient_json_examples() {
        assert_eq!(
            parse_json("{\"a\": 1, // note\n \"b\": [1,2,],}"),
            Some(serde_json::json!({"a": 1, "b": [1, 2]}))
        );
        assert_eq!(
            parse_json("{\"url\": \"http://x//y\"}"),
            Some(serde_json::json!({"url": "http://x//y"}))
        );
        assert_eq!(parse_json("curl -X POST"), None);
        assert_eq!(
            parse_json(r#"{"rule":"^\d{9}$"}"#),
            Some(serde_json::json!({"rule": "^\\d{9}$"}))
        );
    }

    #[test]
    fn strips_try_it_markers() {
        assert_eq!(
            strip_try_it("调用该接口回复指定消息。{尝试一下}(url=/api/tools?x=1)"),
            "调用该接口回复指定消息。"
        );
    }
}
