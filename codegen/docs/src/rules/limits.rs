//! Rate-limit rules: the 接口频率限制 cell and per-receiver limits stated in
//! prose (`向同一用户发送消息的限频为 5 QPS`).

use feishu_spec::RateLimit;

use super::scan::SPACE;

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
