//! The crate-level files: manifest, `lib.rs` (with the `Client` and its service accessors), events and module files.

use std::collections::BTreeMap;

use feishu_model::{
    EVENT_TYPES_HOME, Model, Operation, OperationKind, PathPart, Resource, Service, TypeDef,
    TypeRef,
};
use proc_macro2::TokenStream;
use quote::quote;

use crate::Options;
use crate::docs;
use crate::operations;
use crate::types::{Traits, enum_def, ident, struct_def};

/// TOML strings are JSON-compatible for the characters that matter here.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The runtime's transport features, forwarded as they are; the first is
/// on by default.
const TLS_FEATURES: [(&str, &str); 4] = [
    ("rustls-ring", "TLS by rustls with ring (the default): no aws-lc-sys, no cmake."),
    ("rustls-aws-lc", "TLS by rustls with aws-lc-rs (needs cmake and a C compiler)."),
    ("native-tls", "TLS by the platform's library (OpenSSL on Linux)."),
    ("http2", "HTTP/2, negotiated over TLS."),
];

/// The feature that turns on webhook handling (and its crypto crates).
pub const WEBHOOK_FEATURE: &str = "webhook";

/// The runtime's event transports, forwarded so that a user of the
/// generated crate alone can receive events (`feishu::runtime::ws`,
/// `feishu::runtime::events::axum`); each needs the webhook feature's
/// decoding. Off by default: they pull in prost and tokio-tungstenite, or
/// axum.
const EVENT_TRANSPORTS: [(&str, &str); 2] = [
    ("ws", "Receiving events over the long connection (WebSocket): `feishu::runtime::ws`."),
    ("axum", "A ready-made axum handler for the webhook: `feishu::runtime::events::axum`."),
];

pub fn cargo_toml(model: &Model, options: &Options, header: &str) -> String {
    let mut features: Vec<String> =
        model.services.values().map(|s| toml_string(&s.feature)).collect();
    let webhook = !model.services.values().any(|s| s.feature == WEBHOOK_FEATURE);
    if webhook {
        features.push(toml_string(WEBHOOK_FEATURE));
    }
    // Service features are snake_case, so these hyphenated names never meet one.
    features.push(toml_string(TLS_FEATURES[0].0));
    let mut text = header.replace("// ", "# ");
    text.push_str(&format!(
        "\n[package]\nname = {}\nversion = \"0.1.0\"\nedition = \"2024\"\nrust-version = \"1.88\"\npublish = false\n\
         description = \"Typed client of the Feishu (Lark) Open Platform API, generated from its docs.\"\n\
         license = \"MIT OR Apache-2.0\"\n\n\
         [dependencies]\nfeishu-runtime = {{ path = {}, default-features = false }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         [features]\ndefault = [{}]\n",
        toml_string(&options.crate_name),
        toml_string(&options.runtime_path),
        features.join(", ")
    ));
    for service in model.services.values() {
        text.push_str(&format!("{} = []\n", service.feature));
    }
    if webhook {
        text.push_str(&format!("{WEBHOOK_FEATURE} = [\"feishu-runtime/events\"]\n"));
        // A service named like a transport keeps its name; the transport
        // is then reached through feishu-runtime directly.
        for (feature, doc) in EVENT_TRANSPORTS
            .iter()
            .filter(|(f, _)| !model.services.values().any(|s| s.feature == *f))
        {
            text.push_str(&format!(
                "# {doc}\n{feature} = [{}, \"feishu-runtime/{feature}\"]\n",
                toml_string(WEBHOOK_FEATURE)
            ));
        }
    }
    for (feature, doc) in TLS_FEATURES {
        text.push_str(&format!("# {doc}\n{feature} = [\"feishu-runtime/{feature}\"]\n"));
    }
    text
}

