//! The crate-level files: manifest, `lib.rs`, shared errors, events and module files.

use std::collections::BTreeMap;

use feishu_model::{EVENT_TYPES_HOME, Model, OperationKind, RATE_LIMIT_CODES, Resource, Service, TypeDef, TypeRef};
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

/// The feature that turns on webhook handling (and its crypto crates).
pub const WEBHOOK_FEATURE: &str = "webhook";

pub fn cargo_toml(model: &Model, options: &Options, header: &str) -> String {
    let mut features: Vec<String> = model.services.values().map(|s| toml_string(&s.feature)).collect();
    let webhook = !model.services.values().any(|s| s.feature == WEBHOOK_FEATURE);
    if webhook {
        features.push(toml_string(WEBHOOK_FEATURE));
    }
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
    }
    text
}

/// The docs write string examples as the inside of a JSON string
/// (`{\"text\":\"hi\"}`); the example needs the value itself.
fn unescape_example(example: &str) -> String {
    example.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// A `no_run` example calling the first typed operation whose required
/// fields are all plain values, [`feishu_model::EXAMPLE_OPERATION`] first.
fn usage_example(model: &Model, crate_ident: &str) -> Option<String> {
    let mut candidates = Vec::new();
    for service in model.services.values() {
        for resource in service.resources.values() {
            for op in &resource.operations {
                if let OperationKind::Typed(d) = &op.kind {
                    candidates.push((op.id != feishu_model::EXAMPLE_OPERATION, service, resource, op, d));
                }
            }
        }
    }
    candidates.sort_by_key(|c| c.0);
    candidates.into_iter().find_map(|(_, service, resource, op, d)| {
        let mut args = Vec::new();
        for f in d.request.fields.iter().filter(|f| f.required) {
            args.push(match &f.ty {
                TypeRef::String => format!("{:?}", f.docs.example.as_deref().map(unescape_example).unwrap_or_else(|| format!("{}_value", f.wire_name))),
                TypeRef::Enum(name) => format!("{:?}", service.types.enums[name].variants.first()?.value),
                TypeRef::Integer => "0".to_owned(),
                TypeRef::Boolean => "false".to_owned(),
                _ => return None,
            });
        }
        Some(format!(
            "```no_run\nuse {krate}::{service}::{resource}::{{{fn_name}, {request}}};\nuse {krate}::{{Client, RequestOptions}};\n\n\
             # async fn demo() -> Result<(), Box<dyn std::error::Error>> {{\n\
             let client = Client::new(\"cli_xxx\", \"app-secret\")?;\n\
             let request = {request}::new({args});\n\
             let response = {fn_name}(&client, request, RequestOptions::default()).await?;\n\
             println!(\"{{response:?}}\");\n# Ok(())\n# }}\n```",
            krate = crate_ident,
            service = service.module,
            resource = resource.module,
            fn_name = op.fn_name,
            request = d.request.name,
            args = args.join(", "),
        ))
    })
}

pub fn lib_rs(model: &Model, options: &Options) -> TokenStream {
    let crate_ident = options.crate_name.replace('-', "_");
    let example = usage_example(model, &crate_ident).unwrap_or_default();
    let doc = docs::inner(&docs::paragraphs([
        "A typed client of the Feishu (Lark) Open Platform API, generated from its docs.".to_owned(),
        "Each service is a module behind a Cargo feature of the same name (all on by default); each resource is a \
         module of async functions taking a `Client`. Endpoints whose pages describe their parameters get typed \
         requests (validated before sending), responses and per-code error enums; endpoints only known from the \
         catalogue take a caller-built body and return untyped JSON or a download."
            .to_owned(),
    ]));
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
    // The example bypasses clean(), which would turn its `no_run` fence into `text`.
    quote! {
        #doc
        #example
        #![forbid(unsafe_code)]
        #![warn(missing_docs)]

        pub mod error;
        pub mod events;
        #(#modules)*

        pub use error::{ApiErrorCode, CodedError, ErrorKind, OperationError};
        pub use events::{Event, EventType};
        pub use feishu_runtime as runtime;
        pub use feishu_runtime::{
            ApiError, Body, Client, Download, MessageContent, Multipart, RequestOptions, RetryPolicy,
        };
    }
}

pub fn error_rs() -> TokenStream {
    let rate_limit_codes = RATE_LIMIT_CODES.iter().map(|c| proc_macro2::Literal::i64_unsuffixed(*c));
    quote! {
        //! The error of typed operations.

        /// What the per-operation errors have in common.
        pub trait ApiErrorCode: From<feishu_runtime::ApiError> {
            /// The platform's error code.
            fn code(&self) -> i64;
            /// Whether sending the same request again later may succeed.
            fn is_retryable(&self) -> bool;
        }

        /// The documented error codes of one operation (its `…ErrorKind`
        /// enum): a variant per code, and `Unhandled` for the others.
        pub trait ErrorKind: Copy + PartialEq + std::fmt::Debug {
            /// The kind of the codes the docs of the operation do not list.
            const UNHANDLED: Self;
            /// The documented codes after which sending again later may succeed.
            const RETRYABLE: &'static [i64];
            /// The kind of `code`.
            fn of(code: i64) -> Self;
        }

        /// The error of an operation whose call the platform answered with
        /// an error code: which documented code it is (`kind()`, a `K`) and
        /// the whole envelope (`api_error()`). Each operation names its own,
        /// e.g. `feishu::im::message::ReplyError`.
        ///
        /// One generic type rather than an enum per operation: its code is
        /// written (and compiled) once, not for each of hundreds of operations.
        #[derive(Clone, PartialEq)]
        pub struct CodedError<K> {
            kind: K,
            error: Box<feishu_runtime::ApiError>,
        }

        impl<K: ErrorKind> CodedError<K> {
            /// Which of the operation's documented codes this is.
            pub fn kind(&self) -> K {
                self.kind
            }

            /// The whole error envelope: code, message, HTTP status, log id.
            pub fn api_error(&self) -> &feishu_runtime::ApiError {
                &self.error
            }

            /// The whole error envelope, by value.
            pub fn into_api_error(self) -> feishu_runtime::ApiError {
                *self.error
            }

            /// The platform's error code.
            pub fn code(&self) -> i64 {
                self.error.code
            }

            /// Whether sending the same request again later may succeed
            /// (rate limits, server errors).
            pub fn is_retryable(&self) -> bool {
                if self.is_unhandled() {
                    let status = self.error.http_status;
                    return self.is_rate_limited() || status == 429 || status >= 500;
                }
                K::RETRYABLE.contains(&self.code())
            }

            /// Whether the platform's frequency limit was hit.
            pub fn is_rate_limited(&self) -> bool {
                matches!(self.code(), #(#rate_limit_codes)|*)
            }

            /// Whether the code is one the docs of this operation do not list.
            pub fn is_unhandled(&self) -> bool {
                self.kind == K::UNHANDLED
            }

            /// The finer code some errors carry in their message as `ErrCode: <n>`.
            pub fn sub_code(&self) -> Option<i64> {
                let msg = &self.error.msg;
                let start = msg.find("ErrCode:")? + "ErrCode:".len();
                let digits: String = msg[start..].trim_start().chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            }
        }

        impl<K: ErrorKind> From<feishu_runtime::ApiError> for CodedError<K> {
            fn from(error: feishu_runtime::ApiError) -> Self {
                Self { kind: K::of(error.code), error: Box::new(error) }
            }
        }

        // `Code230002(ApiError { .. })`: as an enum variant of the kind would print.
        impl<K: std::fmt::Debug> std::fmt::Debug for CodedError<K> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{:?}({:?})", self.kind, self.error)
            }
        }

        impl<K> std::fmt::Display for CodedError<K> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.error, f)
            }
        }

        impl<K: std::fmt::Debug> std::error::Error for CodedError<K> {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&*self.error)
            }
        }

        impl<K: ErrorKind> ApiErrorCode for CodedError<K> {
            fn code(&self) -> i64 {
                CodedError::code(self)
            }

            fn is_retryable(&self) -> bool {
                CodedError::is_retryable(self)
            }
        }

        /// Why a typed operation failed: an error code of the operation
        /// (`E`, one variant per documented code), or anything else the
        /// runtime reports (validation, transport, decoding, tokens).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum OperationError<E> {
            /// The platform answered with an error code.
            Api(E),
            /// The call failed before or outside the platform's answer.
            Runtime(feishu_runtime::Error),
        }

        impl<E: ApiErrorCode> OperationError<E> {
            /// The operation's error, if the platform answered with one.
            pub fn api(&self) -> Option<&E> {
                match self {
                    Self::Api(error) => Some(error),
                    Self::Runtime(_) => None,
                }
            }

            /// The platform's error code, if any.
            pub fn code(&self) -> Option<i64> {
                match self {
                    Self::Api(error) => Some(error.code()),
                    Self::Runtime(error) => error.code(),
                }
            }

            /// Whether sending the same request again later may succeed.
            pub fn is_retryable(&self) -> bool {
                match self {
                    Self::Api(error) => error.is_retryable(),
                    Self::Runtime(error) => error.is_retryable(),
                }
            }
        }

        impl<E: From<feishu_runtime::ApiError>> From<feishu_runtime::Error> for OperationError<E> {
            fn from(error: feishu_runtime::Error) -> Self {
                match error {
                    feishu_runtime::Error::Api(api) => Self::Api(E::from(*api)),
                    other => Self::Runtime(other),
                }
            }
        }

        impl<E: std::fmt::Display> std::fmt::Display for OperationError<E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Self::Api(error) => error.fmt(f),
                    Self::Runtime(error) => error.fmt(f),
                }
            }
        }

        impl<E: std::error::Error + 'static> std::error::Error for OperationError<E> {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    Self::Api(error) => Some(error),
                    Self::Runtime(error) => Some(error),
                }
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

