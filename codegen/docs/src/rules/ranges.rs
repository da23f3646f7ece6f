//! Range rules: 长度范围 / 最大长度 / 最小长度 for lengths (with their unit) and
//! 取值范围 / 最大值 / 最小值 for numbers, and the number reader they share.

use serde_json::Number;

use super::scan::SPACE;

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
