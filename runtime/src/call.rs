//! Calls as values: what the generated method tree returns
//! (`client.im().message().reply(request)`), so that per-call options are
//! optional setters and the call runs when it is awaited.
//!
//! Both kinds are written once here, generic over the operation: a typed
//! operation adds only an [`Operation`] impl for its request, a
//! catalogue-only one a function building its [`ApiRequest`].
//!
//! An [`Operation`] only builds its request; the sending is this module's,
//! written once. When every operation sent itself (an `async fn` behind a
//! trait method returning `impl Future + Send`), rustc proved each of those
//! futures `Send` while checking the impls, and a crate of the whole API
//! took two thirds longer to build (75 s against 45 s).

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::download::Download;
use crate::error::Error;
use crate::outcome::{ErrorKind, OperationError, Response};
use crate::request::{ApiRequest, Body, RequestOptions};
use crate::secret::Secret;

/// The result of a call: the answer, or the operation's error.
pub type CallResult<T, K> = Result<Response<T>, OperationError<K>>;

/// A typed request that knows what to send: implemented by every
/// generated `…Request` of a typed operation. [`Call`] sends it.
pub trait Operation: Send + Sized {
    /// The decoded `data` of a successful answer.
    type Output: DeserializeOwned + Send;
    /// The operation's documented error codes.
    type Kind: ErrorKind;

    /// Validates the request against its documented constraints, fills
    /// its idempotency key if it has one, and builds the HTTP request with
    /// `options`. Nothing is sent.
    fn into_api_request(self, options: RequestOptions) -> Result<ApiRequest, Error>;
}

/// The future of an awaited call.
///
/// Boxed because `IntoFuture` needs a type that can be named, which an
/// `async` block's cannot; that is one allocation per call beside the
/// dozen the HTTP exchange makes. [`Call::send`] returns the future
/// unboxed, for the rare loop where that matters.
pub type CallFuture<'a, T, K> = Pin<Box<dyn Future<Output = CallResult<T, K>> + Send + 'a>>;

/// The setters every call has, on its [`RequestOptions`].
macro_rules! option_setters {
    () => {
        /// Sends with this user access token (for endpoints that accept or
        /// need one).
        pub fn user_token(mut self, token: impl Into<Secret>) -> Self {
            self.options_mut().user_access_token = Some(token.into());
            self
        }

        /// Replaces the client's time limit for each attempt of this call.
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.options_mut().timeout = Some(timeout);
            self
        }

        /// Adds a header to the request.
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.options_mut().headers.push((name.into(), value.into()));
            self
        }

        /// Vouches that sending this call twice is harmless, so that the
        /// client may retry it after an ambiguous failure (see
        /// [`RequestOptions::idempotent`]).
        pub fn idempotent(mut self) -> Self {
            self.options_mut().idempotent = true;
            self
        }

        /// Replaces every per-call option at once.
        pub fn options(mut self, options: RequestOptions) -> Self {
            *self.options_mut() = options;
            self
        }
    };
}

/// A typed operation's call: await it (or [`send`](Self::send) it) to
/// run it; set per-call options first if needed.
#[must_use = "a call does nothing until it is awaited"]
#[derive(Debug)]
pub struct Call<'a, R> {
    client: &'a Client,
    request: R,
    options: RequestOptions,
}

impl<'a, R: Operation + 'a> Call<'a, R> {
    /// A call of `request` through `client`, with default options.
    pub fn new(client: &'a Client, request: R) -> Self {
        Self { client, request, options: RequestOptions::default() }
    }

    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }

    option_setters!();

    /// The request that will be sent.
    pub fn request(&self) -> &R {
        &self.request
    }

    /// Runs the call, without boxing its future (see [`CallFuture`]).
    ///
    /// The request is validated here, before the first poll; an invalid
    /// one makes a future that fails at once without sending.
    pub fn send(self) -> impl Future<Output = CallResult<R::Output, R::Kind>> + Send + 'a {
        let Call { client, request, options } = self;
        let built = request.into_api_request(options);
        async move { client.send_json_response(built?).await.map_err(OperationError::from) }
    }
}

impl<'a, R: Operation + 'a> IntoFuture for Call<'a, R> {
    type Output = CallResult<R::Output, R::Kind>;
    type IntoFuture = CallFuture<'a, R::Output, R::Kind>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// What a catalogue-only call answers with: untyped JSON or a file.
pub trait RawOutput: Send + Sized + sealed::Sealed {
    /// Sends `request` and reads the answer as `Self`.
    fn send(
        client: &Client,
        request: ApiRequest,
    ) -> impl Future<Output = Result<Response<Self>, Error>> + Send + '_;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for serde_json::Value {}
    impl Sealed for crate::download::Download {}
}

impl RawOutput for serde_json::Value {
    fn send(
        client: &Client,
        request: ApiRequest,
    ) -> impl Future<Output = Result<Response<Self>, Error>> + Send + '_ {
        client.send_value_response(request)
    }
}

impl RawOutput for Download {
    fn send(
        client: &Client,
        request: ApiRequest,
    ) -> impl Future<Output = Result<Response<Self>, Error>> + Send + '_ {
        client.send_bytes_response(request)
    }
}

/// A catalogue-only operation's call: its docs give no body, so the
/// caller adds the body and query; the answer is `O` (untyped JSON, or a
/// file).
#[must_use = "a call does nothing until it is awaited"]
#[derive(Debug)]
pub struct RawCall<'a, O> {
    client: &'a Client,
    request: ApiRequest,
    output: PhantomData<fn() -> O>,
}

impl<'a, O: RawOutput + 'a> RawCall<'a, O> {
    /// A call of `request` through `client`.
    pub fn new(client: &'a Client, request: ApiRequest) -> Self {
        Self { client, request, output: PhantomData }
    }

    /// The client and the request, for the pagination of untyped lists.
    pub(crate) fn into_parts(self) -> (&'a Client, ApiRequest) {
        (self.client, self.request)
    }

    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.request.options
    }

    option_setters!();

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.request.body = body;
        self
    }

    /// Sets a JSON body.
    pub fn json(self, body: serde_json::Value) -> Self {
        self.body(Body::Json(body))
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.request = self.request.query(name, value);
        self
    }

    /// Adds query parameters.
    pub fn queries<'q>(mut self, pairs: impl IntoIterator<Item = (&'q str, &'q str)>) -> Self {
        for (name, value) in pairs {
            self.request = self.request.query(name, value);
        }
        self
    }

    /// The request that will be sent.
    pub fn request(&self) -> &ApiRequest {
        &self.request
    }

    /// Runs the call, without boxing its future (see [`CallFuture`]).
    pub async fn send(self) -> CallResult<O, crate::outcome::Untyped> {
        O::send(self.client, self.request).await.map_err(OperationError::from)
    }
}

impl<'a, O: RawOutput + 'a> IntoFuture for RawCall<'a, O> {
    type Output = CallResult<O, crate::outcome::Untyped>;
    type IntoFuture = CallFuture<'a, O, crate::outcome::Untyped>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
