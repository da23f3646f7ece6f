//! The neutral spec of the Feishu Open Platform API.
//!
//! Every stage of the generator agrees on these types and nothing else: the doc
//! parser (`feishu-docs`) produces them, the emitter reads them, and they are
//! checked in under `spec/` as pretty JSON so that a doc change shows up as a
//! small diff. Tools outside the project read the key names, so they are a
//! contract: extend, never rename. `spec/schema.json` is generated from these
//! types (see [`json_schema`]).
//!
//! Every key is always written, even when empty, so that readers never need to
//! tell "absent" from "empty"; every key also has a serde default, so that
//! older or hand-trimmed files still load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod front_matter;
mod path;

pub use path::{PathTemplate, Piece, Segment};

/// A set of endpoints and events: the whole API, one resource of it, or the
/// pages given to `cargo xtask parse`.
///
/// Files under `spec/` also carry a `$comment` key saying they are generated;
/// readers ignore it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Spec {
    /// The HTTP operations, ordered by [`Endpoint::id`].
    pub endpoints: Vec<Endpoint>,
    /// The events an app can subscribe to, ordered by [`Event::event_type`].
    pub events: Vec<Event>,
}

/// One HTTP operation of the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoint {
    /// Stable identifier `service.version.resource.name`, e.g. `im.v1.message.reply`.
    pub id: String,
    /// The service (product domain) the path belongs to, e.g. `im`.
    pub service: String,
    /// The API version from the path, e.g. `v1`.
    pub version: String,
    /// The resource the operation acts on, snake_case, e.g. `message` or `message_reaction`.
    pub resource: String,
    /// The operation's name within its resource, snake_case, e.g. `reply`.
    pub name: String,
    /// The page title, e.g. `回复消息`.
    pub title: String,
    /// What the operation does, from the page (or the catalogue summary).
    pub description: String,
    /// The page's URL on open.feishu.cn, when the docs give it.
    pub doc_url: Option<String>,
    /// The HTTP method.
    pub method: Method,
    /// The path with `:name` placeholders, e.g. `/open-apis/im/v1/messages/:message_id/reply`.
    pub path: String,
    /// Parameters substituted into the path.
    pub path_params: Vec<Field>,
    /// Query-string parameters.
    pub query_params: Vec<Field>,
    /// Request headers the page documents (`Authorization`, `Content-Type`, …).
    pub headers: Vec<Field>,
    /// How the request body is encoded, when there is one.
    pub request_content_type: Option<ContentType>,
    /// The request body's fields.
    pub request_body: Vec<Field>,
    /// How a successful response is encoded.
    pub response_content_type: ResponseContentType,
    /// The fields inside the response envelope's `data`.
    pub response_body: Vec<Field>,
    /// The documented error codes of this endpoint.
    pub errors: Vec<ErrorCode>,
    /// The scopes that allow calling the endpoint: any one of them suffices.
    pub scopes: Vec<Scope>,
    /// Scopes that only unlock some response fields.
    pub field_scopes: Vec<Scope>,
    /// The access tokens the endpoint accepts.
    pub access_tokens: Vec<AccessToken>,
    /// The kinds of app that may call the endpoint.
    pub app_types: Vec<AppType>,
    /// The documented rate limit.
    pub rate_limit: Option<RateLimit>,
    /// The page's request body example, when it is valid JSON.
    pub request_example: Option<serde_json::Value>,
    /// The page's response example (the whole envelope), when it is valid JSON.
    pub response_example: Option<serde_json::Value>,
    /// True when a detail page described the parameters and bodies; false for
    /// an endpoint known only from a catalogue, whose body shape is unknown.
    // The code says "typed" for an operation with generated types
    // (`feishu_model::is_typed`); this key keeps its name because spec keys
    // are a contract, and it means "documented in detail", which is not
    // quite the same (a detailed multipart upload is not typed).
    pub detailed: bool,
    /// The doc files this endpoint was read from, relative to the docs root.
    pub sources: Vec<String>,
}

impl Endpoint {
    /// The parsed [`Endpoint::path`]: read paths through this, never by splitting them.
    pub fn template(&self) -> PathTemplate {
        PathTemplate::parse(&self.path)
    }
}

/// An HTTP method.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum Method {
    #[default]
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// Reads a method name in any case.
    pub fn parse(text: &str) -> Option<Method> {
        match text.trim().to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    /// The method's name as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    /// `application/json; charset=utf-8`.
    Json,
    /// `multipart/form-data` (file and image uploads).
    Multipart,
}

