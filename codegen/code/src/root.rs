//! The generated crate's `lib.rs`: the tour on its front page, the service
//! modules behind their features, and the `Client` with an accessor per
//! service.

use feishu_model::Model;
use proc_macro2::TokenStream;
use quote::quote;

use crate::Options;
use crate::docs;
use crate::examples::usage_example;
use crate::types::ident;

const TOUR: &str = "A typed client of the Feishu (Lark) Open Platform API, generated from its docs.

# Tour

- **A first call.** [`Client::new`] (or [`Client::builder`]: base URL, time-outs, retries, rate \
limiting) makes the client; it fetches, caches and refreshes the access tokens itself. Every \
operation hangs off it, `client.<service>().<resource>().<operation>(…)`, for example \
`client.im().message().reply(request)` (see the example below). The call runs when awaited; \
per-call options are optional setters on it (`.user_token(token)`, `.timeout(duration)`, \
`.idempotent()`).
- **Typed and untyped operations.** An operation whose page describes its parameters is typed: a \
`…Request` (required fields in `new()`, optional ones as setters, validated before sending), a \
`…Response` and a `…ErrorKind` enum of the documented codes, named from their messages. The \
others, known only from the API catalogue, take a caller-built body (`.body(json)`, \
`.query(name, value)`) and answer JSON or a file. [`MessageContent`] builds message content (text, \
post, image, card, …) with its escaping done.
- **Answers and errors.** Every call answers a [`Response<T>`](Response): the data (through \
`Deref`, or `into_inner()`) and the answer's `log_id()`. Every call fails with the same \
[`Error<K>`](Error), `K` being the operation's kinds: `kind()`, `code()`, `http_status()`, \
`log_id()` (which Feishu support asks for first), `is_retryable()`, `troubleshooter()`, \
`field_violations()`. The client has already retried what was safe to retry. Install a `tracing` \
subscriber to see retries and failures as they happen.
- **A bot.** Events go to an [`events::Dispatcher`] of typed handlers (`on::<T>` for an \
[`events::EventBody`]; each handler gets an [`events::EventContext`], whose `idempotency_key()` \
makes a reply safe to repeat), delivered over the long connection, \
`client.long_connection(dispatcher)` (module `ws`, feature `ws`: no public URL needed), or a \
webhook ([`events::Webhook`]; feature `axum` adds `events::axum`, a ready-made route).
- **A list.** A typed list request streams with `pages(&client)` and `items(&client)`; a list call \
built by hand ([`ApiRequest`] with a [`Method`]) streams through [`paginate()`]. Neither can loop.
- **An upload.** [`UploadFile`] streams a file from disk, reopened for a retry; typed upload \
requests take one, and a hand-built [`Multipart`] form does too.
- **The rest.** Each service is a module behind a Cargo feature of the same name (all on by \
default); the free functions of the resource modules (`im::message::reply`) are what the methods \
call. [`runtime`] is the runtime the client runs on, whole.";

pub fn lib_rs(model: &Model, options: &Options) -> TokenStream {
    let crate_ident = options.crate_name.replace('-', "_");
    let example = usage_example(model, &crate_ident).unwrap_or_default();
    let doc = docs::inner(TOUR);
    let example = (!example.is_empty()).then(|| {
        let example = docs::inner_raw(&format!("\n# Example\n\n{example}"));
        quote!(#example)
    });
    let modules = model.services.values().map(|s| {
        let module = ident(&s.module);
        let feature = &s.feature;
        // No outer doc: the module's own first line (its summary) is what the
        // front page lists, and rustdoc would print an outer doc before it.
        quote! {
            #[cfg(feature = #feature)]
            pub mod #module;
        }
    });
    // A service of events only (no operation) has no handle.
    let accessors = model.services.values().filter(|s| !s.resources.is_empty()).map(|s| {
        let module = ident(&s.module);
        let accessor = ident(&s.accessor);
        let handle = ident(&s.handle);
        let feature = &s.feature;
        let doc = format!(" The operations of the `{}` service.", s.wire_name);
        quote! {
            #[cfg(feature = #feature)]
            #[doc = #doc]
            pub fn #accessor(&self) -> #module::#handle<'_> {
                #module::#handle { client: &self.inner }
            }
        }
    });
    // The long connection and the Redis stores, under the crate's own name
    // (unless a service took the name, whose module it would clash with).
    let ws = crate::manifest::has_transport(model, "ws").then(|| {
        quote! {
            #[cfg(feature = "ws")]
            pub use feishu_runtime::ws;
        }
    });
    let redis = crate::manifest::has_extra(model, "redis").then(|| {
        quote! {
            #[cfg(feature = "redis")]
            pub use feishu_runtime::redis;
        }
    });
    // The example bypasses clean(), which would turn its `no_run` fence into `text`.
    quote! {
        #doc
        #example
        #![forbid(unsafe_code)]
        #![warn(missing_docs)]

        pub mod events;
        #(#modules)*

        pub use events::{Event, EventType};
        pub use feishu_runtime as runtime;
        pub use feishu_runtime::{
            ApiError, ApiRequest, Body, Download, ErrorKind, Items, MessageContent, Method, Multipart,
            OperationError as Error, Pages, RequestOptions, Response, RetryPolicy, Secret,
            UploadFile, Untyped, paginate,
        };
        // The same type as `Error`, under the runtime's name: kept for code
        // that names it, listed once in the docs (as `Error`).
        #[doc(hidden)]
        pub use feishu_runtime::OperationError;
        #ws
        #redis
        pub use feishu_runtime::ids::{ChatId, MessageId, OpenId, UnionId};

        /// Builds a [`Client`]; start with [`Client::builder`].
        pub type ClientBuilder = feishu_runtime::ClientBuilder<Client>;

        /// The Feishu client: every operation is a method of a service's
        /// handle, `client.<service>().<resource>().<operation>(…)`.
        ///
        /// It wraps the runtime's [`feishu_runtime::Client`] (reachable
        /// through `Deref` and [`Client::runtime`]), which does the HTTP,
        /// tokens, retries and rate limits. Cloning is cheap: clones share
        /// the token cache and connection pool.
        #[derive(Clone, Debug)]
        pub struct Client {
            inner: feishu_runtime::Client,
        }

        impl Client {
            /// A client for Feishu with default settings.
            pub fn new(app_id: impl Into<String>, app_secret: impl Into<feishu_runtime::Secret>) -> Result<Self, feishu_runtime::Error> {
                Self::builder(app_id, app_secret).build()
            }

            /// A builder for the given app (base URL, time-outs, retries, rate limiting).
            pub fn builder(app_id: impl Into<String>, app_secret: impl Into<feishu_runtime::Secret>) -> ClientBuilder {
                feishu_runtime::Client::builder(app_id, app_secret).building()
            }

            /// The runtime's client, which the free functions of the resource modules take.
            pub fn runtime(&self) -> &feishu_runtime::Client {
                &self.inner
            }

            #(#accessors)*
        }

        impl From<feishu_runtime::Client> for Client {
            fn from(inner: feishu_runtime::Client) -> Self {
                Self { inner }
            }
        }

        impl From<Client> for feishu_runtime::Client {
            fn from(client: Client) -> Self {
                client.inner
            }
        }

        impl std::ops::Deref for Client {
            type Target = feishu_runtime::Client;

            fn deref(&self) -> &feishu_runtime::Client {
                &self.inner
            }
        }

        impl AsRef<feishu_runtime::Client> for Client {
            fn as_ref(&self) -> &feishu_runtime::Client {
                &self.inner
            }
        }
    }
}
