//! One small function per Chinese rule sentence of a description (示例值,
//! 默认值, 可选值有, 长度范围 …), in the style of tg-bot-api's sentence rules.
//!
//! Input is a description after [`crate::text::clean`]-style normalisation, but
//! the pages disagree on everything else: bold may or may not wrap the keyword,
//! colons are full-width or ASCII, and flattened pages put every rule on one
//! line. So a keyword only counts as a rule when it looks like one (bold, or
//! followed by a colon), and a value on a shared line stops at the next rule.
//! Every scanner slices only at offsets returned by `find`/`char_indices` or at
//! ASCII bytes, so no input can make it panic.

use feishu_spec::{AccessToken, AppType, EnumValue, RateLimit, Scope};
use serde_json::Number;

/// A numeric range read from a rule; either end may be open.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Range {
    /// The smallest allowed value (inclusive), when given.
    pub min: Option<Number>,
    /// The largest allowed value (inclusive), when given.
    pub max: Option<Number>,
    /// What a length counts, when the rule says.
    pub unit: Unit,
}

/// What a length rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// The rule names no unit: characters for strings, items for arrays.
    #[default]
    None,
    /// Characters (字符, Unicode 码点, UTF-8/UTF-16 编码的字符).
    Chars,
    /// Bytes (字节, bytes, B).
    Bytes,
}

/// Everything the rule functions find in one description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// [`example_value`].
    pub example: Option<String>,
    /// [`default_value`].
    pub default: Option<String>,
    /// [`fixed_value`].
    pub fixed: Option<String>,
    /// [`enum_values`].
    pub enum_values: Vec<EnumValue>,
    /// [`length_range`].
    pub length: Option<Range>,
    /// [`value_range`].
    pub values: Option<Range>,
    /// [`field_scopes`].
    pub field_scopes: Vec<Scope>,
}

/// Runs every description rule over `text`.
pub fn read(text: &str) -> Rules {
    Rules {
        example: example_value(text),
        default: default_value(text),
        fixed: fixed_value(text),
        enum_values: enum_values(text),
        length: length_range(text),
        values: value_range(text),
        field_scopes: field_scopes(text),
    }
}

/// Blank characters of the docs, including the no-break and ideographic spaces.
const SPACE: [char; 5] = [' ', '\t', '\r', '\u{a0}', '\u{3000}'];

