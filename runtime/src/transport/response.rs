//! The answer as the runtime reads it off the wire: status, headers, the log
//! id and the body (whole, or left on the wire for a download).

use std::time::Duration;

use http::Response;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::body::ResponseBody;
use crate::error::{Error, TransportError};

/// The largest answer read into memory (downloads stream instead): a
/// server that never stops sending must not exhaust the process.
pub(crate) const MAX_BODY: usize = 64 << 20;

/// The `X-Tt-Logid` header: the platform's id of one request.
pub(crate) static LOG_ID: HeaderName = HeaderName::from_static("x-tt-logid");
/// How long until a rate-limit window frees, in seconds.
static RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ogw-ratelimit-reset");

/// A response as the runtime reads it: the headers are kept whole and read
/// when needed, since most calls look at none but the log id.
pub(crate) struct RawResponse {
    pub status: u16,
    pub log_id: Option<String>,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    /// A download's body, left unread (see `crate::download`); `body` is
    /// then empty.
    pub stream: Option<ResponseBody>,
}

impl RawResponse {
    /// A header's value, if present and text.
    pub(crate) fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `x-ogw-ratelimit-reset`: how long until the rate-limit window frees.
    pub(crate) fn ratelimit_reset(&self) -> Option<Duration> {
        self.header(&RATELIMIT_RESET)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            // Never trust a server to park a client for hours.
            .map(|s| Duration::from_secs_f64(s.min(3600.0)))
    }
}

/// Reads status, headers and the whole body (at most [`MAX_BODY`] bytes),
/// before `deadline` if one is given.
pub(crate) async fn read(
    response: Response<Incoming>,
    deadline: Option<Instant>,
) -> Result<RawResponse, Error> {
    let (parts, body) = response.into_parts();
    let log_id = parts.headers.get(&LOG_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let collect = Limited::new(body, MAX_BODY).collect();
    let collected = match deadline {
        Some(deadline) => {
            tokio::time::timeout_at(deadline, collect).await.map_err(|_| Error::Timeout)?
        }
        None => collect.await,
    };
    let body = collected
        .map_err(|e| match e.downcast::<http_body_util::LengthLimitError>() {
            Ok(_) => Error::Transport(TransportError::other(format!(
                "the answer is longer than {MAX_BODY} bytes"
            ))),
            Err(e) => Error::Transport(TransportError::other(e)),
        })?
        .to_bytes();
    Ok(RawResponse {
        status: parts.status.as_u16(),
        log_id,
        headers: parts.headers,
        body,
        stream: None,
    })
}

/// Reads status and headers, and the body only when `must_read(status,
/// content type)` says it must be looked at (an error, say); otherwise the
/// body is left on the wire, to be read before the same deadline.
pub(crate) async fn read_head(
    response: Response<Incoming>,
    deadline: Instant,
    must_read: fn(u16, Option<&str>) -> bool,
) -> Result<RawResponse, Error> {
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if must_read(response.status().as_u16(), content_type) {
        return read(response, Some(deadline)).await;
    }
    let (parts, body) = response.into_parts();
    let log_id = parts.headers.get(&LOG_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok(RawResponse {
        status: parts.status.as_u16(),
        log_id,
        headers: parts.headers,
        body: bytes::Bytes::new(),
        stream: Some(ResponseBody::new(body, deadline)),
    })
}
