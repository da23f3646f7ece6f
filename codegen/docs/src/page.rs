//! A doc page: its front matter, its body, and line numbers. The header is
//! read by `feishu_spec::front_matter`, the one reader (and writer) that
//! `cargo xtask docs sync` and the sandbox's doc portal use too.

use std::collections::BTreeMap;

use feishu_spec::front_matter::FrontMatter;

/// The documentation site that relative doc links point into.
pub const DOC_SITE: &str = "https://open.feishu.cn/document";

/// A page as read from disk.
#[derive(Debug)]
pub struct Page<'a> {
    /// The file name used in diagnostics and `sources`.
    pub file: &'a str,
    /// The whole text.
    pub text: &'a str,
    /// The YAML or HTML-comment header.
    pub header: FrontMatter,
    /// Byte offset where the body starts (after the header).
    pub body_start: usize,
    line_starts: Vec<usize>,
}

impl<'a> Page<'a> {
    /// Reads the header of `text`; never fails.
    pub fn new(file: &'a str, text: &'a str) -> Page<'a> {
        let line_starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let header = FrontMatter::read(text);
        Page { file, text, body_start: header.body_start, header, line_starts }
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
        self.header.title()
    }

    /// The page's URL on the documentation site: from its `fullPath`, else its
    /// source URL (`source_url`, `source`, `url`), the one ranking of
    /// [`FrontMatter::source`].
    pub fn doc_url(&self) -> Option<String> {
        self.header.doc_url(DOC_SITE)
    }
}

/// The header keys of `text` and the body's byte offset (see [`FrontMatter::read`]).
pub fn front_matter(text: &str) -> (BTreeMap<String, String>, usize) {
    let header = FrontMatter::read(text);
    (header.keys, header.body_start)
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

    /// The sync's header, read by the parser: escapes are undone, and the
    /// fullPath ranks before a source URL of another page.
    #[test]
    fn reads_what_the_sync_writes() {
        for title in ["say \"hi\"", "a\\b", "a: #b", "  发送消息"] {
            let header = feishu_spec::front_matter::write(&[
                ("title", title),
                ("fullPath", "/a/b"),
                ("updateTime", "1"),
                ("url", "https://open.larksuite.com/document/a/b"),
            ]);
            let text = format!("{header}\n# x\n");
            let page = Page::new("s.md", &text);
            assert_eq!((page.title(), page.body()), (Some(title), "\n# x\n"));
            assert_eq!(page.doc_url().as_deref(), Some("https://open.larksuite.com/document/a/b"));
        }
        let both = "<!--\nfullPath: /a/reply\nsource: https://open.feishu.cn/document/server-docs/reply\n-->\n";
        assert_eq!(
            Page::new("r.md", both).doc_url().as_deref(),
            Some("https://open.feishu.cn/document/a/reply")
        );
    }

    #[test]
    fn no_header_and_unclosed_header_keep_the_whole_text() {
        assert_eq!(Page::new("c", "添加消息表情回复\n").body(), "添加消息表情回复\n");
        assert_eq!(Page::new("d", "---\ntitle: x\n").body(), "---\ntitle: x\n");
    }
}
