//! A doc page's header, read and written in one place: `cargo xtask docs sync`
//! writes it, and the parser (`feishu-docs`), the sync itself and the
//! sandbox's local doc portal read it. It lives here because this is the one
//! crate all three may depend on.
//!
//! Two shapes are read, each a block of `key: value` lines at the top of the
//! page (after an optional byte-order mark):
//!
//! ```text
//! ---                                  <!--
//! title: "发送消息"                     title: 回复消息
//! fullPath: "/uAjLw4CM/…/create"       fullPath: /uAjLw4CM/…/reply
//! ---                                  -->
//! ```
//!
//! A value is a YAML double-quoted string (`\"`, `\\`, `\n`, `\t`, `\uXXXX`…
//! unescaped), a single-quoted one (`''` is a quote), or plain text taken as
//! it stands (a `#` in it is text, not a comment). [`write`] writes the YAML
//! shape with every value double-quoted and every control character escaped,
//! so any text from the network stays on its line and reads back unchanged.
//!
//! A header names its portal page in one order, for every reader
//! ([`FrontMatter::source`]): `fullPath` first (the portal's own id), else the
//! first of [`URL_KEYS`] that holds a URL.

use std::collections::BTreeMap;

/// The keys that may hold a page's source URL, in rank order.
pub const URL_KEYS: [&str; 3] = ["source_url", "source", "url"];

/// Which header a page has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shape {
    /// No header: the whole text is the body.
    #[default]
    None,
    /// A `---` … `---` YAML block.
    Yaml,
    /// A leading `<!--` … `-->` comment.
    Comment,
}

/// The header of one page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontMatter {
    /// The `key: value` lines, values unquoted.
    pub keys: BTreeMap<String, String>,
    /// The header's shape.
    pub shape: Shape,
    /// The byte offset where the body starts (after the header's closing line).
    pub body_start: usize,
}

/// What a header says a page is, by the one ranking of the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// The portal's `fullPath` (starts with `/`).
    FullPath(&'a str),
    /// A URL on the documentation site.
    Url(&'a str),
}

impl FrontMatter {
    /// Reads the header of `text`; never fails (a page without one, or with
    /// one never closed, has no keys and its whole text as body).
    pub fn read(text: &str) -> FrontMatter {
        let trimmed = text.trim_start_matches('\u{feff}');
        let skip = text.len() - trimmed.len();
        let first_line = trimmed.lines().next().unwrap_or("");
        let (shape, open, close) = if first_line.trim_end() == "---" {
            (Shape::Yaml, "---", "\n---")
        } else if trimmed.starts_with("<!--") {
            (Shape::Comment, "<!--", "-->")
        } else {
            return FrontMatter::default();
        };
        let after_open = skip + open.len();
        let Some(end) = text[after_open..].find(close) else {
            return FrontMatter::default();
        };
        let after_close = after_open + end + close.len();
        // The rest of the closing line belongs to the header.
        let body_start = text[after_close..].find('\n').map_or(text.len(), |i| after_close + i + 1);
        let mut keys = BTreeMap::new();
        for line in text[after_open..after_open + end].lines() {
            if let Some((key, value)) = line.split_once(':') {
                let key = key.trim();
                if !key.is_empty() && !key.contains(' ') {
                    keys.insert(key.to_string(), unquote(value));
                }
            }
        }
        FrontMatter { keys, shape, body_start }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys.get(key).map(String::as_str)
    }

    /// The page's title, when not empty.
    pub fn title(&self) -> Option<&str> {
        self.get("title").filter(|t| !t.is_empty())
    }

    /// The portal `fullPath`, when it is one (starts with `/`).
    pub fn full_path(&self) -> Option<&str> {
        self.get("fullPath").filter(|p| p.starts_with('/'))
    }

    /// The first of [`URL_KEYS`] that holds an http(s) URL.
    pub fn source_url(&self) -> Option<&str> {
        URL_KEYS.iter().find_map(|key| self.get(key).filter(|u| u.starts_with("http")))
    }

    /// Which page this is: its `fullPath`, else its source URL.
    pub fn source(&self) -> Option<Source<'_>> {
        self.full_path().map(Source::FullPath).or_else(|| self.source_url().map(Source::Url))
    }

    /// The page's URL on the documentation site, by the same ranking: for a
    /// `fullPath`, the source URL when it is that page's (`…/document<fullPath>`,
    /// so that a Lark page keeps its site), else `{site}<fullPath>` (`site` is
    /// like `https://open.feishu.cn/document`); without one, the source URL.
    pub fn doc_url(&self, site: &str) -> Option<String> {
        match self.source()? {
            Source::FullPath(full_path) => {
                let own = self.source_url().filter(|url| {
                    url.split(['?', '#'])
                        .next()
                        .is_some_and(|url| url.ends_with(&format!("/document{full_path}")))
                });
                Some(own.map_or_else(|| format!("{site}{full_path}"), str::to_string))
            }
            Source::Url(url) => Some(url.to_string()),
        }
    }

    /// Whether `docs sync` wrote this header (YAML with `fullPath` and
    /// `updateTime`): such a page is the sync's to replace and to delete.
    pub fn is_synced(&self) -> bool {
        self.shape == Shape::Yaml
            && self.full_path().is_some()
            && self.keys.contains_key("updateTime")
    }
}

/// The YAML header of `fields`, in their order, each value double-quoted:
/// `---\nkey: "value"\n…---\n`. The keys are the caller's (plain words).
pub fn write(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("---\n");
    for (key, value) in fields {
        out.push_str(key);
        out.push_str(": ");
        out.push_str(&quote(value));
        out.push('\n');
    }
    out.push_str("---\n");
    out
}

