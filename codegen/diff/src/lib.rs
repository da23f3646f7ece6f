//! The API change between two specs, stated plainly, with what breaks.
//!
//! [`diff`] compares two [`Spec`]s endpoint by endpoint and event by event and
//! returns a [`Report`]: one [`Change`] per thing a reviewer should know
//! (fields added, removed or retyped, required-ness, constraints, defaults,
//! error codes, scopes, tokens, rate limits), each marked breaking or not for
//! code that uses the generated crate. The rules live in [`rules`], one small
//! function each. [`Report::to_markdown`] prints the report for a PR.

pub mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use feishu_model::{Auth, is_typed};
use feishu_spec::{
    AccessToken, ContentType, Endpoint, Event, Field, FieldType, ResponseContentType, Spec,
};

use rules::{Bound, Direction, FieldPlace};

/// What kind of change a [`Change`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A new endpoint.
    EndpointAdded,
    /// An endpoint is gone.
    EndpointRemoved,
    /// An endpoint became documented in detail, or stopped being (its
    /// function turns typed or untyped); or an event's body became
    /// documented, or stopped being (it gets or loses its struct).
    DetailChanged,
    /// The HTTP method or path changed.
    RouteChanged,
    /// The request or response encoding changed.
    ContentTypeChanged,
    /// A new field.
    FieldAdded,
    /// A field is gone.
    FieldRemoved,
    /// A field's type changed.
    FieldRetyped,
    /// A field became required or optional.
    RequiredChanged,
    /// A length, item-count or range limit got tighter.
    ConstraintTightened,
    /// A length, item-count or range limit got looser.
    ConstraintLoosened,
    /// A documented value was added.
    EnumValueAdded,
    /// A documented value was removed.
    EnumValueRemoved,
    /// A documented default was added, removed or changed.
    DefaultChanged,
    /// A documented error code was added.
    ErrorCodeAdded,
    /// A documented error code was removed.
    ErrorCodeRemoved,
    /// A documented error code comes with another HTTP status.
    ErrorStatusChanged,
    /// A documented error code's variant has another name, because the
    /// docs reworded its message (variants are named from it).
    ErrorVariantRenamed,
    /// A scope that allows the call was added.
    ScopeAdded,
    /// A scope that allowed the call was removed.
    ScopeRemoved,
    /// An accepted access token was added.
    AccessTokenAdded,
    /// An accepted access token was removed.
    AccessTokenRemoved,
    /// The rate limit changed.
    RateLimitChanged,
    /// A new event.
    EventAdded,
    /// An event is gone.
    EventRemoved,
}

/// One thing that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The endpoint id (`im.v1.message.reply`), or the event type
    /// (`im.message.receive_v1`) for changes to events.
    pub endpoint: String,
    /// What kind of change this is.
    pub kind: ChangeKind,
    /// True when code that uses the generated crate may stop compiling or
    /// validating because of it.
    pub breaking: bool,
    /// The change in plain English, without the breaking mark, e.g.
    /// ``request body field `uuid`: max length 50 → 40 (tighter)``.
    pub line: String,
}

impl Change {
    /// The report's bullet for this change, with its mark:
    /// ``- **breaking**: request body field `uuid`: max length 50 → 40 (tighter)``.
    pub fn to_markdown(&self) -> String {
        let mark = if self.breaking { "**breaking**" } else { "non-breaking" };
        format!("- {mark}: {}", self.line)
    }
}

/// Everything that changed between two specs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The changes, grouped by endpoint (endpoints then events, each in id
    /// order); within each, the breaking ones first.
    pub changes: Vec<Change>,
    /// How the report heads each endpoint or event that has changes, keyed by
    /// [`Change::endpoint`], e.g. ``POST `/open-apis/im/v1/messages/:message_id/reply` (回复消息)``.
    pub headings: BTreeMap<String, String>,
}

