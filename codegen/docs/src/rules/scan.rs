//! The keyword scanner every rule shares: where a rule keyword starts (bold,
//! or followed by a colon), where its value starts and where it ends (at the
//! next rule on a shared line).

/// Blank characters of the docs, including the no-break and ideographic spaces.
pub(super) const SPACE: [char; 5] = [' ', '\t', '\r', '\u{a0}', '\u{3000}'];

/// Keywords that end a single value on a shared line. 了解更多 is here because
/// flattened pages follow the Authorization example with a "learn more" link.
pub(super) const VALUE_END: &[&str] = &[
    "示例值",
    "默认值",
    "固定值",
    "值格式",
    "可选值",
    "可能值",
    "可选项",
    "数据校验规则",
    "字段权限要求",
    "当值为",
    "注意",
    "了解更多",
];

/// Keywords that end a list (enum items, field scopes). Unlike [`VALUE_END`]
/// it keeps 了解更多 and plain 注意, which occur inside item descriptions.
pub(super) const LIST_END: &[&str] = &[
    "示例值",
    "默认值",
    "固定值",
    "值格式",
    "可选值",
    "可能值",
    "可选项",
    "数据校验规则",
    "字段权限要求",
    "当值为",
    "**注意**",
    "不同消息类型",
];

/// Appends the items whose key is not in `out` yet: the docs repeat values and scopes.
pub(super) fn extend_new<T>(
    out: &mut Vec<T>,
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> &String,
) {
    for item in items {
        if !out.iter().any(|o| key(o) == key(&item)) {
            out.push(item);
        }
    }
}

/// The offset in `rest` (the text right after a keyword) just past its colon,
/// when the keyword is followed by one: bold, a short `（满足任一）` note, and
/// 有 or 如下 (可选值有, 可选值如下) may come between. With `bare`, a keyword
/// that ends its line or runs into a ` - ` list also counts (GFM pages that
/// lost bold and colon).
fn after_colon(rest: &str, bare: bool) -> Option<usize> {
    let mut s = rest.strip_prefix("**").unwrap_or(rest);
    if let Some(inner) = s.strip_prefix('（').or_else(|| s.strip_prefix('(')) {
        let close = inner.find(['）', ')']).filter(|&c| c <= 30)?;
        let width = inner[close..].chars().next().map_or(1, char::len_utf8);
        s = &inner[close + width..];
    }
    s = s.strip_prefix('有').or_else(|| s.strip_prefix("如下")).unwrap_or(s);
    s = s.strip_prefix("**").unwrap_or(s).trim_start_matches(SPACE);
    if bare && (s.is_empty() || s.starts_with(['\n', '-'])) {
        return Some(rest.len() - s.len());
    }
    s = s.strip_prefix(':').or_else(|| s.strip_prefix('：'))?;
    s = s.strip_prefix("**").unwrap_or(s);
    Some(rest.len() - s.len())
}

/// Whether `word` at `pos` starts a rule rather than being part of prose.
fn is_rule(text: &str, pos: usize, word: &str) -> bool {
    let before = text[..pos].trim_end_matches(SPACE);
    let rest = &text[pos + word.len()..];
    word.starts_with("**")
        || word == "不同消息类型"
        || before.ends_with("**")
        || (word == "了解更多" && before.ends_with('['))
        || after_colon(rest, false).is_some()
        || (word == "当值为" && first_line(rest).contains("字段权限要求"))
}

/// The offset of the first rule keyword of `words` in `text`, or its length.
pub(super) fn next_rule(text: &str, words: &[&str]) -> usize {
    words
        .iter()
        .filter_map(|w| text.match_indices(w).map(|(p, _)| p).find(|&p| is_rule(text, p, w)))
        .min()
        .unwrap_or(text.len())
}

/// The offsets where the values of `word: value` rules start, in doc order.
pub(super) fn rule_values(text: &str, words: &[&str], bare: bool) -> Vec<usize> {
    let after =
        |(p, w): (usize, &str)| after_colon(&text[p + w.len()..], bare).map(|n| p + w.len() + n);
    let mut out: Vec<usize> =
        words.iter().flat_map(|w| text.match_indices(w)).filter_map(after).collect();
    out.sort_unstable();
    out.dedup();
    out
}

pub(super) fn first_line(text: &str) -> &str {
    let end = text.find('\n').unwrap_or(text.len());
    let line = &text[..end];
    // Callers may hand over text whose `<br>` was not yet turned into a newline.
    &line[..line.find("<br").unwrap_or(line.len())]
}