/// The docs write string examples as the inside of a JSON string
/// (`{\"text\":\"hi\"}`); the example needs the value itself.
fn unescape_example(example: &str) -> String {
    example.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The arguments of `new()` (or `with_message()`) of a typed request from
/// the documented examples; `None` when a required field is not a plain value.
fn request_args(
    service: &Service,
    d: &feishu_model::TypedOperation,
    krate: &str,
) -> Option<(String, Vec<String>)> {
    let mut args = Vec::new();
    let content = d.message_content.as_ref();
    for f in d.request.fields.iter().filter(|f| f.required) {
        if content.is_some_and(|(c, t)| *c == f.rust_name || *t == f.rust_name) {
            continue;
        }
        args.push(match &f.ty {
            TypeRef::String if f.id.is_some() => format!(
                "{krate}::{}::new({:?})",
                f.id?.type_name(),
                f.docs
                    .example
                    .as_deref()
                    .map(unescape_example)
                    .unwrap_or_else(|| format!("{}_value", f.wire_name))
            ),
            TypeRef::String => format!(
                "{:?}",
                f.docs
                    .example
                    .as_deref()
                    .map(unescape_example)
                    .unwrap_or_else(|| format!("{}_value", f.wire_name))
            ),
            TypeRef::Enum(name) => {
                format!("{:?}", service.types.enums[name].variants.first()?.value)
            }
            TypeRef::Integer => "0".to_owned(),
            TypeRef::Boolean => "false".to_owned(),
            _ => return None,
        });
    }
    match content {
        Some(_) => {
            args.push("&MessageContent::text(\"hello\")".to_owned());
            Some(("with_message".to_owned(), args))
        }
        None => Some(("new".to_owned(), args)),
    }
}

/// A `no_run` example making one call of `op` through the client and
/// printing its answer and log id.
fn call_example(
    service: &Service,
    resource: &Resource,
    op: &Operation,
    krate: &str,
) -> Option<String> {
    let chain = format!("client.{}().{}().{}", service.accessor, resource.module, op.fn_name);
    let (uses, call) = match &op.kind {
        OperationKind::Typed(d) => {
            let (constructor, args) = request_args(service, d, krate)?;
            let content = if constructor == "with_message" {
                format!("use {krate}::MessageContent;\n")
            } else {
                String::new()
            };
            (
                format!(
                    "use {krate}::{}::{}::{};\n{content}",
                    service.module, resource.module, d.request.name
                ),
                format!(
                    "let request = {}::{constructor}({});\nlet response = {chain}(request).await?;",
                    d.request.name,
                    args.join(", ")
                ),
            )
        }
        OperationKind::Catalogue { .. } => {
            let args: Vec<String> = op
                .path_parts
                .iter()
                .filter_map(|p| match p {
                    PathPart::Param { wire_name, .. } => Some(format!("\"{wire_name}_value\"")),
                    PathPart::Literal(_) => None,
                })
                .collect();
            (String::new(), format!("let response = {chain}({}).await?;", args.join(", ")))
        }
    };
    Some(format!(
        "```no_run\n{uses}use {krate}::Client;\n\n\
         # async fn demo() -> Result<(), {krate}::Error> {{\n\
         let client = Client::new(\"cli_xxx\", \"app-secret\")?;\n\
         {call}\n\
         println!(\"{{:?}} (log id {{:?}})\", response.data(), response.log_id());\n# Ok(())\n# }}\n```"
    ))
}

/// The example of a service: its first typed operation whose required
/// fields are plain values (the reply operation, where there is one),
/// else its first operation.
fn service_example(service: &Service, krate: &str) -> Option<String> {
    let ops =
        || service.resources.values().flat_map(|r| r.operations.iter().map(move |op| (r, op)));
    let typed = ops()
        .filter(|(_, op)| matches!(op.kind, OperationKind::Typed(_)))
        .min_by_key(|(_, op)| op.id != feishu_model::EXAMPLE_OPERATION)
        .and_then(|(r, op)| call_example(service, r, op, krate));
    typed.or_else(|| ops().find_map(|(r, op)| call_example(service, r, op, krate)))
}

/// The crate's example: the reply operation where there is one.
fn usage_example(model: &Model, krate: &str) -> Option<String> {
    let mut services: Vec<&Service> = model.services.values().collect();
    services.sort_by_key(|s| {
        !s.resources
            .values()
            .any(|r| r.operations.iter().any(|op| op.id == feishu_model::EXAMPLE_OPERATION))
    });
    services.into_iter().find_map(|s| service_example(s, krate))
}

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

pub fn events_rs(model: &Model) -> TokenStream {
    let variants: Vec<_> = model.events.iter().map(|e| ident(&e.variant)).collect();
    let values: Vec<&str> = model.events.iter().map(|e| e.event_type.as_str()).collect();
    let variant_docs = model.events.iter().map(|e| {
        docs::outer(&docs::paragraphs([
            format!("`{}`: {}", e.event_type, e.title),
            e.description.clone(),
            e.doc_url.as_ref().map(|u| format!("Docs: <{u}>")).unwrap_or_default(),
        ]))
    });
    quote! {
        //! The event types an app can subscribe to, and the typed bodies of delivered events.

        /// An event type, as the `header.event_type` of a delivered event
        /// names it. Types the docs do not list are kept in `Other`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventType {
            #( #variant_docs #variants, )*
            /// An event type the docs do not list.
            Other(String),
        }

        impl EventType {
            /// The event type on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for EventType {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for EventType {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl std::fmt::Display for EventType {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "webhook")]
        /// A verified, decrypted event with its type as an [`EventType`].
        pub type EventEnvelope = feishu_runtime::events::EventEnvelope<EventType>;

        #[cfg(feature = "webhook")]
        /// What a webhook request turned out to be; see
        /// [`Webhook::handle`](feishu_runtime::events::Webhook::handle).
        pub type Delivery = feishu_runtime::events::Delivery<EventType>;

        #[cfg(feature = "webhook")]
        pub use feishu_runtime::events::{Webhook, WebhookConfig, WebhookError};

        mod event;
        pub use event::Event;
    }
}

pub fn service_rs(service: &Service, krate: &str) -> TokenStream {
    let example =
        service_example(service, krate).map(|e| format!("\n# Example\n\n{e}")).unwrap_or_default();
    let doc = docs::inner(&if service.resources.is_empty() {
        format!(
            "The `{}` service: the typed bodies of its events (it has no operations).",
            service.wire_name
        )
    } else {
        format!(
            "The `{}` service: its operations are methods of [`{}`](crate::{}::{}), which `client.{}()` returns.",
            service.wire_name, service.handle, service.module, service.handle, service.accessor
        )
    });
    let example = (!example.is_empty()).then(|| docs::inner_raw(&example));
    let types = (!service.types.is_empty()).then(|| {
        quote! {
            /// Structs and enums shared by the service's typed operations.
            pub mod types;
        }
    });
    let events = (!service.events.is_empty()).then(|| {
        quote! {
            /// The typed bodies of the service's events.
            pub mod events;
        }
    });
    let resources = service.resources.values().map(|r| {
        let module = ident(&r.module);
        let doc = format!(" The `{}` resource.", r.wire_name);
        let allow =
            (r.module == service.module).then(|| quote!(#[allow(clippy::module_inception)]));
        quote! {
            #[doc = #doc]
            #allow
            pub mod #module;
        }
    });
    let handle = ident(&service.handle);
    let handle_doc =
        format!(" The operations of the `{}` service, by resource.", service.wire_name);
    let accessors = service.resources.values().map(|r| {
        let module = ident(&r.module);
        let resource_handle = ident(&r.handle);
        let doc = format!(" The operations of the `{}` resource.", r.wire_name);
        quote! {
            #[doc = #doc]
            pub fn #module(&self) -> #module::#resource_handle<'a> {
                #module::#resource_handle { client: self.client }
            }
        }
    });
    // A service of events only (no operation) has no handle.
    let handle_items = (!service.resources.is_empty()).then(|| {
        quote! {
            #[doc = #handle_doc]
            #[derive(Debug, Clone, Copy)]
            pub struct #handle<'a> {
                pub(crate) client: &'a feishu_runtime::Client,
            }

            impl<'a> #handle<'a> {
                #(#accessors)*
            }
        }
    });
    quote! {
        #doc
        #example
        #types
        #events
        #(#resources)*

        #handle_items
    }
}

pub fn types_rs(service: &Service) -> TokenStream {
    let doc = docs::inner(&docs::paragraphs([
        format!("Structs and enums shared by the typed operations of `{}`.", service.wire_name),
        "Each has a file of its own, in a private module named after the resource that uses it first, and is \
         re-exported here."
            .to_owned(),
    ]));
    let homes = service.types.by_home().into_keys().map(|home| {
        let module = ident(home);
        quote! {
            mod #module;
            pub use self::#module::*;
        }
    });
    quote! {
        #doc
        #(#homes)*
    }
}

/// The modules of the types whose home is the resource `home`.
pub fn type_home_rs(
    service: &Service,
    home: &str,
    defs: &BTreeMap<&str, TypeDef<'_>>,
) -> TokenStream {
    let doc = match service.resources.get(home) {
        Some(r) => format!(
            "The shared types of `{}` that the `{}` resource uses first.",
            service.wire_name, r.wire_name
        ),
        None if home == EVENT_TYPES_HOME => {
            format!("The shared types of `{}` that its events use first.", service.wire_name)
        }
        None => format!(
            "The shared types of `{}` that the `{home}` resource uses first.",
            service.wire_name
        ),
    };
    let doc = docs::inner(&doc);
    let modules = defs.keys().map(|module| {
        let allow = (*module == home).then(|| quote!(#[allow(clippy::module_inception)]));
        let module = ident(module);
        quote! {
            #allow
            mod #module;
            pub use self::#module::*;
        }
    });
    quote! {
        #doc
        #(#modules)*
    }
}

/// The file of one shared type.
pub fn type_rs(service: &Service, def: TypeDef<'_>) -> TokenStream {
    match def {
        TypeDef::Struct(s) => {
            let traits = Traits::of(&service.types, &s.name);
            struct_def(s, &s.doc, &service.module, &service.types, traits, None)
        }
        TypeDef::Enum(e) => enum_def(e, Traits::of(&service.types, &e.name)),
    }
}

pub fn resource_rs(service: &Service, resource: &Resource) -> TokenStream {
    let doc = docs::inner(&format!(
        "The `{}` resource of `{}`: its operations are methods of [`{}`](crate::{}::{}::{}), which `client.{}().{}()` returns.",
        resource.wire_name,
        service.wire_name,
        resource.handle,
        service.module,
        resource.module,
        resource.handle,
        service.accessor,
        resource.module
    ));
    let modules =
        resource.operations.iter().filter(|op| matches!(op.kind, OperationKind::Typed(_))).map(
            |op| {
                let module = ident(&op.fn_name);
                let allow = (op.fn_name == resource.module)
                    .then(|| quote!(#[allow(clippy::module_inception)]));
                quote! {
                    #allow
                    mod #module;
                    pub use #module::*;
                }
            },
        );
    let methods = resource.operations.iter().map(|op| match &op.kind {
        OperationKind::Catalogue { download, .. } => operations::catalogue_method(op, *download),
        OperationKind::Typed(d) => operations::typed_method(op, d),
    });
    let handle = ident(&resource.handle);
    let handle_doc = format!(
        " The operations of the `{}` resource of `{}`.",
        resource.wire_name, service.wire_name
    );
    quote! {
        #doc
        #(#modules)*

        #[doc = #handle_doc]
        #[derive(Debug, Clone, Copy)]
        pub struct #handle<'a> {
            pub(crate) client: &'a feishu_runtime::Client,
        }

        impl<'a> #handle<'a> {
            #(#methods)*
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn string_examples_lose_their_json_escapes() {
        assert_eq!(
            super::unescape_example(r#"{\"text\":\"test content\"}"#),
            r#"{"text":"test content"}"#
        );
        assert_eq!(super::unescape_example("om_1"), "om_1");
    }
}
