//! The API change between two specs, stated plainly, with what breaks.
//!
//! [`diff`] compares two [`Spec`]s endpoint by endpoint and event by event and
//! returns a [`Report`]: one [`Change`] per thing a reviewer should know
//! (fields added, removed or retyped, required-ness, constraints, defaults,
//! error codes, scopes, tokens, rate limits), each marked breaking or not for
//! code that uses the generated crate. The rules live in [`rules`], one small
//! function each. [`Report::to_markdown`] prints the report for a PR.

mod endpoints;
mod events;
mod fields;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use feishu_model::is_typed;
use feishu_spec::Spec;

use endpoints::endpoint;
use events::{event, typed_event};

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
