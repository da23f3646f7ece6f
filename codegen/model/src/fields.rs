//! Spec fields → model fields and types: the one conversion that requests,
//! responses and event bodies share.
//!
//! A field's type becomes a [`TypeRef`]; an object with children becomes a
//! struct and a string with documented values an enum, both interned in the
//! service's [`TypeSpace`] (which reuses a type of the same name and shape).
//! Which way the field travels ([`Direction`]) decides what is optional and
//! whether a file is sent. Each struct and enum names its members in a
//! [`names::Scope`] of its own.

use feishu_spec::{Field, FieldType};

use crate::intern::NewType;
use crate::{
    Checks, EnumDef, EnumVariant, FieldDef, FieldDocs, Location, StructDef, TypeRef, TypeSpace,
    ids, names,
};

/// Which way a field travels: received fields are all optional, because the
/// platform leaves fields out more often than the docs admit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// In a request.
    Sent,
    /// In a response.
    Received,
}

/// The fields of one struct, in order, a field documented twice once (the
/// first row wins), named in a scope of their own.
pub(crate) fn struct_fields(
    fields: &[Field],
    direction: Direction,
    prefix: &str,
    types: &mut TypeSpace,
) -> Vec<FieldDef> {
    let mut scope = names::Scope::new();
    Field::distinct(fields).map(|f| field_def(f, direction, prefix, types, &mut scope)).collect()
}

/// One field of a struct whose field names are `scope`. Its nested objects
/// and enums are interned in `types`, named after `prefix` if their own
/// name is taken by another shape.
pub(crate) fn field_def(
    field: &Field,
    direction: Direction,
    prefix: &str,
    types: &mut TypeSpace,
    scope: &mut names::Scope,
) -> FieldDef {
    let c = &field.constraints;
    let ty = type_ref(field, direction, prefix, types);
    let is_rust_enum = matches!(&ty, TypeRef::Enum(_))
        || matches!(&ty, TypeRef::Array(t) if matches!(**t, TypeRef::Enum(_)));
    FieldDef {
        id: (direction == Direction::Sent && ty == TypeRef::String)
            .then(|| field.example.as_deref().and_then(ids::IdKind::of_example))
            .flatten(),
        wire_name: field.name.clone(),
        rust_name: scope.claim(names::snake(&field.name, "field")),
        ty,
        required: direction == Direction::Sent && field.required,
        location: Location::Body,
        docs: FieldDocs {
            description: field.description.clone(),
            example: field.example.clone(),
            default: field.default.clone(),
        },
        checks: Checks {
            min_length: c.min_length,
            max_length: c.max_length,
            min_items: c.min_items,
            max_items: c.max_items,
            minimum: c.minimum.as_ref().and_then(|n| n.as_f64()),
            maximum: c.maximum.as_ref().and_then(|n| n.as_f64()),
            allowed: if is_rust_enum {
                Vec::new()
            } else {
                c.enum_values.iter().map(|v| v.value.clone()).collect()
            },
        },
    }
}

fn type_ref(field: &Field, direction: Direction, prefix: &str, types: &mut TypeSpace) -> TypeRef {
    let has_enum = !field.constraints.enum_values.is_empty();
    match field.field_type {
        FieldType::String if has_enum => enum_ref(field, prefix, types),
        FieldType::String => TypeRef::String,
        FieldType::Integer => TypeRef::Integer,
        FieldType::Number => TypeRef::Number,
        FieldType::Boolean => TypeRef::Boolean,
        // Only a request sends files; a response field so typed is data.
        FieldType::File if direction == Direction::Sent => TypeRef::File,
        FieldType::File => TypeRef::Json,
        FieldType::Object if field.children.is_empty() => TypeRef::Json,
        FieldType::Object => struct_ref(field, direction, prefix, types),
        FieldType::Array => TypeRef::Array(Box::new(match field.item_type {
            Some(FieldType::Object) if !field.children.is_empty() => {
                struct_ref(field, direction, prefix, types)
            }
            Some(FieldType::String) | None if has_enum => enum_ref(field, prefix, types),
            Some(FieldType::String) => TypeRef::String,
            Some(FieldType::Integer) => TypeRef::Integer,
            Some(FieldType::Number) => TypeRef::Number,
            Some(FieldType::Boolean) => TypeRef::Boolean,
            _ => TypeRef::Json,
        })),
    }
}

/// Registers the struct of an object field (see [`TypeSpace::intern`]).
fn struct_ref(field: &Field, direction: Direction, prefix: &str, types: &mut TypeSpace) -> TypeRef {
    let fields = struct_fields(&field.children, direction, prefix, types);
    let base = names::type_name(&field.type_name, &field.name);
    types.intern(
        &base,
        prefix,
        NewType::Struct(StructDef { name: String::new(), doc: field.description.clone(), fields }),
    )
}

fn enum_ref(field: &Field, prefix: &str, types: &mut TypeSpace) -> TypeRef {
    let mut scope = names::Scope::new();
    let mut seen = std::collections::BTreeSet::new();
    let variants: Vec<EnumVariant> = field
        .constraints
        .enum_values
        .iter()
        .enumerate()
        // A value listed twice is one variant (the first description wins).
        .filter(|(_, v)| !v.value.is_empty() && seen.insert(v.value.as_str()))
        .map(|(i, v)| EnumVariant {
            // `Other` is the fallback variant.
            rust_name: scope.claim(match names::pascal(&v.value, &format!("Value{i}")) {
                n if n == "Other" => "Other_".to_owned(),
                n => n,
            }),
            value: v.value.clone(),
            doc: v.description.clone(),
        })
        .collect();
    let base = names::pascal(&field.name, "Kind");
    types.intern(
        &base,
        prefix,
        NewType::Enum(EnumDef { name: String::new(), doc: field.description.clone(), variants }),
    )
}
