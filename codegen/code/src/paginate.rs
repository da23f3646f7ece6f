//! The list streams of paged operations: the response's `Paginated` impl
//! and the request's `pages` / `items`, over the runtime's guarded `Pages`
//! stream (`feishu_runtime::paginate`).

use feishu_model::{Operation, Pagination, Paging, TypedOperation};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::types::{ident, rust_type};

/// The operation's docs line on paging, if it has something to say.
pub fn paging_doc(d: &TypedOperation) -> Option<String> {
    match &d.paging {
        Paging::None => None,
        Paging::Paged(_) => Some(
            "A paged list: `pages()` and `items()` on the request stream every page or item."
                .into(),
        ),
        Paging::Odd(reason) => Some(format!(
            "The request takes a `page_token`, but {reason}, so no list stream is generated."
        )),
    }
}

/// The impls of a paged operation; nothing for the others.
pub fn streams(op: &Operation, d: &TypedOperation, service: &str) -> TokenStream {
    let Paging::Paged(p) = &d.paging else {
        return TokenStream::new();
    };
    let Pagination { token, token_required, page_size, has_more, next_token, items, item, .. } = p;
    let request = ident(&d.request.name);
    let response = ident(&d.response.name);
    let kind = ident(&format!("{}Kind", d.error.name));
    let item = rust_type(item, service);
    let (token, has_more, next_token, items) =
        (ident(token), ident(has_more), ident(next_token), ident(items));
    let set_token =
        if *token_required { quote!(token.to_owned()) } else { quote!(Some(token.to_owned())) };
    let default_size = page_size.as_ref().map(|(field, max)| {
        let field = ident(field);
        let max = Literal::i64_unsuffixed(*max);
        quote! {
            if request.#field.is_none() {
                request.#field = Some(#max);
            }
        }
    });
    let binding = if default_size.is_some() { quote!(mut request) } else { quote!(request) };
    let size_doc = page_size
        .as_ref()
        .map(|(field, max)| {
            format!(" Asks for {max} per page (the documented maximum) unless `{field}` is set.")
        })
        .unwrap_or_default();
    let pages_doc = format!(
        " Every page of `{}`, one call each (validated, retried and rate limited as a single call); the request is not changed.{size_doc} The stream ends after a page with `has_more: false`; a page that says `has_more` without a token, or hands out a token already sent, ends it with `feishu_runtime::PaginationError`; an error ends it with that error.",
        op.fn_name
    );
    // A request field's setter may already be called `items` (or `pages`):
    // then the streams are `stream_pages`, `stream_pages_with`, `stream_items`.
    let clash = d
        .request
        .fields
        .iter()
        .any(|f| matches!(f.rust_name.as_str(), "pages" | "pages_with" | "items"));
    let prefix = if clash { "stream_" } else { "" };
    let (pages, pages_with, items_fn) = (
        ident(&format!("{prefix}pages")),
        ident(&format!("{prefix}pages_with")),
        ident(&format!("{prefix}items")),
    );
    let pages_with_doc =
        format!(" [`Self::{prefix}pages`] with the caller's options on every call.");
    let items_doc = format!(
        " Every item of every page of `{}` in order; see [`{}::{prefix}pages`].",
        op.fn_name, d.request.name
    );
    quote! {
        impl feishu_runtime::Paginated for #response {
            type Item = #item;
            fn next_page_token(&self) -> Option<&str> {
                self.#next_token.as_deref()
            }
            fn has_more(&self) -> Option<bool> {
                self.#has_more
            }
            fn into_items(self) -> Vec<#item> {
                self.#items.unwrap_or_default()
            }
        }

        impl feishu_runtime::codegen::PagedOperation for #request {
            #[inline]
            fn with_page_token(&self, token: &str) -> Self {
                let mut next = self.clone();
                next.#token = #set_token;
                next
            }
        }

        impl #request {
            #[doc = #pages_doc]
            #[inline]
            pub fn #pages(self, client: &feishu_runtime::Client) -> feishu_runtime::Pages<#response, feishu_runtime::OperationError<#kind>> {
                self.#pages_with(client, feishu_runtime::RequestOptions::default())
            }

            #[doc = #pages_with_doc]
            #[inline]
            pub fn #pages_with(self, client: &feishu_runtime::Client, options: feishu_runtime::RequestOptions) -> feishu_runtime::Pages<#response, feishu_runtime::OperationError<#kind>> {
                let #binding = self;
                #default_size
                feishu_runtime::codegen::pages(client, request, options)
            }

            #[doc = #items_doc]
            #[inline]
            pub fn #items_fn(self, client: &feishu_runtime::Client) -> feishu_runtime::Items<#response, feishu_runtime::OperationError<#kind>> {
                self.#pages(client).items()
            }
        }
    }
}