impl Report {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// True when any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking)
    }

    /// The breaking changes.
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.breaking)
    }

    /// The report as Markdown: a `## API changes` section with a summary line
    /// and one `###` heading per endpoint or event, or `No API changes.`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("## API changes\n\n");
        if self.changes.is_empty() {
            out.push_str("No API changes.\n");
            return out;
        }
        let breaking = self.breaking().count();
        let total = self.changes.len();
        let changes = if total == 1 { "1 change" } else { "changes" };
        let count = if total == 1 { String::new() } else { format!("{total} ") };
        out.push_str(&format!(
            "{count}{changes}: {breaking} breaking, {} non-breaking.\n",
            total - breaking
        ));
        let mut current: Option<&str> = None;
        for change in &self.changes {
            if current != Some(change.endpoint.as_str()) {
                current = Some(change.endpoint.as_str());
                out.push_str(&format!("\n### `{}`", change.endpoint));
                if let Some(heading) = self.headings.get(&change.endpoint).filter(|h| !h.is_empty())
                {
                    out.push_str(&format!(" — {heading}"));
                }
                out.push_str("\n\n");
            }
            out.push_str(&change.to_markdown());
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_markdown())
    }
}

/// Compares `old` with `new` and reports what changed.
pub fn diff(old: &Spec, new: &Spec) -> Report {
    let mut report = Report::default();
    let old_endpoints = by_key(&old.endpoints, |e| e.id.as_str());
    let new_endpoints = by_key(&new.endpoints, |e| e.id.as_str());
    let ids: BTreeSet<&str> = old_endpoints.keys().chain(new_endpoints.keys()).copied().collect();
    for id in ids {
        let mut out = Changes::new(id);
        match (old_endpoints.get(id), new_endpoints.get(id)) {
            (None, Some(e)) => {
                let what = if is_typed(e) { "typed" } else { "untyped JSON call" };
                out.push(
                    ChangeKind::EndpointAdded,
                    rules::endpoint_added(),
                    format!("endpoint added: {} `{}` ({what})", e.method.as_str(), e.path),
                );
            }
            (Some(e), None) => {
                out.push(
                    ChangeKind::EndpointRemoved,
                    rules::endpoint_removed(),
                    format!("endpoint removed: {} `{}`", e.method.as_str(), e.path),
                );
            }
            (Some(a), Some(b)) => endpoint(a, b, &mut out),
            (None, None) => {}
        }
        // Breaking changes first, each group in the order found.
        out.changes.sort_by_key(|c| !c.breaking);
        if !out.changes.is_empty() {
            let e = new_endpoints
                .get(id)
                .or(old_endpoints.get(id))
                .expect("the id came from one of the maps");
            let mut heading = format!("{} `{}`", e.method.as_str(), e.path);
            if !e.title.is_empty() {
                heading.push_str(&format!(" ({})", e.title));
            }
            report.headings.insert(id.to_string(), heading);
            report.changes.extend(out.changes);
        }
    }
    let old_events = by_key(&old.events, |e| e.event_type.as_str());
    let new_events = by_key(&new.events, |e| e.event_type.as_str());
    let types: BTreeSet<&str> = old_events.keys().chain(new_events.keys()).copied().collect();
    for event_type in types {
        let mut out = Changes::new(event_type);
        match (old_events.get(event_type), new_events.get(event_type)) {
            (None, Some(e)) => {
                let what = if typed_event(e) { "typed" } else { "untyped: `Event::Unknown`" };
                out.push(
                    ChangeKind::EventAdded,
                    rules::event_added(),
                    format!("event added ({what})"),
                );
            }
            (Some(_), None) => out.push(
                ChangeKind::EventRemoved,
                rules::event_removed(),
                "event removed".to_string(),
            ),
            (Some(a), Some(b)) => event(a, b, &mut out),
            (None, None) => {}
        }
        out.changes.sort_by_key(|c| !c.breaking);
        if !out.changes.is_empty() {
            let e = new_events
                .get(event_type)
                .or(old_events.get(event_type))
                .expect("the type came from one of the maps");
            report.headings.insert(
                event_type.to_string(),
                if e.title.is_empty() {
                    "event".to_string()
                } else {
                    format!("event ({})", e.title)
                },
            );
            report.changes.extend(out.changes);
        }
    }
    report
}

