//! The intermediate model between the neutral spec and the emitted Rust code.
//!
//! [`Model::build`] decides everything the emitter needs to know — Rust names,
//! which types exist and which fields they hold, which endpoint gets a typed
//! operation and which a catalogue method, how errors are classified — so
//! that the emitter only prints. Everything is ordered (B-tree maps, sorted
//! vectors), so the same spec always gives the same model.

mod build;
mod conventions;
pub mod errors;
mod events;
mod fields;
pub mod ids;
mod intern;
pub mod methods;
pub mod names;
mod paginate;
mod upload;

use std::collections::BTreeMap;

pub use conventions::EXAMPLE_OPERATION;
pub use events::{
    EventBodyDef, EventBodyRef, TYPES_HOME as EVENT_TYPES_HOME, struct_name as event_struct_name,
};
pub use feishu_spec::{AccessToken, Method, Scope};
pub use paginate::{Pagination, Paging};
pub use upload::{Form, size_limit};

/// The whole generated crate, as data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// One entry per service (the first path segment after `open-apis`), keyed by module name.
    pub services: BTreeMap<String, Service>,
    /// Every event type, ordered by wire name.
    pub events: Vec<EventDef>,
}

impl Model {
    /// Builds the model of `spec`.
    pub fn build(spec: &feishu_spec::Spec) -> Model {
        let mut model = build::build(spec);
        methods::assign(&mut model);
        model
    }
}

/// A service: a module and a Cargo feature of the generated crate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Service {
    /// The service as the spec names it, e.g. `im`.
    pub wire_name: String,
    /// The Rust module name.
    pub module: String,
    /// The Cargo feature that enables the module.
    pub feature: String,
    /// The handle struct of the method tree, e.g. `ImApi`.
    pub handle: String,
    /// The `Client` method returning the handle, e.g. `im`.
    pub accessor: String,
    /// The resources, keyed by module name.
    pub resources: BTreeMap<String, Resource>,
    /// The named structs and enums the service's typed operations and typed events use.
    pub types: TypeSpace,
    /// The events whose pages document their bodies, ordered by event type.
    pub events: Vec<EventBodyDef>,
}

/// A resource: one module holding its operations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// The resource as the spec names it, e.g. `message_reaction`.
    pub wire_name: String,
    /// The Rust module name, also the service handle's method returning
    /// the resource's handle.
    pub module: String,
    /// The handle struct of the method tree, e.g. `MessageApi`.
    pub handle: String,
    /// The operations, ordered by endpoint id.
    pub operations: Vec<Operation>,
}

/// Named types, deduplicated by name and shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypeSpace {
    /// Structs by Rust name.
    pub structs: BTreeMap<String, StructDef>,
    /// Enums by Rust name.
    pub enums: BTreeMap<String, EnumDef>,
    /// Where each type (struct or enum, by Rust name) is defined.
    pub homes: BTreeMap<String, TypeHome>,
    /// How the operations use each type (by Rust name). Every trait impl is
    /// compiled by every user of the crate, so a type implements only what
    /// its uses need.
    pub uses: BTreeMap<String, TypeUse>,
}

/// What a named type is used for, which decides the traits it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TypeUse {
    /// Reachable from a request: the caller builds it (setters,
    /// `PartialEq`) and it is serialised.
    pub sent: bool,
    /// Reachable from a response: it is deserialised.
    pub received: bool,
    /// A struct reachable from a request that has something to check, itself
    /// or in a nested struct: it implements `Validate`.
    pub validated: bool,
}

/// Where a named type is defined. The emitter gives every type a file of its
/// own, `src/<service>/types/<resource>/<module>.rs`, re-exported from the
/// service's `types` module: files stay small however large a service is, and
/// adding an endpoint only adds the files of the types it brings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct TypeHome {
    /// The module name of the resource whose operations use the type first
    /// (resources in module order, operations in endpoint-id order).
    pub resource: String,
    /// The module name of the type's own file, unique within the service.
    pub module: String,
}

