//! Typed event bodies: a struct per event whose page documents its body
//! (`src/<service>/events/<event>.rs`, re-exported from `<service>::events`),
//! and the crate-wide `Event` enum that decodes any delivered event into one
//! of them, or keeps it as `Unknown`.

use feishu_model::{EventBodyDef, Model, Service};
use proc_macro2::TokenStream;
use quote::quote;

use crate::docs;
use crate::manifest::WEBHOOK_FEATURE;
use crate::types::{Traits, ident, struct_def};

/// Event bodies are only received: decoded leniently through the runtime's
/// map visitor like responses, no setters, no serialisation.
const RECEIVED: Traits =
    Traits { serialize: false, deserialize: true, validate: false, setters: false };

/// `src/events.rs`: the `EventType` of every event the docs list, and the
/// webhook's types with it.
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
    // What a bot needs from the runtime, under this one module: the
    // dispatcher both transports deliver to, its handlers' context and
    // callbacks, the dedup store, and the axum route when that feature is on.
    let (webhook, _) = crate::manifest::event_features(model);
    let axum = crate::manifest::has_transport(model, "axum").then(|| {
        quote! {
            #[cfg(feature = "axum")]
            pub use feishu_runtime::events::axum;
        }
    });
    let dispatcher = webhook.then(|| {
        quote! {
            #[cfg(feature = "webhook")]
            pub use feishu_runtime::events::{
                CallbackCard, CallbackContext, CardAction, CardActionResponse, CardActionTrigger,
                CardTemplate, Channel, DedupStore, DeliveryFailure, Dispatcher, DispatcherBuilder,
                EventBody, EventContext, HandlerError, InMemoryDedup, InlinePreview, Operator,
                Outcome, RegisterError, Toast, ToastKind, UrlPreviewGet, UrlPreviewResponse,
                WithState,
            };
            #axum
        }
    });
    quote! {
        //! The event types an app can subscribe to, the typed bodies of delivered events, and
        //! what a bot receives them with: the [`Dispatcher`] of typed handlers (each gets an
        //! [`EventContext`]), the [`Webhook`], and (feature `axum`) a ready-made axum route;
        //! the long connection is `feishu::ws` (feature `ws`).

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

        #dispatcher

        mod event;
        pub use event::Event;
    }
}

/// `src/<service>/events.rs`: one private module per event, re-exported.
pub fn service_events_rs(service: &Service) -> TokenStream {
    let doc = docs::inner(&docs::paragraphs([
        format!("The typed bodies of the `{}` events whose pages document them.", service.wire_name),
        "Each is the `event` object of a delivered event. Decode one with `crate::events::Event::decode`, which picks the \
         struct by the event type, or directly with serde when the type is known."
            .to_owned(),
    ]));
    let modules = service.events.iter().map(|e| {
        let module = ident(&e.module);
        quote! {
            mod #module;
            pub use self::#module::*;
        }
    });
    quote! {
        #doc
        #(#modules)*
    }
}

/// The file of one event's struct and its `EventBody` impl.
pub fn event_rs(service: &Service, event: &EventBodyDef) -> TokenStream {
    let scopes = event.scopes.iter().map(|s| {
        if s.description.is_empty() {
            format!("`{}`", s.name)
        } else {
            format!("`{}` ({})", s.name, s.description)
        }
    });
    let scopes = scopes.collect::<Vec<_>>().join(", ");
    let doc = docs::paragraphs([
        format!("`{}`: {}", event.event_type, event.title),
        event.description.clone(),
        if scopes.is_empty() {
            String::new()
        } else {
            format!("Receiving it needs one of the scopes {scopes}.")
        },
        event.doc_url.as_ref().map(|u| format!("Docs: <{u}>")).unwrap_or_default(),
    ]);
    let def = struct_def(&event.body, &doc, &service.module, &service.types, RECEIVED, None);
    let name = ident(&event.body.name);
    let event_type = &event.event_type;
    let inner = docs::inner(&format!("The body of `{}` events.", event.event_type));
    quote! {
        #inner
        #def

        #[cfg(feature = #WEBHOOK_FEATURE)]
        impl feishu_runtime::events::EventBody for #name {
            const EVENT_TYPE: &'static str = #event_type;
        }
    }
}

