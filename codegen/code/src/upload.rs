//! The multipart body of typed uploads: text fields written as text, file
//! fields streamed from their `UploadFile`, and the documented file size
//! limits checked before anything is sent.

use feishu_model::{FieldDef, Location, TypeRef, TypedOperation};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::types::ident;

/// The statements that check each file's documented largest size.
pub fn size_checks(d: &TypedOperation) -> TokenStream {
    let Some(form) = &d.form else {
        return TokenStream::new();
    };
    let checks = form.files.iter().filter_map(|(rust_name, limit)| {
        let limit = (*limit)?;
        let field = d.request.fields.iter().find(|f| &f.rust_name == rust_name)?;
        let rust = ident(rust_name);
        let wire = &field.wire_name;
        let max = Literal::u64_unsuffixed(limit);
        let detail = format!("the file may be at most {limit} bytes (the documented limit)");
        let check = quote! {
            if file.len() > #max {
                return Err(feishu_runtime::ValidationError::new(#wire, "max_size", format!("{} bytes; {}", file.len(), #detail)).into());
            }
        };
        Some(if field.required {
            quote! { { let file = &request.#rust; #check } }
        } else {
            quote! { if let Some(file) = &request.#rust { #check } }
        })
    });
    quote! { #(#checks)* }
}

/// The statements that put the request's body fields into a multipart form.
pub fn form_body(d: &TypedOperation) -> Option<TokenStream> {
    d.form.as_ref()?;
    let parts: Vec<TokenStream> =
        d.request.fields.iter().filter(|f| f.location == Location::Body).map(part).collect();
    // A form the docs give no body fields for (a slip of the page) is sent empty.
    let binding = if parts.is_empty() { quote!(form) } else { quote!(mut form) };
    Some(quote! {
        let #binding = feishu_runtime::Multipart::new();
        #(#parts)*
        api = api.body(feishu_runtime::Body::Multipart(form));
    })
}

fn part(field: &FieldDef) -> TokenStream {
    let rust = ident(&field.rust_name);
    let wire = &field.wire_name;
    // `value` is the field (for method calls), `reference` a reference to it.
    let add = |value: TokenStream, reference: TokenStream| match &field.ty {
        TypeRef::File => quote! { form = form.upload(#wire, #value.clone()); },
        TypeRef::String => quote! { form = form.text(#wire, #value.clone()); },
        TypeRef::Enum(_) => quote! { form = form.text(#wire, #value.as_str()); },
        TypeRef::Integer | TypeRef::Number | TypeRef::Boolean => {
            quote! { form = form.text(#wire, #value.to_string()); }
        }
        // Objects and lists go as JSON text, as the platform's forms take them.
        TypeRef::Json | TypeRef::Struct(_) | TypeRef::Array(_) => quote! {
            form = form.text(#wire, serde_json::to_string(#reference).map_err(feishu_runtime::Error::Encode)?);
        },
    };
    if field.required {
        add(quote!(request.#rust), quote!(&request.#rust))
    } else {
        let set = add(quote!(value), quote!(value));
        quote! { if let Some(value) = &request.#rust { #set } }
    }
}
