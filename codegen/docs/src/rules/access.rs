//! Who may call: the app types, the access tokens of a token cell, and the
//! scopes of a permission cell or a field's 字段权限要求 rule.

use feishu_spec::{AccessToken, AppType, Scope};

use super::scan::{LIST_END, extend_new, first_line, next_rule, rule_values};

/// Permission-cell prose that may precede the first `名称(scope)` pair on its line.
const SCOPE_PROSE: &[&str] = &["开启其中任意一项权限即可调用", "开启任一权限即可", "则不建议申请"];

/// The 支持的应用类型 cell (`custom,isv`, `自建应用、商店应用`), `Custom` first.
pub fn app_types(text: &str) -> Vec<AppType> {
    let lower = text.to_ascii_lowercase();
    [(AppType::Custom, "custom", "自建应用"), (AppType::Isv, "isv", "商店应用")]
        .into_iter()
        .filter(|(_, tag, name)| has_word(&lower, tag) || text.contains(name))
        .map(|(app, ..)| app)
        .collect()
}

/// The access tokens named in a token cell or an Authorization description.
/// Only the full names (or the docs' `token-tenant` tags) count: prose about
/// "access token" and example values like `Bearer t-xxx` say nothing definite.
pub fn access_tokens(text: &str) -> Vec<AccessToken> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<AccessToken> = ["tenant", "user", "app"]
        .into_iter()
        .filter(|kind| {
            has_word(&lower, &format!("{kind}_access_token"))
                || has_word(&lower, &format!("token-{kind}"))
        })
        .filter_map(|kind| AccessToken::parse(&format!("{kind}_access_token")))
        .collect();
    out.sort();
    out
}

/// The scopes of a permission cell, in doc order and without repeats. Reads
/// `名称(scope)` / `名称（scope）` pairs, `scope 名称` runs (flattened and GFM
/// pages, backticks or not) and bare scope lists (empty descriptions).
pub fn scopes(text: &str) -> Vec<Scope> {
    let keys = scope_keys(text);
    let mut out: Vec<Scope> = Vec::new();
    // Where the next `名称(scope)` name may start: after the previous pair.
    let mut floor = 0;
    for (i, &(start, end)) in keys.iter().enumerate() {
        let before = text[..start].trim_end_matches('`');
        let after = text[end..].trim_start_matches('`');
        let open = before.chars().next_back().filter(|c| matches!(c, '(' | '（'));
        let close = after.chars().next().filter(|c| matches!(c, ')' | '）'));
        let description = match (open, close) {
            (Some(open), Some(close)) => {
                let head_end = before.len() - open.len_utf8();
                let line_start = text[..head_end].rfind('\n').map_or(0, |n| n + 1);
                let from =
                    SCOPE_PROSE.iter().fold(floor.max(line_start).min(head_end), |from, phrase| {
                        text[from..head_end].rfind(phrase).map_or(from, |p| from + p + phrase.len())
                    });
                floor = text.len() - after.len() + close.len_utf8();
                tidy(&text[from.min(head_end)..head_end])
            }
            _ => {
                let next = keys.get(i + 1).map_or(text.len(), |k| k.0);
                floor = end;
                let tail = first_line(&text[end..next]);
                tidy(&tail[..tail.find(" - ").unwrap_or(tail.len())])
            }
        };
        extend_new(&mut out, [Scope { name: text[start..end].to_string(), description }], |s| {
            &s.name
        });
    }
    out
}

/// The scopes after 字段权限要求 (also `字段权限要求（满足任一）` and
/// `当值为 user_id，字段权限要求`), up to the next rule. The endpoint-level
/// 字段权限要求 table cell has no such keyword: read it with [`scopes`].
pub fn field_scopes(text: &str) -> Vec<Scope> {
    let mut out: Vec<Scope> = Vec::new();
    for start in rule_values(text, &["字段权限要求"], true) {
        let region = &text[start..];
        extend_new(&mut out, scopes(&region[..next_rule(region, LIST_END)]), |s| &s.name);
    }
    out
}

/// A scope name or description without separators, bold, quotes or list marks.
fn tidy(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || "`*|-、,，;；:：>.。".contains(c)).to_string()
}

/// Scope keys: `[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)+` standing alone, so that
/// `https://…` and `/ssl:ttdoc/…` link targets are not taken for scopes.
fn scope_keys(text: &str) -> Vec<(usize, usize)> {
    let key_char = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-' | ':')
    };
    let mut out = Vec::new();
    for run in text.split(|c: char| !key_char(c)) {
        let start = run.as_ptr() as usize - text.as_ptr() as usize;
        let key = run.trim_end_matches(['.', '-', ':']);
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '@'))
            || text[start + run.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/');
        if !glued
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key.contains(':')
            && !key.contains("::")
        {
            out.push((start, start + key.len()));
        }
    }
    out
}

/// Whether `word` occurs in `text` not glued to other letters, digits or `_`.
fn has_word(text: &str, word: &str) -> bool {
    let glued = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(p, _)| {
        !text[..p].chars().next_back().is_some_and(glued)
            && !text[p + word.len()..].chars().next().is_some_and(glued)
    })
}