/// The changes of one endpoint or event, as they are found.
struct Changes {
    subject: String,
    changes: Vec<Change>,
}

impl Changes {
    fn new(subject: &str) -> Changes {
        Changes { subject: subject.to_string(), changes: Vec::new() }
    }

    fn push(&mut self, kind: ChangeKind, breaking: bool, line: String) {
        self.changes.push(Change { endpoint: self.subject.clone(), kind, breaking, line });
    }
}

/// The first item of each key: later duplicates are a slip the generator ignores too.
fn by_key<'a, T>(items: &'a [T], key: impl Fn(&'a T) -> &'a str) -> BTreeMap<&'a str, &'a T> {
    let mut map = BTreeMap::new();
    for item in items {
        map.entry(key(item)).or_insert(item);
    }
    map
}

fn content_type_name(content: Option<ContentType>) -> &'static str {
    match content {
        None => "none",
        Some(ContentType::Json) => "JSON",
        Some(ContentType::Multipart) => "multipart",
    }
}

fn endpoint(old: &Endpoint, new: &Endpoint, out: &mut Changes) {
    // The model's decisions, so that the report cannot drift from the emitter.
    let (old_typed, new_typed) = (is_typed(old), is_typed(new));
    if old.method != new.method {
        out.push(
            ChangeKind::RouteChanged,
            rules::route_changed(),
            format!("method {} → {}", old.method.as_str(), new.method.as_str()),
        );
    }
    if old.path != new.path {
        out.push(
            ChangeKind::RouteChanged,
            rules::route_changed(),
            format!("path `{}` → `{}`", old.path, new.path),
        );
    }
    if old.detailed != new.detailed {
        let line = match (new.detailed, new_typed) {
            (true, true) => {
                "now documented in detail: the function takes and returns typed structs instead of JSON"
            }
            (true, false) => "now documented in detail (the function stays an untyped JSON call)",
            (false, _) if old_typed => {
                "no longer documented in detail: the function takes and returns JSON instead of typed structs"
            }
            (false, _) => "no longer documented in detail",
        };
        out.push(
            ChangeKind::DetailChanged,
            rules::typing_changed(old_typed, new_typed),
            line.to_string(),
        );
    }
    if old.detailed == new.detailed && old.request_content_type != new.request_content_type {
        let line = format!(
            "request content type {} → {}",
            content_type_name(old.request_content_type),
            content_type_name(new.request_content_type)
        );
        out.push(ChangeKind::ContentTypeChanged, rules::typing_changed(old_typed, new_typed), line);
    }
    if old.detailed == new.detailed && old.response_content_type != new.response_content_type {
        let name = |c| if c == ResponseContentType::Json { "JSON" } else { "binary" };
        let line = format!(
            "response content type {} → {}",
            name(old.response_content_type),
            name(new.response_content_type)
        );
        out.push(ChangeKind::ContentTypeChanged, rules::typing_changed(old_typed, new_typed), line);
    }
    // A page that appears or disappears changes every field at once; the
    // detail change above says what matters.
    if old.detailed == new.detailed {
        let typed = old_typed && new_typed;
        fields(FieldPlace::Path, "", &old.path_params, &new.path_params, typed, out);
        fields(FieldPlace::Query, "", &old.query_params, &new.query_params, typed, out);
        fields(FieldPlace::RequestBody, "", &old.request_body, &new.request_body, typed, out);
        fields(FieldPlace::Response, "", &old.response_body, &new.response_body, typed, out);
        errors(old, new, typed, out);
    }
    scopes(&old.scopes, &new.scopes, out);
    tokens(old, new, out);
    rate_limit(old, new, out);
}

