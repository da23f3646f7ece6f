//! Whether a detailed operation is a paged list, decided once here so that
//! the emitter only prints.
//!
//! An operation pages when its request takes a `page_token` (query or body)
//! and its response has `has_more` and a `page_token` or `next_page_token`
//! next to exactly one array, the items. A request that takes a token whose
//! response does not fit that shape (no `has_more`, no token, no array or
//! several) is [`Paging::Odd`]: a diagnostic for the docs' reader, never a
//! guess at which array holds the items.

use crate::{FieldDef, Location, Model, OperationKind, StructDef, TypeRef};

impl Model {
    /// What the model declined to guess, one line each as
    /// `endpoint-id: paging: reason`, in module order.
    pub fn diagnostics(&self) -> Vec<String> {
        let ops =
            self.services.values().flat_map(|s| s.resources.values()).flat_map(|r| &r.operations);
        ops.filter_map(|op| match &op.kind {
            OperationKind::Typed(d) => match &d.paging {
                Paging::Odd(reason) => Some(format!("{}: paging: {reason}", op.id)),
                _ => None,
            },
            OperationKind::Catalogue { .. } => None,
        })
        .collect()
    }
}

/// How an operation pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Paging {
    /// It does not.
    #[default]
    None,
    /// A list the client can page through.
    Paged(Pagination),
    /// The request takes a `page_token` but the response does not page as
    /// the others do: the reason, for the diagnostics.
    Odd(String),
}

/// The fields of a paged list, by Rust name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pagination {
    /// The request's `page_token`.
    pub token: String,
    /// Whether the request's token field is required (not an `Option`).
    pub token_required: bool,
    /// Where the request's token goes.
    pub token_location: Location,
    /// The request's optional `page_size` and the documented largest value,
    /// which the list streams ask for when the caller sets none.
    pub page_size: Option<(String, i64)>,
    /// The response's `has_more`.
    pub has_more: String,
    /// The response's next token (`page_token` or `next_page_token`).
    pub next_token: String,
    /// The response's array of items.
    pub items: String,
    /// The type of one item.
    pub item: TypeRef,
}

/// Decides how the operation with this request and response pages.
pub(crate) fn decide(request: &StructDef, response: &StructDef) -> Paging {
    let Some(token) =
        request.fields.iter().find(|f| f.wire_name == "page_token" && f.location != Location::Path)
    else {
        return Paging::None;
    };
    if token.ty != TypeRef::String {
        return Paging::Odd("the request's page_token is not a string".into());
    }
    let field = |wire: &str| response.fields.iter().find(|f| f.wire_name == wire);
    let Some(has_more) = field("has_more").filter(|f| f.ty == TypeRef::Boolean) else {
        return Paging::Odd(
            "the request takes a page_token but the response has no boolean has_more".into(),
        );
    };
    let Some(next_token) = field("page_token")
        .or_else(|| field("next_page_token"))
        .filter(|f| f.ty == TypeRef::String)
    else {
        return Paging::Odd(
            "the response has has_more but no string page_token or next_page_token".into(),
        );
    };
    let arrays: Vec<&FieldDef> =
        response.fields.iter().filter(|f| matches!(f.ty, TypeRef::Array(_))).collect();
    let items = match arrays.as_slice() {
        [items] => *items,
        [] => return Paging::Odd("the response pages but has no array of items".into()),
        several => {
            let names: Vec<&str> = several.iter().map(|f| f.wire_name.as_str()).collect();
            return Paging::Odd(format!(
                "the response pages but has {} arrays ({}); which one is the list is not documented",
                names.len(),
                names.join(", ")
            ));
        }
    };
    let TypeRef::Array(item) = &items.ty else { unreachable!("filtered to arrays") };
    let page_size = request
        .fields
        .iter()
        .find(|f| {
            f.wire_name == "page_size"
                && f.ty == TypeRef::Integer
                && !f.required
                && f.location != Location::Path
        })
        .and_then(|f| {
            Some((
                f.rust_name.clone(),
                f.checks.maximum.filter(|m| m.fract() == 0.0 && *m >= 1.0)? as i64,
            ))
        });
    Paging::Paged(Pagination {
        token: token.rust_name.clone(),
        token_required: token.required,
        token_location: token.location,
        page_size,
        has_more: has_more.rust_name.clone(),
        next_token: next_token.rust_name.clone(),
        items: items.rust_name.clone(),
        item: (**item).clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Checks;

    fn field(wire: &str, ty: TypeRef, location: Location) -> FieldDef {
        FieldDef {
            wire_name: wire.into(),
            rust_name: wire.into(),
            ty,
            location,
            ..FieldDef::default()
        }
    }

    fn list_request(location: Location) -> StructDef {
        let mut size = field("page_size", TypeRef::Integer, location);
        size.checks = Checks { maximum: Some(50.0), ..Checks::default() };
        StructDef {
            name: "ListRequest".into(),
            fields: vec![
                field("container_id", TypeRef::String, Location::Query),
                size,
                field("page_token", TypeRef::String, location),
            ],
            ..StructDef::default()
        }
    }

    fn response(fields: Vec<FieldDef>) -> StructDef {
        StructDef { name: "ListResponse".into(), fields, ..StructDef::default() }
    }

    fn items(wire: &str) -> FieldDef {
        field(wire, TypeRef::Array(Box::new(TypeRef::Struct("Message".into()))), Location::Body)
    }

    #[test]
    fn a_list_pages_through_its_one_array() {
        for (location, next) in
            [(Location::Query, "page_token"), (Location::Body, "next_page_token")]
        {
            let response = response(vec![
                field("has_more", TypeRef::Boolean, Location::Body),
                field(next, TypeRef::String, Location::Body),
                items("items"),
            ]);
            let Paging::Paged(p) = decide(&list_request(location), &response) else {
                panic!("not paged")
            };
            assert_eq!(
                (p.token.as_str(), p.token_location, p.next_token.as_str(), p.items.as_str()),
                ("page_token", location, next, "items")
            );
            assert_eq!(p.page_size, Some(("page_size".into(), 50)));
            assert_eq!(p.item, TypeRef::Struct("Message".into()));
        }
    }

    #[test]
    fn odd_shapes_are_diagnosed_not_guessed() {
        let has_more = || field("has_more", TypeRef::Boolean, Location::Body);
        let token = || field("page_token", TypeRef::String, Location::Body);
        let cases = [
            (vec![token(), items("items")], "no boolean has_more"),
            (vec![has_more(), items("items")], "no string page_token"),
            (vec![has_more(), token()], "no array"),
            (
                vec![has_more(), token(), items("items"), items("members")],
                "2 arrays (items, members)",
            ),
        ];
        for (fields, reason) in cases {
            match decide(&list_request(Location::Query), &response(fields)) {
                Paging::Odd(why) => assert!(why.contains(reason), "{why}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn no_page_token_no_paging() {
        let response =
            response(vec![field("has_more", TypeRef::Boolean, Location::Body), items("items")]);
        let request = StructDef {
            fields: vec![field("page_size", TypeRef::Integer, Location::Query)],
            ..StructDef::default()
        };
        assert_eq!(decide(&request, &response), Paging::None);
    }
}