/// A named type of a [`TypeSpace`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TypeDef<'a> {
    /// A struct.
    Struct(&'a StructDef),
    /// An enum.
    Enum(&'a EnumDef),
}

impl TypeSpace {
    /// How the type named `name` is used (nothing, for a type no operation reaches).
    pub fn use_of(&self, name: &str) -> TypeUse {
        self.uses.get(name).copied().unwrap_or_default()
    }

    /// True when a field of type `ty` has something for `validate()` to
    /// check through its type alone (an enum's documented values, or a
    /// nested struct that is validated).
    pub fn type_is_checked(&self, ty: &TypeRef) -> bool {
        type_is_checked(ty, &|name| self.use_of(name).validated)
    }

    /// True when the service has no named types.
    pub fn is_empty(&self) -> bool {
        self.structs.is_empty() && self.enums.is_empty()
    }

    /// The types by home resource, then by module name.
    pub fn by_home(&self) -> BTreeMap<&str, BTreeMap<&str, TypeDef<'_>>> {
        let mut groups: BTreeMap<&str, BTreeMap<&str, TypeDef<'_>>> = BTreeMap::new();
        let structs = self.structs.values().map(|d| (&d.name, TypeDef::Struct(d)));
        let enums = self.enums.values().map(|d| (&d.name, TypeDef::Enum(d)));
        for (name, def) in structs.chain(enums) {
            let home =
                self.homes.get(name).unwrap_or_else(|| panic!("the type `{name}` has no home"));
            groups.entry(home.resource.as_str()).or_default().insert(home.module.as_str(), def);
        }
        groups
    }
}

/// A struct of the generated crate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StructDef {
    /// The Rust name.
    pub name: String,
    /// The description of the field it was first found on.
    pub doc: String,
    /// The fields, in the docs' order.
    pub fields: Vec<FieldDef>,
}

impl StructDef {
    /// True when every field may be left out, so that `Default` makes sense.
    pub fn all_optional(&self) -> bool {
        self.fields.iter().all(|f| !f.required)
    }
}

/// [`TypeSpace::type_is_checked`], with `validated` telling which structs are.
pub(crate) fn type_is_checked(ty: &TypeRef, validated: &dyn Fn(&str) -> bool) -> bool {
    match ty {
        TypeRef::Enum(_) => true,
        TypeRef::Struct(name) => validated(name),
        // Only the items of a flat list are checked one by one.
        TypeRef::Array(item) => match &**item {
            TypeRef::Enum(_) => true,
            TypeRef::Struct(name) => validated(name),
            _ => false,
        },
        _ => false,
    }
}

/// Where a request field goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Location {
    /// Into the path.
    Path,
    /// Into the query string.
    Query,
    /// Into the JSON body (also every field of a nested type or response).
    #[default]
    Body,
}

/// A field of a struct.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldDef {
    /// The name on the wire.
    pub wire_name: String,
    /// The Rust name.
    pub rust_name: String,
    /// Its type.
    pub ty: TypeRef,
    /// True when the field must be given (request) and so is not an `Option`.
    pub required: bool,
    /// Where it goes in a request.
    pub location: Location,
    /// The docs of the field.
    pub docs: FieldDocs,
    /// The rules `validate()` checks.
    pub checks: Checks,
    /// For a request string whose documented example shows an id prefix:
    /// the id newtype it takes instead of a `String` (see [`ids`]).
    pub id: Option<ids::IdKind>,
}

impl FieldDef {
    /// True when `validate()` checks the field against rules of its own
    /// (lengths, counts, ranges, allowed integers), apart from its type.
    pub fn has_own_checks(&self) -> bool {
        let c = &self.checks;
        let range = c.minimum.is_some() || c.maximum.is_some();
        match &self.ty {
            TypeRef::String => c.min_length.is_some() || c.max_length.is_some(),
            TypeRef::Integer => range || c.allowed.iter().any(|v| v.parse::<i64>().is_ok()),
            TypeRef::Number => range,
            TypeRef::Array(_) => c.min_items.is_some() || c.max_items.is_some(),
            _ => false,
        }
    }
}