pub fn service_rs(service: &Service) -> TokenStream {
    let doc = docs::inner(&format!("The `{}` service.", service.wire_name));
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
        let allow = (r.module == service.module).then(|| quote!(#[allow(clippy::module_inception)]));
        quote! {
            #[doc = #doc]
            #allow
            pub mod #module;
        }
    });
    quote! {
        #doc
        #types
        #events
        #(#resources)*
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
pub fn type_home_rs(service: &Service, home: &str, defs: &BTreeMap<&str, TypeDef<'_>>) -> TokenStream {
    let doc = match service.resources.get(home) {
        Some(r) => format!("The shared types of `{}` that the `{}` resource uses first.", service.wire_name, r.wire_name),
        None if home == EVENT_TYPES_HOME => format!("The shared types of `{}` that its events use first.", service.wire_name),
        None => format!("The shared types of `{}` that the `{home}` resource uses first.", service.wire_name),
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
    let doc = docs::inner(&format!("The `{}` resource of `{}`.", resource.wire_name, service.wire_name));
    let items = resource.operations.iter().map(|op| match &op.kind {
        OperationKind::Catalogue { download, takes_body } => operations::catalogue(op, *download, *takes_body),
        OperationKind::Typed(_) => {
            let module = ident(&op.fn_name);
            let allow = (op.fn_name == resource.module).then(|| quote!(#[allow(clippy::module_inception)]));
            quote! {
                #allow
                mod #module;
                pub use #module::*;
            }
        }
    });
    quote! {
        #doc
        #(#items)*
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn string_examples_lose_their_json_escapes() {
        assert_eq!(super::unescape_example(r#"{\"text\":\"test content\"}"#), r#"{"text":"test content"}"#);
        assert_eq!(super::unescape_example("om_1"), "om_1");
    }
}