/// Whether the generated crate gives the event a struct and an `Event`
/// variant (as `feishu-model` decides): its page documents its body.
pub fn typed_event(event: &Event) -> bool {
    !event.body.is_empty() && !event.service.is_empty()
}

fn event(old: &Event, new: &Event, out: &mut Changes) {
    let (old_typed, new_typed) = (typed_event(old), typed_event(new));
    if old_typed != new_typed {
        // A body that appears or disappears changes every field at once;
        // what matters is which `Event` variant the event decodes into.
        let line = if new_typed {
            "now typed: its body decodes into a struct and its own `Event` variant instead of `Event::Unknown`"
        } else {
            "no longer typed: its struct is gone and it decodes as `Event::Unknown`"
        };
        out.push(
            ChangeKind::DetailChanged,
            rules::typing_changed(old_typed, new_typed),
            line.to_string(),
        );
    } else {
        fields(FieldPlace::Event, "", &old.body, &new.body, old_typed && new_typed, out);
    }
    scopes(&old.scopes, &new.scopes, out);
}

fn errors(old: &Endpoint, new: &Endpoint, typed: bool, out: &mut Changes) {
    let key = |e: &feishu_spec::ErrorCode| e.code;
    let old_codes: BTreeMap<i64, &feishu_spec::ErrorCode> =
        old.errors.iter().rev().map(|e| (key(e), e)).collect();
    let new_codes: BTreeMap<i64, &feishu_spec::ErrorCode> =
        new.errors.iter().rev().map(|e| (key(e), e)).collect();
    let status = |e: &feishu_spec::ErrorCode| {
        e.http_status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "no HTTP status".to_string())
    };
    // The variant names, as feishu-model gives them.
    let names = |codes: &BTreeMap<i64, &feishu_spec::ErrorCode>| {
        let pairs: Vec<(i64, &str)> =
            codes.iter().map(|(code, e)| (*code, e.message.as_str())).collect();
        feishu_model::errors::variant_names(&pairs)
    };
    let (old_names, new_names) = (names(&old_codes), names(&new_codes));
    let codes: BTreeSet<i64> = old_codes.keys().chain(new_codes.keys()).copied().collect();
    for code in codes {
        if let (Some(a), Some(b), Some(old_name), Some(new_name)) =
            (old_codes.get(&code), new_codes.get(&code), old_names.get(&code), new_names.get(&code))
            && old_name != new_name
        {
            let why = if a.message.trim() != b.message.trim() {
                format!(
                    "the docs' message changed: {:?} → {:?}",
                    a.message.trim(),
                    b.message.trim()
                )
            } else {
                "another code of the operation now has a message of the same name".to_owned()
            };
            out.push(
                ChangeKind::ErrorVariantRenamed,
                rules::error_variant_renamed(typed),
                format!("error code {code}: variant `{old_name}` renamed to `{new_name}` ({why})"),
            );
        }
        match (old_codes.get(&code), new_codes.get(&code)) {
            (None, Some(e)) => out.push(
                ChangeKind::ErrorCodeAdded,
                rules::error_code_added(),
                format!("error code {code} added ({}): {}", status(e), e.message.trim()),
            ),
            (Some(e), None) => out.push(
                ChangeKind::ErrorCodeRemoved,
                rules::error_code_removed(typed),
                format!("error code {code} removed ({}): {}", status(e), e.message.trim()),
            ),
            (Some(a), Some(b)) if a.http_status != b.http_status => {
                out.push(
                    ChangeKind::ErrorStatusChanged,
                    false,
                    format!("error code {code}: {} → {}", status(a), status(b)),
                );
            }
            _ => {}
        }
    }
}

fn scopes(old: &[feishu_spec::Scope], new: &[feishu_spec::Scope], out: &mut Changes) {
    let old_names: BTreeSet<&str> = old.iter().map(|s| s.name.as_str()).collect();
    let new_names: BTreeSet<&str> = new.iter().map(|s| s.name.as_str()).collect();
    for name in old_names.difference(&new_names) {
        out.push(
            ChangeKind::ScopeRemoved,
            rules::scope_changed(),
            format!("scope `{name}` removed"),
        );
    }
    for name in new_names.difference(&old_names) {
        out.push(ChangeKind::ScopeAdded, rules::scope_changed(), format!("scope `{name}` added"));
    }
}

