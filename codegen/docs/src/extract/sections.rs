//! The part of a page a block belongs to ([`Section`]), from its headings
//! (and from bold lines standing in for headings), and the kind of example a
//! code block under it is.

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
pub(super) const BARE_SECTIONS: &[&str] = &[
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

/// Which example an example section holds, for diagnostics (and for
/// `cargo xtask examples`, which counts the examples that are not JSON by kind).
pub(super) fn example_kind(section: Section) -> &'static str {
    match section {
        Section::RequestExample => "request",
        Section::EventExample => "event",
        _ => "response",
    }
}
