//! The Feishu conventions the model relies on beyond what the spec's types
//! say: each is a reading of the docs, named here with the reason the docs
//! give for it, so that a maintainer can check one against the pages and
//! change it in one place.

use feishu_spec::{Endpoint, Method, ResponseContentType};

use crate::{Location, StructDef, TypeRef};

/// The operation the generated crate's usage example prefers: replying to a
/// message is the first thing a bot does, and its required fields are all
/// plain values. Another typed operation stands in when it is absent.
pub const EXAMPLE_OPERATION: &str = "im.v1.message.reply";

/// The body field that carries an idempotency key: the write endpoints
/// document a string `uuid` that makes the platform act at most once per
/// key (发送消息/回复消息: "用于请求去重").
pub(crate) fn idempotency_field(request: &StructDef) -> Option<String> {
    body_field(request, "uuid", is_string, false).map(|_| "uuid".to_owned())
}

/// The request field naming the receiver of a per-receiver rate limit
/// (`向同一用户发送消息的限频`): the body's `receive_id` when the docs give
/// one, else the first path parameter (the message replied to stands for
/// its chat). Only endpoints with such a limit have one.
pub(crate) fn receiver_field(endpoint: &Endpoint, request: &StructDef) -> Option<String> {
    endpoint.rate_limit.as_ref().and_then(|r| r.per_receiver_per_second)?;
    body_field(request, "receive_id", is_string, true).or_else(|| {
        request.fields.iter().find(|f| f.location == Location::Path).map(|f| f.rust_name.clone())
    })
}

/// The Rust names of a required `content` string and `msg_type` enum: the
/// docs define `content` as a JSON string whose shape `msg_type` decides, so
/// typed message content sets the two together.
pub(crate) fn message_content(request: &StructDef) -> Option<(String, String)> {
    body_field(request, "content", is_string, true).zip(body_field(
        request,
        "msg_type",
        |t| matches!(t, TypeRef::Enum(_)),
        true,
    ))
}

/// Whether an untyped endpoint answers with a file: the spec says so, or it
/// is the `get` of an image, a file or a message resource, which the
/// catalogue lists without a response type but whose pages return bytes.
pub(crate) fn is_download(endpoint: &Endpoint) -> bool {
    endpoint.response_content_type == ResponseContentType::Binary
        || (endpoint.method == Method::Get
            && endpoint.name == "get"
            && matches!(endpoint.resource.as_str(), "image" | "file" | "message_resource"))
}

/// The Rust name of a body field called `wire` whose type passes `ty`; with
/// `required`, only a required one (generated code then reads the value
/// itself, not an `Option`).
fn body_field(
    request: &StructDef,
    wire: &str,
    ty: fn(&TypeRef) -> bool,
    required: bool,
) -> Option<String> {
    request
        .fields
        .iter()
        .find(|f| {
            f.location == Location::Body
                && f.wire_name == wire
                && ty(&f.ty)
                && (f.required || !required)
        })
        .map(|f| f.rust_name.clone())
}

fn is_string(ty: &TypeRef) -> bool {
    *ty == TypeRef::String
}

#[cfg(test)]
mod tests {
    use feishu_spec::RateLimit;

    use super::*;
    use crate::FieldDef;

    fn field(wire: &str, ty: TypeRef, required: bool, location: Location) -> FieldDef {
        FieldDef {
            wire_name: wire.into(),
            rust_name: format!("{wire}_rs"),
            ty,
            required,
            location,
            ..FieldDef::default()
        }
    }

    #[test]
    fn each_convention_needs_its_documented_shape() {
        let request = |fields| StructDef { name: "R".into(), doc: String::new(), fields };
        let send = request(vec![
            field("message_id", TypeRef::String, true, Location::Path),
            field("receive_id", TypeRef::String, true, Location::Body),
            field("content", TypeRef::String, true, Location::Body),
            field("msg_type", TypeRef::Enum("MsgType".into()), true, Location::Body),
            field("uuid", TypeRef::String, false, Location::Body),
        ]);
        let limited = Endpoint {
            rate_limit: Some(RateLimit {
                per_receiver_per_second: Some(5),
                ..RateLimit::default()
            }),
            ..Endpoint::default()
        };
        assert_eq!(idempotency_field(&send).as_deref(), Some("uuid"));
        assert_eq!(receiver_field(&limited, &send).as_deref(), Some("receive_id_rs"));
        assert_eq!(receiver_field(&Endpoint::default(), &send), None);
        assert_eq!(message_content(&send), Some(("content_rs".into(), "msg_type_rs".into())));

        // A query `uuid`, an optional `receive_id` and a string `msg_type` are other things.
        let other = request(vec![
            field("message_id", TypeRef::String, true, Location::Path),
            field("uuid", TypeRef::String, false, Location::Query),
            field("receive_id", TypeRef::String, false, Location::Body),
            field("content", TypeRef::String, true, Location::Body),
            field("msg_type", TypeRef::String, true, Location::Body),
        ]);
        assert_eq!(idempotency_field(&other), None);
        assert_eq!(receiver_field(&limited, &other).as_deref(), Some("message_id_rs"));
        assert_eq!(message_content(&other), None);

        let get = |resource: &str| Endpoint {
            method: Method::Get,
            name: "get".into(),
            resource: resource.into(),
            ..Endpoint::default()
        };
        assert!(is_download(&get("image")) && is_download(&get("message_resource")));
        assert!(!is_download(&get("message")));
        assert!(is_download(&Endpoint {
            response_content_type: ResponseContentType::Binary,
            ..get("message")
        }));
    }
}
