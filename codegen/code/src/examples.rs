//! The `no_run` examples of the crate's and the services' docs: one call of
//! a typed operation through the client, its arguments taken from the
//! documented examples of its required fields.

use feishu_model::{Model, Operation, OperationKind, PathPart, Resource, Service, TypeRef};

/// The docs write string examples as the inside of a JSON string
/// (`{\"text\":\"hi\"}`); the example needs the value itself.
fn unescape_example(example: &str) -> String {
    example.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The arguments of `new()` (or `with_message()`) of a typed request from
/// the documented examples; `None` when a required field is not a plain value.
fn request_args(
    service: &Service,
    d: &feishu_model::TypedOperation,
    krate: &str,
) -> Option<(String, Vec<String>)> {
    let mut args = Vec::new();
    let content = d.message_content.as_ref();
    for f in d.request.fields.iter().filter(|f| f.required) {
        if content.is_some_and(|(c, t)| *c == f.rust_name || *t == f.rust_name) {
            continue;
        }
        args.push(match &f.ty {
            TypeRef::String if f.id.is_some() => format!(
                "{krate}::{}::new({:?})",
                f.id?.type_name(),
                f.docs
                    .example
                    .as_deref()
                    .map(unescape_example)
                    .unwrap_or_else(|| format!("{}_value", f.wire_name))
            ),
            TypeRef::String => format!(
                "{:?}",
                f.docs
                    .example
                    .as_deref()
                    .map(unescape_example)
                    .unwrap_or_else(|| format!("{}_value", f.wire_name))
            ),
            TypeRef::Enum(name) => {
                format!("{:?}", service.types.enums[name].variants.first()?.value)
            }
            TypeRef::Integer => "0".to_owned(),
            TypeRef::Boolean => "false".to_owned(),
            _ => return None,
        });
    }
    match content {
        Some(_) => {
            args.push("&MessageContent::text(\"hello\")".to_owned());
            Some(("with_message".to_owned(), args))
        }
        None => Some(("new".to_owned(), args)),
    }
}

/// A `no_run` example making one call of `op` through the client and
/// printing its answer and log id.
fn call_example(
    service: &Service,
    resource: &Resource,
    op: &Operation,
    krate: &str,
) -> Option<String> {
    let chain = format!("client.{}().{}().{}", service.accessor, resource.module, op.fn_name);
    let (uses, call) = match &op.kind {
        OperationKind::Typed(d) => {
            let (constructor, args) = request_args(service, d, krate)?;
            let content = if constructor == "with_message" {
                format!("use {krate}::MessageContent;\n")
            } else {
                String::new()
            };
            (
                format!(
                    "use {krate}::{}::{}::{};\n{content}",
                    service.module, resource.module, d.request.name
                ),
                format!(
                    "let request = {}::{constructor}({});\nlet response = {chain}(request).await?;",
                    d.request.name,
                    args.join(", ")
                ),
            )
        }
        OperationKind::Catalogue { .. } => {
            let args: Vec<String> = op
                .path_parts
                .iter()
                .filter_map(|p| match p {
                    PathPart::Param { wire_name, .. } => Some(format!("\"{wire_name}_value\"")),
                    PathPart::Literal(_) => None,
                })
                .collect();
            (String::new(), format!("let response = {chain}({}).await?;", args.join(", ")))
        }
    };
    Some(format!(
        "```no_run\n{uses}use {krate}::Client;\n\n\
         # async fn demo() -> Result<(), {krate}::Error> {{\n\
         let client = Client::new(\"cli_xxx\", \"app-secret\")?;\n\
         {call}\n\
         println!(\"{{:?}} (log id {{:?}})\", response.data(), response.log_id());\n# Ok(())\n# }}\n```"
    ))
}

/// The example of a service: its first typed operation whose required
/// fields are plain values (the reply operation, where there is one),
/// else its first operation.
pub fn service_example(service: &Service, krate: &str) -> Option<String> {
    let ops =
        || service.resources.values().flat_map(|r| r.operations.iter().map(move |op| (r, op)));
    let typed = ops()
        .filter(|(_, op)| matches!(op.kind, OperationKind::Typed(_)))
        .min_by_key(|(_, op)| op.id != feishu_model::EXAMPLE_OPERATION)
        .and_then(|(r, op)| call_example(service, r, op, krate));
    typed.or_else(|| ops().find_map(|(r, op)| call_example(service, r, op, krate)))
}

/// The crate's example: the reply operation where there is one.
pub fn usage_example(model: &Model, krate: &str) -> Option<String> {
    let mut services: Vec<&Service> = model.services.values().collect();
    services.sort_by_key(|s| {
        !s.resources
            .values()
            .any(|r| r.operations.iter().any(|op| op.id == feishu_model::EXAMPLE_OPERATION))
    });
    services.into_iter().find_map(|s| service_example(s, krate))
}

#[cfg(test)]
mod tests {
    #[test]
    fn string_examples_lose_their_json_escapes() {
        assert_eq!(
            super::unescape_example(r#"{\"text\":\"test content\"}"#),
            r#"{"text":"test content"}"#
        );
        assert_eq!(super::unescape_example("om_1"), "om_1");
    }
}
