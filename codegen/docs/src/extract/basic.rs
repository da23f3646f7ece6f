//! The basic-information table (请求): method, path, rate limit, app types,
//! tokens and scopes, one row at a time, with the cells' own quirks (the
//! portal's "try it" markers, keys split over two cells).

use feishu_spec::{ContentType, Method};

use super::RawPage;
use crate::blocks::{Row, Table};
use crate::diag::{DiagnosticKind, Diagnostics, quote};
use crate::fields::row_text;
use crate::{push_unique, rules, text};

impl RawPage {
    pub(super) fn basic_row(&mut self, row: &Row, diags: &mut Diagnostics) {
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
}

/// `{尝试一下}(url=…)` markers are UI, not description.
pub(super) fn strip_try_it(line: &str) -> String {
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
pub(super) const BASIC_KEYS: &[&str] = &[
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
pub(super) fn rejoin_keys(rows: &[Row]) -> Vec<Row> {
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
pub(super) fn is_basic(table: &Table) -> bool {
    table.rows.iter().any(|r| {
        r.cells.first().is_some_and(|c| {
            let key = text::plain(&c.text);
            key.starts_with("HTTP URL")
                || key.starts_with("HTTP Method")
                || key.starts_with("事件类型")
        })
    })
}
