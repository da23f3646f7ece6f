//! Path templates: the one reading of `/open-apis/im/v1/messages/:message_id/reply`
//! that the parser, the model, the OpenAPI writer and the sandbox share.
//!
//! The docs write placeholders two ways, `:message_id` and `{message_id}`;
//! the spec stores the first ([`Endpoint::path`](crate::Endpoint::path)),
//! OpenAPI wants the second. A placeholder is a whole segment with a
//! non-empty name; anything else (a lone `:`, `{}`, `a:b`) is literal text.
//! Parsing never fails: a page's path is untrusted text, and the worst a
//! strange one can do is become a literal.

use std::fmt;

/// A parsed path template. Its segments keep the path exactly as written
/// (leading, trailing and doubled slashes included), so that
/// [`Display`](fmt::Display) gives back the `:x` spelling of the input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathTemplate {
    segments: Vec<Segment>,
}

/// One `/`-separated segment of a [`PathTemplate`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Text matched as it is (may be empty, around a leading or trailing `/`).
    Literal(String),
    /// A placeholder, by name (`message_id`).
    Param(String),
}

/// A run of a [`PathTemplate`] for building a URL: literal text (slashes
/// included) between parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text sent as it is, e.g. `/open-apis/im/v1/messages/`.
    Literal(String),
    /// The parameter's name; its value is sent in its place.
    Param(&'a str),
}

impl PathTemplate {
    /// Reads `path`, with placeholders written `:x` or `{x}`. Surrounding
    /// whitespace is ignored.
    pub fn parse(path: &str) -> PathTemplate {
        let segments = path
            .trim()
            .split('/')
            .map(|segment| {
                let name = segment
                    .strip_prefix(':')
                    .or_else(|| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
                match name {
                    Some(name) if !name.is_empty() => Segment::Param(name.to_owned()),
                    _ => Segment::Literal(segment.to_owned()),
                }
            })
            .collect();
        PathTemplate { segments }
    }

    /// The segments, as written.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The parameters' names, in order.
    pub fn params(&self) -> Vec<&str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(name) => Some(name.as_str()),
                Segment::Literal(_) => None,
            })
            .collect()
    }

    /// The route without its parameter names or a trailing slash:
    /// `/a/:x/b/` and `/a/{y}/b` are both `/a/{}/b`. Two templates of one
    /// shape address the same URLs, whatever their parameters are called.
    pub fn shape(&self) -> String {
        self.join(|_| "{}".to_owned()).trim_end_matches('/').to_owned()
    }

    /// The OpenAPI spelling, `/a/{x}/b`; the rest is kept as written.
    pub fn to_openapi(&self) -> String {
        self.join(|name| format!("{{{name}}}"))
    }

    /// The template as literal runs and parameters, for building a URL:
    /// `/a/:x/b` is `"/a/"`, `x`, `"/b"`. No literal is empty.
    pub fn pieces(&self) -> Vec<Piece<'_>> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                literal.push('/');
            }
            match segment {
                Segment::Literal(text) => literal.push_str(text),
                Segment::Param(name) => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Param(name));
                }
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        pieces
    }

    /// The parameters' values when `path` (a request path, without its
    /// query) addresses this template: segment by segment, slashes at
    /// either end ignored. Values are returned raw, still percent-encoded.
    pub fn matches<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let ours = self.trimmed();
        let theirs: Vec<&str> = path.trim_matches('/').split('/').collect();
        if ours.len() != theirs.len() {
            return None;
        }
        let mut params = Vec::new();
        for (segment, given) in ours.iter().zip(theirs) {
            match segment {
                Segment::Literal(text) if text == given => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.as_str(), given)),
            }
        }
        Some(params)
    }

    /// The segments without the empty ones a leading or trailing `/` makes.
    fn trimmed(&self) -> &[Segment] {
        let empty = |s: &Segment| *s == Segment::Literal(String::new());
        let mut segments = self.segments.as_slice();
        if segments.len() > 1 && segments.first().is_some_and(empty) {
            segments = &segments[1..];
        }
        if segments.len() > 1 && segments.last().is_some_and(empty) {
            segments = &segments[..segments.len() - 1];
        }
        segments
    }

    fn join(&self, param: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Param(name) => out.push_str(&param(name)),
            }
        }
        out
    }
}