/// `value` as a YAML double-quoted string on one line.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value as written after `key:`: double-quoted, single-quoted or plain.
fn unquote(raw: &str) -> String {
    let value = raw.trim();
    if let Some(inner) = value.strip_prefix('"') {
        return double_quoted(inner);
    }
    if let Some(inner) = value.strip_prefix('\'') {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    out.push('\'');
                }
                '\'' => break,
                c => out.push(c),
            }
        }
        return out;
    }
    value.to_string()
}

/// The text of a double-quoted string after its opening quote, up to the
/// closing one (or the end, for a quote never closed).
fn double_quoted(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some(kind @ ('x' | 'u' | 'U')) => {
                    let digits = match kind {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = chars.clone().take(digits).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(decoded) if hex.len() == digits => {
                            out.push(decoded);
                            chars.nth(digits - 1);
                        }
                        _ => {
                            out.push('\\');
                            out.push(kind);
                        }
                    }
                }
                // `\"`, `\\`, `\/` and any escape YAML does not define: the character itself.
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Titles a portal could send, each through the writer and back.
    const TITLES: [&str; 18] = [
        "发送消息",
        "say \"hi\"",
        "\"",
        "back\\slash \\\" and \\n as text",
        "a: b: c",
        "# not a comment",
        "a #b",
        "  leading spaces",
        "trailing spaces  ",
        "'single' quotes",
        "line\nbreak\r\nand\ttab",
        "nul \u{0} bell \u{7} del \u{7f} c1 \u{85}",
        "emoji 🚀 and ä",
        "---",
        "-->",
        "",
        " ",
        "\\u0041 stays text",
    ];

    #[test]
    fn every_title_round_trips_on_one_line() {
        for title in TITLES {
            let header = write(&[("title", title), ("fullPath", "/a/b"), ("updateTime", "17")]);
            assert_eq!(header.lines().count(), 5, "{title:?} → {header:?}");
            let text = format!("{header}\n# body\n");
            let read = FrontMatter::read(&text);
            assert_eq!(read.get("title"), Some(title), "{header}");
            assert_eq!(read.full_path(), Some("/a/b"));
            assert_eq!((read.shape, &text[read.body_start..]), (Shape::Yaml, "\n# body\n"));
            assert!(read.is_synced());
        }
    }

    #[test]
    fn reads_the_other_value_shapes() {
        let text = "\u{feff}---\r\nplain: a \"b\" # c\r\nsingle: 'it''s'\r\nescapes: \"\\x41\\u00e4\\U0001F680\\/\\q\\u12\"\r\nunclosed: \"ab\\\"c\r\nkey with space: x\r\n---\r\nbody";
        let read = FrontMatter::read(text);
        assert_eq!(read.get("plain"), Some("a \"b\" # c"));
        assert_eq!(read.get("single"), Some("it's"));
        assert_eq!(read.get("escapes"), Some("Aä🚀/q\\u12"));
        assert_eq!(read.get("unclosed"), Some("ab\"c"));
        assert_eq!(read.keys.len(), 4);
        assert_eq!(&text[read.body_start..], "body");
        assert!(!read.is_synced(), "no fullPath");
    }

    #[test]
    fn comments_no_header_and_unclosed_headers() {
        let comment = "<!--\ntitle: 回复消息\nfullPath: /x/reply\nsource: https://open.feishu.cn/document/server-docs/reply\n-->\n# 回复消息\n";
        let read = FrontMatter::read(comment);
        assert_eq!((read.shape, read.title()), (Shape::Comment, Some("回复消息")));
        assert_eq!(&comment[read.body_start..], "# 回复消息\n");
        assert!(!read.is_synced(), "only the YAML header is the sync's");
        for text in ["添加消息表情回复\n", "---\ntitle: x\n", "----\ntitle: x\n---\n", ""] {
            let read = FrontMatter::read(text);
            assert_eq!(
                (read.shape, read.body_start, read.keys.len()),
                (Shape::None, 0, 0),
                "{text:?}"
            );
        }
    }

    #[test]
    fn full_path_ranks_before_the_source_url() {
        const SITE: &str = "https://open.feishu.cn/document";
        let read = |text: &str| FrontMatter::read(text);
        // Both: the fullPath names the page, and a URL of another page is not its link.
        let both = read(
            "<!--\nfullPath: /a/reply\nsource: https://open.feishu.cn/document/server-docs/reply\n-->\n",
        );
        assert_eq!(both.source(), Some(Source::FullPath("/a/reply")));
        assert_eq!(both.doc_url(SITE).as_deref(), Some("https://open.feishu.cn/document/a/reply"));
        // The URL of that very page keeps its site (a Lark page).
        let lark = read(
            "---\nfullPath: \"/a/b\"\nupdateTime: \"1\"\nurl: \"https://open.larksuite.com/document/a/b\"\n---\n",
        );
        assert_eq!(lark.doc_url(SITE).as_deref(), Some("https://open.larksuite.com/document/a/b"));
        // A URL alone, in the keys' order.
        let url = read(
            "---\nurl: https://x/document/u\nsource_url: https://x/document/s\nfullPath: relative\n---\n",
        );
        assert_eq!(url.source(), Some(Source::Url("https://x/document/s")));
        assert_eq!(url.doc_url(SITE).as_deref(), Some("https://x/document/s"));
        assert_eq!(read("---\nsource: not a url\n---\n").source(), None);
    }
}