/// How a successful response is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseContentType {
    /// The `{code, msg, data}` JSON envelope.
    #[default]
    Json,
    /// The raw bytes of a file (downloads); errors still come as the JSON envelope.
    Binary,
}

/// A kind of access token.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessToken {
    /// The app acting for a tenant (`t-…`).
    TenantAccessToken,
    /// The app acting for a signed-in user (`u-…`).
    UserAccessToken,
    /// The app itself (`a-…`), used by a few app-level endpoints.
    AppAccessToken,
}

impl AccessToken {
    /// The token's name on the wire and in the docs, e.g. `tenant_access_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessToken::TenantAccessToken => "tenant_access_token",
            AccessToken::UserAccessToken => "user_access_token",
            AccessToken::AppAccessToken => "app_access_token",
        }
    }

    /// Reads a token name such as `tenant_access_token`, or a doc tag such as `token-tenant`.
    pub fn parse(text: &str) -> Option<AccessToken> {
        let t = text.trim().to_ascii_lowercase();
        if t.contains("tenant") {
            Some(AccessToken::TenantAccessToken)
        } else if t.contains("user") {
            Some(AccessToken::UserAccessToken)
        } else if t.starts_with("app_access") || t == "token-app" || t.contains("app_access_token")
        {
            Some(AccessToken::AppAccessToken)
        } else {
            None
        }
    }
}

/// A kind of app, as the docs' 支持的应用类型 gives it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AppType {
    /// An app built by the tenant itself (自建应用).
    Custom,
    /// An app from the app store (商店应用).
    Isv,
}

/// A permission scope, e.g. `im:message`.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    /// The scope's key, e.g. `im:message:send_as_bot`.
    pub name: String,
    /// Its human name, e.g. `以应用的身份发消息`.
    pub description: String,
}

/// A documented rate limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Calls per second, when given.
    pub per_second: Option<u32>,
    /// Calls per minute, when given.
    pub per_minute: Option<u32>,
    /// Calls per second to one receiver (a user or a chat), when the page
    /// says so in prose, e.g. `向同一用户发送消息的限频为 5 QPS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_receiver_per_second: Option<u32>,
    /// The limit as the docs word it, e.g. `1000 次/分钟、50 次/秒` or `特殊频控`.
    pub text: String,
}

/// The JSON type of a field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum FieldType {
    #[default]
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    /// A file part of a multipart body.
    File,
}

/// A parameter, header or body field; objects and arrays of objects carry their fields in `children`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Field {
    /// The name on the wire.
    pub name: String,
    /// The JSON type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The type as the docs name it, e.g. `follow_up[]`, `int`, `message_body`.
    pub type_name: String,
    /// For arrays, the type of the items.
    pub item_type: Option<FieldType>,
    /// Whether the field must be sent (requests) or is always present (responses: true when the docs say so).
    pub required: bool,
    /// The description from the page, as plain text, with the rule sentences kept.
    pub description: String,
    /// The documented example value, as text.
    pub example: Option<String>,
    /// The documented default value, as text.
    pub default: Option<String>,
    /// A value the field must always have (headers such as `Content-Type`).
    pub fixed: Option<String>,
    /// Validation rules.
    pub constraints: Constraints,
    /// Scopes needed for this field to be returned or accepted (字段权限要求).
    pub scopes: Vec<Scope>,
    /// The fields of an object, or of the objects in an array.
    pub children: Vec<Field>,
}

impl Field {
    /// The fields of a list without the later rows that repeat a name (a
    /// slip of the docs): the first one counts, as serde and OpenAPI can
    /// hold only one field per wire name.
    pub fn distinct(fields: &[Field]) -> impl Iterator<Item = &Field> {
        let mut seen = std::collections::BTreeSet::new();
        fields.iter().filter(move |f| seen.insert(f.name.as_str()))
    }
}

/// The validation rules of a field. Lengths count characters, not bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Constraints {
    /// Minimum length of a string, in characters.
    pub min_length: Option<u64>,
    /// Maximum length of a string, in characters.
    pub max_length: Option<u64>,
    /// Minimum number of items of an array.
    pub min_items: Option<u64>,
    /// Maximum number of items of an array.
    pub max_items: Option<u64>,
    /// Smallest allowed number.
    pub minimum: Option<serde_json::Number>,
    /// Largest allowed number.
    pub maximum: Option<serde_json::Number>,
    /// The documented values, in the page's order. Empty when the field is free.
    #[serde(rename = "enum")]
    pub enum_values: Vec<EnumValue>,
}

