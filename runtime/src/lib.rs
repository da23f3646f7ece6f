//! The hand-written runtime of the generated Feishu (Lark) Open Platform
//! client.
//!
//! Generated operations build an [`ApiRequest`], check it with
//! [`Validate`] and send it with [`Client::send_json_response`] (or
//! [`Client::send`], [`Client::send_value`], [`Client::send_bytes`]). The
//! runtime handles the rest: the tenant, app and user access tokens of
//! self-built and marketplace apps ([`auth`]), the `{code, msg, data}`
//! envelope, the `X-Tt-Logid` header, retries, rate limits, timeouts and
//! tracing — and never prints a secret.
//!
//! What every generated operation shares is written here once:
//! [`OperationError<K>`](OperationError), the one error type of every call
//! (generic over the operation's documented codes, an [`ErrorKind`]);
//! [`Response<T>`](Response), the answer with its log id; [`Call`] and
//! [`RawCall`], what the generated method tree returns; and the id
//! newtypes of [`ids`].
//!
//! ```no_run
//! use feishu_runtime::{ApiRequest, Client, Empty, Method};
//!
//! # async fn demo() -> Result<(), feishu_runtime::Error> {
//! let client = Client::builder("cli_xxx", "app-secret").build()?;
//! let request = ApiRequest::new(Method::DELETE, "/open-apis/im/v1/messages/om_1");
//! let _: Empty = client.send_json(request).await?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod call;
mod client;
mod config;
pub mod content;
pub mod de;
mod download;
mod envelope;
pub mod error;
#[cfg(feature = "events")]
pub mod events;
pub mod ids;
mod limit;
mod operation;
pub mod paginate;
#[cfg(feature = "redis")]
pub mod redis;
mod request;
pub mod retry;
mod secret;
pub mod ser;
mod token;
mod transport;
pub mod upload;
pub mod validate;
#[cfg(feature = "ws")]
pub mod ws;

pub use auth::{AppType, AuthError, UserAuth};
pub use bytes::Bytes;
pub use call::{Call, CallFuture, CallResult, Operation, RawCall, RawOutput};
pub use client::Client;
pub use config::{
    ClientBuilder, Config, DEFAULT_TIMEOUT, FEISHU_BASE_URL, LARK_BASE_URL, install_tls_provider,
};
pub use content::MessageContent;
pub use download::{ByteStream, Download};
pub use envelope::{ApiResponse, Empty};
pub use error::{ApiError, Error};
pub use limit::{LimitKey, RateLimit, SharedLimiter};
pub use operation::{
    DocumentedKind, ErrorKind, FieldViolation, OperationError, Response, Untyped,
    is_rate_limit_code,
};
pub use paginate::{
    Items, JsonPage, PageRequest, Paged, PagedOperation, Pages, Paginated, PaginationError,
    paginate,
};
pub use request::{
    ApiRequest, Auth, Body, Method, Multipart, Part, RequestOptions, encode_path_segment,
    fill_idempotency_key,
};
pub use retry::{RetryPolicy, new_idempotency_key};
pub use secret::Secret;
pub use upload::{FileError, UploadFile};
pub use validate::{
    Validate, ValidationError, check_enum, check_items, check_length, check_range, validate_items,
    validate_nested,
};