/// The documentation of a field, as the spec gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldDocs {
    /// The description.
    pub description: String,
    /// The documented example value.
    pub example: Option<String>,
    /// The documented default value.
    pub default: Option<String>,
}

/// The validation rules of a field. Bounds are kept as `f64` and printed as
/// integers for integer fields (the docs' bounds are small).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checks {
    /// Minimum string length in characters.
    pub min_length: Option<u64>,
    /// Maximum string length in characters.
    pub max_length: Option<u64>,
    /// Minimum number of items.
    pub min_items: Option<u64>,
    /// Maximum number of items.
    pub max_items: Option<u64>,
    /// Smallest number.
    pub minimum: Option<f64>,
    /// Largest number.
    pub maximum: Option<f64>,
    /// Allowed values of a field that is not a Rust enum (integers), as text.
    pub allowed: Vec<String>,
}

impl Checks {
    /// True when there is nothing to check on the field itself.
    pub fn is_empty(&self) -> bool {
        *self == Checks::default()
    }
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum TypeRef {
    /// `String`.
    #[default]
    String,
    /// `i64`.
    Integer,
    /// `f64`.
    Number,
    /// `bool`.
    Boolean,
    /// `serde_json::Value`: an object or value whose shape the docs do not give.
    Json,
    /// A struct of the service's type space.
    Struct(String),
    /// An enum of the service's type space.
    Enum(String),
    /// `Vec<T>`.
    Array(Box<TypeRef>),
    /// A file part of a multipart request: `feishu_runtime::UploadFile`.
    File,
}

/// An enum of string values with a fallback for values the docs do not list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnumDef {
    /// The Rust name.
    pub name: String,
    /// The description of the field it was first found on.
    pub doc: String,
    /// The documented values, in the docs' order.
    pub variants: Vec<EnumVariant>,
}

/// One documented value of an enum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnumVariant {
    /// The Rust name.
    pub rust_name: String,
    /// The value on the wire.
    pub value: String,
    /// What it means.
    pub doc: String,
}

/// How an operation is authenticated (mirrors `feishu_runtime::Auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// The tenant access token.
    #[default]
    Tenant,
    /// The user access token from the call's options.
    User,
    /// Either; the user token when one is given.
    TenantOrUser,
    /// The app access token.
    App,
}

impl Auth {
    /// The token a call is sent with, given the tokens the docs accept:
    /// the tenant token when the docs allow it (a bot acts for its tenant
    /// by default), the user token when only it or both are allowed (then
    /// the caller's user token wins when given), the app token last.
    pub fn for_tokens(tokens: &[AccessToken]) -> Auth {
        let has = |t| tokens.contains(&t);
        match (
            has(AccessToken::TenantAccessToken),
            has(AccessToken::UserAccessToken),
            has(AccessToken::AppAccessToken),
        ) {
            (true, true, _) => Auth::TenantOrUser,
            (false, true, _) => Auth::User,
            (false, false, true) => Auth::App,
            _ => Auth::Tenant,
        }
    }

    /// The variant's name, as `feishu_runtime::Auth` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Tenant => "Tenant",
            Auth::User => "User",
            Auth::TenantOrUser => "TenantOrUser",
            Auth::App => "App",
        }
    }
}

/// Whether the generated crate gives `endpoint` a typed operation (request,
/// response and error types) rather than a catalogue method taking and
/// returning JSON: documented in detail, with a JSON response. Multipart
/// uploads are typed too: their file fields take an `UploadFile` (see
/// `upload.rs`).
pub fn is_typed(endpoint: &feishu_spec::Endpoint) -> bool {
    endpoint.detailed && endpoint.response_content_type == feishu_spec::ResponseContentType::Json
}

/// One piece of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Literal text.
    Literal(String),
    /// A parameter: its wire name and Rust name.
    Param {
        /// The name in the template (`message_id`).
        wire_name: String,
        /// The Rust name.
        rust_name: String,
    },
}

