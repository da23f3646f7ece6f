//! Request URIs: the base URL, parsed once, joined with a call's path and
//! query.

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::{ConfigError, Error};

/// What a path may not carry as is: what the URL standard escapes in a
/// path, and the few characters `http::Uri` refuses. `%` is left alone:
/// the generated code sends segments already encoded
/// ([`encode_path_segment`](crate::request::encode_path_segment)).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');
/// What a query given inside the path may not carry as is: the same set
/// (`?`, `&` and `=` pass, so that its pairs stay pairs).
const QUERY: &AsciiSet = PATH;

/// The base URL (`https://open.feishu.cn`, or a proxy's
/// `https://gw.example.com/feishu`), split once so that a call only builds
/// its path.
#[derive(Clone, Debug)]
pub(crate) struct BaseUri {
    scheme: Scheme,
    authority: Authority,
    /// The base's own path, without a trailing `/` (often empty).
    prefix: String,
}

impl BaseUri {
    /// Parses a base URL: http or https, a host, no query or fragment.
    pub(crate) fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |rule| ConfigError::new(format!("base URL {raw:?}"), rule);
        let uri: Uri = raw.parse().map_err(|e| bad("must be a URL").because(e))?;
        let scheme = uri.scheme().cloned().ok_or_else(|| bad("must be a URL with a scheme"))?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(bad("must use http or https").into());
        }
        let authority = uri.authority().cloned().ok_or_else(|| bad("must be a URL with a host"))?;
        if authority.host().is_empty() {
            return Err(bad("must be a URL with a host").into());
        }
        if uri.query().is_some() || raw.contains('#') {
            return Err(bad("must not have a query or fragment").into());
        }
        Ok(Self { scheme, authority, prefix: uri.path().trim_end_matches('/').to_owned() })
    }

    /// The URI of `path` (which may carry a query after `?`) under the
    /// base, with `query` appended form-encoded.
    pub(crate) fn join(&self, path: &str, query: &[(String, String)]) -> Result<Uri, Error> {
        // A fragment is never sent.
        let path = path.split_once('#').map_or(path, |(before, _)| before);
        let (path, inline_query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        let mut target = String::with_capacity(self.prefix.len() + path.len() + 1);
        target.push_str(&self.prefix);
        if !path.starts_with('/') {
            target.push('/');
        }
        target.extend(utf8_percent_encode(path, PATH));
        if inline_query.is_some() || !query.is_empty() {
            target.push('?');
            let start = target.len();
            if let Some(inline) = inline_query {
                target.extend(utf8_percent_encode(inline, QUERY));
            }
            // Puts `&` between the inline query and the pairs, as needed.
            let mut pairs = form_urlencoded::Serializer::for_suffix(target, start);
            pairs.extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            target = pairs.finish();
        }
        let bad = || ConfigError::new(format!("request path {path:?}"), "must form a URL");
        let path_and_query = PathAndQuery::try_from(target).map_err(|e| bad().because(e))?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Ok(Uri::from_parts(parts).map_err(|e| bad().because(e))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(base: &str, path: &str, query: &[(&str, &str)]) -> String {
        let query: Vec<(String, String)> =
            query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        BaseUri::parse(base).unwrap().join(path, &query).unwrap().to_string()
    }

    /// Issue 23 item 6: a bad base URL is a typed config error naming the
    /// setting and the rule, with the URL parser's error as its source.
    #[test]
    fn a_base_url_that_does_not_parse_keeps_the_parsers_error() {
        let error = BaseUri::parse("https://open feishu.cn").unwrap_err();
        let Error::Config(config) = &error else { panic!("{error:?}") };
        assert_eq!(config.setting(), r#"base URL "https://open feishu.cn""#);
        assert_eq!(config.rule(), "must be a URL");
        let mut chain =
            std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
        assert!(chain.any(|e| e.is::<http::uri::InvalidUri>()), "{error}");
        // A copy for a waiter keeps it too.
        let copy = error.copy_for_waiter();
        let mut chain =
            std::iter::successors(Some(&copy as &dyn std::error::Error), |e| e.source());
        assert!(chain.any(|e| e.is::<http::uri::InvalidUri>()), "{copy}");
    }

    #[test]
    fn a_path_joins_the_base_and_its_own_path() {
        assert_eq!(
            join("https://open.feishu.cn", "/open-apis/im/v1/messages/om_1/reply", &[]),
            "https://open.feishu.cn/open-apis/im/v1/messages/om_1/reply"
        );
        assert_eq!(
            join("http://127.0.0.1:8080", "open-apis/x", &[]),
            "http://127.0.0.1:8080/open-apis/x"
        );
        assert_eq!(
            join("https://gw.example.com/feishu/", "/open-apis/x", &[]),
            "https://gw.example.com/feishu/open-apis/x"
        );
        assert_eq!(join("https://gw.example.com/a/b", "", &[]), "https://gw.example.com/a/b/");
    }

    #[test]
    fn what_a_path_cannot_carry_is_escaped_and_escapes_are_kept() {
        assert_eq!(join("https://h", "/x/a%2Fb/c", &[]), "https://h/x/a%2Fb/c");
        assert_eq!(
            join("https://h", "/x/a b/é/中文", &[]),
            "https://h/x/a%20b/%C3%A9/%E4%B8%AD%E6%96%87"
        );
        assert_eq!(join("https://h", "/x\\y{z}", &[]), "https://h/x%5Cy%7Bz%7D");
    }

    #[test]
    fn query_pairs_are_form_encoded_after_any_query_in_the_path() {
        assert_eq!(
            join("https://h", "/x", &[("receive_id_type", "chat_id"), ("q", "a b&c=d")]),
            "https://h/x?receive_id_type=chat_id&q=a+b%26c%3Dd"
        );
        assert_eq!(join("https://h", "/x?a=1&b=2", &[]), "https://h/x?a=1&b=2");
        assert_eq!(join("https://h", "/x?a=1", &[("b", "2")]), "https://h/x?a=1&b=2");
        assert_eq!(join("https://h", "/x#frag", &[("b", "2")]), "https://h/x?b=2");
    }

    #[test]
    fn a_base_url_must_be_http_with_a_host_and_nothing_after_its_path() {
        for bad in [
            "open.feishu.cn",
            "ftp://x",
            "https://x/?a=b",
            "https://x/#f",
            "http://",
            "/just/a/path",
        ] {
            assert!(matches!(BaseUri::parse(bad), Err(Error::Config(_))), "{bad}");
        }
    }
}
