//! The state machine over a page's blocks: headings set the section, tables
//! are read by their header and section, and the facts of one page come out
//! as endpoints and events.

use feishu_spec::{
    ContentType, Endpoint, ErrorCode, Event, Method, ResponseContentType, Spec, SubError,
};
use serde_json::Value;

use crate::blocks::{self, Block, Row, Table};
use crate::catalogue;
use crate::diag::{DiagnosticKind, Diagnostics, quote};
use crate::fields::{self, Columns, RawField, row_text};
use crate::nesting::{self, TypeNotes};
use crate::page::Page;
use crate::{push_unique, rules, text};

/// The part of a page a block belongs to, from the last heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Before the first section: title and description.
    Intro,
    /// 请求: the basic-information table.
    Request,
    /// 请求头.
    Headers,
    /// 路径参数.
    PathParams,
    /// 查询参数.
    QueryParams,
    /// 请求体.
    RequestBody,
    /// 请求体示例.
    RequestExample,
    /// 响应.
    Response,
    /// 响应体.
    ResponseBody,
    /// 响应体示例.
    ResponseExample,
    /// 错误码.
    Errors,
    /// A sub-code table, e.g. `230099 子错误码`.
    SubErrors(Option<i64>),
    /// 类型额外说明.
    TypeNotes,
    /// 事件体: the fields of an event payload.
    EventBody,
    /// 事件体示例.
    EventExample,
    /// Any other heading (前提条件, SDK examples, …).
    Other,
}

/// The section a heading names.
pub fn section_of(heading: &str) -> Section {
    let h = heading.trim();
    let has = |w: &str| h.contains(w);
    if has("子错误码") {
        let digits: String = h.chars().filter(char::is_ascii_digit).collect();
        Section::SubErrors(digits.parse().ok())
    } else if has("错误码") {
        Section::Errors
    } else if has("请求头") {
        Section::Headers
    } else if has("路径参数") {
        Section::PathParams
    } else if has("查询参数") {
        Section::QueryParams
    } else if has("请求体示例") || has("请求示例") {
        Section::RequestExample
    } else if has("请求体") || has("请求参数") {
        Section::RequestBody
    } else if has("响应体示例") || has("响应示例") || has("返回示例") {
        Section::ResponseExample
    } else if has("响应体") || has("响应参数") || has("返回参数") {
        Section::ResponseBody
    } else if has("事件体示例") || has("事件示例") {
        Section::EventExample
    } else if has("事件体") {
        Section::EventBody
    } else if has("类型额外说明") {
        Section::TypeNotes
    } else if h == "请求" || h == "事件" {
        // An event page's 事件 table is its basic-information table, like 请求's.
        Section::Request
    } else if h == "响应" || h == "返回" {
        Section::Response
    } else {
        Section::Other
    }
}

/// Section names that flattened pages write as bare lines.
const BARE_SECTIONS: &[&str] = &[
    "请求",
    "请求头",
    "路径参数",
    "查询参数",
    "请求体",
    "请求体示例",
    "请求示例",
    "响应",
    "响应体",
    "响应体示例",
    "响应示例",
    "错误码",
    "类型额外说明",
    "前提条件",
    "使用限制",
    "注意事项",
    "调用示例",
    "事件",
    "事件体",
    "事件体示例",
];

