//! Cleaning cell and description text: HTML remnants out, markdown kept.

use std::borrow::Cow;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::page::DOC_SITE;

/// Turns the markup a cell may carry (`<br>`, entities, escapes, indentation)
/// into clean markdown text with real line breaks.
///
/// Every step hands its input on untouched when it has nothing to do (most
/// cells carry no markup): a copy per step per cell was a tenth of the
/// corpus's parse time.
pub fn clean(text: &str) -> String {
    let text = replace_br(text);
    let text = entities(&text);
    let text = strip_tags(&text);
    let text = links(&text);
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let line = unescapes(line.trim());
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(&line);
    }
    out
}

/// Plain text of inline markdown: emphasis, code marks and link targets dropped.
pub fn plain(text: &str) -> String {
    let mut out = String::new();
    for event in Parser::new(text) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph) | Event::Start(Tag::Item) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A field or type name: plain text with any spaces and list marks removed.
pub fn name(text: &str) -> String {
    // Names like `data` or `follow_up\[\]` must not go through markdown: `[]` is no link.
    let t = unescape(&decode_entities(text));
    t.chars()
        .filter(|c| !matches!(c, '`' | '*' | ' ' | '\u{a0}' | '\t' | '└' | '∟' | '\u{3000}'))
        .collect()
}

/// `<br>` variants to newlines.
fn replace_br(text: &str) -> Cow<'_, str> {
    if !text.contains('<') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let lower: String = after.chars().take(6).collect::<String>().to_ascii_lowercase();
        if lower.starts_with("<br")
            && let Some(end) = after.find('>')
        {
            out.push('\n');
            rest = &after[end + 1..];
            continue;
        }
        out.push('<');
        rest = &after[1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes the few entities the docs use.
pub fn decode_entities(text: &str) -> String {
    entities(text).into_owned()
}

fn entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("&nbsp;", "\u{a0}")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// Removes HTML tags (`<md-tag …>`, `<div>`), keeping their text; leaves `<` that starts no tag.
fn strip_tags(text: &str) -> Cow<'_, str> {
    if !text.contains('<') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let is_tag =
            after.starts_with('/') || after.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        match after.find('>') {
            Some(end) if is_tag && !after[..end].contains('\n') => rest = &after[end + 1..],
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Markdown backslash escapes of punctuation (`\[\]`, `\-`, `\_`).
pub fn unescape(text: &str) -> String {
    unescapes(text).into_owned()
}

fn unescapes(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && next.is_ascii_punctuation()
            && next != '"'
            && next != '\\'
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// Makes the docs' site-relative links absolute, so that doc comments link somewhere.
pub fn absolutize_links(text: &str) -> String {
    links(text).into_owned()
}

fn links(text: &str) -> Cow<'_, str> {
    // Every form below holds `(/`.
    if !text.contains("(/") {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("](/ssl:ttdoc/", &format!("]({DOC_SITE}/"))
            .replace("](//", "](https://")
            .replace("(/ssl:ttdoc/", &format!("({DOC_SITE}/")),
    )
}

/// The nesting depth a pipe-table name cell marks with `└` (after `&nbsp;` indentation),
/// and the name without the marks. `None` when the cell carries no mark.
pub fn tree_mark(cell: &str) -> (Option<usize>, &str) {
    // Some pages draw the mark with `∟` (U+221F) instead of `└`.
    let Some((pos, mark)) = cell.char_indices().find(|&(_, c)| c == '└' || c == '∟') else {
        return (None, cell);
    };
    let indent = &cell[..pos];
    if !indent.chars().all(|c| c.is_whitespace() || c == '\u{a0}') && !indent.contains("&nbsp;") {
        return (None, cell);
    }
    // GFM pages indent two `&nbsp;` per level; flattened pages mark every depth with one bare `└`.
    let nbsp = indent.matches("&nbsp;").count() + indent.chars().filter(|c| *c == '\u{a0}').count();
    let level = (nbsp / 2).max(1);
    (Some(level), &cell[pos + mark.len_utf8()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_cells_of_every_shape() {
        assert_eq!(
            clean("分页标记<br>**示例值**：10<br/>**默认值**：`10`"),
            "分页标记\n**示例值**：10\n**默认值**：`10`"
        );
        assert_eq!(
            clean("\t\t<md-text type=\"field-name\" >message_id</md-text>\n\t"),
            "message_id"
        );
        assert_eq!(clean("a &lt; b &amp;&nbsp;c"), "a < b &\u{a0}c");
        assert_eq!(
            clean("[发送消息](/ssl:ttdoc/uAjLw4CM/x)"),
            "[发送消息](https://open.feishu.cn/document/uAjLw4CM/x)"
        );
        assert_eq!(clean("a\n\n\n\nb"), "a\n\nb");
        assert_eq!(clean("x < 5"), "x < 5");
    }

    #[test]
    fn names_lose_markup_but_keep_brackets() {
        assert_eq!(name("`follow_up\\[\\]`"), "follow_up[]");
        assert_eq!(name("\\-"), "-");
        assert_eq!(name("&nbsp;&nbsp;└ `items`"), "items");
    }

    #[test]
    fn plain_drops_markup() {
        assert_eq!(plain("**注意**：见 [文档](https://x) 和 `code`"), "注意：见 文档 和 code");
    }

    #[test]
    fn tree_marks_give_depth() {
        assert_eq!(tree_mark("&nbsp;&nbsp;└ `items`"), (Some(1), " `items`"));
        assert_eq!(tree_mark("&nbsp;&nbsp;&nbsp;&nbsp;└ x").0, Some(2));
        assert_eq!(tree_mark("└ emoji_type").0, Some(1));
        assert_eq!(tree_mark("∟ticket"), (Some(1), "ticket"));
        assert_eq!(tree_mark("name").0, None);
        assert_eq!(tree_mark("a└b").0, None);
    }
}
