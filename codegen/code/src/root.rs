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

- [`Client`] is the entry point: [`Client::new`] or [`Client::builder`] (base URL, time-outs, \
retries, rate limiting). It fetches, caches and refreshes the access tokens itself.
- Every operation hangs off it: `client.<service>().<resource>().<operation>(…)`, for example \
`client.im().message().reply(request)`. The call runs when awaited; per-call options are optional \
setters on it (`.user_token(token)`, `.timeout(duration)`, `.idempotent()`).
- Operations whose pages describe their parameters are typed: a `…Request` (required fields in \
`new()`, optional ones as setters, validated before sending), a `…Response` and a `…ErrorKind` enum \
of the documented codes, named from their messages. The others, known only from the API catalogue, \
take a caller-built body and answer untyped JSON or a file.
- Every call answers a [`Response<T>`](Response): the data (through `Deref`, or `into_inner()`) \
and the answer's `log_id()`.
- Every call fails with the same [`Error<K>`](Error), `K` being the operation's kinds: `kind()`, \
`code()`, `http_status()`, `log_id()` (which Feishu support asks for first), `is_retryable()`, \
`is_rate_limited()`, `troubleshooter()`, `field_violations()`. The client has already retried what \
was safe to retry.
- [`MessageContent`] builds message content (text, post, image, card, …) with its escaping done.
- Each service is a module behind a Cargo feature of the same name (all on by default). The free \
functions of the resource modules (`im::message::reply`) are what the methods call.";

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
        let doc = format!(" The `{}` service.", s.wire_name);
        quote! {
            #[cfg(feature = #feature)]
            #[doc = #doc]
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
            ApiError, Body, Download, ErrorKind, MessageContent, Multipart, OperationError, OperationError as Error,
            RequestOptions, Response, RetryPolicy, Secret, Untyped,
        };
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