fn tokens(old: &Endpoint, new: &Endpoint, out: &mut Changes) {
    let old_set: BTreeSet<AccessToken> = old.access_tokens.iter().copied().collect();
    let new_set: BTreeSet<AccessToken> = new.access_tokens.iter().copied().collect();
    let (old_auth, new_auth) = (
        Auth::for_tokens(&old.access_tokens).as_str(),
        Auth::for_tokens(&new.access_tokens).as_str(),
    );
    let auth_note = if old_auth != new_auth {
        format!(" (the call authenticates as `Auth::{old_auth}` → `Auth::{new_auth}`)")
    } else {
        String::new()
    };
    for token in old_set.difference(&new_set) {
        let breaking = rules::access_tokens_changed(true, old_auth != new_auth);
        out.push(
            ChangeKind::AccessTokenRemoved,
            breaking,
            format!("access token `{}` no longer accepted{auth_note}", token.as_str()),
        );
    }
    let removed = old_set.difference(&new_set).next().is_some();
    for token in new_set.difference(&old_set) {
        let note = if removed { "" } else { auth_note.as_str() };
        out.push(
            ChangeKind::AccessTokenAdded,
            rules::access_tokens_changed(false, old_auth != new_auth),
            format!("access token `{}` now accepted{note}", token.as_str()),
        );
    }
}

fn rate_limit(old: &Endpoint, new: &Endpoint, out: &mut Changes) {
    let default = feishu_spec::RateLimit::default();
    let a = old.rate_limit.as_ref().unwrap_or(&default);
    let b = new.rate_limit.as_ref().unwrap_or(&default);
    if a == b {
        return;
    }
    let mut parts = Vec::new();
    for (what, x, y) in [
        ("per second", a.per_second, b.per_second),
        ("per minute", a.per_minute, b.per_minute),
        ("per receiver per second", a.per_receiver_per_second, b.per_receiver_per_second),
    ] {
        if x != y {
            let how = match rules::bound_change(Bound::Upper, x.map(f64::from), y.map(f64::from)) {
                Some(Direction::Tighter) => " (tighter)",
                Some(Direction::Looser) => " (looser)",
                None => "",
            };
            parts.push(format!("{what} {} → {}{how}", show(x), show(y)));
        }
    }
    let text = |r: &feishu_spec::RateLimit| {
        if r.text.is_empty() { "none".to_string() } else { format!("`{}`", r.text) }
    };
    let mut line = format!("rate limit {} → {}", text(a), text(b));
    if !parts.is_empty() {
        line.push_str(&format!(": {}", parts.join(", ")));
    }
    out.push(ChangeKind::RateLimitChanged, rules::rate_limit_changed(), line);
}

fn show<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "none".to_string())
}

/// The Rust type a field gets in the generated crate, as far as a change to it
/// matters (as `feishu-model` decides), in words.
fn shape(field: &Field) -> String {
    let has_enum = !field.constraints.enum_values.is_empty();
    let object = |f: &Field| {
        let name: String = f
            .type_name
            .trim_end_matches("[]")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if name.is_empty() || name == "object" {
            "object".to_string()
        } else {
            format!("object {name}")
        }
    };
    match field.field_type {
        FieldType::String if has_enum => "enum".to_string(),
        FieldType::String => "string".to_string(),
        FieldType::Integer => "integer".to_string(),
        FieldType::Number => "number".to_string(),
        FieldType::Boolean => "boolean".to_string(),
        FieldType::File => "file".to_string(),
        FieldType::Object if field.children.is_empty() => "untyped object".to_string(),
        FieldType::Object => object(field),
        FieldType::Array => {
            let item = match field.item_type {
                Some(FieldType::Object) if !field.children.is_empty() => object(field),
                Some(FieldType::String) | None if has_enum => "enum".to_string(),
                Some(FieldType::String) => "string".to_string(),
                Some(FieldType::Integer) => "integer".to_string(),
                Some(FieldType::Number) => "number".to_string(),
                Some(FieldType::Boolean) => "boolean".to_string(),
                _ => "untyped JSON".to_string(),
            };
            format!("array of {item}")
        }
    }
}

