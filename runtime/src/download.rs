//! Responses that are files rather than JSON.

use bytes::Bytes;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::envelope::{RawResponse, http_error, split_envelope};
use crate::error::{ApiError, Error};

/// A downloaded file.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Download {
    /// The file's contents.
    pub bytes: Bytes,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The file name from `Content-Disposition`, if the server sent one.
    pub filename: Option<String>,
    /// The `X-Tt-Logid` response header.
    pub log_id: Option<String>,
}

// Show the size, not possibly megabytes of contents.
impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("len", &self.bytes.len())
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .field("log_id", &self.log_id)
            .finish()
    }
}

/// Interprets a response as a file. Download endpoints report failure with
/// the usual JSON envelope, sometimes under a 2xx status; a JSON body counts
/// as an error only when it is an object with a non-zero integer `code`, so
/// that downloading a JSON file still works.
pub(crate) fn parse_download(raw: RawResponse) -> Result<Download, Error> {
    let content_type = raw.header(&CONTENT_TYPE).map(str::to_owned);
    let looks_json = content_type.as_deref().is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    let success = (200..300).contains(&raw.status);
    if (looks_json || !success)
        && let Some((code, msg, map)) = split_envelope(&raw.body)
        && (code != 0 || !success)
    {
        return Err(Error::from(ApiError { http_status: raw.status, code, msg, log_id: raw.log_id, body: Some(serde_json::Value::Object(map)) }));
    }
    if !success {
        return Err(http_error(&raw));
    }
    Ok(Download { filename: raw.header(&CONTENT_DISPOSITION).and_then(filename_from_disposition), bytes: raw.body, content_type, log_id: raw.log_id })
}

/// Reads the file name from a `Content-Disposition` value, preferring the
/// RFC 6266 `filename*=UTF-8''…` form that non-ASCII names need.
pub(crate) fn filename_from_disposition(value: &str) -> Option<String> {
    let params = value.split(';').skip(1).filter_map(|p| {
        let (k, v) = p.split_once('=')?;
        Some((k.trim().to_ascii_lowercase(), v.trim()))
    });
    let mut plain = None;
    for (key, v) in params {
        match key.as_str() {
            "filename*" => {
                let (charset, rest) = v.split_once('\'')?;
                let (_lang, encoded) = rest.split_once('\'')?;
                if charset.eq_ignore_ascii_case("utf-8")
                    && let Some(name) = percent_decode(encoded)
                {
                    return Some(name);
                }
            }
            "filename" => plain = Some(v.trim_matches('"').to_owned()),
            _ => {}
        }
    }
    plain
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn filename_forms() {
        assert_eq!(filename_from_disposition(r#"attachment; filename="a b.png""#).as_deref(), Some("a b.png"));
        assert_eq!(filename_from_disposition("attachment; filename=x.txt").as_deref(), Some("x.txt"));
        assert_eq!(filename_from_disposition(r#"attachment; filename="fallback.txt"; filename*=UTF-8''%E4%BD%A0%E5%A5%BD.txt"#).as_deref(), Some("你好.txt"));
        assert_eq!(filename_from_disposition("inline"), None);
    }

    #[test]
    fn json_file_with_code_zero_is_a_file() {
        let raw = RawResponse {
            status: 200,
            log_id: None,
            headers: [(CONTENT_TYPE, HeaderValue::from_static("application/json"))].into_iter().collect(),
            body: Bytes::from_static(br#"{"code":0,"x":1}"#),
        };
        assert_eq!(parse_download(raw).unwrap().bytes.as_ref(), br#"{"code":0,"x":1}"#);
    }
}
