//! Files to upload, streamed into a multipart part rather than held in
//! memory: from a path (reopened for every attempt), from `Bytes`, or from
//! a one-shot reader.
//!
//! A file part carries the file's real name in its `filename` and a content
//! type guessed from the name's extension (`application/octet-stream` when
//! there is no telling), both of which the caller can override.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};

pub use crate::error::FileError;
use crate::error::{ConfigError, Error};
use crate::transport::multipart::Content;

/// How much of a file is read per chunk: big enough that reading is cheap,
/// small enough that a 200 MB upload costs a few chunks of memory.
const CHUNK: usize = 256 * 1024;

/// A file to upload. Cheap to clone; clones of a reader-backed file share
/// the one reader.
#[derive(Clone)]
pub struct UploadFile {
    source: Source,
    file_name: String,
    length: u64,
    mime: Option<String>,
}

#[derive(Clone)]
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
    Reader(Arc<Mutex<ReaderSlot>>),
}

type BoxReader = Box<dyn AsyncRead + Send + Unpin>;

struct ReaderSlot {
    reader: Option<BoxReader>,
    /// Bytes have been read from it: it cannot be sent again.
    started: bool,
}

impl UploadFile {
    /// The file at `path`: its name and length are read now, its contents
    /// on each attempt (so a retry sends it again from the start).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let io = |source| Error::File(FileError::Io { path: path.to_owned(), source });
        let metadata = std::fs::metadata(path).map_err(io)?;
        if !metadata.is_file() {
            return Err(io(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")));
        }
        let file_name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Self {
            source: Source::Path(path.to_owned()),
            file_name,
            length: metadata.len(),
            mime: None,
        })
    }

    /// A file held in memory, named `file_name`.
    pub fn from_bytes(bytes: impl Into<Bytes>, file_name: impl Into<String>) -> Self {
        let bytes = bytes.into();
        Self {
            length: bytes.len() as u64,
            source: Source::Bytes(bytes),
            file_name: file_name.into(),
            mime: None,
        }
    }

    /// `length` bytes from `reader`, named `file_name`. The reader can be
    /// read once: a call that fails after its bytes started going out is
    /// not retried, and its error says so ([`FileError::NotRepeatable`]).
    pub fn from_reader(
        reader: impl AsyncRead + Send + Unpin + 'static,
        file_name: impl Into<String>,
        length: u64,
    ) -> Self {
        let slot = ReaderSlot { reader: Some(Box::new(reader)), started: false };
        Self {
            source: Source::Reader(Arc::new(Mutex::new(slot))),
            file_name: file_name.into(),
            length,
            mime: None,
        }
    }

    /// Sends the file under another name.
    pub fn with_file_name(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = file_name.into();
        self
    }

    /// Sets the content type instead of guessing it from the name.
    pub fn with_mime(mut self, mime: impl Into<String>) -> Self {
        self.mime = Some(mime.into());
        self
    }

    /// The name sent in the part's `filename`.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The length in bytes.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The content type sent: the one set, or a guess from the extension.
    pub fn mime(&self) -> String {
        match &self.mime {
            Some(mime) => mime.clone(),
            None => mime_guess::from_path(&self.file_name)
                .first_or_octet_stream()
                .essence_str()
                .to_owned(),
        }
    }

    /// Whether the file can be sent again: a path or bytes always, a reader
    /// only as long as nothing has been read from it.
    pub fn is_repeatable(&self) -> bool {
        match &self.source {
            Source::Path(_) | Source::Bytes(_) => true,
            Source::Reader(slot) => !lock(slot).started,
        }
    }

    /// The file's content for one attempt: the path opened afresh, the
    /// bytes shared, or the one-shot reader.
    pub(crate) fn content(&self) -> Result<Content, Error> {
        Ok(match &self.source {
            Source::Bytes(bytes) => Content::Bytes(bytes.clone()),
            Source::Path(path) => {
                let io = |source| Error::File(FileError::Io { path: path.clone(), source });
                let file = std::fs::File::open(path).map_err(io)?;
                let found = file.metadata().map_err(io)?.len();
                if found != self.length {
                    return Err(Error::File(FileError::Changed {
                        path: path.clone(),
                        expected: self.length,
                        found,
                    }));
                }
                Content::Stream(Box::pin(ReaderBody::new(
                    Reader::File(tokio::fs::File::from_std(file)),
                    self.length,
                )))
            }
            Source::Reader(slot) => {
                let guard = lock(slot);
                if guard.started || guard.reader.is_none() {
                    return Err(ConfigError::new(
                        "the upload's one-shot reader",
                        "can be sent only once (it was sent already)",
                    )
                    .into());
                }
                drop(guard);
                Content::Stream(Box::pin(ReaderBody::new(
                    Reader::Shared(slot.clone()),
                    self.length,
                )))
            }
        })
    }
}

