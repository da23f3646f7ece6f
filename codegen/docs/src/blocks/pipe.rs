//! Pipe tables, in every dialect the pages use: with or without outer pipes,
//! one row per line (`<br>` inside cells) or cells continued on the next
//! lines, and nesting marked with `└`.
//!
//! pulldown-cmark ends a table at the first list line, so a cell continued
//! with `- item` lines would be torn apart; a line scanner keeps the row.

use crate::blocks::{Cell, Row, Table};
use crate::page::Page;
use crate::text;

/// If a table starts at line `i` (a header row followed by a delimiter row),
/// reads it and returns it with the index of the first line after it.
pub fn table(
    page: &Page<'_>,
    base: usize,
    lines: &[(usize, &str)],
    i: usize,
) -> Option<(Table, usize)> {
    let header_line = lines[i].1;
    let delimiter = lines.get(i + 1)?.1;
    if !header_line.contains('|') || !is_delimiter(delimiter) {
        return None;
    }
    let header: Vec<String> =
        split_row(header_line).iter().map(|c| text::plain(&text::clean(c))).collect();
    let columns = header.len().max(split_row(delimiter).len());
    let mut table = Table { line: page.line_of(base + lines[i].0), header, rows: Vec::new() };
    // Outer-pipe rows end with `|`; until then (even across blank lines) the
    // last cell continues. Rows without outer pipes continue until a blank line.
    let outer = header_line.trim_start().starts_with('|');
    let mut open = false;
    let mut pending: Option<(usize, String)> = None;
    let mut j = i + 2;
    while j < lines.len() {
        let (offset, line) = lines[j];
        let trimmed = line.trim();
        let cells = if trimmed.contains('|') { split_row(trimmed).len() } else { 0 };
        let full_row = cells >= columns;
        let continues = pending.is_some() && if outer { open } else { !trimmed.is_empty() };
        if continues && !full_row {
            if let Some((_, raw)) = pending.as_mut() {
                raw.push('\n');
                raw.push_str(line);
            }
            if outer && ends_with_pipe(trimmed) {
                open = false;
            }
        } else if full_row || (cells > 0 && !trimmed.is_empty()) {
            if let Some((line_no, raw)) = pending.take() {
                table.rows.push(row(line_no, &raw));
            }
            pending = Some((page.line_of(base + offset), line.to_string()));
            open = outer && !ends_with_pipe(trimmed);
        } else {
            break;
        }
        j += 1;
    }
    if let Some((line_no, raw)) = pending.take() {
        table.rows.push(row(line_no, &raw));
    }
    Some((table, j))
}

fn row(line: usize, raw: &str) -> Row {
    let cells = split_row(raw);
    let mut level = None;
    let cells = cells
        .iter()
        .enumerate()
        .map(|(k, cell)| {
            if k == 0 {
                let (mark, rest) = text::tree_mark(cell.trim());
                level = mark;
                Cell::text(text::clean(rest))
            } else {
                Cell::text(text::clean(cell))
            }
        })
        .collect();
    Row { line, level, cells, keyed: false }
}

fn ends_with_pipe(line: &str) -> bool {
    line.ends_with('|') && !line.ends_with("\\|")
}

/// A delimiter row: `---|---`, `| --- | :---: |`.
fn is_delimiter(line: &str) -> bool {
    let t = line.trim();
    t.contains('-')
        && t.contains('|')
        && t.chars().all(|c| matches!(c, '-' | '|' | ':' | ' ' | '\t'))
}

fn pipe_positions(line: &str) -> Vec<usize> {
    let mut positions = Vec::new();
    let mut in_code = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '`' => in_code = !in_code,
            '|' if !in_code => positions.push(i),
            _ => {}
        }
    }
    if in_code {
        // An unclosed backtick is text, not a code span: count every pipe.
        return line
            .char_indices()
            .filter(|&(i, c)| c == '|' && (i == 0 || !line[..i].ends_with('\\')))
            .map(|(i, _)| i)
            .collect();
    }
    positions
}

/// Splits a (possibly multi-line) row into raw cells, dropping outer pipes.
fn split_row(raw: &str) -> Vec<String> {
    let t = raw.trim();
    let positions = pipe_positions(t);
    let mut cells = Vec::new();
    let mut start = 0;
    for &p in &positions {
        cells.push(t[start..p].to_string());
        start = p + 1;
    }
    cells.push(t[start..].to_string());
    if t.starts_with('|') && !cells.is_empty() {
        cells.remove(0);
    }
    if t.ends_with('|') && !t.ends_with("\\|") && cells.len() > 1 {
        cells.pop();
    }
    cells.into_iter().map(|c| c.replace("\\|", "|")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::{Block, blocks};

    fn tables(text: &str) -> Vec<Table> {
        let page = Page::new("t.md", text);
        blocks(&page)
            .into_iter()
            .filter_map(|b| if let Block::Table(t) = b { Some(t) } else { None })
            .collect()
    }

    fn cells(row: &Row) -> Vec<&str> {
        row.cells.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn gfm_table_with_nesting_marks_and_br() {
        let t = &tables(
            "| 名称 | 类型 | 描述 |\n| --- | --- | --- |\n| `data` | `\\-` | \\- |\n| &nbsp;&nbsp;└ `items` | `user_role\\[\\]` | 列表<br>**示例值**：1 |\n",
        )[0];
        assert_eq!(t.header, ["名称", "类型", "描述"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].level, None);
        assert_eq!(cells(&t.rows[1]), ["`items`", "`user_role[]`", "列表\n**示例值**：1"]);
        assert_eq!(t.rows[1].level, Some(1));
        assert_eq!(t.rows[1].line, 4);
    }

    #[test]
    fn table_without_outer_pipes_continues_cells_on_next_lines() {
        let text = "名称 | 类型 | 必填 | 描述\n--- | --- | --- | ---\nlanguage | string | 是 | 语言类型。  \n**可选值有**：  \n- en_us：英文  \n- zh_cn：简体中文\ncontent | string | 是 | 内容\n\n后文\n";
        let t = &tables(text)[0];
        assert_eq!(t.rows.len(), 2);
        assert_eq!(
            cells(&t.rows[0])[3],
            "语言类型。\n**可选值有**：\n- en_us：英文\n- zh_cn：简体中文"
        );
        assert_eq!(cells(&t.rows[1]), ["content", "string", "是", "内容"]);
        assert_eq!(t.rows[1].line, 7);
    }

    #[test]
    fn outer_pipe_row_continues_over_blank_lines_until_closed() {
        let text = "| 参数名 | 类型 | 描述 |\n| --- | --- | --- |\n| message_id | string | ID 获取方式：\n  \n- 调用发送消息接口。\n- 监听事件。 |\n\n### 请求体\n";
        let t = &tables(text)[0];
        assert_eq!(t.rows.len(), 1);
        assert_eq!(cells(&t.rows[0])[2], "ID 获取方式：\n\n- 调用发送消息接口。\n- 监听事件。");
    }

    #[test]
    fn closed_rows_end_at_a_line_without_pipes() {
        let text = "| 名称 | 类型 | 描述 |\n|---|---|---|\nmessage_id | string | 消息 |\n└ emoji_type | string | 类型 |\n请求体\n";
        let t = &tables(text)[0];
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].level, Some(1));
        assert_eq!(cells(&t.rows[1])[0], "emoji_type");
    }

    #[test]
    fn pipes_in_code_spans_and_escapes_stay_in_cells() {
        let t = &tables("a | b\n---|---\n`x|y` | c \\| d\n")[0];
        assert_eq!(cells(&t.rows[0]), ["`x|y`", "c | d"]);
    }
}
