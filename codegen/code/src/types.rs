//! Structs (with builders and `validate()`) and string enums.

use feishu_model::{Checks, EnumDef, FieldDef, Location, StructDef, TypeRef, TypeSpace};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use crate::docs;

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The Rust type of a field's value (without the `Option` of optional fields).
pub fn rust_type(ty: &TypeRef, service: &str) -> TokenStream {
    let service = ident(service);
    match ty {
        TypeRef::String => quote!(String),
        TypeRef::Integer => quote!(i64),
        TypeRef::Number => quote!(f64),
        TypeRef::Boolean => quote!(bool),
        TypeRef::Json => quote!(serde_json::Value),
        TypeRef::File => quote!(feishu_runtime::UploadFile),
        TypeRef::Struct(name) | TypeRef::Enum(name) => {
            let name = ident(name);
            quote!(crate::#service::types::#name)
        }
        TypeRef::Array(item) => {
            let item = rust_type(item, &service.to_string());
            quote!(Vec<#item>)
        }
    }
}

/// The parameter type a constructor or setter takes for a field, and how
/// the value is stored: strings and enums take anything convertible.
fn param_type(ty: &TypeRef, service: &str) -> (TokenStream, TokenStream) {
    let rust = rust_type(ty, service);
    match ty {
        TypeRef::String | TypeRef::Enum(_) => (quote!(impl Into<#rust>), quote!(.into())),
        _ => (rust, quote!()),
    }
}

/// The type of a field: its id newtype when the model gave it one.
fn field_type(field: &FieldDef, service: &str) -> TokenStream {
    match field.id {
        Some(kind) => {
            let name = ident(kind.type_name());
            quote!(feishu_runtime::ids::#name)
        }
        None => rust_type(&field.ty, service),
    }
}

/// [`param_type`] of a field: an id newtype is taken as itself, never
/// converted from text, so that ids of different kinds cannot be swapped.
fn field_param(field: &FieldDef, service: &str) -> (TokenStream, TokenStream) {
    match field.id {
        Some(_) => (field_type(field, service), quote!()),
        None => param_type(&field.ty, service),
    }
}

/// `length 1 to 50 characters`, `length at least 1 characters`, `items at most 3`:
/// an open end is left out rather than written as "any".
fn range_rule<T: std::fmt::Display>(
    what: &str,
    min: Option<T>,
    max: Option<T>,
    unit: &str,
) -> Option<String> {
    match (min, max) {
        (Some(min), Some(max)) => Some(format!("{what} {min} to {max}{unit}")),
        (Some(min), None) => Some(format!("{what} at least {min}{unit}")),
        (None, Some(max)) => Some(format!("{what} at most {max}{unit}")),
        (None, None) => None,
    }
}

fn field_doc(field: &FieldDef) -> String {
    let d = &field.docs;
    let c = &field.checks;
    let mut rules = Vec::new();
    if let Some(rule) = range_rule("length", c.min_length, c.max_length, " characters") {
        rules.push(rule);
    }
    if let Some(rule) = range_rule("items", c.min_items, c.max_items, "") {
        rules.push(rule);
    }
    if let Some(rule) = range_rule("value", c.minimum, c.maximum, "") {
        rules.push(rule);
    }
    if !c.allowed.is_empty() {
        rules.push(format!(
            "one of {}",
            c.allowed.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    docs::paragraphs([
        d.description.clone(),
        if rules.is_empty() {
            String::new()
        } else {
            format!("Constraints: {}.", rules.join("; "))
        },
        d.example
            .as_ref()
            .map(|e| format!("Example: `{}`", e.replace('`', "'")))
            .unwrap_or_default(),
        d.default
            .as_ref()
            .map(|e| format!("Default: `{}`", e.replace('`', "'")))
            .unwrap_or_default(),
        format!("Wire name: `{}`.", field.wire_name),
    ])
}

/// The traits a struct implements beyond `Debug`, `Clone` and `PartialEq`:
/// only those its uses need, since every impl is compiled by every user of
/// the crate (serde's derives are most of the crate's build time).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Traits {
    /// `serde::Serialize`: sent in a JSON body.
    pub serialize: bool,
    /// `serde::Deserialize`: received.
    pub deserialize: bool,
    /// `feishu_runtime::Validate`.
    pub validate: bool,
    /// A setter per optional field. Values that are only received need
    /// none: their fields are public, so `Default` and assignment build one
    /// (for tests) without a function per field to compile.
    pub setters: bool,
}

impl Traits {
    /// What a shared type of the service needs, by its uses.
    pub fn of(types: &TypeSpace, name: &str) -> Traits {
        let u = types.use_of(name);
        Traits {
            serialize: u.sent,
            deserialize: u.received,
            validate: u.validated,
            setters: u.sent,
        }
    }
}

/// A struct, its builder methods and, if asked for, its `Validate` impl;
/// path and query fields are left out of its serialisation. A request
/// whose `content` and `msg_type` fields (Rust names given in
/// `message_content`) can be set from typed message content also bounds
/// the content's size by its type.
pub fn struct_def(
    def: &StructDef,
    doc: &str,
    service: &str,
    types: &TypeSpace,
    traits: Traits,
    message_content: Option<&(String, String)>,
) -> TokenStream {
    let name = ident(&def.name);
    let doc = docs::outer(doc);
    let default = def.all_optional().then(|| quote!(Default,));
    // Received structs with only optional fields (all responses) decode
    // through the runtime's one map visitor; see `feishu_runtime::codegen::de`.
    let compact = traits.deserialize && def.all_optional();
    let deserialize = (traits.deserialize && !compact).then(|| quote!(serde::Deserialize,));
    // The field attributes are for serde's derive, now only `Deserialize`'s.
    let serde = deserialize.is_some();
    let fields_impl = compact.then(|| fields_impl(def));
    let serialize_impl = traits.serialize.then(|| serialize_impl(def));
    // Values that are only received are compared by no code of the crate,
    // and `PartialEq` on thousands of response structs was about a sixth of
    // the crate's build time.
    let eq = traits.setters.then(|| quote!(PartialEq,));
    let derives = quote!(#[derive(Debug, Clone, #eq #default #deserialize)]);
    let fields = def.fields.iter().map(|f| {
        let doc = docs::outer(&field_doc(f));
        let rust = ident(&f.rust_name);
        let value = field_type(f, service);
        let wire = &f.wire_name;
        let rename =
            (serde && f.rust_name != f.wire_name).then(|| quote!(#[serde(rename = #wire)]));
        let skip = (serde && f.location != Location::Body).then(|| quote!(#[serde(skip)]));
        if !serde {
            let value = if f.required { value } else { quote!(Option<#value>) };
            quote! { #doc pub #rust: #value, }
        } else if f.required {
            quote! { #doc #rename #skip pub #rust: #value, }
        } else {
            let serde = quote!(#[serde(default, skip_serializing_if = "Option::is_none")]);
            let serde = if skip.is_some() { skip } else { Some(serde) };
            quote! { #doc #rename #serde pub #rust: Option<#value>, }
        }
    });

    let required: Vec<&FieldDef> = def.fields.iter().filter(|f| f.required).collect();
    let constructor = (!required.is_empty()).then(|| {
        let params = required.iter().map(|f| {
            let rust = ident(&f.rust_name);
            let (ty, _) = field_param(f, service);
            quote!(#rust: #ty)
        });
        let inits = def.fields.iter().map(|f| {
            let rust = ident(&f.rust_name);
            if f.required {
                let (_, convert) = field_param(f, service);
                if convert.is_empty() { quote!(#rust) } else { quote!(#rust: #rust #convert) }
            } else {
                quote!(#rust: None)
            }
        });
        let allow = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
        quote! {
            /// Creates the value from its required fields; set optional ones with the setters.
            #allow
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
        }
    });
    let setters = def.fields.iter().filter(|f| traits.setters && !f.required).map(|f| {
        let rust = ident(&f.rust_name);
        let setter = match f.rust_name.as_str() {
            "new" | "validate" => ident(&format!("set_{}", f.rust_name)),
            _ => rust.clone(),
        };
        let (ty, convert) = field_param(f, service);
        let doc = format!(" Sets `{}`.", f.wire_name);
        quote! {
            #[doc = #doc]
            pub fn #setter(mut self, value: #ty) -> Self {
                self.#rust = Some(value #convert);
                self
            }
        }
    });
    let mut checks: Vec<TokenStream> =
        def.fields.iter().filter_map(|f| field_checks(f, types)).collect();
    let message = message_content.map(|(content, msg_type)| {
        let content = ident(content);
        let msg_type = ident(msg_type);
        checks.push(quote! {
            feishu_runtime::content::check_size(self.#msg_type.as_str(), &self.#content)?;
        });
        let others: Vec<&&FieldDef> =
            required.iter().filter(|f| content != f.rust_name && msg_type != f.rust_name).collect();
        let params = others.iter().map(|f| {
            let rust = ident(&f.rust_name);
            let (ty, _) = field_param(f, service);
            quote!(#rust: #ty,)
        });
        let inits = def.fields.iter().map(|f| {
            let rust = ident(&f.rust_name);
            if rust == content {
                quote!(#rust: message.to_content_string())
            } else if rust == msg_type {
                quote!(#rust: message.msg_type().into())
            } else if f.required {
                let (_, convert) = field_param(f, service);
                if convert.is_empty() { quote!(#rust) } else { quote!(#rust: #rust #convert) }
            } else {
                quote!(#rust: None)
            }
        });
        let allow = (others.len() >= 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
        quote! {
            /// Creates the value from its other required fields and typed
            /// message content, which sets `content` and `msg_type`
            /// together (they agree, and the JSON is escaped for you).
            #allow
            pub fn with_message(#(#params)* message: &feishu_runtime::MessageContent) -> Self {
                Self { #(#inits),* }
            }
            /// Sets `content` and `msg_type` together from typed message
            /// content, so that they agree and the JSON is escaped for you.
            pub fn message(mut self, message: &feishu_runtime::MessageContent) -> Self {
                self.#content = message.to_content_string();
                self.#msg_type = message.msg_type().into();
                self
            }
            /// Reads `content` back as typed message content, by `msg_type`.
            pub fn message_content(
                &self,
            ) -> Result<feishu_runtime::MessageContent, feishu_runtime::content::ContentError> {
                feishu_runtime::MessageContent::from_parts(self.#msg_type.as_str(), &self.#content)
            }
        }
    });

    let setters: Vec<TokenStream> = setters.collect();
    let inherent = (constructor.is_some() || !setters.is_empty() || message.is_some()).then(|| {
        quote! {
            impl #name {
                #constructor
                #(#setters)*
                #message
            }
        }
    });
    let validate = traits.validate.then(|| {
        quote! {
            impl feishu_runtime::Validate for #name {
                #[inline]
                fn validate(&self) -> Result<(), feishu_runtime::ValidationError> {
                    #(#checks)*
                    Ok(())
                }
            }
        }
    });
    quote! {
        #doc
        #derives
        #[non_exhaustive]
        pub struct #name { #(#fields)* }

        #inherent

        #validate
        #fields_impl
        #serialize_impl
    }
}

/// `Serialize` through `feishu_runtime::codegen::ser::Object`: the body fields in
/// order, absent optional ones left out, path and query fields not at all,
/// as serde's derive with `skip` and `skip_serializing_if` wrote them.
///
/// One call per field and no `?`: the derive's `?` per field (a match, a
/// conversion and an early return each) is what rustc spent its time
/// checking, over the 7,000 sent fields of the whole API.
fn serialize_impl(def: &StructDef) -> TokenStream {
    let name = ident(&def.name);
    let calls = def.fields.iter().filter(|f| f.location == Location::Body).map(|f| {
        let wire = &f.wire_name;
        let rust = ident(&f.rust_name);
        if f.required {
            quote!(.field(#wire, &self.#rust))
        } else {
            quote!(.optional(#wire, &self.#rust))
        }
    });
    quote! {
        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                feishu_runtime::codegen::ser::Object::new(serializer) #(#calls)* .end()
            }
        }
    }
}

/// True when a received field is read through the runtime's `Lenient`: an
/// integer, number or string (or an array of them) may arrive in the other
/// JSON spelling (`"1"` for an integer, a bare number for an id). The
/// table's type stays the Rust type; the decoder forgives the spelling.
/// Id newtypes are read as they are: the runtime owns their decoding.
fn reads_leniently(field: &FieldDef) -> bool {
    fn scalar(ty: &TypeRef) -> bool {
        match ty {
            TypeRef::String | TypeRef::Integer | TypeRef::Number => true,
            TypeRef::Array(item) => scalar(item),
            _ => false,
        }
    }
    field.id.is_none() && scalar(&field.ty)
}

/// `feishu_runtime::codegen::de::Fields` and `Deserialize` through it.
fn fields_impl(def: &StructDef) -> TokenStream {
    let name = ident(&def.name);
    let name_str = &def.name;
    let body = if def.fields.is_empty() {
        quote! {
            let _ = key;
            feishu_runtime::codegen::de::skip(map)
        }
    } else {
        // One call per arm, with no `?`: each `?` is a match, a conversion
        // and an early return that rustc type- and borrow-checks, and the
        // crate of the whole API has some 14,000 received fields.
        let arms = def.fields.iter().map(|f| {
            let wire = &f.wire_name;
            let rust = ident(&f.rust_name);
            let read = if reads_leniently(f) { quote!(read_lenient) } else { quote!(read) };
            quote!(#wire => feishu_runtime::codegen::de::#read(&mut self.#rust, map),)
        });
        quote! {
            match key {
                #(#arms)*
                _ => feishu_runtime::codegen::de::skip(map),
            }
        }
    };
    quote! {
        impl feishu_runtime::codegen::de::Fields for #name {
            const NAME: &'static str = #name_str;

            fn field<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<(), A::Error> {
                #body
            }
        }

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                feishu_runtime::codegen::de::object(deserializer)
            }
        }
    }
}

fn opt_u64(value: Option<u64>) -> TokenStream {
    match value {
        Some(v) => {
            let v = Literal::u64_unsuffixed(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

fn opt_number(value: Option<f64>, integer: bool) -> TokenStream {
    match value {
        Some(v) if integer => {
            let v = Literal::i64_suffixed(v as i64);
            quote!(Some(#v))
        }
        Some(v) => {
            let v = Literal::f64_suffixed(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

/// The checks of one field on `value` (a reference to the field's value),
/// or `None` when there is nothing to check.
fn value_checks(name: &str, ty: &TypeRef, checks: &Checks, types: &TypeSpace) -> Vec<TokenStream> {
    // Nested structs without anything to check have no `Validate` impl.
    let validated = |ty: &TypeRef| types.type_is_checked(ty);
    let mut out = Vec::new();
    match ty {
        TypeRef::String if checks.min_length.is_some() || checks.max_length.is_some() => {
            let (min, max) = (opt_u64(checks.min_length), opt_u64(checks.max_length));
            out.push(quote!(feishu_runtime::codegen::check_length(#name, value, #min, #max)?;));
        }
        TypeRef::Integer | TypeRef::Number => {
            let integer = *ty == TypeRef::Integer;
            if checks.minimum.is_some() || checks.maximum.is_some() {
                let (min, max) =
                    (opt_number(checks.minimum, integer), opt_number(checks.maximum, integer));
                out.push(quote!(feishu_runtime::codegen::check_range(#name, *value, #min, #max)?;));
            }
            let allowed: Vec<Literal> = checks
                .allowed
                .iter()
                .filter_map(|v| v.parse::<i64>().ok())
                .map(Literal::i64_suffixed)
                .collect();
            if integer && !allowed.is_empty() {
                out.push(quote!(feishu_runtime::codegen::check_enum(#name, value, &[#(&#allowed),*])?;));
            }
        }
        TypeRef::Enum(_) => out
            .push(quote!(feishu_runtime::codegen::check_enum(#name, value.as_str(), value.documented())?;)),
        TypeRef::Struct(_) if validated(ty) => {
            out.push(quote!(feishu_runtime::codegen::validate_nested(#name, value)?;))
        }
        TypeRef::Array(item) => {
            if checks.min_items.is_some() || checks.max_items.is_some() {
                let (min, max) = (opt_u64(checks.min_items), opt_u64(checks.max_items));
                out.push(quote!(feishu_runtime::codegen::check_items(#name, value.len(), #min, #max)?;));
            }
            match **item {
                TypeRef::Struct(_) if validated(item) => out.push(quote!(feishu_runtime::codegen::validate_items(#name, value)?;)),
                TypeRef::Enum(_) => out.push(quote! {
                    for (i, item) in value.iter().enumerate() {
                        feishu_runtime::codegen::check_enum(&format!("{}[{i}]", #name), item.as_str(), item.documented())?;
                    }
                }),
                _ => {}
            }
        }
        _ => {}
    }
    out
}

fn field_checks(field: &FieldDef, types: &TypeSpace) -> Option<TokenStream> {
    let checks = value_checks(&field.wire_name, &field.ty, &field.checks, types);
    if checks.is_empty() {
        return None;
    }
    let rust = ident(&field.rust_name);
    Some(if field.required {
        quote! { { let value = &self.#rust; #(#checks)* } }
    } else {
        quote! { if let Some(value) = &self.#rust { #(#checks)* } }
    })
}

/// A string enum with an `Other` fallback, serialised as its wire value.
pub fn enum_def(def: &EnumDef, traits: Traits) -> TokenStream {
    let name = ident(&def.name);
    let doc = docs::outer(&docs::paragraphs([
        def.doc.clone(),
        "Values the docs do not list are kept in `Other`, so that new values do not break decoding.".to_owned(),
    ]));
    let variants: Vec<Ident> = def.variants.iter().map(|v| ident(&v.rust_name)).collect();
    let values: Vec<&str> = def.variants.iter().map(|v| v.value.as_str()).collect();
    let variant_docs = def
        .variants
        .iter()
        .map(|v| docs::outer(&docs::paragraphs([format!("`{}`", v.value), v.doc.clone()])));
    let serialize = traits.serialize.then(|| {
        quote! {
            impl serde::Serialize for #name {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }
        }
    });
    let deserialize = traits.deserialize.then(|| {
        quote! {
            impl<'de> serde::Deserialize<'de> for #name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    String::deserialize(deserializer).map(Self::from)
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #( #variant_docs #variants, )*
            /// A value the docs do not list.
            Other(String),
        }

        impl #name {
            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Other(value) => value,
                }
            }

            /// The values the docs list; `validate()` rejects any other.
            pub const DOCUMENTED: &'static [&'static str] = &[#(#values),*];

            /// The values the docs list, for checks that only hold a value.
            pub fn documented(&self) -> &'static [&'static str] {
                Self::DOCUMENTED
            }
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for #name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    #( #values => Self::#variants, )*
                    _ => Self::Other(value),
                }
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #serialize
        #deserialize
    }
}

#[cfg(test)]
mod tests {
    use feishu_model::ids::IdKind;

    use super::*;

    fn field(name: &str, ty: TypeRef) -> FieldDef {
        FieldDef {
            wire_name: name.to_owned(),
            rust_name: name.to_owned(),
            ty,
            location: Location::Body,
            ..FieldDef::default()
        }
    }

    #[test]
    fn scalars_are_read_leniently_and_ids_enums_and_structs_are_not() {
        let array = |ty| TypeRef::Array(Box::new(ty));
        let mut def = StructDef {
            name: "Leader".to_owned(),
            doc: String::new(),
            fields: vec![
                field("leader_type", TypeRef::Integer),
                field("score", TypeRef::Number),
                field("name", TypeRef::String),
                field("levels", array(TypeRef::Integer)),
                field("chat_id", TypeRef::String),
                field("kind", TypeRef::Enum("Kind".to_owned())),
                field("boss", TypeRef::Struct("Leader".to_owned())),
                field("tags", array(TypeRef::Struct("Tag".to_owned()))),
                field("on", TypeRef::Boolean),
                field("extra", TypeRef::Json),
            ],
        };
        def.fields[4].id = Some(IdKind::Chat);
        let code = fields_impl(&def).to_string().replace(' ', "");
        for lenient in ["leader_type", "score", "name", "levels"] {
            let arm = format!("\"{lenient}\"=>feishu_runtime::codegen::de::read_lenient(");
            assert!(code.contains(&arm), "{lenient} is not read leniently: {code}");
        }
        for strict in ["chat_id", "kind", "boss", "tags", "on", "extra"] {
            let arm = format!("\"{strict}\"=>feishu_runtime::codegen::de::read(");
            assert!(code.contains(&arm), "{strict} is not read as it is: {code}");
        }
    }
}
