//! A tracing subscriber that writes down every span and event field, for
//! tests that check what reaches the logs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub type FieldList = Vec<(String, String)>;

/// A subscriber that writes down every span and event field.
#[derive(Default)]
pub struct Capture {
    next_id: AtomicU64,
    pub spans: Mutex<HashMap<u64, (String, FieldList)>>,
    pub events: Mutex<Vec<FieldList>>,
}

struct Fields<'a>(&'a mut FieldList);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

pub struct Subscriber(pub Arc<Capture>);

impl tracing::Subscriber for Subscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.0.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        self.0.spans.lock().unwrap().insert(id, (span.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(id)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut spans = self.0.spans.lock().unwrap();
        let entry = spans.get_mut(&span.into_u64()).unwrap();
        values.record(&mut Fields(&mut entry.1));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Capture {
    /// Every span and event, one per line, fields included.
    pub fn text(&self) -> String {
        let mut everything = String::new();
        for (name, fields) in self.spans.lock().unwrap().values() {
            everything.push_str(&format!("{name} {fields:?}\n"));
        }
        for fields in self.events.lock().unwrap().iter() {
            everything.push_str(&format!("{fields:?}\n"));
        }
        everything
    }
}
