//! Responses that are files rather than JSON, streamed: read chunk by
//! chunk, saved atomically, or collected when small.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use tokio::io::AsyncWriteExt;

use crate::error::FileError;
use crate::error::{ApiError, Error};
use crate::transport::RawResponse;
use crate::transport::ResponseBody;
use crate::transport::envelope::{http_error, split_envelope};

/// A downloaded file, its body not read yet: take it with
/// [`Download::bytes_stream`], [`Download::save_to`] or (small files)
/// [`Download::bytes`].
///
/// The client's timeout ([`RequestOptions::timeout`](crate::RequestOptions::timeout)
/// for one call) covers reading the body too: give large downloads a longer one.
#[non_exhaustive]
pub struct Download {
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The file name from `Content-Disposition`, if the server sent one.
    pub filename: Option<String>,
    /// The `X-Tt-Logid` response header.
    pub log_id: Option<String>,
    /// The `Content-Length` header: the size, when the server said.
    pub content_length: Option<u64>,
    body: Body,
}

enum Body {
    /// Already read (an answer that had to be looked at as JSON).
    Read(Option<Bytes>),
    /// Still on the wire.
    Wire(ResponseBody),
}

// Show what is known, not the body.
impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .field("log_id", &self.log_id)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The next chunk of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        match &mut self.body {
            Body::Read(bytes) => Ok(bytes.take()),
            Body::Wire(body) => body.chunk().await,
        }
    }

    /// The body as a stream of chunks.
    pub fn bytes_stream(self) -> ByteStream {
        let download = self;
        ByteStream { next: Box::pin(next_chunk(download)) }
    }

    /// The whole body in memory: for small files.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// The name to save the file under, made safe from
    /// [`filename`](Self::filename), which whoever uploaded the file chose
    /// (`filename*=UTF-8''..%2F..%2F.bashrc` decodes to `../../.bashrc`):
    /// the last component only (after the last slash or backslash), without
    /// control characters, without leading dots and spaces (no hidden file,
    /// no `..`) or trailing dots and spaces, at most 255 bytes. `None` when
    /// nothing is left or the server sent no name.
    ///
    /// Use this, not `filename`, to name a file on disk:
    /// [`save_into`](Self::save_into) does.
    pub fn safe_file_name(&self) -> Option<String> {
        self.filename.as_deref().and_then(safe_file_name)
    }

    /// Writes the body into the folder `dir` under its
    /// [`safe_file_name`](Self::safe_file_name) (`download` when the server
    /// sent no usable name), atomically as [`save_to`](Self::save_to) does,
    /// and returns the path written. The path is always directly inside
    /// `dir`, whatever name the server sent.
    pub async fn save_into(self, dir: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let name = self.safe_file_name().unwrap_or_else(|| FALLBACK_NAME.to_owned());
        let path = dir.as_ref().join(name);
        self.save_to(&path).await?;
        Ok(path)
    }

    /// Writes the body to `path` atomically: into a temporary file beside
    /// it, renamed over `path` once complete. A download that fails or is
    /// dropped half way leaves no file behind (and an existing `path`
    /// untouched). Returns the number of bytes written.
    pub async fn save_to(mut self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let io = |source| Error::File(FileError::Io { path: path.to_owned(), source });
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Deleted when dropped, so every early return (and a cancelled
        // future) removes it.
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(io)?;
        let mut out = tokio::fs::File::from_std(temp.reopen().map_err(io)?);
        let mut written = 0u64;
        while let Some(chunk) = self.chunk().await? {
            out.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
        }
        out.flush().await.map_err(io)?;
        out.sync_all().await.map_err(io)?;
        drop(out);
        temp.persist(path).map_err(|e| io(e.error))?;
        Ok(written)
    }
}

/// The name [`Download::save_into`] uses when the server sent none.
const FALLBACK_NAME: &str = "download";

/// The longest file name most file systems take, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// `name` made safe to create inside a folder (see
/// [`Download::safe_file_name`]).
fn safe_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']);
    let mut end = trimmed.len().min(MAX_NAME_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let safe = &trimmed[..end];
    (!safe.is_empty()).then(|| safe.to_owned())
}

/// One chunk read, and the download to read the next from.
type NextChunk = Pin<Box<dyn Future<Output = Option<(Result<Bytes, Error>, Download)>> + Send>>;

/// The chunks of a [`Download`], as a [`Stream`].
pub struct ByteStream {
    next: NextChunk,
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream").finish_non_exhaustive()
    }
}

