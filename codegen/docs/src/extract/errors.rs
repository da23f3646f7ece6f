//! Error tables (错误码, and the 子错误码 sections under one code): which
//! columns hold what, and their rows as the endpoint's error codes.

use feishu_spec::{ErrorCode, SubError};

use super::RawPage;
use super::sections::Section;
use crate::blocks::Table;
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::fields::row_text;
use crate::text;

impl RawPage {
    pub(super) fn errors(&mut self, table: &Table, columns: ErrorColumns, diags: &mut Diagnostics) {
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

/// Which columns of an error table hold what.
#[derive(Debug, Clone, Copy)]
pub(super) struct ErrorColumns {
    status: Option<usize>,
    code: usize,
    message: Option<usize>,
    hint: Option<usize>,
}

impl ErrorColumns {
    pub(super) fn of(header: &[String]) -> Option<ErrorColumns> {
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
