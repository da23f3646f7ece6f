//! The header a synced page carries, and what any page's header says about
//! which portal page it is. The format itself (one writer, one reader, one
//! ranking of `fullPath` and source URL) is `feishu_spec::front_matter`,
//! shared with the parser and the sandbox's doc portal.
//!
//! A synced page is the portal's `content` as served, under a YAML header:
//!
//! ```text
//! ---
//! title: "发送消息"
//! fullPath: "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create"
//! updateTime: "1712631346000"
//! url: "https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create"
//! ---
//! ```
//!
//! Values are double-quoted YAML strings with every control character
//! escaped, so any title from the network stays one line and reads back as
//! sent. A page whose YAML header has both `fullPath` and `updateTime` is one
//! the sync owns: it is replaced when the page changes and deleted when the
//! page is gone upstream. Other pages that name a `fullPath` (the seeds' HTML
//! comment) or a source URL (`source_url`, `source`, `url`) are refreshed when
//! found but never deleted.

use feishu_spec::front_matter::{self, FrontMatter, Source};

/// What a synced page's header holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub title: String,
    pub full_path: String,
    /// Epoch milliseconds, as the portal gave them.
    pub update_time: String,
    /// The page on the documentation site.
    pub url: String,
}

/// The file text of a synced page.
pub fn render(header: &Header, content: &str) -> String {
    let mut text = front_matter::write(&[
        ("title", &header.title),
        ("fullPath", &header.full_path),
        ("updateTime", &header.update_time),
        ("url", &header.url),
    ]);
    text.push_str(content);
    text
}

/// Which portal page a local file is, by its own header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The header names the fullPath; `owned` when it is a synced page's header.
    FullPath { full_path: String, owned: bool },
    /// The header names a page URL only.
    Url(String),
    /// No header, or none that names the page.
    Unknown,
}

/// Reads the identity from a page's text.
pub fn identity(text: &str) -> Identity {
    let header = FrontMatter::read(text);
    match header.source() {
        Some(Source::FullPath(full_path)) => {
            Identity::FullPath { full_path: full_path.to_string(), owned: header.is_synced() }
        }
        Some(Source::Url(url)) => Identity::Url(url.to_string()),
        None => Identity::Unknown,
    }
}

/// The portal fullPath a doc URL points at, given the pages of the tree:
/// `…/document/<fullPath>` exactly, else the one page whose fullPath ends with
/// the URL's path (or with it less its first segment, as in
/// `…/document/server-docs/im-v1/message/reply`). Ambiguous tails name nothing.
pub fn full_path_of_url<'a>(
    url: &str,
    pages: impl Iterator<Item = &'a str> + Clone,
) -> Option<String> {
    let url = url.split(['?', '#']).next()?;
    let (_, rest) = url.split_once("/document/")?;
    let direct = format!("/{}", rest.trim_end_matches('/'));
    if pages.clone().any(|p| p == direct) {
        return Some(direct);
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    for skip in 0..2 {
        if segments.len() < skip + 2 {
            break;
        }
        let tail = format!("/{}", segments[skip..].join("/"));
        let mut found = pages.clone().filter(|p| p.ends_with(&tail));
        match (found.next(), found.next()) {
            (Some(one), None) => return Some(one.to_string()),
            (Some(_), Some(_)) => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(title: &str) -> Header {
        Header {
            title: title.into(),
            full_path: "/a/b".into(),
            update_time: "17".into(),
            url: "https://open.feishu.cn/document/a/b".into(),
        }
    }

    #[test]
    fn renders_and_reads_back() {
        let text = render(&header("发送消息"), "\n# 发送消息\n");
        assert_eq!(
            text,
            "---\ntitle: \"发送消息\"\nfullPath: \"/a/b\"\nupdateTime: \"17\"\nurl: \"https://open.feishu.cn/document/a/b\"\n---\n\n# 发送消息\n"
        );
        assert_eq!(identity(&text), Identity::FullPath { full_path: "/a/b".into(), owned: true });
        let parsed = feishu_docs::page::Page::new("x.md", &text);
        assert_eq!((parsed.title(), parsed.body()), (Some("发送消息"), "\n# 发送消息\n"));
    }

    /// The sync's header read back by the sync itself and by the parser,
    /// whatever the title: the same text, on one line.
    #[test]
    fn hostile_titles_round_trip_to_the_parser() {
        for title in [
            "a\"b\\c\nfullPath: /evil\r\u{0}",
            "\"quoted\"",
            "back\\slash",
            "a: b",
            "# heading?",
            "  leading spaces",
            "发送消息 🚀",
        ] {
            let text = render(&header(title), "\n# body\n");
            assert_eq!(text.lines().count(), 8, "{text:?}");
            assert_eq!(
                identity(&text),
                Identity::FullPath { full_path: "/a/b".into(), owned: true }
            );
            let parsed = feishu_docs::page::Page::new("x.md", &text);
            assert_eq!((parsed.title(), parsed.body()), (Some(title), "\n# body\n"));
        }
    }

    #[test]
    fn reads_the_seed_header_shapes() {
        let comment = "<!--\ntitle: 回复消息\nfullPath: /uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/reply\nupdatedAt: 1\n-->\n# x";
        assert_eq!(
            identity(comment),
            Identity::FullPath {
                full_path: "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/reply".into(),
                owned: false
            }
        );
        let yaml = "---\ntitle: \"x\"\nsource_url: https://open.feishu.cn/document/im-v1/message/push_follow_up\n---\n";
        assert_eq!(
            identity(yaml),
            Identity::Url("https://open.feishu.cn/document/im-v1/message/push_follow_up".into())
        );
        assert_eq!(identity("添加消息表情回复\n"), Identity::Unknown);
    }

    #[test]
    fn urls_find_their_page() {
        let pages = [
            "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/reply",
            "/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/push_follow_up",
            "/x/create",
            "/y/create",
        ];
        let find = |url: &str| full_path_of_url(url, pages.iter().copied());
        assert_eq!(find("https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/reply").as_deref(), Some(pages[0]));
        assert_eq!(
            find("https://open.feishu.cn/document/server-docs/im-v1/message/reply").as_deref(),
            Some(pages[0])
        );
        assert_eq!(
            find("https://open.feishu.cn/document/im-v1/message/push_follow_up?lang=zh").as_deref(),
            Some(pages[1])
        );
        assert_eq!(
            find("https://open.feishu.cn/document/z/create"),
            None,
            "two pages end in /create"
        );
        assert_eq!(find("https://example.com/other"), None);
    }
}
