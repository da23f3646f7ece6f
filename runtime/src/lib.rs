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
mod builder;
mod call;
mod client;
mod clock;
#[doc(hidden)]
pub mod codegen;
mod config;
pub mod content;
mod download;
pub mod error;
#[cfg(feature = "events")]
pub mod events;
pub mod ids;
mod limit;
mod outcome;
pub mod paginate;
mod random;
#[cfg(feature = "redis")]
pub mod redis;
mod request;
pub mod retry;
mod secret;
mod transport;
pub mod upload;
pub mod validate;
#[cfg(feature = "ws")]
pub mod ws;

pub use auth::{AppType, AuthError, UserAuth};
pub use builder::ClientBuilder;
pub use bytes::Bytes;
pub use call::{Call, CallFuture, CallResult, RawCall};
pub use client::Client;
pub use config::{Config, DEFAULT_TIMEOUT, FEISHU_BASE_URL, LARK_BASE_URL};
pub use content::MessageContent;
pub use download::{ByteStream, Download};
pub use error::{ApiError, Error, Verdict, is_rate_limit_code};
pub use limit::{LimitKey, SharedLimiter};
pub use outcome::{ErrorKind, FieldViolation, OperationError, Response, Untyped};
pub use paginate::{Items, Pages, Paginated, PaginationError, paginate};
pub use random::new_idempotency_key;
pub use request::{ApiRequest, Auth, Body, Method, Multipart, Part, RateLimit, RequestOptions};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use transport::envelope::{ApiResponse, Empty};
pub use transport::install_tls_provider;
pub use upload::{FileError, UploadFile};
pub use validate::{Validate, ValidationError};