impl Constraints {
    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// One documented value of an enum-valued field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EnumValue {
    /// The value on the wire, as text (`en_us`, `1`).
    pub value: String,
    /// What it means.
    pub description: String,
}

/// A documented error code of one endpoint. The same code can mean different
/// things on different endpoints, so codes belong to endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorCode {
    /// The HTTP status the error comes with, when documented.
    pub http_status: Option<u16>,
    /// The `code` of the response envelope.
    pub code: i64,
    /// The `msg` the server sends.
    pub message: String,
    /// The docs' advice (排查建议).
    pub hint: String,
    /// Finer codes carried inside this one's message (the 230099 table of the reply page).
    pub sub_errors: Vec<SubError>,
}

/// A sub-code documented under an error code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SubError {
    /// The sub-code (`ErrCode` inside the message).
    pub code: i64,
    /// The message pattern.
    pub message: String,
    /// The docs' advice.
    pub hint: String,
}

/// An event an app can subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Event {
    /// The event type, e.g. `im.message.receive_v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The service it belongs to, e.g. `im`.
    pub service: String,
    /// The resource it is about, snake_case, e.g. `message`.
    pub resource: String,
    /// The page title, e.g. `接收消息`.
    pub title: String,
    /// When it fires.
    pub description: String,
    /// The event's page, when the docs give it.
    pub doc_url: Option<String>,
    /// The scopes that allow receiving it: any one of them suffices.
    pub scopes: Vec<Scope>,
    /// The kinds of app that may receive it.
    pub app_types: Vec<AppType>,
    /// The fields inside the delivered payload's `event` object, when an event page describes them.
    pub body: Vec<Field>,
    /// The page's example payload (the whole `{schema, header, event}` envelope), when it is valid JSON.
    pub example: Option<serde_json::Value>,
    /// The doc files it was read from.
    pub sources: Vec<String>,
}

impl Spec {
    /// Sorts endpoints and events into the spec's canonical order.
    pub fn sort(&mut self) {
        self.endpoints.sort_by(|a, b| {
            a.id.cmp(&b.id).then(a.path.cmp(&b.path)).then(a.method.cmp(&b.method))
        });
        self.events.sort_by(|a, b| a.event_type.cmp(&b.event_type));
    }

    /// Splits the spec into one spec per resource, keyed by the relative file
    /// path it is stored under (`im/message.json`).
    pub fn split_by_resource(&self) -> BTreeMap<String, Spec> {
        let mut files: BTreeMap<String, Spec> = BTreeMap::new();
        for endpoint in &self.endpoints {
            let key = resource_file(&endpoint.service, &endpoint.resource);
            files.entry(key).or_default().endpoints.push(endpoint.clone());
        }
        for event in &self.events {
            let key = resource_file(&event.service, &event.resource);
            files.entry(key).or_default().events.push(event.clone());
        }
        for spec in files.values_mut() {
            spec.sort();
        }
        files
    }

    /// The canonical serialisation: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("spec values always serialise");
        text.push('\n');
        text
    }

    /// The canonical serialisation with a leading `$comment` (the do-not-edit notice of checked-in files).
    pub fn to_json_with_comment(&self, comment: &str) -> String {
        let mut map = serde_json::Map::new();
        map.insert("$comment".into(), comment.into());
        if let serde_json::Value::Object(fields) =
            serde_json::to_value(self).expect("spec values always serialise")
        {
            map.extend(fields);
        }
        let mut text = serde_json::to_string_pretty(&map).expect("spec values always serialise");
        text.push('\n');
        text
    }
}

/// The folder under `spec/` that holds the input doc pages, not spec files.
/// Its name is the docs sync's default (`--docs spec/docs`), so it stays.
const PAGES_DIR: &str = "docs";

/// Why the spec files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A file or folder could not be read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// A file is not a spec (serde's message gives the line and column).
    #[error("{}: {error}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        error: serde_json::Error,
    },
}