/// If a text line is only a section name (`请求体`, `**响应示例**:`), its section.
pub fn bare_section(line: &str) -> Option<Section> {
    let t = line
        .trim()
        .trim_start_matches('#')
        .trim()
        .trim_matches('*')
        .trim_end_matches([':', '：'])
        .trim_matches('*')
        .trim();
    BARE_SECTIONS.contains(&t).then(|| section_of(t))
}

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

    fn basic_row(&mut self, row: &Row, diags: &mut Diagnostics) {
        let (Some(key), Some(value)) = (row.cells.first(), row.cells.get(1)) else {
            if !row.cells.iter().all(|c| c.text.is_empty()) {
                diags.push(
                    row.line,
                    DiagnosticKind::UnknownInfoRow,
                    format!("basic-information row without a value: {}", row_text(row)),
                );
            }
            return;
        };
        let key_text = text::plain(&key.text);
        let v = &value.text;
        let ep = &mut self.endpoint;
        if key_text.starts_with("HTTP URL") {
            self.path = path_of(v);
            if self.path.is_none() {
                diags.push(
                    row.line,
                    DiagnosticKind::UnknownInfoRow,
                    format!("HTTP URL without a path: {}", quote(v)),
                );
            }
        } else if key_text.starts_with("HTTP Method") {
            self.method = Method::parse(&text::plain(v));
            if self.method.is_none() {
                diags.push(
                    row.line,
                    DiagnosticKind::UnknownInfoRow,
                    format!("unknown HTTP method: {}", quote(v)),
                );
            }
        } else if key_text.contains("频率限制") {
            ep.rate_limit = rules::rate_limit(v);
        } else if key_text.contains("应用类型") {
            ep.app_types = if value.app_types.is_empty() {
                rules::app_types(v)
            } else {
                value.app_types.clone()
            };
        } else if key_text.contains("字段权限") {
            let scopes =
                if value.scopes.is_empty() { rules::scopes(v) } else { value.scopes.clone() };
            push_unique(&mut ep.field_scopes, scopes);
        } else if key_text.contains("权限要求") {
            let scopes =
                if value.scopes.is_empty() { rules::scopes(v) } else { value.scopes.clone() };
            if scopes.is_empty() {
                // One capture lists scope names and keys in two rows: keep the names to pair later.
                self.scope_names = v.lines().map(text::plain).filter(|s| !s.is_empty()).collect();
            }
            push_unique(&mut ep.scopes, scopes);
        } else if key_text.starts_with("事件类型") {
            let t = text::plain(v);
            self.event_type = Some(t).filter(|t| !t.is_empty() && !t.contains(' '));
            if self.event_type.is_none() {
                diags.push(
                    row.line,
                    DiagnosticKind::UnknownInfoRow,
                    format!("event type is not a single word: {}", quote(v)),
                );
            }
        } else if key_text.contains("Content-Type") {
            ep.request_content_type = if v.contains("multipart") {
                Some(ContentType::Multipart)
            } else {
                Some(ContentType::Json)
            };
        } else if key_text.contains("访问令牌")
            || key_text.contains("访问凭证")
            || key_text.contains("凭证要求")
        {
            let tokens = if value.tokens.is_empty() {
                rules::access_tokens(v)
            } else {
                value.tokens.clone()
            };
            push_unique(&mut ep.access_tokens, tokens);
        } else if !key_text.is_empty() || !v.is_empty() {
            diags.push(
                row.line,
                DiagnosticKind::UnknownInfoRow,
                format!("`{}`: {}", key_text, quote(v)),
            );
        }
    }

    fn errors(&mut self, table: &Table, columns: ErrorColumns, diags: &mut Diagnostics) {
        let sub_of = match (columns.status, self.section()) {
            (None, Section::SubErrors(code)) => Some(code),
            _ => None,
        };
        for row in &table.rows {
            let cell = |i: Option<usize>| {
                i.and_then(|i| row.cells.get(i))
                    .map(|c| c.text.trim().to_string())
                    .unwrap_or_default()
            };
            let code_text = text::plain(&cell(Some(columns.code)));
            let Ok(code) = code_text.parse::<i64>() else {
                diags.push(
                    row.line,
                    DiagnosticKind::BadErrorCode,
                    format!("error code `{code_text}` is not a number: {}", row_text(row)),
                );
                continue;
            };
            let message = cell(columns.message);
            let hint = cell(columns.hint);
            if let Some(parent) = sub_of {
                self.pending_sub_errors.push((parent, row.line, SubError { code, message, hint }));
                continue;
            }
            let http_status = text::plain(&cell(columns.status)).parse().ok();
            if self
                .endpoint
                .errors
                .iter()
                .any(|e| e.code == code && e.http_status == http_status && e.message == message)
            {
                continue; // The same row twice (pages repeat rows); nothing is lost.
            }
            self.endpoint.errors.push(ErrorCode {
                http_status,
                code,
                message,
                hint,
                sub_errors: Vec::new(),
            });
        }
    }
}

/// `{尝试一下}(url=…)` markers are UI, not description.
fn strip_try_it(line: &str) -> String {
    match line.find("{尝试一下}") {
        Some(i) => {
            let rest = &line[i..];
            let end = rest.find(')').map_or(rest.len(), |e| e + 1);
            format!("{}{}", &line[..i], &rest[end..]).trim().to_string()
        }
        None => line.to_string(),
    }
}

