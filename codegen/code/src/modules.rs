//! The module files of a service: the service's own file (its docs, its
//! example, its handle), its shared types (a file per type, grouped by the
//! resource that uses them first) and each resource's handle.

use std::collections::BTreeMap;

use feishu_model::{EVENT_TYPES_HOME, OperationKind, Resource, Service, TypeDef};
use proc_macro2::TokenStream;
use quote::quote;

use crate::docs;
use crate::examples::service_example;
use crate::operations;
use crate::types::{Traits, enum_def, ident, struct_def};

/// How many operation titles a service's summary names before "and N more".
const SUMMARY_TITLES: usize = 3;

/// The first line of a service's docs, which the crate's front page lists:
/// its paths and what its first operations do, so that a service whose name
/// says little (`ephemeral`, `interactive`, `message` beside `im`) says what
/// it is: "The `ephemeral` service, `/open-apis/ephemeral/…`: 删除仅特定人可见的消息卡片, …".
pub(crate) fn service_summary(service: &Service) -> String {
    let operations: Vec<_> = service.resources.values().flat_map(|r| &r.operations).collect();
    // The path segments every operation shares, up to the service's name and version.
    let mut prefix: Vec<&str> = Vec::new();
    if let Some(first) = operations.first() {
        prefix = first.path.split('/').filter(|s| !s.is_empty()).take(3).collect();
        for operation in &operations[1..] {
            let segments: Vec<&str> = operation.path.split('/').filter(|s| !s.is_empty()).collect();
            let shared = prefix.iter().zip(&segments).take_while(|(a, b)| a == b).count();
            prefix.truncate(shared);
        }
    }
    let paths =
        if prefix.is_empty() { String::new() } else { format!(", `/{}/…`", prefix.join("/")) };
    let mut titles: Vec<&str> = operations
        .iter()
        .map(|o| o.title.trim())
        .filter(|t| !t.is_empty())
        .take(SUMMARY_TITLES)
        .collect();
    titles.dedup();
    let more = operations.len().saturating_sub(titles.len());
    let list = match (titles.is_empty(), more) {
        (true, _) => format!("{} operations", operations.len()),
        (false, 0) => titles.join(", "),
        (false, n) => format!("{}, and {n} more", titles.join(", ")),
    };
    format!("The `{}` service{paths}: {list}.", service.wire_name)
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
            "{}\n\nIts operations are methods of [`{}`], which `client.{}()` returns.",
            service_summary(service),
            service.handle,
            service.accessor
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
