//! The extractor: any page shape becomes one stream of [`Block`]s.
//!
//! A line scanner first cuts the body into regions: HTML (`:::html … :::`, or
//! a bare `<md-table>`), pipe tables, and markdown. HTML goes to [`html`]
//! (scraper), pipe tables to [`pipe`], markdown to pulldown-cmark. Later stages
//! never look at the page's shape again.

use feishu_spec::{AccessToken, AppType, EnumValue, Scope};

use crate::page::Page;

pub mod html;
pub mod markdown;
pub mod pipe;

/// One structural item of a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A markdown heading, or a bare line that names a known section.
    Heading(Heading),
    /// A table of any shape.
    Table(Table),
    /// A fenced code block or an HTML `<md-code-json>`.
    Code(Code),
    /// Anything else: paragraphs, lists, notes (raw markdown).
    Text(Text),
}

/// A heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    /// The 1-based line.
    pub line: usize,
    /// 1 for `#`, 2 for `##`…
    pub level: u8,
    /// Plain text.
    pub text: String,
}

/// A table, whatever its markup.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The line the table starts on.
    pub line: usize,
    /// Header cells, plain text.
    pub header: Vec<String>,
    /// Body rows.
    pub rows: Vec<Row>,
}

/// One table row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// The line the row starts on.
    pub line: usize,
    /// The nesting depth the markup states (`level="N"`, `└`), if it states one.
    pub level: Option<usize>,
    /// The cells.
    pub cells: Vec<Cell>,
    /// True when the row's first cell was a header cell (`<md-th>`): key/value tables.
    pub keyed: bool,
}

/// One cell: clean markdown text plus the structured tags found in it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    /// Clean markdown text (see [`crate::text::clean`]).
    pub text: String,
    /// `<md-perm name desc>` scopes.
    pub scopes: Vec<Scope>,
    /// `<md-tag type="token-…">` access tokens.
    pub tokens: Vec<AccessToken>,
    /// `<md-app-support types>` app types.
    pub app_types: Vec<AppType>,
    /// `<md-enum-item key>` values.
    pub enum_values: Vec<EnumValue>,
}

impl Cell {
    /// A cell holding only text.
    pub fn text(text: String) -> Cell {
        Cell { text, ..Cell::default() }
    }
}

/// A code block.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    /// The line of the opening fence.
    pub line: usize,
    /// The info string (`json`, `bash`), lowercase; `json` for `<md-code-json>`.
    pub lang: String,
    /// The code.
    pub text: String,
}

/// Other text.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// The first line.
    pub line: usize,
    /// The raw markdown.
    pub text: String,
}

impl Block {
    /// The line the block starts on.
    pub fn line(&self) -> usize {
        match self {
            Block::Heading(h) => h.line,
            Block::Table(t) => t.line,
            Block::Code(c) => c.line,
            Block::Text(t) => t.line,
        }
    }
}

/// Cuts the page body into blocks.
pub fn blocks(page: &Page<'_>) -> Vec<Block> {
    let body = page.body();
    let base = page.body_start;
    let lines: Vec<(usize, &str)> = line_offsets(body).collect();
    let texts: Vec<&str> = lines.iter().map(|(_, l)| *l).collect();
    let mut out = Vec::new();
    let mut markdown_start: Option<usize> = None;
    let mut i = 0;
    let mut fence: Option<&str> = None;
    let flush = |out: &mut Vec<Block>, from: Option<usize>, to: usize| {
        if let Some(from) = from {
            markdown::blocks(page, base + from, &body[from..to], out);
        }
    };
    while i < lines.len() {
        let (offset, line) = lines[i];
        let trimmed = line.trim();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            i += 1;
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            markdown_start.get_or_insert(offset);
            i += 1;
            continue;
        }
        if let Some(end) = html_region(&texts, i) {
            flush(&mut out, markdown_start.take(), offset);
            let region_end = lines.get(end).map_or(body.len(), |(o, _)| *o);
            html::blocks(page, base + offset, &body[offset..region_end], &mut out);
            i = end;
            continue;
        }
        if let Some((table, end)) = pipe::table(page, base, &lines, i) {
            flush(&mut out, markdown_start.take(), offset);
            out.push(Block::Table(table));
            i = end;
            continue;
        }
        markdown_start.get_or_insert(offset);
        i += 1;
    }
    flush(&mut out, markdown_start.take(), body.len());
    out
}

/// Lines with their byte offsets, without the newline.
fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |line| {
        let start = offset;
        offset += line.len();
        (start, line.trim_end_matches(['\n', '\r']))
    })
}

/// If line `i` opens an HTML region (`:::html`, or a bare `<md-table>`), the
/// index of the first line after it.
pub fn html_region(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines.get(i)?.trim();
    let compact: String = first.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == ":::html" {
        // The region ends at the `:::` that closes it; cells may hold `:::note … :::` blocks of their own.
        let mut depth = 1;
        for (j, line) in lines.iter().enumerate().skip(i + 1) {
            let t = line.trim();
            if t == ":::" {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            } else if t.starts_with(":::") {
                depth += 1;
            }
        }
        return Some(lines.len());
    }
    for tag in ["md-table", "md-dt-table", "md-code-json"] {
        if first.starts_with(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let end =
                (i..lines.len()).find(|&j| lines[j].contains(&close)).unwrap_or(lines.len() - 1);
            return Some(end + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<String> {
        let page = Page::new("t.md", text);
        blocks(&page)
            .iter()
            .map(|b| match b {
                Block::Heading(h) => format!("h{}:{}@{}", h.level, h.text, h.line),
                Block::Table(t) => format!("table{}x{}@{}", t.header.len(), t.rows.len(), t.line),
                Block::Code(c) => format!("code:{}@{}", c.lang, c.line),
                Block::Text(t) => format!("text@{}", t.line),
            })
            .collect()
    }

    #[test]
    fn splits_markdown_tables_html_and_code() {
        let text = "# T\n\n说明\n\n名称 | 值\n---|---\nHTTP URL | x\n\n```json\n{\"a\": 1}\n```\n:::html\n<md-code-json>\n{}\n</md-code-json>\n:::\n";
        assert_eq!(kinds(text), ["h1:T@1", "text@3", "table2x1@5", "code:json@9", "code:json@13"]);
    }

    #[test]
    fn html_regions_hold_nested_note_blocks() {
        let text = ":::html\n<md-table><md-tbody>\n<md-tr><md-td>1</md-td><md-td>\n:::note\nx\n:::\n</md-td></md-tr>\n<md-tr><md-td>2</md-td></md-tr>\n</md-tbody></md-table>\n:::\n# After\n";
        assert_eq!(kinds(text), ["table0x2@2", "h1:After@11"]);
    }

    #[test]
    fn pipes_inside_code_fences_are_not_tables() {
        let text = "```bash\na | b\n---|---\n```\n";
        assert_eq!(kinds(text), ["code:bash@1"]);
    }
}
