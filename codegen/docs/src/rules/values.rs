//! Single-value rules: 示例值 (example), 默认值 (default), 固定值 (fixed) and
//! 值格式 (value format), each the text after its keyword up to the next rule.

use super::scan::{SPACE, VALUE_END, first_line, next_rule, rule_values};

/// The example value after 示例值. Surrounding quotes (ASCII or full-width)
/// and backticks are dropped; backslash escapes inside quotes are kept as written.
pub fn example_value(text: &str) -> Option<String> {
    single_value(text, "示例值")
}

/// The default value after 默认值.
pub fn default_value(text: &str) -> Option<String> {
    single_value(text, "默认值")
}

/// The value a header must always have, after 固定值.
pub fn fixed_value(text: &str) -> Option<String> {
    single_value(text, "固定值")
}

/// The value format after 值格式, with the backticks that mark its placeholder
/// removed (`Bearer access_token`).
pub fn value_format(text: &str) -> Option<String> {
    single_value(text, "值格式").map(|v| v.replace('`', ""))
}

/// The value of the first `word：value` rule that has one.
fn single_value(text: &str, word: &str) -> Option<String> {
    rule_values(text, &[word], false).into_iter().find_map(|start| {
        let line = first_line(text[start..].trim_start_matches(SPACE));
        if let Some(inner) = quoted(line) {
            return Some(strip_ticks(inner).to_string());
        }
        let value =
            line[..next_rule(line, VALUE_END)].trim_start_matches(['"', '“']).trim_end_matches(
                |c: char| SPACE.contains(&c) || matches!(c, '\\' | '*' | '[' | '"' | '”'),
            );
        let value = strip_ticks(value.trim_matches(SPACE));
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The inside of a value that opens with a quote and closes on the same line;
/// `\"` does not close an ASCII-quoted value (the reply page's JSON example).
pub(super) fn quoted(line: &str) -> Option<&str> {
    if let Some(body) = line.strip_prefix('“') {
        return body.find('”').map(|end| &body[..end]);
    }
    let body = line.strip_prefix('"')?;
    let mut escaped = false;
    let close = body.char_indices().find(|&(_, c)| {
        let close = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        close
    });
    close.map(|(end, _)| &body[..end])
}

fn strip_ticks(s: &str) -> &str {
    s.strip_prefix('`').and_then(|t| t.strip_suffix('`')).unwrap_or(s)
}
