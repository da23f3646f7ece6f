//! `multipart/form-data` bodies (RFC 7578), streamed part by part with an
//! exact `Content-Length`.
//!
//! Written here rather than taken from a crate: the runtime needs a form
//! that is rebuilt for every attempt from files opened afresh, streams
//! them from disk, and knows its length up front (the upload endpoints
//! take a `Content-Length`; a chunked 200 MB upload is refused by some
//! proxies). The multipart crates at hand (mpart-async,
//! common-multipart-rfc7578) stream without a length, and reqwest's form
//! cannot be used without reqwest's client.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A body read a chunk at a time (a file, or a reader: `crate::upload`).
/// Boxed, so that the form need not know where files come from.
pub(crate) type Stream = Pin<Box<dyn Body<Data = Bytes, Error = io::Error> + Send + Sync>>;

/// What a file part carries.
pub(crate) enum Content {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A file or reader, read a chunk at a time.
    Stream(Stream),
}

/// Builds a form: parts in order, then [`finish`](Self::finish).
pub(crate) struct Form {
    boundary: String,
    segments: VecDeque<Content>,
    length: u64,
}

impl Form {
    pub(crate) fn new() -> Self {
        let boundary = format!("{:016x}{:016x}", crate::random::u64(), crate::random::u64());
        Self { boundary, segments: VecDeque::new(), length: 0 }
    }

    /// A text field.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
            self.boundary,
            escape(name)
        );
        self.push(Content::Bytes(Bytes::from(head)), 0);
        self.push(Content::Bytes(Bytes::copy_from_slice(value.as_bytes())), 0);
        self.push(Content::Bytes(Bytes::from_static(b"\r\n")), 0);
    }

    /// A file field of `length` bytes.
    pub(crate) fn file(
        &mut self,
        name: &str,
        filename: &str,
        mime: &str,
        content: Content,
        length: u64,
    ) {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            self.boundary,
            escape(name),
            escape(filename),
            mime.replace(['\r', '\n'], "")
        );
        self.push(Content::Bytes(Bytes::from(head)), 0);
        self.push(content, length);
        self.push(Content::Bytes(Bytes::from_static(b"\r\n")), 0);
    }

    fn push(&mut self, content: Content, stream_length: u64) {
        self.length += match &content {
            Content::Bytes(bytes) => bytes.len() as u64,
            Content::Stream(_) => stream_length,
        };
        self.segments.push_back(content);
    }

    /// The `Content-Type` header and the body.
    pub(crate) fn finish(mut self) -> (String, FormBody) {
        let tail = format!("--{}--\r\n", self.boundary);
        self.push(Content::Bytes(Bytes::from(tail)), 0);
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            FormBody { segments: self.segments, length: self.length },
        )
    }
}

/// A field name or file name inside a quoted header parameter, encoded as
/// browsers do (the HTML standard's form encoding): `"`, CR and LF become
/// `%22`, `%0D` and `%0A`; everything else, UTF-8 included, is sent as is.
fn escape(value: &str) -> String {
    value.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

/// A finished form, sent as the request body.
pub(crate) struct FormBody {
    segments: VecDeque<Content>,
    length: u64,
}

impl Body for FormBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            let polled = match this.segments.front_mut() {
                None => return Poll::Ready(None),
                Some(Content::Bytes(bytes)) => {
                    let bytes = std::mem::take(bytes);
                    this.segments.pop_front();
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Some(Content::Stream(reader)) => reader.as_mut().poll_frame(cx),
            };
            match polled {
                Poll::Ready(None) => {
                    this.segments.pop_front();
                }
                other => return other,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.segments.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn collect(body: FormBody) -> Vec<u8> {
        body.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn a_form_is_framed_by_its_boundary_and_announces_its_exact_length() {
        let mut form = Form::new();
        form.text("file_type", "stream");
        form.file(
            "file",
            "报告.txt",
            "text/plain",
            Content::Bytes(Bytes::from_static(b"hello")),
            5,
        );
        let boundary = form.boundary.clone();
        let (content_type, body) = form.finish();
        assert_eq!(content_type, format!("multipart/form-data; boundary={boundary}"));
        let announced = body.size_hint().exact();
        let bytes = collect(body).await;
        assert_eq!(announced, Some(bytes.len() as u64));
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file_type\"\r\n\r\nstream\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"报告.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
             --{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn quotes_and_line_breaks_cannot_end_a_header_parameter() {
        assert_eq!(escape("a\"b\r\nc.txt"), "a%22b%0D%0Ac.txt");
        assert_eq!(escape("平常.pdf"), "平常.pdf");
    }

    #[test]
    fn two_forms_have_different_boundaries() {
        assert_ne!(Form::new().boundary, Form::new().boundary);
    }
}
