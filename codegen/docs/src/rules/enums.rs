//! The enum rule: the documented values after 可选值有 (可能值有, 可选项有 …),
//! one per line or run together on pages that lost their line breaks.

use feishu_spec::EnumValue;

use super::scan::{LIST_END, SPACE, extend_new, next_rule, rule_values};

const ENUM_WORDS: &[&str] = &["可选值", "可能值", "可选项"];

/// The documented values after 可选值有 (可能值有, 可选值, 可选项有, 可选值如下),
/// in doc order and without repeats. Items are `- value：description` lines or, on
/// pages that lost their line breaks, ` - value: description` runs; a run is
/// only split where ` - ` is followed by a value token and a colon, so prose
/// such as `中国 - 居民身份证` stays in its description.
pub fn enum_values(text: &str) -> Vec<EnumValue> {
    let mut out: Vec<EnumValue> = Vec::new();
    for start in rule_values(text, ENUM_WORDS, true) {
        // A keyword inside a list item introduces that item's sub-list, not the
        // field's values; without a colon, an item run earlier on the line says so too.
        let head = &text[text[..start].rfind('\n').map_or(0, |n| n + 1)..start];
        let bare = !head.trim_end_matches(SPACE).trim_end_matches('*').ends_with([':', '：']);
        if head.trim_start_matches(SPACE).starts_with('-') || (bare && head.contains(" - ")) {
            continue;
        }
        let region = &text[start..];
        let items = list_items(&region[..next_rule(region, LIST_END)]);
        extend_new(
            &mut out,
            items.into_iter().map(|(value, description)| EnumValue { value, description }),
            |e| &e.value,
        );
    }
    out
}

/// The enum items of a list region: item lines until the first other line.
fn list_items(region: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    for line in region.split('\n') {
        let line = line.trim_matches(SPACE);
        if line.is_empty() && items.is_empty() {
            continue;
        }
        // Flattened pages write `-true：是` with no space after the dash.
        let body = line
            .strip_prefix('-')
            .or_else(|| line.strip_prefix("* "))
            .or_else(|| line.strip_prefix('•'));
        let found = body.map(line_items).unwrap_or_default();
        if found.is_empty() {
            break;
        }
        items.extend(found);
    }
    items
}

/// The items of one list line: the first, plus one per ` - value:` run.
fn line_items(body: &str) -> Vec<(String, String)> {
    // Some GFM pages join their `* ` items just as others join `- ` items.
    let mut marks: Vec<usize> =
        body.match_indices(" - ").chain(body.match_indices(" * ")).map(|(p, _)| p + 3).collect();
    marks.sort_unstable();
    let mut starts = vec![0];
    for m in marks {
        if m > 3
            && starts.last().is_some_and(|&last| m - 3 >= last)
            && item(&body[m..], false).is_some()
        {
            starts.push(m);
        }
    }
    let ends = starts.iter().skip(1).map(|&next| next - 3).chain([body.len()]);
    starts
        .iter()
        .zip(ends)
        .enumerate()
        .map_while(|(n, (&start, end))| item(&body[start..end], n == 0))
        .collect()
}

/// Splits `value: description`. At a line start (`loose`) the value is
/// whatever precedes the first colon; inside a line it must be a backticked,
/// quoted or ASCII token, so that prose is not taken for an item.
pub(super) fn item(segment: &str, loose: bool) -> Option<(String, String)> {
    let s = segment.trim_start_matches(SPACE);
    let s = s.strip_prefix("**").unwrap_or(s);
    let quote = s.chars().next().and_then(|c| match c {
        '`' | '"' => Some((c, c)),
        '“' => Some((c, '”')),
        _ => None,
    });
    let (key, rest) = if let Some((open, close)) = quote {
        let body = &s[open.len_utf8()..];
        let end = body.find(close)?;
        (&body[..end], &body[end + close.len_utf8()..])
    } else {
        let end = if loose {
            // `- 1 = Inactive / 停用` has no colon at all.
            s.find([':', '：']).or_else(|| s.find(" = ")).unwrap_or(s.len())
        } else {
            s.find(|c: char| !(c.is_ascii_alphanumeric() || "_.-+/@#".contains(c)))
                .unwrap_or(s.len())
        };
        (&s[..end], &s[end..])
    };
    let key = key.trim_matches(SPACE).trim_matches('*');
    if key.is_empty() || key.len() > 80 || key.contains(char::is_whitespace) {
        return None;
    }
    let rest = rest.strip_prefix("**").unwrap_or(rest).trim_start_matches(SPACE);
    let colon = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'));
    let description = match colon.or_else(|| rest.strip_prefix('=').filter(|_| loose)) {
        Some(d) if d.starts_with("//") => return None,
        Some(d) => d,
        // A bare `- value` line: allowed only for plain tokens, never prose.
        None if loose && rest.is_empty() && key.is_ascii() => "",
        None => return None,
    };
    let description =
        description.trim_matches(SPACE).trim_end_matches(|c: char| c == '\\' || SPACE.contains(&c));
    Some((
        key.to_string(),
        description.strip_suffix(" -").unwrap_or(description).trim_matches(SPACE).to_string(),
    ))
}