impl Spec {
    /// True when `rel`, a path relative to the spec folder with `/`
    /// separators, is a file [`Spec::split_by_resource`] writes:
    /// `<service>/<resource>.json`. `schema.json`, `diagnostics.txt` and the
    /// pages under `docs/` are not.
    pub fn is_resource_file(rel: &str) -> bool {
        let mut parts = rel.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(service), Some(file), None) => {
                !service.is_empty()
                    && service != PAGES_DIR
                    && file.len() > ".json".len()
                    && file.ends_with(".json")
            }
            _ => false,
        }
    }

    /// The resource files below `dir` (see [`Spec::is_resource_file`]),
    /// sorted; a missing `dir` has none.
    pub fn files_in(dir: &Path) -> Result<Vec<PathBuf>, ReadError> {
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
            move |error| ReadError::Io { path: path.to_owned(), error }
        }
        let mut files = Vec::new();
        if !dir.exists() {
            return Ok(files);
        }
        for service in sorted_entries(dir).map_err(io(dir))? {
            if !service.is_dir() {
                continue;
            }
            for file in sorted_entries(&service).map_err(io(&service))? {
                let rel =
                    file.strip_prefix(dir).unwrap_or(&file).to_string_lossy().replace('\\', "/");
                if file.is_file() && Spec::is_resource_file(&rel) {
                    files.push(file);
                }
            }
        }
        Ok(files)
    }

    /// Reads the spec folder [`Spec::split_by_resource`] wrote, the inverse
    /// of writing it: every resource file below `dir`, merged and sorted.
    pub fn read_dir(dir: impl AsRef<Path>) -> Result<Spec, ReadError> {
        let mut texts = Vec::new();
        for path in Spec::files_in(dir.as_ref())? {
            let text = std::fs::read_to_string(&path)
                .map_err(|error| ReadError::Io { path: path.clone(), error })?;
            texts.push((path, text));
        }
        Spec::from_texts(texts.iter().map(|(path, text)| (path.as_path(), text.as_str())))
    }

    /// Merges spec files given as (path, contents), in any order, into one
    /// sorted spec. The paths only name the files in errors.
    pub fn from_texts<'a>(
        files: impl IntoIterator<Item = (&'a Path, &'a str)>,
    ) -> Result<Spec, ReadError> {
        let mut spec = Spec::default();
        for (path, text) in files {
            let part: Spec = serde_json::from_str(text)
                .map_err(|error| ReadError::Json { path: path.to_owned(), error })?;
            spec.endpoints.extend(part.endpoints);
            spec.events.extend(part.events);
        }
        spec.sort();
        Ok(spec)
    }
}

/// The entries of a folder, sorted, so that reading is deterministic.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

fn resource_file(service: &str, resource: &str) -> String {
    let service = if service.is_empty() { "misc" } else { service };
    let resource = if resource.is_empty() { "misc" } else { resource };
    format!("{service}/{resource}.json")
}

