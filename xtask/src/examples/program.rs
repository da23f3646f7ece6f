//! The checker program's generated half: `cases.rs`, which names the
//! generated crate's types for the template (`checker_main.rs`). One `match`
//! arm per check, and a `FromExample` impl for every struct and enum a
//! request can hold, built from the model the crate was printed from.
//!
//! Requests are built through the crate's public API only (`new` with the
//! required fields, then the public optional fields), so the impls name the
//! type of each required field; everything else is inferred.

use std::fmt::Write;

use feishu_model::{EnumDef, FieldDef, Location, Model, StructDef, TypeRef};

/// What one check runs, in the order the cases are numbered.
#[derive(Debug)]
pub enum Check {
    /// Decode a response's `data` into the operation's response type.
    Response { path: String },
    /// Decode an event body through `Event::decode` and its struct.
    Event { path: String },
    /// Build and validate a request from its body example.
    Request { path: String, parameters: Vec<String> },
}

/// The Rust path of a type of `service` from outside the crate.
pub fn type_path(service: &str, name: &str) -> String {
    format!("feishu::{service}::types::{name}")
}

/// The Rust type of a field's value (without the `Option` of optional fields),
/// as the emitter prints it, seen from outside the crate.
fn field_type(field: &FieldDef, service: &str) -> String {
    match field.id {
        Some(kind) => format!("feishu_runtime::ids::{}", kind.type_name()),
        None => value_type(&field.ty, service),
    }
}

fn value_type(ty: &TypeRef, service: &str) -> String {
    match ty {
        TypeRef::String => "String".into(),
        TypeRef::Integer => "i64".into(),
        TypeRef::Number => "f64".into(),
        TypeRef::Boolean => "bool".into(),
        TypeRef::Json => "serde_json::Value".into(),
        TypeRef::File => "feishu_runtime::UploadFile".into(),
        TypeRef::Struct(name) | TypeRef::Enum(name) => type_path(service, name),
        TypeRef::Array(item) => format!("Vec<{}>", value_type(item, service)),
    }
}

/// `cases.rs`: the dispatch over `checks` and the request builders of the
/// model's sent types.
pub fn cases(model: &Model, checks: &[Check]) -> String {
    let mut out = String::from(
        "//! Written by `cargo xtask examples` for this crate; do not edit.\n\n\
         #![allow(clippy::all, unused_mut, unused_variables)]\n\n\
         use serde_json::Value;\n\nuse crate::Ctx;\n\n\
         /// Runs check `check` on `value`.\n\
         pub fn run(check: usize, value: &Value, event_type: &Value) -> Value {\n\
         let event_type = event_type.as_str().unwrap_or_default();\n\
         match check {\n",
    );
    for (i, check) in checks.iter().enumerate() {
        let arm = match check {
            Check::Response { path } => format!("crate::response::<{path}>(value)"),
            Check::Event { path } => format!("crate::event::<{path}>(event_type, value)"),
            Check::Request { path, parameters } => format!(
                "crate::request::<{path}>(value, &[{}])",
                parameters.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ")
            ),
        };
        let _ = writeln!(out, "{i} => {arm},");
    }
    out.push_str("_ => serde_json::json!({\"ok\": false, \"reason\": \"no such check\"}),\n}\n}\n");
    for service in model.services.values() {
        let types = &service.types;
        for def in types.structs.values().filter(|d| types.use_of(&d.name).sent) {
            out.push_str(&struct_impl(
                def,
                &type_path(&service.module, &def.name),
                &service.module,
            ));
        }
        for def in types.enums.values().filter(|d| types.use_of(&d.name).sent) {
            out.push_str(&enum_impl(def, &type_path(&service.module, &def.name)));
        }
        for resource in service.resources.values() {
            for op in &resource.operations {
                if let feishu_model::OperationKind::Typed(typed) = &op.kind
                    && typed.json_body
                    && typed.form.is_none()
                {
                    let path = format!(
                        "feishu::{}::{}::{}",
                        service.module, resource.module, typed.request.name
                    );
                    out.push_str(&struct_impl(&typed.request, &path, &service.module));
                }
            }
        }
    }
    out
}

