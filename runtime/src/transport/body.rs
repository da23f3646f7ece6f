//! Bodies on the wire: what a request sends, and a response's body read
//! under the call's deadline.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::multipart::FormBody;
use crate::error::{Error, TransportError};

/// A request body. An enum rather than a boxed body: JSON calls are the
/// hot path, and their body costs no allocation beyond its bytes.
pub(crate) enum RequestBody {
    /// No body (and no `Content-Length`).
    Empty,
    /// Bytes in memory, sent with their length.
    Full(Option<Bytes>),
    /// A multipart form, streamed part by part.
    Form(FormBody),
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RequestBody::Empty => Poll::Ready(None),
            RequestBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            RequestBody::Form(form) => Pin::new(form).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Empty | RequestBody::Full(None) => true,
            RequestBody::Full(Some(_)) => false,
            RequestBody::Form(form) => form.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Empty | RequestBody::Full(None) => SizeHint::with_exact(0),
            RequestBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            RequestBody::Form(form) => form.size_hint(),
        }
    }
}

/// A response body still on the wire, read chunk by chunk before the
/// call's deadline.
pub(crate) struct ResponseBody {
    body: Incoming,
    deadline: Instant,
}

impl ResponseBody {
    pub(crate) fn new(body: Incoming, deadline: Instant) -> Self {
        Self { body, deadline }
    }

    /// The next chunk of data, `None` at the end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        use http_body_util::BodyExt;
        loop {
            let frame = match tokio::time::timeout_at(self.deadline, self.body.frame()).await {
                Err(_) => return Err(Error::Timeout),
                Ok(None) => return Ok(None),
                Ok(Some(frame)) => frame.map_err(body_error)?,
            };
            // Trailers carry nothing a caller reads.
            if let Ok(data) = frame.into_data()
                && !data.is_empty()
            {
                return Ok(Some(data));
            }
        }
    }
}

/// A body that broke off while being read.
pub(crate) fn body_error(e: hyper::Error) -> Error {
    Error::Transport(TransportError::other(e))
}
