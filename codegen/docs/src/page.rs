//! A doc page: its front matter, its body, and line numbers.

use std::collections::BTreeMap;

/// The documentation site that relative doc links point into.
pub const DOC_SITE: &str = "https://open.feishu.cn/document";

/// A page as read from disk.
#[derive(Debug)]
pub struct Page<'a> {
    /// The file name used in diagnostics and `sources`.
    pub file: &'a str,
    /// The whole text.
    pub text: &'a str,
    /// Keys of the YAML or HTML-comment header.
    pub meta: BTreeMap<String, String>,
    /// Byte offset where the body starts (after the header).
    pub body_start: usize,
    line_starts: Vec<usize>,
}

impl<'a> Page<'a> {
    /// Reads the header of `text`; never fails.
    pub fn new(file: &'a str, text: &'a str) -> Page<'a> {
        let line_starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let (meta, body_start) = front_matter(text);
        Page { file, text, meta, body_start, line_starts }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The body after the header.
    pub fn body(&self) -> &'a str {
        &self.text[self.body_start..]
    }

    /// The page's title from its header.
    pub fn title(&self) -> Option<&str> {
        self.meta.get("title").map(String::as_str).filter(|t| !t.is_empty())
    }

    /// The page's URL on the documentation site, from `source_url`, `source` or `fullPath`.
    pub fn doc_url(&self) -> Option<String> {
        for key in ["source_url", "source", "url"] {
            if let Some(url) = self.meta.get(key).filter(|u| u.starts_with("http")) {
                return Some(url.clone());
            }
        }
        self.meta.get("fullPath").filter(|p| p.starts_with('/')).map(|p| format!("{DOC_SITE}{p}"))
    }
}

/// Reads a `---` YAML header or a leading `<!-- … -->` comment of `key: value`
/// lines. Returns the keys and the body's byte offset.
pub fn front_matter(text: &str) -> (BTreeMap<String, String>, usize) {
    let trimmed = text.trim_start_matches('\u{feff}');
    let skip = text.len() - trimmed.len();
    let (open, close) = if trimmed.starts_with("---") {
        ("---", "\n---")
    } else if trimmed.starts_with("<!--") {
        ("<!--", "-->")
    } else {
        return (BTreeMap::new(), 0);
    };
    let after_open = skip + open.len();
    let Some(end) = text[after_open..].find(close) else {
        return (BTreeMap::new(), 0);
    };
    let header = &text[after_open..after_open + end];
    let mut body_start = after_open + end + close.len();
    // The closing line's remainder belongs to the header.
    body_start = text[body_start..].find('\n').map_or(text.len(), |i| body_start + i + 1);
    let mut meta = BTreeMap::new();
    for line in header.lines() {
        if let Some((key, value)) = line.split_once(':') {
            let key = key.trim();
            if key.is_empty() || key.contains(' ') {
                continue;
            }
            let value = value.trim().trim_matches('"').trim_matches('\'').to_string();
            meta.insert(key.to_string(), value);
        }
    }
    (meta, body_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_front_matter() {
        let text = "---\ntitle: \"添加跟随气泡\"\nsource_url: https://open.feishu.cn/document/im-v1/message/push_follow_up\n---\n最后更新于\n";
        let page = Page::new("a.md", text);
        assert_eq!(page.title(), Some("添加跟随气泡"));
        assert_eq!(
            page.doc_url().as_deref(),
            Some("https://open.feishu.cn/document/im-v1/message/push_follow_up")
        );
        assert_eq!(page.body(), "最后更新于\n");
        assert_eq!(page.line_of(page.body_start), 5);
    }

    #[test]
    fn reads_html_comment_header_and_full_path() {
        let text = "<!--\ntitle: 回复消息\nfullPath: /uAjLw4CM/reference/im-v1/message/reply\n-->\n# 回复消息\n";
        let page = Page::new("b.md", text);
        assert_eq!(page.title(), Some("回复消息"));
        assert_eq!(
            page.doc_url().as_deref(),
            Some("https://open.feishu.cn/document/uAjLw4CM/reference/im-v1/message/reply")
        );
        assert!(page.body().starts_with("# 回复消息"));
    }

    #[test]
    fn no_header_and_unclosed_header_keep_the_whole_text() {
        assert_eq!(Page::new("c", "添加消息表情回复\n").body(), "添加消息表情回复\n");
        assert_eq!(Page::new("d", "---\ntitle: x\n").body(), "---\ntitle: x\n");
    }
}