/// The JSON Schema of [`Spec`], as pretty JSON with a trailing newline.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Spec);
    schema.insert(
        "$comment".into(),
        "Generated from the types of codegen/spec by `cargo xtask regen`; do not edit.".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas always serialise");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_key_names_are_serialised() {
        let endpoint = Endpoint {
            request_body: vec![Field {
                constraints: Constraints {
                    enum_values: vec![EnumValue::default()],
                    ..Constraints::default()
                },
                ..Field::default()
            }],
            errors: vec![ErrorCode::default()],
            rate_limit: Some(RateLimit::default()),
            ..Endpoint::default()
        };
        let spec = Spec { endpoints: vec![endpoint], events: vec![Event::default()] };
        let json = spec.to_json();
        for key in [
            "\"endpoints\"",
            "\"events\"",
            "\"method\"",
            "\"path\"",
            "\"path_params\"",
            "\"query_params\"",
            "\"request_body\"",
            "\"response_body\"",
            "\"errors\"",
            "\"http_status\"",
            "\"code\"",
            "\"message\"",
            "\"hint\"",
            "\"sub_errors\"",
            "\"scopes\"",
            "\"access_tokens\"",
            "\"rate_limit\"",
            "\"per_second\"",
            "\"per_minute\"",
            "\"text\"",
            "\"name\"",
            "\"type\"",
            "\"type_name\"",
            "\"item_type\"",
            "\"required\"",
            "\"description\"",
            "\"example\"",
            "\"default\"",
            "\"children\"",
            "\"constraints\"",
            "\"min_length\"",
            "\"max_length\"",
            "\"min_items\"",
            "\"max_items\"",
            "\"minimum\"",
            "\"maximum\"",
            "\"enum\"",
            "\"value\"",
        ] {
            assert!(json.contains(key), "missing key {key} in {json}");
        }
    }

    #[test]
    fn round_trips_through_json() {
        let spec = Spec {
            endpoints: vec![Endpoint {
                id: "im.v1.message.reply".into(),
                method: Method::Post,
                access_tokens: vec![AccessToken::TenantAccessToken],
                ..Endpoint::default()
            }],
            events: vec![],
        };
        let back: Spec = serde_json::from_str(&spec.to_json()).unwrap();
        assert_eq!(back, spec);
        let commented = spec.to_json_with_comment("generated");
        assert!(commented.starts_with("{\n  \"$comment\": \"generated\""));
        let back: Spec = serde_json::from_str(&commented).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn splits_one_file_per_resource() {
        let mut spec = Spec::default();
        for (service, resource) in [("im", "message"), ("im", "message"), ("im", "pin")] {
            spec.endpoints.push(Endpoint {
                service: service.into(),
                resource: resource.into(),
                ..Endpoint::default()
            });
        }
        spec.events.push(Event {
            service: "im".into(),
            resource: "message".into(),
            ..Event::default()
        });
        let files = spec.split_by_resource();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["im/message.json", "im/pin.json"]);
        assert_eq!(files["im/message.json"].endpoints.len(), 2);
        assert_eq!(files["im/message.json"].events.len(), 1);
    }

    #[test]
    fn reads_back_what_split_by_resource_wrote() {
        let mut spec = Spec::default();
        for (service, resource, id) in [
            ("im", "message", "im.v1.message.reply"),
            ("im", "pin", "im.v1.pin.create"),
            ("", "", "misc"),
        ] {
            spec.endpoints.push(Endpoint {
                id: id.into(),
                service: service.into(),
                resource: resource.into(),
                ..Endpoint::default()
            });
        }
        spec.events.push(Event {
            event_type: "im.message.receive_v1".into(),
            service: "im".into(),
            resource: "message".into(),
            ..Event::default()
        });
        spec.sort();
        let dir = std::env::temp_dir().join(format!("feishu-spec-read-dir-{}", std::process::id()));
        for (rel, part) in spec.split_by_resource() {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, part.to_json_with_comment("generated")).unwrap();
        }
        // What is not a resource file is not read, even when it is JSON.
        std::fs::write(dir.join("schema.json"), "{\"not\": \"a spec\"}").unwrap();
        std::fs::create_dir_all(dir.join("docs/im")).unwrap();
        std::fs::write(dir.join("docs/im/page.json"), "not json").unwrap();
        std::fs::write(dir.join("im/notes.txt"), "not json").unwrap();
        let back = Spec::read_dir(&dir);
        let broken = dir.join("im/broken.json");
        std::fs::write(&broken, "{\n  \"endpoints\": [\n    {\"id\": 1}]}").unwrap();
        let error = Spec::read_dir(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.unwrap(), spec);
        assert!(
            error.starts_with(&broken.display().to_string()) && error.contains("line 3"),
            "{error}"
        );
        assert_eq!(Spec::read_dir(dir.join("absent")).unwrap(), Spec::default());
    }

    #[test]
    fn resource_files_are_two_levels_deep_outside_the_pages() {
        assert!(Spec::is_resource_file("im/message.json"));
        assert!(!Spec::is_resource_file("schema.json"));
        assert!(!Spec::is_resource_file("diagnostics.txt"));
        assert!(!Spec::is_resource_file("docs/x.json"));
        assert!(!Spec::is_resource_file("docs/im/v1/message/reply.md"));
        assert!(!Spec::is_resource_file("im/v1/message.json"));
        assert!(!Spec::is_resource_file("im/.json"));
    }

    #[test]
    fn the_first_of_two_rows_with_one_name_counts() {
        let field =
            |name: &str, required| Field { name: name.into(), required, ..Field::default() };
        let fields = [field("a", true), field("b", false), field("a", false)];
        let kept: Vec<(&str, bool)> =
            Field::distinct(&fields).map(|f| (f.name.as_str(), f.required)).collect();
        assert_eq!(kept, [("a", true), ("b", false)]);
    }

    #[test]
    fn token_names_read_back() {
        for token in [
            AccessToken::TenantAccessToken,
            AccessToken::UserAccessToken,
            AccessToken::AppAccessToken,
        ] {
            assert_eq!(AccessToken::parse(token.as_str()), Some(token));
            assert_eq!(serde_json::to_value(token).unwrap(), token.as_str());
        }
    }

    #[test]
    fn schema_names_the_contract_keys() {
        let schema = json_schema();
        assert!(schema.contains("\"sub_errors\""));
        assert!(schema.contains("\"access_tokens\""));
        assert!(schema.contains("tenant_access_token"));
    }

    #[test]
    fn reads_token_names_and_tags() {
        assert_eq!(AccessToken::parse("token-tenant"), Some(AccessToken::TenantAccessToken));
        assert_eq!(AccessToken::parse("user_access_token"), Some(AccessToken::UserAccessToken));
        assert_eq!(AccessToken::parse("app_access_token"), Some(AccessToken::AppAccessToken));
        assert_eq!(AccessToken::parse("nonsense"), None);
    }
}