/// `FromExample` of a struct: its object's keys checked, each field read,
/// path and query fields given stand-ins.
fn struct_impl(def: &StructDef, path: &str, service: &str) -> String {
    let body: Vec<&FieldDef> = def.fields.iter().filter(|f| f.location == Location::Body).collect();
    let names: Vec<String> = body.iter().map(|f| format!("{:?}", f.wire_name)).collect();
    let mut out = format!(
        "impl crate::FromExample for {path} {{\n\
         fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {{\n\
         let map = crate::object(value, at, ctx, &[{}], {:?})?;\n",
        names.join(", "),
        def.name
    );
    let mut required = Vec::new();
    for (i, f) in def.fields.iter().enumerate() {
        let ty = field_type(f, service);
        let line = match (f.location, f.required) {
            (Location::Body, true) => {
                required.push(i);
                format!(
                    "let f{i}: Option<{ty}> = crate::field(map, {:?}, at, ctx, true);",
                    f.wire_name
                )
            }
            (Location::Body, false) => {
                format!("let f{i} = crate::field(map, {:?}, at, ctx, false);", f.wire_name)
            }
            (_, true) => format!(
                "let f{i}: {ty} = crate::parameter({});",
                match &f.docs.example {
                    Some(example) => format!("Some({example:?})"),
                    None => "None".into(),
                }
            ),
            (_, false) => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    if !required.is_empty() {
        let names: Vec<String> = required.iter().map(|i| format!("f{i}")).collect();
        let somes: Vec<String> = names.iter().map(|n| format!("Some({n})")).collect();
        let _ = writeln!(
            out,
            "let ({},) = ({},) else {{ return None }};",
            somes.join(", "),
            names.join(", ")
        );
    }
    let arguments: Vec<String> = def
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.required)
        .map(|(i, _)| format!("f{i}"))
        .collect();
    if arguments.is_empty() {
        out.push_str("let mut built = Self::default();\n");
    } else {
        let _ = writeln!(out, "let mut built = Self::new({});", arguments.join(", "));
    }
    for (i, f) in def.fields.iter().enumerate() {
        if f.location == Location::Body && !f.required {
            let _ = writeln!(out, "built.{} = f{i};", f.rust_name);
        }
    }
    out.push_str("Some(built)\n}\n}\n");
    out
}

/// `FromExample` and `Stand` of a string enum.
fn enum_impl(def: &EnumDef, path: &str) -> String {
    let values: Vec<String> = def.variants.iter().map(|v| format!("{:?}", v.value)).collect();
    let first = values.first().cloned().unwrap_or_else(|| "\"\"".into());
    format!(
        "impl crate::FromExample for {path} {{\n\
         fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {{\n\
         crate::enum_value(value, at, ctx, &[{}], {:?})\n}}\n}}\n\
         impl crate::Stand for {path} {{\nfn stand() -> Self {{\nSelf::from({first})\n}}\n}}\n",
        values.join(", "),
        def.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model of the project's own pages.
    fn seeds() -> Model {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/docs");
        let mut files = Vec::new();
        crate::parse::collect(&docs, &mut files).unwrap();
        let pages = crate::parse::read_pages(&files).unwrap();
        Model::build(&crate::parse::parse_pages(&pages).spec)
    }

    #[test]
    fn requests_are_built_by_new_and_their_public_fields() {
        let model = seeds();
        let checks = [
            Check::Response { path: "feishu::im::message::ReplyResponse".into() },
            Check::Request {
                path: "feishu::im::message::ReplyRequest".into(),
                parameters: vec!["message_id".into()],
            },
        ];
        let text = cases(&model, &checks);
        assert!(
            text.contains("0 => crate::response::<feishu::im::message::ReplyResponse>(value),")
        );
        assert!(text.contains(
            "1 => crate::request::<feishu::im::message::ReplyRequest>(value, &[\"message_id\"]),"
        ));
        let reply = text
            .split("impl crate::FromExample for feishu::im::message::ReplyRequest {")
            .nth(1)
            .expect("the request's builder")
            .split("\n}\n}\n")
            .next()
            .unwrap();
        // The path parameter is a stand-in from its documented example, not the body's.
        assert!(
            reply.contains("let f0: feishu_runtime::ids::MessageId = crate::parameter(Some(\"om_dc13264520392913993dd051dba21dcf\"));"),
            "{reply}"
        );
        assert!(
            reply.contains("&[\"content\", \"msg_type\", \"reply_in_thread\", \"uuid\"]"),
            "{reply}"
        );
        assert!(reply.contains("let f2: Option<feishu::im::types::MsgType> = crate::field(map, \"msg_type\", at, ctx, true);"), "{reply}");
        assert!(reply.contains("let mut built = Self::new(f0, f1, f2);"), "{reply}");
        assert!(reply.contains("built.uuid = f4;"), "{reply}");
        // Enums read only their documented values; a sent struct of all-optional fields starts from `default()`.
        assert!(text.contains("impl crate::Stand for feishu::im::types::MsgType {\nfn stand() -> Self {\nSelf::from(\"text\")"));
    }
}