/// Whether the field becomes a Rust enum (string values), not a checked value list.
fn rust_enum(field: &Field) -> bool {
    !field.constraints.enum_values.is_empty()
        && (field.field_type == FieldType::String
            || (field.field_type == FieldType::Array
                && matches!(field.item_type, Some(FieldType::String) | None)))
}

fn fields(
    place: FieldPlace,
    prefix: &str,
    old: &[Field],
    new: &[Field],
    typed: bool,
    out: &mut Changes,
) {
    let old_by = by_key(old, |f| f.name.as_str());
    let new_by = by_key(new, |f| f.name.as_str());
    let label = place.label();
    // Old order first, then the new fields in the new page's order.
    let mut names: Vec<&str> = Vec::new();
    for f in old.iter().chain(new) {
        if !names.contains(&f.name.as_str()) {
            names.push(f.name.as_str());
        }
    }
    for name in names {
        let path = format!("{prefix}{name}");
        match (old_by.get(name), new_by.get(name)) {
            (None, Some(f)) => {
                let required = f.required || place == FieldPlace::Path;
                let how = match place {
                    FieldPlace::Response | FieldPlace::Event => String::new(),
                    _ if required => ", required".to_string(),
                    _ => ", optional".to_string(),
                };
                out.push(
                    ChangeKind::FieldAdded,
                    rules::field_added(place, required, typed),
                    format!("{label} `{path}` added ({}{how})", shape(f)),
                );
            }
            (Some(_), None) => out.push(
                ChangeKind::FieldRemoved,
                rules::field_removed(place, typed),
                format!("{label} `{path}` removed"),
            ),
            (Some(a), Some(b)) => field(place, &path, a, b, typed, out),
            (None, None) => {}
        }
    }
}

fn field(place: FieldPlace, path: &str, old: &Field, new: &Field, typed: bool, out: &mut Changes) {
    let label = place.label();
    let (old_shape, new_shape) = (shape(old), shape(new));
    if old_shape != new_shape {
        out.push(
            ChangeKind::FieldRetyped,
            rules::field_retyped(place, typed),
            format!("{label} `{path}`: type `{old_shape}` → `{new_shape}`"),
        );
        return;
    }
    if old.required != new.required && place != FieldPlace::Path {
        let line = if new.required {
            format!("{label} `{path}`: now required")
        } else {
            format!("{label} `{path}`: no longer required")
        };
        out.push(ChangeKind::RequiredChanged, rules::required_changed(place, typed), line);
    }
    constraints(place, path, old, new, typed, out);
    if old.default != new.default {
        let line = match (&old.default, &new.default) {
            (None, Some(b)) => format!("{label} `{path}`: default `{b}` added"),
            (Some(a), None) => format!("{label} `{path}`: default `{a}` removed"),
            (a, b) => format!(
                "{label} `{path}`: default `{}` → `{}`",
                a.as_deref().unwrap_or(""),
                b.as_deref().unwrap_or("")
            ),
        };
        out.push(ChangeKind::DefaultChanged, rules::default_changed(), line);
    }
    let child_prefix =
        if new.field_type == FieldType::Array { format!("{path}[].") } else { format!("{path}.") };
    fields(place, &child_prefix, &old.children, &new.children, typed, out);
}