/// Reads one chunk and hands the download back for the next; `None` after
/// the end or an error.
async fn next_chunk(mut download: Download) -> Option<(Result<Bytes, Error>, Download)> {
    match download.chunk().await {
        Ok(Some(chunk)) => Some((Ok(chunk), download)),
        Ok(None) => None,
        Err(e) => {
            download.body = Body::Read(None);
            Some((Err(e), download))
        }
    }
}

impl ByteStream {
    /// The next chunk, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Bytes, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.next.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.next = Box::pin(async { None });
                Poll::Ready(None)
            }
            Poll::Ready(Some((item, download))) => {
                self.next = Box::pin(next_chunk(download));
                Poll::Ready(Some(item))
            }
        }
    }
}

/// Whether a response must be read whole before it can be judged: errors
/// and anything labelled JSON (an error envelope, or a JSON file).
pub(crate) fn must_read(status: u16, content_type: Option<&str>) -> bool {
    let looks_json = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    looks_json || !(200..300).contains(&status)
}

/// Interprets a response as a file. Download endpoints report failure with
/// the usual JSON envelope, sometimes under a 2xx status; a JSON body counts
/// as an error only when it is an object with a non-zero integer `code`, so
/// that downloading a JSON file still works.
pub(crate) fn parse_download(mut raw: RawResponse) -> Result<Download, Error> {
    let content_type = raw.header(&CONTENT_TYPE).map(str::to_owned);
    let success = (200..300).contains(&raw.status);
    let filename = raw.header(&CONTENT_DISPOSITION).and_then(filename_from_disposition);
    let content_length = raw.header(&CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
    if let Some(response) = raw.stream.take() {
        return Ok(Download {
            content_type,
            filename,
            log_id: raw.log_id,
            content_length,
            body: Body::Wire(response),
        });
    }
    if must_read(raw.status, content_type.as_deref())
        && let Some((code, msg, map)) = split_envelope(&raw.body)
        && (code != 0 || !success)
    {
        return Err(Error::from(ApiError {
            http_status: raw.status,
            code,
            msg,
            log_id: raw.log_id,
            body: Some(serde_json::Value::Object(map)),
        }));
    }
    if !success {
        return Err(http_error(&raw));
    }
    Ok(Download {
        content_type,
        filename,
        log_id: raw.log_id,
        content_length,
        body: Body::Read(Some(raw.body)),
    })
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

    #[test]
    fn a_hostile_file_name_is_made_safe() {
        let cases = [
            ("报告.pdf", Some("报告.pdf")),
            ("../../.bashrc", Some("bashrc")),
            ("..\\..\\evil.exe", Some("evil.exe")),
            ("/etc/passwd", Some("passwd")),
            ("a/b/", None),
            ("..", None),
            ("...", None),
            (".hidden", Some("hidden")),
            ("bell\u{7}and\nnewline.txt", Some("bellandnewline.txt")),
            ("  spaced .txt. ", Some("spaced .txt")),
            ("", None),
        ];
        for (name, safe) in cases {
            assert_eq!(safe_file_name(name).as_deref(), safe, "{name:?}");
        }
        let long = "长".repeat(200);
        let cut = safe_file_name(&long).unwrap();
        assert!(cut.len() <= MAX_NAME_BYTES && long.starts_with(&cut), "{}", cut.len());
    }
    use http::header::HeaderValue;

    #[test]
    fn filename_forms() {
        assert_eq!(
            filename_from_disposition(r#"attachment; filename="a b.png""#).as_deref(),
            Some("a b.png")
        );
        assert_eq!(
            filename_from_disposition("attachment; filename=x.txt").as_deref(),
            Some("x.txt")
        );
        assert_eq!(
            filename_from_disposition(
                r#"attachment; filename="fallback.txt"; filename*=UTF-8''%E4%BD%A0%E5%A5%BD.txt"#
            )
            .as_deref(),
            Some("你好.txt")
        );
        assert_eq!(filename_from_disposition("inline"), None);
    }

    #[test]
    fn json_file_with_code_zero_is_a_file() {
        let raw = RawResponse {
            status: 200,
            log_id: None,
            headers: [(CONTENT_TYPE, HeaderValue::from_static("application/json"))]
                .into_iter()
                .collect(),
            body: Bytes::from_static(br#"{"code":0,"x":1}"#),
            stream: None,
        };
        let mut download = parse_download(raw).unwrap();
        let body = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(download.chunk())
            .unwrap();
        assert_eq!(body.as_deref(), Some(&br#"{"code":0,"x":1}"#[..]));
    }
}