/// The `/open-apis/…` path of an HTTP URL cell (host and markup dropped).
pub fn path_of(cell: &str) -> Option<String> {
    let plain = text::plain(cell);
    let start = plain.find("/open-apis/").or_else(|| plain.find("/approval/")).or_else(|| {
        let after_host = plain.find("://").map(|i| i + 3)?;
        plain[after_host..].find('/').map(|j| after_host + j)
    })?;
    let path: String = plain[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    Some(path.trim_end_matches(['`', ')']).to_string())
}

/// Basic-information keys, which start the key cell of a row.
const BASIC_KEYS: &[&str] = &[
    "HTTP URL",
    "HTTP Method",
    "接口频率限制",
    "支持的应用类型",
    "权限要求",
    "字段权限要求",
    "支持的访问令牌",
    "事件类型",
    "推送方式",
];

/// In tables without outer pipes a key cell can run over several lines
/// (`权限要求` / `**调用该 API 所需的权限…**` / `开启任一权限即可 | …`), and the
/// line scanner then reads its first lines as the end of the previous value.
/// Moves such lines back in front of the next row's key.
fn rejoin_keys(rows: &[Row]) -> Vec<Row> {
    let mut out: Vec<Row> = rows.to_vec();
    for i in 0..out.len().saturating_sub(1) {
        let Some(value) = out[i].cells.get(1) else { continue };
        let lines: Vec<&str> = value.text.lines().collect();
        let Some(cut) = lines
            .iter()
            .skip(1)
            .position(|l| BASIC_KEYS.iter().any(|k| text::plain(l).starts_with(k)))
            .map(|p| p + 1)
        else {
            continue;
        };
        let kept = lines[..cut].join("\n");
        let moved = lines[cut..].join("\n");
        out[i].cells[1].text = kept;
        if let Some(key) = out[i + 1].cells.first_mut() {
            key.text = format!("{moved}\n{}", key.text);
        }
    }
    out
}

/// A basic-information table: `HTTP URL`, `HTTP Method`… keyed rows.
fn is_basic(table: &Table) -> bool {
    table.rows.iter().any(|r| {
        r.cells.first().is_some_and(|c| {
            let key = text::plain(&c.text);
            key.starts_with("HTTP URL")
                || key.starts_with("HTTP Method")
                || key.starts_with("事件类型")
        })
    })
}

/// Which columns of an error table hold what.
#[derive(Debug, Clone, Copy)]
struct ErrorColumns {
    status: Option<usize>,
    code: usize,
    message: Option<usize>,
    hint: Option<usize>,
}

impl ErrorColumns {
    fn of(header: &[String]) -> Option<ErrorColumns> {
        let find = |f: &dyn Fn(&str) -> bool| header.iter().position(|h| f(h));
        let status = find(&|h| h.contains("HTTP"));
        let code = find(&|h| {
            h.contains("错误码") && !h.contains("HTTP") || h.eq_ignore_ascii_case("code")
        })?;
        Some(ErrorColumns {
            status,
            code,
            message: find(&|h| {
                h.contains("描述") || h.contains("错误信息") || h.eq_ignore_ascii_case("msg")
            }),
            hint: find(&|h| h.contains("建议") || h.contains("解决") || h.contains("说明")),
        })
    }
}

/// Which example an example section holds, for diagnostics (and for
/// `cargo xtask examples`, which counts the examples that are not JSON by kind).
fn example_kind(section: Section) -> &'static str {
    match section {
        Section::RequestExample => "request",
        Section::EventExample => "event",
        _ => "response",
    }
}

/// Parses an example, also when it carries `//` comments or trailing commas, as some pages' do.
pub fn parse_json(code: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str(code.trim()) {
        return Some(value);
    }
    serde_json::from_str(&strip_comments_and_trailing_commas(code)).ok()
}

fn strip_comments_and_trailing_commas(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                // `"^\d{9}$"`: an escape JSON does not know is a literal backslash.
                '\\' if !matches!(
                    chars.peek(),
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u')
                ) =>
                {
                    out.push('\\')
                }
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '}' | ']' => {
                let trimmed_len = out.trim_end().len();
                if out[..trimmed_len].ends_with(',') {
                    out.truncate(trimmed_len - 1);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