fn constraints(
    place: FieldPlace,
    path: &str,
    old: &Field,
    new: &Field,
    typed: bool,
    out: &mut Changes,
) {
    let label = place.label();
    let (a, b) = (&old.constraints, &new.constraints);
    // A minimum length or count of 0 is no limit.
    let count = |v: Option<u64>, bound: Bound| {
        v.filter(|&n| bound == Bound::Upper || n > 0).map(|n| n as f64)
    };
    let number = |v: &Option<serde_json::Number>| v.as_ref().and_then(|n| n.as_f64());
    let limits = [
        (
            "min length",
            Bound::Lower,
            count(a.min_length, Bound::Lower),
            count(b.min_length, Bound::Lower),
            show(a.min_length),
            show(b.min_length),
        ),
        (
            "max length",
            Bound::Upper,
            count(a.max_length, Bound::Upper),
            count(b.max_length, Bound::Upper),
            show(a.max_length),
            show(b.max_length),
        ),
        (
            "min items",
            Bound::Lower,
            count(a.min_items, Bound::Lower),
            count(b.min_items, Bound::Lower),
            show(a.min_items),
            show(b.min_items),
        ),
        (
            "max items",
            Bound::Upper,
            count(a.max_items, Bound::Upper),
            count(b.max_items, Bound::Upper),
            show(a.max_items),
            show(b.max_items),
        ),
        (
            "minimum",
            Bound::Lower,
            number(&a.minimum),
            number(&b.minimum),
            show(a.minimum.as_ref()),
            show(b.minimum.as_ref()),
        ),
        (
            "maximum",
            Bound::Upper,
            number(&a.maximum),
            number(&b.maximum),
            show(a.maximum.as_ref()),
            show(b.maximum.as_ref()),
        ),
    ];
    for (what, bound, x, y, x_text, y_text) in limits {
        match rules::bound_change(bound, x, y) {
            Some(direction @ Direction::Tighter) => {
                out.push(
                    ChangeKind::ConstraintTightened,
                    rules::constraint_changed(place, direction, typed),
                    format!("{label} `{path}`: {what} {x_text} → {y_text} (tighter)"),
                );
            }
            Some(direction @ Direction::Looser) => {
                out.push(
                    ChangeKind::ConstraintLoosened,
                    rules::constraint_changed(place, direction, typed),
                    format!("{label} `{path}`: {what} {x_text} → {y_text} (looser)"),
                );
            }
            None => {}
        }
    }
    let old_values: Vec<&str> = a.enum_values.iter().map(|v| v.value.as_str()).collect();
    let new_values: Vec<&str> = b.enum_values.iter().map(|v| v.value.as_str()).collect();
    if old_values.is_empty() && !new_values.is_empty() {
        // Only non-string fields get here (a string gaining values is retyped):
        // `validate()` now checks the list.
        let line = format!("{label} `{path}`: now limited to the values {}", quoted(&new_values));
        out.push(
            ChangeKind::ConstraintTightened,
            rules::constraint_changed(place, Direction::Tighter, typed),
            line,
        );
        return;
    }
    if new_values.is_empty() && !old_values.is_empty() {
        let line =
            format!("{label} `{path}`: no longer limited to the values {}", quoted(&old_values));
        out.push(
            ChangeKind::ConstraintLoosened,
            rules::constraint_changed(place, Direction::Looser, typed),
            line,
        );
        return;
    }
    for value in old_values.iter().filter(|v| !new_values.contains(v)) {
        out.push(
            ChangeKind::EnumValueRemoved,
            rules::enum_value_removed(place, rust_enum(old), typed),
            format!("{label} `{path}`: value `{value}` removed"),
        );
    }
    for value in new_values.iter().filter(|v| !old_values.contains(v)) {
        let description = b
            .enum_values
            .iter()
            .find(|e| e.value == *value)
            .map(|e| e.description.trim())
            .unwrap_or("");
        let line = if description.is_empty() {
            format!("{label} `{path}`: value `{value}` added")
        } else {
            format!("{label} `{path}`: value `{value}` added ({description})")
        };
        out.push(ChangeKind::EnumValueAdded, rules::enum_value_added(), line);
    }
}

fn quoted(values: &[&str]) -> String {
    values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
}
