//! Operation functions and their error enums.

use feishu_model::{
    Auth, ErrorDef, Limits, Location, Operation, OperationKind, PathPart, TypeRef, TypeSpace,
    TypedOperation,
};
use feishu_spec::Method;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::docs;
use crate::types::{Traits, ident, struct_def};

fn method(method: Method) -> TokenStream {
    let m = ident(method.as_str());
    quote!(feishu_runtime::Method::#m)
}

fn auth(auth: Auth) -> TokenStream {
    match auth {
        Auth::Tenant => quote!(feishu_runtime::Auth::Tenant),
        Auth::User => quote!(feishu_runtime::Auth::User),
        Auth::TenantOrUser => quote!(feishu_runtime::Auth::TenantOrUser),
        Auth::App => quote!(feishu_runtime::Auth::App),
    }
}

/// The operation's docs: what it does, where it is documented, what it needs.
pub fn operation_doc(op: &Operation) -> String {
    let tokens: Vec<String> =
        op.access_tokens.iter().map(|t| format!("`{}`", t.as_str())).collect();
    let scopes: Vec<String> =
        op.scopes.iter().map(|s| format!("- `{}`: {}", s.name, s.description)).collect();
    let catalogue = matches!(op.kind, OperationKind::Catalogue { .. })
        .then(|| "Only the API catalogue describes this endpoint, so the body and query are yours to build and the answer is untyped.".to_owned());
    docs::paragraphs([
        op.title.clone(),
        op.description.clone(),
        format!("`{} {}` (`{}`)", op.method.as_str(), op.path, op.id),
        op.doc_url.as_ref().map(|u| format!("Docs: <{u}>")).unwrap_or_default(),
        if scopes.is_empty() {
            String::new()
        } else {
            format!("Scopes (any one suffices):\n\n{}", scopes.join("\n"))
        },
        if tokens.is_empty() {
            String::new()
        } else {
            format!("Access tokens: {}.", tokens.join(", "))
        },
        op.rate_limit.as_ref().map(|r| format!("Rate limit: {r}.")).unwrap_or_default(),
        catalogue.unwrap_or_default(),
    ])
}

/// The path as a `String` expression, with parameters encoded; `value`
/// gives the expression of each parameter by Rust name.
fn path_expr(op: &Operation, value: impl Fn(&str) -> TokenStream) -> TokenStream {
    let mut format = String::new();
    let mut args = Vec::new();
    for part in &op.path_parts {
        match part {
            PathPart::Literal(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            PathPart::Param { rust_name, .. } => {
                format.push_str("{}");
                let v = value(rust_name);
                args.push(quote!(feishu_runtime::codegen::encode_path_segment(#v)));
            }
        }
    }
    if args.is_empty() {
        let path = &op.path;
        quote!(#path)
    } else {
        quote!(format!(#format, #(#args),*))
    }
}

/// `.endpoint(id)` and, when the docs give figures, `.rate_limit(..)`: the
/// client keeps to the documented limits instead of running into them.
fn limits(op: &Operation) -> TokenStream {
    let id = &op.id;
    let l = op.limits;
    if l == Limits::default() {
        return quote!(.endpoint(#id));
    }
    let opt = |n: Option<u32>| match n.map(Literal::u32_unsuffixed) {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    let (second, minute) = (opt(l.per_second), opt(l.per_minute));
    let receiver =
        l.per_receiver_per_second.map(Literal::u32_unsuffixed).map(|n| quote!(.per_receiver(#n)));
    quote! {
        .endpoint(#id)
        .rate_limit(feishu_runtime::RateLimit::new(#second, #minute) #receiver)
    }
}

/// A catalogue-only endpoint, as a method of its resource's handle: the
/// path parameters are arguments, the caller adds query and body to the
/// returned call, and the answer is untyped.
pub fn catalogue_method(op: &Operation, download: bool) -> TokenStream {
    let doc = docs::outer(&operation_doc(op));
    let name = ident(&op.fn_name);
    let params: Vec<_> = op
        .path_parts
        .iter()
        .filter_map(|p| match p {
            PathPart::Param { rust_name, .. } => Some(ident(rust_name)),
            PathPart::Literal(_) => None,
        })
        .collect();
    let path = path_expr(op, |n| {
        let n = ident(n);
        quote!(#n)
    });
    let output =
        if download { quote!(feishu_runtime::Download) } else { quote!(serde_json::Value) };
    let method = method(op.method);
    let auth = auth(op.auth);
    let limits = limits(op);
    quote! {
        #doc
        pub fn #name(&self, #(#params: &str),*) -> feishu_runtime::RawCall<'a, #output> {
            feishu_runtime::RawCall::new(self.client, feishu_runtime::ApiRequest::new(#method, #path).auth(#auth) #limits)
        }
    }
}

/// A typed operation, as a method of its resource's handle.
pub fn typed_method(op: &Operation, d: &TypedOperation) -> TokenStream {
    let name = ident(&op.fn_name);
    let request = ident(&d.request.name);
    let doc = docs::outer(&docs::paragraphs([
        op.title.clone(),
        format!(
            "`{} {}` (`{}`); see [`{}()`](fn@{}) for the details.",
            op.method.as_str(),
            op.path,
            op.id,
            op.fn_name,
            op.fn_name
        ),
    ]));
    quote! {
        #doc
        #[inline]
        pub fn #name(&self, request: #request) -> feishu_runtime::Call<'a, #request> {
            feishu_runtime::Call::new(self.client, request)
        }
    }
}

/// The file of one typed operation: request, response, error and function.
pub fn typed(op: &Operation, d: &TypedOperation, service: &str, types: &TypeSpace) -> TokenStream {
    let doc = operation_doc(op);
    let request_doc = docs::paragraphs([format!("The request of `{}`: {}", op.fn_name, op.title)]);
    let response_doc = docs::paragraphs([format!(
        "The `data` of a successful `{}`. Every field is optional: the platform leaves fields out more often than the docs say.",
        op.fn_name
    )]);
    // Requests are only sent and responses only received; `validate()` of
    // a request is public even when it has nothing to check.
    let request_traits =
        Traits { serialize: d.json_body, deserialize: false, validate: true, setters: true };
    let request = struct_def(
        &d.request,
        &request_doc,
        service,
        types,
        request_traits,
        d.message_content.as_ref(),
    );
    let response_traits =
        Traits { serialize: false, deserialize: true, validate: false, setters: false };
    let response = struct_def(&d.response, &response_doc, service, types, response_traits, None);
    let error = error_enum(&d.error, &op.fn_name);

    let name = ident(&op.fn_name);
    let fn_doc = docs::outer(&docs::paragraphs([
        doc,
        "The request is validated against the documented constraints before anything is sent."
            .to_owned(),
        crate::paginate::paging_doc(d).unwrap_or_default(),
    ]));
    let streams = crate::paginate::streams(op, d, service);
    let request_ty = ident(&d.request.name);
    let response_ty = ident(&d.response.name);
    let kind_ty = ident(&format!("{}Kind", d.error.name));
    let path = path_expr(op, |n| {
        let n = ident(n);
        quote!(&request.#n)
    });
    let query = d.request.fields.iter().filter(|f| f.location == Location::Query).map(|f| {
        let rust = ident(&f.rust_name);
        let wire = &f.wire_name;
        match (&f.ty, f.required) {
            (TypeRef::Array(_), true) => quote! { for value in &request.#rust { api = api.query(#wire, value); } },
            (TypeRef::Array(_), false) => {
                quote! { for value in request.#rust.iter().flatten() { api = api.query(#wire, value); } }
            }
            // Numbers and booleans are `Copy`: passed by value, as clippy wants.
            (TypeRef::Integer | TypeRef::Number | TypeRef::Boolean, true) => {
                quote! { api = api.query(#wire, request.#rust); }
            }
            (_, true) => quote! { api = api.query(#wire, &request.#rust); },
            (_, false) => quote! { api = api.query_opt(#wire, request.#rust.as_ref()); },
        }
    });
    // Serialised straight to bytes: the key is filled here, before that, and
    // the message size checked by `validate()`, which is what building a
    // `serde_json::Value` first would let the client do instead.
    let body = crate::upload::form_body(d)
        .or_else(|| d.json_body.then(|| quote! { api = api.json_encoded(&request)?; }));
    let size_checks = crate::upload::size_checks(d);
    let method = method(op.method);
    let auth = auth(op.auth);
    let limits = limits(op);
    let idempotency = d.idempotency_field.as_deref().map(|wire| quote!(.idempotency_field(#wire)));
    // Once per call, after validation (a caller's own key is checked, a
    // generated one needs no check) and before the first attempt, so that
    // every retry carries the same key.
    let fill_key = d.idempotency_field.as_deref().and_then(|wire| {
        let field = d.request.fields.iter().find(|f| f.wire_name == wire)?;
        let rust = ident(&field.rust_name);
        Some(if field.required {
            quote! {
                if request.#rust.is_empty() {
                    request.#rust = feishu_runtime::new_idempotency_key();
                }
            }
        } else {
            quote! { feishu_runtime::codegen::fill_idempotency_key(&mut request.#rust); }
        })
    });
    let request_binding = if fill_key.is_some() { quote!(mut request) } else { quote!(request) };
    let receiver = d.receiver_field.as_deref().map(|rust| {
        let rust = ident(rust);
        quote!(.receiver(request.#rust.as_str()))
    });
    // Everything an operation compiles to (its request building, and the
    // serializer and decoder that `Call` instantiates for its types) is
    // `#[inline]` or generic, so it is compiled in the crates that call
    // the operation, never in this one: a program pays for the operations
    // it uses. Compiled here, the calls of the whole API were most of the
    // crate's LLVM IR (7.4 M lines; 3.4 M with just the non-inline
    // builders and list streams left).
    quote! {
        #request
        #response
        #error

        #fn_doc
        #[inline]
        pub fn #name(
            client: &feishu_runtime::Client,
            request: #request_ty,
            options: feishu_runtime::RequestOptions,
        ) -> feishu_runtime::Call<'_, #request_ty> {
            feishu_runtime::Call::new(client, request).options(options)
        }

        impl feishu_runtime::codegen::Operation for #request_ty {
            type Output = #response_ty;
            type Kind = #kind_ty;

            #[inline]
            fn into_api_request(self, options: feishu_runtime::RequestOptions) -> Result<feishu_runtime::ApiRequest, feishu_runtime::Error> {
                let #request_binding = self;
                feishu_runtime::Validate::validate(&request)?;
                #size_checks
                #fill_key
                #[allow(unused_mut)]
                let mut api = feishu_runtime::ApiRequest::new(#method, #path)
                    .auth(#auth)
                    #limits
                    #idempotency
                    #receiver
                    .options(options);
                #(#query)*
                #body
                Ok(api)
            }
        }

        #streams
    }
}

/// The operation's error: an alias of the runtime's generic
/// `OperationError` over a field-less enum of the documented codes. What
/// every operation's error can do is written once, in the runtime; each
/// operation adds only its codes, their docs, one `match` and `is_…()`
/// helpers (inline, so compiled only where they are called).
fn error_enum(def: &ErrorDef, fn_name: &str) -> TokenStream {
    let name = ident(&def.name);
    let kind = ident(&format!("{}Kind", def.name));
    let doc = format!(
        " The error of `{fn_name}`: `kind()` says which of its documented codes the platform answered with; see [`feishu_runtime::OperationError`]."
    );
    let kind_doc = format!(
        " The documented error codes of `{fn_name}`, one variant per code, named from the docs' message; codes the docs do not list (and failures without a code) are `Unhandled`."
    );
    let variants: Vec<_> = def.variants.iter().map(|v| ident(&v.rust_name)).collect();
    let codes: Vec<Literal> =
        def.variants.iter().map(|v| Literal::i64_unsuffixed(v.code)).collect();
    let summary = |v: &feishu_model::ErrorVariant| {
        let status = v.http_status.map(|s| format!(", HTTP {s}")).unwrap_or_default();
        let message = v.message.trim().trim_end_matches('.');
        if message.is_empty() {
            format!("Code `{}`{status}.", v.code)
        } else {
            format!("{message} (code `{}`{status}).", v.code)
        }
    };
    let variant_docs = def.variants.iter().map(|v| {
        // rustdoc's search finds the variant by its code (`230001`).
        let alias = v.code.to_string();
        let subs: Vec<String> = v
            .sub_errors
            .iter()
            .map(|(code, msg)| format!("- `{code}`: {}", msg.replace('`', "'")))
            .collect();
        let doc = docs::outer(&docs::paragraphs([
            summary(v),
            docs::first_paragraph(&v.hint),
            if subs.is_empty() {
                String::new()
            } else {
                format!("Sub-codes (see `sub_code()`):\n\n{}", subs.join("\n"))
            },
            if v.retryable {
                "Retrying later may succeed.".to_owned()
            } else {
                "Retrying the same request will not help.".to_owned()
            },
        ]));
        quote!(#doc #[doc(alias = #alias)])
    });
    let helpers = def.variants.iter().map(|v| {
        let helper = ident(&v.helper);
        let variant = ident(&v.rust_name);
        let doc = format!(" Whether this is `{}`: {}", v.rust_name, summary(v));
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn #helper(self) -> bool {
                matches!(self, Self::#variant)
            }
        }
    });
    let helpers = (!def.variants.is_empty()).then(|| quote! { impl #kind { #(#helpers)* } });
    let retryable =
        def.variants.iter().filter(|v| v.retryable).map(|v| Literal::i64_unsuffixed(v.code));
    let of = if variants.is_empty() {
        quote! {
            let _ = code;
            Self::Unhandled
        }
    } else {
        quote! {
            match code {
                #( #codes => Self::#variants, )*
                _ => Self::Unhandled,
            }
        }
    };
    quote! {
        #[doc = #doc]
        pub type #name = feishu_runtime::OperationError<#kind>;

        #[doc = #kind_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum #kind {
            #( #variant_docs #variants, )*
            /// A code the docs of this operation do not list, or a failure without a code.
            Unhandled,
        }

        #helpers

        impl feishu_runtime::codegen::DocumentedKind for #kind {}

        impl feishu_runtime::ErrorKind for #kind {
            const UNHANDLED: Self = Self::Unhandled;
            const RETRYABLE: &'static [i64] = &[#(#retryable),*];

            fn of(code: i64) -> Self {
                #of
            }
        }
    }
}