/// The spec's spelling, `/a/:x/b`.
impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.join(|name| format!(":{name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(path: &str) -> PathTemplate {
        PathTemplate::parse(path)
    }

    #[test]
    fn reads_both_placeholder_spellings() {
        let colon = t("/open-apis/im/v1/messages/:message_id/reply");
        let braces = t("/open-apis/im/v1/messages/{message_id}/reply");
        assert_eq!(colon, braces);
        assert_eq!(colon.params(), ["message_id"]);
        assert_eq!(t("/a/:x/b/{y}").params(), ["x", "y"]);
        assert_eq!(t("/open-apis/im/v1/messages").params(), Vec::<&str>::new());
    }

    #[test]
    fn strange_segments_are_literal() {
        for path in ["/a/:", "/a/{}", "/a/b:c", "/a/{x", "/a/x}"] {
            assert_eq!(t(path).params(), Vec::<&str>::new(), "{path}");
            assert_eq!(t(path).to_string(), path);
        }
    }

    #[test]
    fn display_and_openapi_keep_the_path_as_written() {
        assert_eq!(t(" /a/{x}/b/ ").to_string(), "/a/:x/b/");
        assert_eq!(
            t("/open-apis/im/v1/messages/:message_id/reply").to_openapi(),
            "/open-apis/im/v1/messages/{message_id}/reply"
        );
        assert_eq!(
            t("/open-apis/message/v4/batch_send/").to_openapi(),
            "/open-apis/message/v4/batch_send/"
        );
    }

    #[test]
    fn shape_ignores_names_and_a_trailing_slash() {
        assert_eq!(t("/open-apis/a/{id}/b/:c").shape(), "/open-apis/a/{}/b/{}");
        assert_eq!(t("/a/:spreadsheetToken/b").shape(), t("/a/:spreadsheet_token/b/").shape());
        assert_ne!(t("/a/:x/b").shape(), t("/a/b/:x").shape());
    }

    #[test]
    fn pieces_split_literals_from_params() {
        assert_eq!(
            t("/open-apis/im/v1/messages/:message_id/reply").pieces(),
            [
                Piece::Literal("/open-apis/im/v1/messages/".into()),
                Piece::Param("message_id"),
                Piece::Literal("/reply".into())
            ]
        );
        assert_eq!(
            t("/a/:x/:y").pieces(),
            [
                Piece::Literal("/a/".into()),
                Piece::Param("x"),
                Piece::Literal("/".into()),
                Piece::Param("y")
            ]
        );
        assert_eq!(t(":x").pieces(), [Piece::Param("x")]);
        assert_eq!(t("/b/").pieces(), [Piece::Literal("/b/".into())]);
    }

    #[test]
    fn matches_request_paths() {
        let reply = t("/open-apis/im/v1/messages/:message_id/reply");
        assert_eq!(
            reply.matches("/open-apis/im/v1/messages/om_1/reply"),
            Some(vec![("message_id", "om_1")])
        );
        assert_eq!(
            reply.matches("/open-apis/im/v1/messages/om_1/reply/"),
            Some(vec![("message_id", "om_1")])
        );
        assert_eq!(reply.matches("/open-apis/im/v1/messages/om_1"), None);
        assert_eq!(reply.matches("/open-apis/im/v1/chats/om_1/reply"), None);
        assert_eq!(
            t("/open-apis/message/v4/batch_send/").matches("/open-apis/message/v4/batch_send"),
            Some(vec![])
        );
        assert_eq!(t("/").matches(""), Some(vec![]));
        // An empty segment is still a value: the route is addressed, the handler judges it.
        assert_eq!(t("/a/:x/b").matches("/a//b"), Some(vec![("x", "")]));
    }
}