fn lock(slot: &Mutex<ReaderSlot>) -> std::sync::MutexGuard<'_, ReaderSlot> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Path(path) => format!("path {}", path.display()),
            Source::Bytes(_) => "bytes".to_owned(),
            Source::Reader(_) => "reader".to_owned(),
        };
        f.debug_struct("UploadFile")
            .field("source", &source)
            .field("file_name", &self.file_name)
            .field("len", &self.length)
            .field("mime", &self.mime)
            .finish()
    }
}

/// Two uploads are equal when they send the same thing: the same path or
/// bytes (or the very same reader), name, length and type.
impl PartialEq for UploadFile {
    fn eq(&self, other: &Self) -> bool {
        let same_source = match (&self.source, &other.source) {
            (Source::Path(a), Source::Path(b)) => a == b,
            (Source::Bytes(a), Source::Bytes(b)) => a == b,
            (Source::Reader(a), Source::Reader(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_source
            && self.file_name == other.file_name
            && self.length == other.length
            && self.mime == other.mime
    }
}

enum Reader {
    File(tokio::fs::File),
    Shared(Arc<Mutex<ReaderSlot>>),
}

/// An HTTP body that reads exactly `remaining` bytes from a reader, a chunk
/// at a time.
struct ReaderBody {
    reader: Reader,
    remaining: u64,
}

impl ReaderBody {
    fn new(reader: Reader, length: u64) -> Self {
        Self { reader, remaining: length }
    }
}

impl HttpBody for ReaderBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining).unwrap_or(usize::MAX).min(CHUNK);
        let mut chunk = BytesMut::zeroed(want);
        let mut buf = ReadBuf::new(&mut chunk);
        match &mut this.reader {
            Reader::File(file) => ready!(Pin::new(file).poll_read(cx, &mut buf))?,
            Reader::Shared(slot) => {
                let mut slot = lock(slot);
                slot.started = true;
                let Some(reader) = slot.reader.as_mut() else {
                    return Poll::Ready(Some(Err(io::Error::other("the one-shot reader is gone"))));
                };
                ready!(Pin::new(reader).poll_read(cx, &mut buf))?;
            }
        }
        let n = buf.filled().len();
        if n == 0 {
            let message =
                format!("the file ended {} bytes short of its announced length", this.remaining);
            return Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::UnexpectedEof, message))));
        }
        this.remaining -= n as u64;
        chunk.truncate(n);
        Poll::Ready(Some(Ok(Frame::data(chunk.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        let file = UploadFile::from_bytes(&b"%PDF"[..], "季度报告.pdf");
        assert_eq!(
            (file.file_name(), file.len(), file.mime().as_str()),
            ("季度报告.pdf", 4, "application/pdf")
        );
        assert_eq!(
            UploadFile::from_bytes(Bytes::new(), "x.unknownext").mime(),
            "application/octet-stream"
        );
        assert_eq!(UploadFile::from_bytes(Bytes::new(), "cat.PNG").mime(), "image/png");
        assert_eq!(
            UploadFile::from_bytes(Bytes::new(), "a").with_mime("text/csv").mime(),
            "text/csv"
        );
    }

    #[test]
    fn a_path_gives_its_name_and_length() {
        let dir = std::env::temp_dir().join(format!("feishu-upload-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notes.txt");
        std::fs::write(&path, b"hello").unwrap();
        let file = UploadFile::from_path(&path).unwrap();
        assert_eq!(
            (file.file_name(), file.len(), file.mime().as_str()),
            ("notes.txt", 5, "text/plain")
        );
        assert!(file.is_repeatable());
        std::fs::write(&path, b"hello, longer").unwrap();
        assert!(matches!(
            file.content(),
            Err(Error::File(FileError::Changed { expected: 5, found: 13, .. }))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(UploadFile::from_path(&path), Err(Error::File(FileError::Io { .. }))));
    }
}