/// Keywords that end a single value on a shared line. 了解更多 is here because
/// flattened pages follow the Authorization example with a "learn more" link.
const VALUE_END: &[&str] = &[
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
const LIST_END: &[&str] = &[
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

const ENUM_WORDS: &[&str] = &["可选值", "可能值", "可选项"];

/// Permission-cell prose that may precede the first `名称(scope)` pair on its line.
const SCOPE_PROSE: &[&str] = &["开启其中任意一项权限即可调用", "开启任一权限即可", "则不建议申请"];

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

/// The length rule: 长度范围 `a` ～ `b`, 最大长度 / 最小长度 (combined when both
/// appear), and 最大值 when it counts characters (`4,096 个 UTF-8 编码的字符`).
/// Whether a unit-less length counts characters or items is the caller's call.
pub fn length_range(text: &str) -> Option<Range> {
    let ends: [End; 3] = [
        ("最大长度", true, |_| true),
        ("最小长度", false, |_| true),
        ("最大值", true, |u| u == Unit::Chars),
    ];
    gather(text, "长度范围", &ends)
}

/// The numeric rule: 取值范围 `a` ～ `b` or `[a,b]`, 最大值, 最小值. Dates and
/// expressions (`9999-12-31`, `0 ~ content.length`) give no end; an exclusive
/// bracket end (`(0,5000]`) is left open because the spec has only inclusive
/// bounds. Integers too large for `u64` become floats.
pub fn value_range(text: &str) -> Option<Range> {
    let ends: [End; 2] = [("最大值", true, |u| u != Unit::Chars), ("最小值", false, |_| true)];
    gather(text, "取值范围", &ends).map(|range| Range { unit: Unit::None, ..range })
}

/// A single-number rule: its keyword, whether it gives the maximum, and
/// whether it applies given the unit after the number.
type End = (&'static str, bool, fn(Unit) -> bool);

/// A range after `range_word`, with open ends filled from single-number rules.
fn gather(text: &str, range_word: &str, ends: &[End]) -> Option<Range> {
    let mut range = Range::default();
    if let Some((min, max, rest)) = keyword_tails(text, range_word).find_map(parse_range) {
        range = Range { min, max, unit: unit(rest) };
    }
    for &(word, is_max, accepts) in ends {
        if let Some((n, rest)) = keyword_tails(text, word)
            .filter_map(single_number)
            .find(|(_, rest)| accepts(unit(rest)))
        {
            (if is_max { &mut range.max } else { &mut range.min }).get_or_insert(n);
            if range.unit == Unit::None {
                range.unit = unit(rest);
            }
        }
    }
    (range.min.is_some() || range.max.is_some()).then_some(range)
}

/// The 接口频率限制 cell. `text` keeps the wording without link markup;
/// per-second and per-minute numbers (`50 次/秒`, `每秒 3 次`) are filled in.
/// Per-hour or per-day limits stay in `text` only: the spec has no field for
/// them and no corpus page uses them. Empty text gives `None`.
pub fn rate_limit(text: &str) -> Option<RateLimit> {
    let text = unlink(text);
    let text = text.trim_matches(SPACE).trim();
    if text.is_empty() {
        return None;
    }
    Some(RateLimit {
        per_second: per_unit(text, &["次/秒", "次每秒", "次/s"], "每秒"),
        per_minute: per_unit(text, &["次/分钟", "次每分钟", "次/min"], "每分钟"),
        per_receiver_per_second: None,
        text: text.to_string(),
    })
}

/// A per-receiver limit stated in prose: a sentence about the same user or
/// chat (`同一用户`, `同一群组`, `同一会话`) with a `N QPS` or `N 次/秒` figure,
/// as in `向同一用户发送消息的限频为 ==5 QPS==`. Several figures (one per kind
/// of receiver) give the smallest, since the client cannot always tell the
/// kinds apart.
pub fn per_receiver_limit(text: &str) -> Option<u32> {
    let text = text.replace("==", "");
    text.split(['。', '；', ';', '\n'])
        .filter(|sentence| {
            ["同一用户", "同一群", "同一会话", "同一个用户", "同一个群"]
                .iter()
                .any(|w| sentence.contains(w))
        })
        .flat_map(|sentence| {
            let qps = per_unit(sentence, &["QPS", "qps", "次/秒", "次每秒"], "每秒");
            // Every figure in the sentence, not just the first.
            let all = sentence.match_indices("QPS").filter_map(move |(p, _)| {
                let before = sentence[..p].trim_end_matches(SPACE);
                before[before.trim_end_matches(|c: char| c.is_ascii_digit()).len()..]
                    .parse::<u32>()
                    .ok()
            });
            qps.into_iter().chain(all)
        })
        .filter(|n| *n > 0)
        .min()
}

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

/// Appends the items whose key is not in `out` yet: the docs repeat values and scopes.
fn extend_new<T>(
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
fn next_rule(text: &str, words: &[&str]) -> usize {
    words
        .iter()
        .filter_map(|w| text.match_indices(w).map(|(p, _)| p).find(|&p| is_rule(text, p, w)))
        .min()
        .unwrap_or(text.len())
}

/// The offsets where the values of `word: value` rules start, in doc order.
fn rule_values(text: &str, words: &[&str], bare: bool) -> Vec<usize> {
    let after =
        |(p, w): (usize, &str)| after_colon(&text[p + w.len()..], bare).map(|n| p + w.len() + n);
    let mut out: Vec<usize> =
        words.iter().flat_map(|w| text.match_indices(w)).filter_map(after).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn first_line(text: &str) -> &str {
    let end = text.find('\n').unwrap_or(text.len());
    let line = &text[..end];
    // Callers may hand over text whose `<br>` was not yet turned into a newline.
    &line[..line.find("<br").unwrap_or(line.len())]
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
fn quoted(line: &str) -> Option<&str> {
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
fn item(segment: &str, loose: bool) -> Option<(String, String)> {
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

/// The text after each occurrence of a range keyword, past bold, 为/是/不超过
/// and a colon, all optional (`最大长度: 3`, `取值范围[0,255]`, `最大值为 9`).
fn keyword_tails<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices(word).map(move |(p, _)| {
        let mut s = &text[p + word.len()..];
        s = s.strip_prefix("**").unwrap_or(s).trim_start_matches(SPACE);
        for filler in ["为", "是", "不超过", "不能超过"] {
            s = s.strip_prefix(filler).unwrap_or(s);
        }
        s = s.trim_start_matches(SPACE);
        match s.strip_prefix(':').or_else(|| s.strip_prefix('：')) {
            // `**最大长度**：<br>50`: after a colon the number may start the next line.
            Some(t) => {
                t.strip_prefix("**").unwrap_or(t).trim_start_matches(SPACE).trim_start_matches('\n')
            }
            None => s.strip_prefix("**").unwrap_or(s),
        }
    })
}

fn skip_blank(s: &str) -> &str {
    s.trim_start_matches(|c: char| SPACE.contains(&c) || c == '`')
}

/// `9999-12-31` after its first number.
fn date_like(rest: &str) -> bool {
    rest.strip_prefix('-').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

/// A lone number and the text after it.
fn single_number(s: &str) -> Option<(Number, &str)> {
    let s = skip_blank(s);
    let (n, len) = number(s, true)?;
    (!date_like(&s[len..])).then_some((n, &s[len..]))
}

/// `a ～ b` (any dash or tilde, 至, 到) or `[a,b]`: both ends and the text after.
fn parse_range(s: &str) -> Option<(Option<Number>, Option<Number>, &str)> {
    let s = skip_blank(s);
    let open = s.chars().next()?;
    if matches!(open, '[' | '(' | '（' | '【') {
        let body = &s[open.len_utf8()..];
        let end = body.find([']', ')', '）', '】'])?;
        let close = body[end..].chars().next()?;
        let (lo, hi) = body[..end].split_once([',', '，'])?;
        let whole = |t: &str| {
            let t = t.trim_matches(SPACE);
            number(t, false).filter(|&(_, len)| len == t.len()).map(|(n, _)| n)
        };
        let (lo, hi) = (whole(lo)?, whole(hi)?);
        let lo = (open != '(' && open != '（').then_some(lo);
        let hi = (close != ')' && close != '）').then_some(hi);
        return Some((lo, hi, &body[end + close.len_utf8()..]));
    }
    let (lo, len) = number(s, true)?;
    let after = skip_blank(&s[len..]);
    let sep = after
        .chars()
        .next()
        .filter(|c| matches!(c, '～' | '~' | '〜' | '-' | '—' | '至' | '到'))?;
    let after = skip_blank(&after[sep.len_utf8()..]);
    match number(after, true) {
        Some((hi, len)) if !date_like(&after[len..]) => Some((Some(lo), Some(hi), &after[len..])),
        // A date or a malformed number: no range at all rather than half a date.
        _ if after.starts_with(|c: char| c.is_ascii_digit() || c == '-') => None,
        _ => Some((Some(lo), None, after)),
    }
}

/// A number at the start of `s` and its length in bytes. With `thousands`,
/// `1,000` reads as one number (never inside `[a,b]`, where the comma splits).
/// A number running into letters, `_`, `.`, `:` or `/` is no number (`v1.2`, `10:30`).
fn number(s: &str, thousands: bool) -> Option<(Number, usize)> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let start = usize::from(b.first() == Some(&b'-'));
    let mut i = start;
    let group = |i: usize| {
        thousands && i > start && b[i] == b',' && (1..=3).all(|k| digit(i + k)) && !digit(i + 4)
    };
    while digit(i) || (i < b.len() && group(i)) {
        i += 1;
    }
    if i == start {
        return None;
    }
    if b.get(i) == Some(&b'.') && digit(i + 1) {
        i += 1 + b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    if b.get(i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'/'))
    {
        return None;
    }
    let text = s[..i].replace(',', "");
    let n = match (text.parse::<i64>(), text.parse::<u64>()) {
        (Ok(v), _) => v.into(),
        (_, Ok(v)) => v.into(),
        _ => Number::from_f64(text.parse().ok()?)?,
    };
    Some((n, i))
}

/// The unit named right after a length number.
fn unit(rest: &str) -> Unit {
    let s = skip_blank(rest);
    let s = s.strip_prefix('个').map_or(s, skip_blank);
    let bare_b =
        s.strip_prefix('B').is_some_and(|t| !t.starts_with(|c: char| c.is_ascii_alphanumeric()));
    if s.starts_with("字符") {
        Unit::Chars
    } else if s.starts_with("字节") || s.starts_with("byte") || s.starts_with("Byte") || bare_b {
        Unit::Bytes
    } else if s.starts_with("UTF") || s.starts_with("Unicode") {
        let head: String = s.chars().take(20).collect();
        if head.contains("字符") || head.contains("码点") { Unit::Chars } else { Unit::None }
    } else {
        Unit::None
    }
}

/// `[label](target)` to `label`.
fn unlink(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        let (label, skip) = match tail
            .find("](")
            .and_then(|mid| tail[mid..].find(')').map(|close| (mid, mid + close)))
        {
            Some((mid, close)) => (&tail[1..mid], close + 1),
            None => ("[", 1),
        };
        out.push_str(label);
        rest = &tail[skip..];
    }
    out.push_str(rest);
    out
}

/// The count before one of `suffixes` (`50 次/秒`) or between `prefix` and 次 (`每秒 3 次`).
fn per_unit(text: &str, suffixes: &[&str], prefix: &str) -> Option<u32> {
    let before_suffix =
        suffixes.iter().flat_map(|suffix| text.match_indices(suffix)).find_map(|(p, _)| {
            let before = text[..p].trim_end_matches(SPACE);
            before[before.trim_end_matches(|c: char| c.is_ascii_digit()).len()..].parse().ok()
        });
    before_suffix.or_else(|| {
        text.match_indices(prefix).find_map(|(p, _)| {
            let after = text[p + prefix.len()..].trim_start_matches(SPACE);
            let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            after[digits..]
                .trim_start_matches(SPACE)
                .starts_with('次')
                .then(|| after[..digits].parse().ok())
                .flatten()
        })
    })
}

/// Whether `word` occurs in `text` not glued to other letters, digits or `_`.
fn has_word(text: &str, word: &str) -> bool {
    let glued = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(p, _)| {
        !text[..p].chars().next_back().is_some_and(glued)
            && !text[p + word.len()..].chars().next().is_some_and(glued)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(pairs: &[(&str, &str)]) -> Vec<EnumValue> {
        pairs
            .iter()
            .map(|(v, d)| EnumValue { value: v.to_string(), description: d.to_string() })
            .collect()
    }

    fn int(n: i64) -> Option<Number> {
        Some(n.into())
    }

    fn range(min: Option<Number>, max: Option<Number>, unit: Unit) -> Option<Range> {
        Some(Range { min, max, unit })
    }

    fn scope(name: &str, description: &str) -> Scope {
        Scope { name: name.into(), description: description.into() }
    }

    type Single = fn(&str) -> Option<String>;

    fn check_singles(cases: &[(Single, &str, Option<&str>)]) {
        for (rule, text, want) in cases {
            assert_eq!(rule(text).as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn example_values() {
        let auth = "tenant_access_token 或 user_access_token 值格式:\"Bearer access_token\" 示例值:\"Bearer u-7f1b\" 了解更多:如何选择与获取 access token";
        let gfm = "`tenant_access_token` **值格式**：\"Bearer `access_token`\" **示例值**：\"Bearer t-7f1\" [了解更多：如何选择与获取 access token](https://x/y)";
        check_singles(&[
            (example_value, "机器人发送的消息 ID。\n**示例值**：\"om_xxx\"", Some("om_xxx")),
            (
                example_value,
                "是否以话题形式回复。\n**示例值**：false\n**默认值**：`false`",
                Some("false"),
            ),
            (example_value, "emoji 类型。 示例值:\"SMILE\" |", Some("SMILE")),
            (example_value, "**示例值**：10  ", Some("10")),
            (example_value, "**示例值**：[\"a\"]", Some("[\"a\"]")),
            (example_value, "**示例值**：“中文”", Some("中文")),
            (
                example_value,
                "消息内容\n**示例值**：\"`{\\\"text\\\":\\\"test content\\\"}`\"",
                Some("{\\\"text\\\":\\\"test content\\\"}"),
            ),
            // One-line pages: the value stops at its closing quote or at the next rule.
            (example_value, auth, Some("Bearer u-7f1b")),
            (example_value, gfm, Some("Bearer t-7f1")),
            (example_value, "说明 示例值:10 默认值:20", Some("10")),
            (example_value, "说明 示例值:10 可选值有: - a: 甲", Some("10")),
            (example_value, "ID 示例值：3 [了解更多：x](https://a.b/c)", Some("3")),
            (example_value, "分页大小<br>**示例值**：10<br>**默认值**：`20`", Some("10")),
            (example_value, "**示例值**：\"\"", Some("")),
            (example_value, "**示例值**：\"unterminated", Some("unterminated")),
            (example_value, "以下示例代码默认根据文档示例值填充", None),
            (example_value, "**示例**:  \n**数据校验规则**:\n最大长度: 3", None),
            (example_value, "**示例值**：\n**默认值**：`1`", None),
        ]);
    }

    #[test]
    fn default_fixed_and_format_values() {
        let gfm = "`tenant_access_token` **值格式**：\"Bearer `access_token`\" **示例值**：\"Bearer t-7f1\"";
        check_singles(&[
            (default_value, "**默认值**：`false`", Some("false")),
            (default_value, "默认值：10", Some("10")),
            (default_value, "**默认值**：`[1]`", Some("[1]")),
            (default_value, "说明 示例值:10 默认值:20", Some("20")),
            (default_value, "不传则使用默认值", None),
            (
                fixed_value,
                "**固定值**：\"application/json; charset=utf-8\"",
                Some("application/json; charset=utf-8"),
            ),
            (
                fixed_value,
                "固定值:\"multipart/form-data; boundary=---7MA4\"",
                Some("multipart/form-data; boundary=---7MA4"),
            ),
            (
                value_format,
                "`tenant_access_token`\n**值格式**：\"Bearer `access_token`\"\n**示例值**：\"x\"",
                Some("Bearer access_token"),
            ),
            (value_format, gfm, Some("Bearer access_token")),
            (
                value_format,
                "值格式:\"Bearer access_token\" 示例值:\"Bearer u-7\"",
                Some("Bearer access_token"),
            ),
        ]);
    }

    #[test]
    fn enum_values_one_per_line() {
        let text = "语言类型。\n**示例值**：\"en_us\"\n**可选值有**：\n- en_us：英文  \n- zh_cn：简体中文\n- zh_hk：繁体中文-香港\\";
        assert_eq!(
            enum_values(text),
            ev(&[("en_us", "英文"), ("zh_cn", "简体中文"), ("zh_hk", "繁体中文-香港")])
        );
        let text = "**可选值有**：\n- `open_id`：表示 open id\n- `user`: 用户\n- `empty`:\n**默认值**：`open_id`";
        assert_eq!(
            enum_values(text),
            ev(&[("open_id", "表示 open id"), ("user", "用户"), ("empty", "")])
        );
        let flat = "是否加入离职屏蔽名单。可选值有：  \n-true：是  \n-false：否  \n**字段权限要求（满足任一）**：";
        assert_eq!(enum_values(flat), ev(&[("true", "是"), ("false", "否")]));
        let text = "流程状态 可选值有 - \"inProgress\"：审批中\n- \"rejected\"：已拒绝";
        assert_eq!(enum_values(text), ev(&[("inProgress", "审批中"), ("rejected", "已拒绝")]));
        assert_eq!(enum_values("流程状态  \n可选值有\n- `a`：甲"), ev(&[("a", "甲")]));
        assert_eq!(
            enum_values("状态，可能值有：\n- 1 = Inactive / 停用\n- 2 = Active / 启用"),
            ev(&[("1", "Inactive / 停用"), ("2", "Active / 启用")])
        );
        assert_eq!(
            enum_values("是否启用，可选项有：  \n- true\n- false"),
            ev(&[("true", ""), ("false", "")])
        );
    }

    #[test]
    fn enum_values_on_one_line() {
        let gfm = "用户 ID 类型\n**可选值有**：- `open_id`: desc one - `union_id`: desc two - `user_id`: desc three\n**默认值**：`open_id`";
        assert_eq!(
            enum_values(gfm),
            ev(&[("open_id", "desc one"), ("union_id", "desc two"), ("user_id", "desc three")])
        );
        assert_eq!(
            enum_values("操作人身份。 可选值有: - app: 应用 - user: 用户"),
            ev(&[("app", "应用"), ("user", "用户")])
        );
        assert_eq!(
            enum_values("数据权限 可选值有：- 0: 无数据权限 - 1: 全部数据权限"),
            ev(&[("0", "无数据权限"), ("1", "全部数据权限")])
        );
        assert_eq!(
            enum_values("是否必填 **可选值有**： * `true`：必填 * `false`：非必填"),
            ev(&[("true", "必填"), ("false", "非必填")])
        );
        let prose = "**可选值有**：\n- `1`: 中国 - 居民身份证 - `2`: 护照 - `3`: 见 https://x.y/z - 说明: 无";
        assert_eq!(
            enum_values(prose),
            ev(&[("1", "中国 - 居民身份证"), ("2", "护照"), ("3", "见 https://x.y/z - 说明: 无")])
        );
        let link = "**可选值有**：\n- `open_id`: 同一用户。[了解更多：如何获取 Open ID](https://open.feishu.cn/a) - `union_id`: 开发商\n**当值为 `user_id`，字段权限要求**： `contact:user.employee_id:readonly` 获取用户 user ID";
        assert_eq!(
            enum_values(link).iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
            ["open_id", "union_id"]
        );
        assert_eq!(
            enum_values(link)[0].description,
            "同一用户。[了解更多：如何获取 Open ID](https://open.feishu.cn/a)"
        );
    }

    #[test]
    fn enum_list_ends() {
        let text = "**可选值有**：\n- text：文本\n- post：富文本\n\n不同消息类型的详细介绍，参见发送消息内容。\n\n**示例值**：\"text\"";
        assert_eq!(enum_values(text), ev(&[("text", "文本"), ("post", "富文本")]));
        assert_eq!(
            enum_values(
                "**可选值有**：\n- 1：离职发起\n- 2：审批通过\n其他说明\n- 3：不是这个列表的"
            )
            .len(),
            2
        );
        assert_eq!(
            enum_values("**可选值有**：- `a`: 甲 - `b`: 乙 不同消息类型的说明 - `c`: 丙"),
            ev(&[("a", "甲"), ("b", "乙")])
        );
        assert_eq!(
            enum_values("可选值有：\n- `a`: 甲\n**数据校验规则**：\n- 长度范围：`1` ～ `3`"),
            ev(&[("a", "甲")])
        );
        assert_eq!(
            enum_values("可选值如下：\n- a：甲\n- a：重复\n可能值有：\n- b：乙"),
            ev(&[("a", "甲"), ("b", "乙")])
        );
        for text in [
            "ID 获取方式: - 调用发送消息接口后, 获取。 - 监听: 事件",
            "**可选值有**：\n说明文字\n- a：甲",
            "可选值有限，请联系管理员",
            // A keyword inside a list item opens that item's sub-list, not the field's values.
            "说明\n- ==org_key==：管理维度。可选项有  \n    - 部门：==department==",
            "说明 - ==org_key==：管理维度。可选项有 - 部门：==department==",
        ] {
            assert_eq!(enum_values(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn length_ranges() {
        let (none, chars, bytes) = (Unit::None, Unit::Chars, Unit::Bytes);
        for (text, want) in [
            ("**数据校验规则**：\n- 长度范围：`1` ～ `200` 字符", range(int(1), int(200), chars)),
            ("长度范围：`0` ～ `50`", range(int(0), int(50), none)),
            ("长度范围: `1` ～ `3`", range(int(1), int(3), none)),
            ("长度范围：`1`~`1,000`字符", range(int(1), int(1000), chars)),
            (
                "- 长度范围：`10` ～ `10` 字符 - 正则校验：`^[0-9]+$`",
                range(int(10), int(10), chars),
            ),
            ("最大长度：`50` 字符", range(None, int(50), chars)),
            ("最大长度：`50`", range(None, int(50), none)),
            ("最小长度：`1` 字符", range(int(1), None, chars)),
            ("**数据校验规则**:\n最大长度: 3最小长度: 1", range(int(1), int(3), none)),
            ("最小长度为 1 字符，最大长度为100字符", range(int(1), int(100), chars)),
            ("最大值：`4,096 个 UTF-8 编码的字符`", range(None, int(4096), chars)),
            ("最大值：`100,000 个 UTF-16 编码的字符`", range(None, int(100_000), chars)),
            ("最大长度 1024 个 Unicode 码点。", range(None, int(1024), chars)),
            ("最大长度为 `256` 字节", range(None, int(256), bytes)),
            ("最大长度：`64` B", range(None, int(64), bytes)),
            ("最大长度**： 50<br>**注意**：x", range(None, int(50), none)),
            ("**最大长度**：\n50\n**注意**：x", range(None, int(50), none)),
            ("最大值：`100`", None),
            ("最大长度（字符），按标识符切片时必须填写", None),
            ("最大长度限制", None),
            ("取值范围：`1` ～ `100`", None),
            ("没有规则", None),
        ] {
            assert_eq!(length_range(text), want, "{text:?}");
        }
    }

    #[test]
    fn value_ranges() {
        let r = |a: Option<Number>, b: Option<Number>| range(a, b, Unit::None);
        for (text, want) in [
            ("取值范围：`1` ～ `100`", r(int(1), int(100))),
            ("取值范围：`-90` ～ `90`", r(int(-90), int(90))),
            ("取值范围：`0.0` ～ `1.0`", r(Number::from_f64(0.0), Number::from_f64(1.0))),
            ("取值范围：[1,100]", r(int(1), int(100))),
            ("取值范围[0,255]", r(int(0), int(255))),
            ("取值范围为 (0,5000]。", r(None, int(5000))),
            ("取值范围1-168，单位是小时。", r(int(1), int(168))),
            ("取值范围**: `0` - `8`", r(int(0), int(8))),
            ("取值范围： 1  ～  999999 ", r(int(1), int(999_999))),
            ("最大值：`100`", r(None, int(100))),
            ("最小值：`1`", r(int(1), None)),
            ("最小值：`-1`\n最大值：`20`", r(int(-1), int(20))),
            ("取值范围：`0` ～ `9223372036854775807`", r(int(0), int(i64::MAX))),
            ("取值范围：`0` ～ `18446744073709551615`", r(int(0), Some(u64::MAX.into()))),
            ("取值范围：`-10000000000000000000` ～ `0`", r(Number::from_f64(-1e19), int(0))),
            ("取值范围：0 ~ content.length", r(int(0), None)),
            ("最大值：2099-12-31", None),
            ("最小值： 1900-01-01 - 最大值：9999-12-31", None),
            ("取值范围为TZ database name", None),
            ("取值范围为：-1 或 0 < revision_id", None),
            ("最大值，不返回 has_more 参数", None),
            ("最大值：`100,000 个 UTF-16 编码的字符`", None),
            ("版本 v1.2，10:30", None),
        ] {
            assert_eq!(value_range(text), want, "{text:?}");
        }
    }

    #[test]
    fn per_receiver_limits() {
        for (text, want) in [
            (
                "为避免消息发送频繁对用户造成打扰，向同一用户发送消息的限频为 ==5 QPS==、向同一群组发送消息的限频为群内机器人共享 ==5 QPS==。",
                Some(5),
            ),
            ("向同一用户发送消息的限频为 5 QPS，向同一群组发送消息的限频为 10 QPS", Some(5)),
            ("对同一个群每秒 2 次", Some(2)),
            ("同一会话 3 次/秒", Some(3)),
            // Figures about the app as a whole, or without a receiver, are not per receiver.
            ("接口频率限制为 50 QPS", None),
            ("同一用户只能创建一个。接口 50 QPS", None),
            ("同一用户 0 QPS", None),
            ("", None),
        ] {
            assert_eq!(per_receiver_limit(text), want, "{text}");
        }
    }

    #[test]
    fn rate_limits() {
        let both = "1000 次/分钟、50 次/秒";
        let slow = "单个应用调用频率上限为每秒 3 次";
        for (text, second, minute, want) in [
            (both, Some(50), Some(1000), both),
            (
                "[1000 次/分钟、50 次/秒](https://open.feishu.cn/document/ukTMukTMukTM/uUzN04SN3QjL1cDN)",
                Some(50),
                Some(1000),
                both,
            ),
            (" 5 次/秒 ", Some(5), None, "5 次/秒"),
            ("[100 次/分钟](/ssl:ttdoc/x)", None, Some(100), "100 次/分钟"),
            ("10 次/小时", None, None, "10 次/小时"),
            ("[特殊频控](https://x/y)", None, None, "特殊频控"),
            ("特殊频控", None, None, "特殊频控"),
            ("租户维度 5 次/秒", Some(5), None, "租户维度 5 次/秒"),
            (slow, Some(3), None, slow),
        ] {
            assert_eq!(
                rate_limit(text),
                Some(RateLimit {
                    per_second: second,
                    per_minute: minute,
                    per_receiver_per_second: None,
                    text: want.into()
                })
            );
        }
        assert_eq!(rate_limit("  "), None);
        assert_eq!(rate_limit(""), None);
    }

    #[test]
    fn app_type_cells() {
        use AppType::*;
        let both = ["custom,isv", "custom  isv", "isv,custom", "自建应用、商店应用"].map(app_types);
        assert_eq!(
            both,
            [vec![Custom, Isv], vec![Custom, Isv], vec![Custom, Isv], vec![Custom, Isv]]
        );
        assert_eq!(
            ["商店应用", "custom", "customer isvx"].map(app_types),
            [vec![Isv], vec![Custom], vec![]]
        );
    }

    #[test]
    fn scope_cells() {
        let both = [
            scope("im:message", "获取与发送单聊、群组消息"),
            scope("im:message:send_as_bot", "以应用的身份发消息"),
        ];
        assert_eq!(
            scopes(
                "获取与发送单聊、群组消息(im:message)  \n以应用的身份发消息(im:message:send_as_bot)"
            ),
            both
        );
        assert_eq!(
            scopes(
                "获取与发送单聊、群组消息（im:message）以应用的身份发消息（im:message:send_as_bot）"
            ),
            both
        );
        let flat = "im:message 获取与发送单聊、群组消息 im:message.reactions:write_only 发送、删除消息表情回复";
        assert_eq!(
            scopes(flat),
            [both[0].clone(), scope("im:message.reactions:write_only", "发送、删除消息表情回复")]
        );
        let gfm = "`hire:auth:readonly` 获取招聘权限信息 `hire:auth` 更新招聘权限信息";
        assert_eq!(
            scopes(gfm),
            [
                scope("hire:auth:readonly", "获取招聘权限信息"),
                scope("hire:auth", "更新招聘权限信息")
            ]
        );
        assert_eq!(
            scopes("im:message \n im:message:send_as_bot"),
            [scope("im:message", ""), scope("im:message:send_as_bot", "")]
        );
        assert_eq!(scopes("im:message <br> im:message:send_as_bot")[0], scope("im:message", ""));
        let cell = "**调用该 API 所需的权限。开启其中任意一项权限即可调用**  开启任一权限即可 | 编辑离职信息(corehr:offboarding.update:write)";
        assert_eq!(scopes(cell), [scope("corehr:offboarding.update:write", "编辑离职信息")]);
        let cell = "调用该 API 所需的权限。开启其中任意一项权限即可调用 开启任一权限即可 | `hire:auth:readonly` 获取招聘权限信息";
        assert_eq!(scopes(cell), [scope("hire:auth:readonly", "获取招聘权限信息")]);
        let tip = "> **Tip**: 该接口返回体中存在下列敏感字段，如果无需获取这些字段，则不建议申请 `contact:user.employee_id:readonly` 获取用户 user ID";
        assert_eq!(scopes(tip), [scope("contact:user.employee_id:readonly", "获取用户 user ID")]);
        assert_eq!(scopes("参见 [文档](/ssl:ttdoc/uAjLw4CM/x) 与 https://open.feishu.cn/a:b"), []);
        assert_eq!(scopes("im:message im:message"), [scope("im:message", "")]);
        assert_eq!(scopes("需要 im:message."), [scope("im:message", "")]);
        assert_eq!(scopes("没有权限 Im:Message 10:30"), []);
    }

    #[test]
    fn access_token_cells() {
        use AccessToken::*;
        let auth = "`tenant_access_token`\n**值格式**：\"Bearer `access_token`\"\n**示例值**：\"Bearer u-7f1b\"\n[了解更多：如何选择与获取 access token](https://x)";
        let both = [
            "tenant_access_token 或 user_access_token",
            "user_access_token 或 tenant_access_token",
        ]
        .map(access_tokens);
        assert_eq!(
            both,
            [vec![TenantAccessToken, UserAccessToken], vec![TenantAccessToken, UserAccessToken]]
        );
        let one =
            ["`tenant_access_token`", auth, "app_access_token", "token-user"].map(access_tokens);
        assert_eq!(
            one,
            [
                vec![TenantAccessToken],
                vec![TenantAccessToken],
                vec![AppAccessToken],
                vec![UserAccessToken]
            ]
        );
        let prose =
            ["了解更多：如何选择与获取 access token", "Bearer t-xxx", "tenant_access_token_id", ""]
                .map(access_tokens);
        assert!(prose.iter().all(Vec::is_empty), "{prose:?}");
    }

    #[test]
    fn field_scope_rules() {
        let gfm = "用户 ID 类型\n**默认值**：`open_id`\n**当值为 `user_id`，字段权限要求**： `contact:user.employee_id:readonly` 获取用户 user ID";
        assert_eq!(
            field_scopes(gfm),
            [scope("contact:user.employee_id:readonly", "获取用户 user ID")]
        );
        let flat = "是否加入。\n**字段权限要求（满足任一）**：  \n获取名单(corehr:block_list:read)  \n读写名单(corehr:block_list:write)";
        assert_eq!(
            field_scopes(flat),
            [
                scope("corehr:block_list:read", "获取名单"),
                scope("corehr:block_list:write", "读写名单")
            ]
        );
        let list = "字段权限要求：   - `a:b` 甲\n- `c:d` 乙\n**示例值**：\"e:f\"";
        assert_eq!(field_scopes(list), [scope("a:b", "甲"), scope("c:d", "乙")]);
        let bare = "国籍 - 字段权限要求   - `corehr:person.nationality:read` 读取员工国籍 - 可以调用[查询](https://x/y)接口";
        assert_eq!(field_scopes(bare), [scope("corehr:person.nationality:read", "读取员工国籍")]);
        let two = "**字段权限要求**：\n获取 x(p:q)\n**当值为 `union_id`，字段权限要求**：`r:s` 乙";
        assert_eq!(field_scopes(two), [scope("p:q", "获取 x"), scope("r:s", "乙")]);
        assert_eq!(field_scopes("im:message 获取消息"), []);
        assert_eq!(field_scopes("字段权限要求"), []);
    }

    #[test]
    fn reads_everything() {
        let text = "语言类型。\n**示例值**：\"en_us\"\n**默认值**：`zh_cn`\n**可选值有**：\n- en_us：英文\n- zh_cn：简体中文\n**数据校验规则**：\n- 长度范围：`1` ～ `5` 字符";
        let rules = read(text);
        assert_eq!(
            (rules.example.as_deref(), rules.default.as_deref()),
            (Some("en_us"), Some("zh_cn"))
        );
        assert_eq!((rules.enum_values.len(), rules.values, rules.fixed), (2, None, None));
        assert_eq!(rules.length, range(int(1), int(5), Unit::Chars));
        assert_eq!(read("普通的字段说明，没有规则。"), Rules::default());
        assert_eq!(read(""), Rules::default());
    }

    fn everything(text: &str) {
        let _ = (
            read(text),
            value_format(text),
            rate_limit(text),
            app_types(text),
            scopes(text),
            access_tokens(text),
        );
    }

    #[test]
    fn garbage_never_panics() {
        // The pieces the scanners look for, combined, then cut at every char boundary.
        let pieces = "**|：|:|- |-| - | * |`|\"|“|”|示例值|默认值|可选值有|可选值|长度范围|取值范围|最大值|最小长度|字段权限要求|当值为|\
            （|(|)|[|](|次/秒|每秒|1,0|9|~|～|字符|个|\n|a:b|é|😀|\u{3000}|\\|了解更多|/|不同消息类型|1.|B|=";
        let pieces: Vec<&str> = pieces.split('|').collect();
        for (i, a) in pieces.iter().enumerate() {
            for b in pieces.iter().skip(i % 7).step_by(5) {
                everything(&format!("{a}{b}{a}"));
                everything(&format!("{b}{a}{b}{a}"));
            }
        }
        let long = pieces.concat();
        for (i, _) in long.char_indices() {
            everything(&long[..i]);
            everything(&long[i..]);
        }
    }

    fn sweep(dir: &std::path::Path) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                sweep(&path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                text.lines()
                    .flat_map(|l| l.split('|'))
                    .for_each(|cell| everything(&cell.replace("<br>", "\n")));
            }
        }
    }

    #[test]
    fn seed_pages_never_panic() {
        sweep(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds"));
    }

    /// The 2,300-page corpus next to the project; does nothing when it is absent.
    #[test]
    #[ignore = "slow: reads the whole shared corpus"]
    fn corpus_never_panics() {
        sweep(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    }
}