/// `src/events/event.rs`: the `Event` enum and its decoding.
pub fn event_enum(model: &Model) -> TokenStream {
    let typed: Vec<_> = model.events.iter().filter_map(|e| Some((e, e.body.as_ref()?))).collect();
    let variants: Vec<_> = typed.iter().map(|(e, _)| ident(&e.variant)).collect();
    let features: Vec<&str> = typed.iter().map(|(_, b)| b.feature.as_str()).collect();
    let event_types: Vec<&str> = typed.iter().map(|(e, _)| e.event_type.as_str()).collect();
    let paths: Vec<TokenStream> = typed
        .iter()
        .map(|(_, b)| {
            let (service, name) = (ident(&b.service), ident(&b.name));
            quote!(crate::#service::events::#name)
        })
        .collect();
    let variant_docs = typed.iter().map(|(e, b)| {
        docs::outer(&docs::paragraphs([
            format!("`{}`: {}", e.event_type, e.title),
            format!(
                "The body is a [`{name}`](crate::{}::events::{name}).",
                b.service,
                name = b.name
            ),
        ]))
    });
    // With no typed event there is nothing to match on (clippy's
    // `match_single_binding`), so the lookup says so plainly.
    let lookup = if typed.is_empty() {
        quote! {
            let _ = (event_type, event);
            Ok(None)
        }
    } else {
        // One short arm per event (the generic `body` does the work), so
        // that the file grows by a line or two per event.
        quote! {
            match event_type {
                #(
                    #[cfg(feature = #features)]
                    #event_types => body(event, Self::#variants),
                )*
                _ => Ok(None),
            }
        }
    };
    let helper = (!typed.is_empty()).then(|| {
        quote! {
            /// Decodes a typed body and wraps it in its variant.
            // Unused when the features of every typed service are off.
            #[allow(dead_code)]
            fn body<T: serde::de::DeserializeOwned>(
                event: &serde_json::Value,
                variant: fn(Box<T>) -> Event,
            ) -> Result<Option<Event>, serde_json::Error> {
                T::deserialize(event).map(|body| Some(variant(Box::new(body))))
            }
        }
    });
    quote! {
        //! The body of a delivered event, typed when the docs describe it.

        #[cfg(feature = #WEBHOOK_FEATURE)]
        use super::EventEnvelope;

        /// The body of a delivered event (its `event` object), typed when
        /// the docs describe it.
        ///
        /// There is a variant for each event whose page documents its body,
        /// enabled with its service's feature; any other event, including
        /// those the docs list only in a catalogue and those of disabled
        /// services, is `Unknown` with its body as JSON. Adding an event's
        /// page and regenerating gives it a variant.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum Event {
            #(
                #[cfg(feature = #features)]
                #variant_docs
                #variants(Box<#paths>),
            )*
            /// An event the crate does not type.
            Unknown {
                /// The event type, e.g. `im.message.receive_v1`.
                event_type: String,
                /// The `event` object as delivered.
                raw: serde_json::Value,
            },
        }

        impl Event {
            /// Decodes the `event` object of an event of type `event_type`.
            ///
            /// A typed event's body decodes leniently, like responses: keys
            /// the docs do not list are skipped and absent fields are `None`;
            /// a field of another JSON type than documented is an error. An
            /// event type without a variant is `Ok(Event::Unknown)`.
            pub fn decode(event_type: &str, event: serde_json::Value) -> Result<Event, serde_json::Error> {
                match Self::typed(event_type, &event)? {
                    Some(typed) => Ok(typed),
                    None => Ok(Self::Unknown { event_type: event_type.to_owned(), raw: event }),
                }
            }

            /// Decodes the body of a delivered event; the envelope keeps
            /// the rest (event id, time, app, tenant).
            #[cfg(feature = #WEBHOOK_FEATURE)]
            pub fn from_envelope(envelope: &EventEnvelope) -> Result<Event, serde_json::Error> {
                let event_type = envelope.event_type.as_str();
                match Self::typed(event_type, &envelope.event)? {
                    Some(typed) => Ok(typed),
                    None => Ok(Self::Unknown { event_type: event_type.to_owned(), raw: envelope.event.clone() }),
                }
            }

            /// The event type, e.g. `im.message.receive_v1`.
            pub fn event_type(&self) -> &str {
                match self {
                    #(
                        #[cfg(feature = #features)]
                        Self::#variants(_) => #event_types,
                    )*
                    Self::Unknown { event_type, .. } => event_type,
                }
            }

            /// The typed event, or `None` when `event_type` has no variant.
            fn typed(event_type: &str, event: &serde_json::Value) -> Result<Option<Event>, serde_json::Error> {
                #lookup
            }
        }

        #helper
    }
}