/// One endpoint as a function of the generated crate.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The spec's id, e.g. `im.v1.message.reply`.
    pub id: String,
    /// The Rust function name.
    pub fn_name: String,
    /// The UpperCamelCase stem of the operation's types (`Reply` → `ReplyRequest`).
    pub type_stem: String,
    /// The page title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The doc page.
    pub doc_url: Option<String>,
    /// The HTTP method.
    pub method: Method,
    /// The path template as given, e.g. `/open-apis/im/v1/messages/:message_id/reply`.
    pub path: String,
    /// The path template split into literals and parameters.
    pub path_parts: Vec<PathPart>,
    /// The token the call is sent with.
    pub auth: Auth,
    /// The tokens the docs accept, for the docs.
    pub access_tokens: Vec<AccessToken>,
    /// Any one of these scopes allows the call.
    pub scopes: Vec<Scope>,
    /// The rate limit as the docs word it.
    pub rate_limit: Option<String>,
    /// The documented limits in numbers, which the client keeps to.
    pub limits: Limits,
    /// Typed or catalogue-only.
    pub kind: OperationKind,
}

/// The documented request limits of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Calls per second.
    pub per_second: Option<u32>,
    /// Calls per minute.
    pub per_minute: Option<u32>,
    /// Calls per second to one receiver.
    pub per_receiver_per_second: Option<u32>,
}

/// Whether an operation is typed ([`is_typed`]) or a catalogue method.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationKind {
    /// Only known from a catalogue: the caller chooses the body and gets JSON (or a file) back.
    Catalogue {
        /// The answer is a file (`Download`) rather than JSON.
        download: bool,
        /// The caller may pass a body (every method but GET).
        takes_body: bool,
    },
    /// Typed request, response and errors.
    Typed(Box<TypedOperation>),
}

/// The types of a typed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedOperation {
    /// The request: path, query and body fields.
    pub request: StructDef,
    /// True when the request has a JSON body (even if empty).
    pub json_body: bool,
    /// The wire name of the body field that carries an idempotency key: a
    /// string body field named `uuid`, which Feishu's write endpoints use to
    /// act at most once per key.
    pub idempotency_field: Option<String>,
    /// The Rust name of the request field that names the receiver, for
    /// per-receiver limits: a body `receive_id`, else the first path
    /// parameter (the message replied to stands for its chat).
    pub receiver_field: Option<String>,
    /// The Rust names of a `content` string and a `msg_type` enum sent
    /// together, which typed message content can set as one.
    pub message_content: Option<(String, String)>,
    /// The response's `data`.
    pub response: StructDef,
    /// The error enum.
    pub error: ErrorDef,
    /// Whether it is a paged list (see [`Paging`]).
    pub paging: Paging,
    /// The multipart form of an upload (the body goes as form fields and
    /// file parts instead of JSON).
    pub form: Option<Form>,
}

/// The error enum of one typed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDef {
    /// The Rust name, e.g. `ReplyError`.
    pub name: String,
    /// One variant per documented code, ordered by code.
    pub variants: Vec<ErrorVariant>,
}

/// One documented error code.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorVariant {
    /// The Rust name from the docs' message (see [`errors`]), e.g.
    /// `BotCannotBeOutsideGroup`; `Code230001` where the message gives none.
    pub rust_name: String,
    /// The name of its `is_…()` helper, e.g. `is_bot_cannot_be_outside_group`.
    pub helper: String,
    /// The envelope code.
    pub code: i64,
    /// The HTTP status the docs give.
    pub http_status: Option<u16>,
    /// The message the server sends.
    pub message: String,
    /// The docs' advice.
    pub hint: String,
    /// True when sending again later may succeed: the docs describe it as
    /// the frequency limit, or give it a 429 or 5xx status.
    pub retryable: bool,
    /// Finer codes inside the message: (code, message).
    pub sub_errors: Vec<(i64, String)>,
}

/// An event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDef {
    /// The wire name, e.g. `im.message.receive_v1`.
    pub event_type: String,
    /// The Rust variant name.
    pub variant: String,
    /// The page title.
    pub title: String,
    /// When it fires.
    pub description: String,
    /// The doc page.
    pub doc_url: Option<String>,
    /// Where its typed body is, when its page documents one.
    pub body: Option<EventBodyRef>,
}
