//! A tracing subscriber that writes down everything, for tests that check
//! what reaches the logs (a field is there, a secret is not).
//!
//! One [`Capture`] serves both kinds of check: [`Capture::text`] is every
//! span and event as a line of text, to search; [`Capture::spans`] gives the
//! spans with their fields (those recorded later included), to look one up
//! by name. Errors are written with their `Display`, `Debug` and sources,
//! since a secret could hide in any of them.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A subscriber that records every span and event; clones share the record.
/// Install it with `tracing::subscriber::set_default(capture.clone())` (one
/// thread) or `set_global_default`.
#[derive(Clone, Default)]
pub struct Capture {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: AtomicU64,
    text: Mutex<String>,
    spans: Mutex<Vec<CapturedSpan>>,
}

/// A span as recorded: its name and its fields, in the order they were set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedSpan {
    /// The span's name, e.g. `feishu.request`.
    pub name: String,
    /// `(field, value)`: a string as it is, anything else by `Debug`.
    pub fields: Vec<(String, String)>,
}

impl CapturedSpan {
    /// The last value recorded for `field`.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.fields.iter().rev().find(|(name, _)| name == field).map(|(_, v)| v.as_str())
    }
}

impl Capture {
    /// Everything recorded, one line per span, span record and event, with
    /// level, target, name and fields.
    pub fn text(&self) -> String {
        self.inner.text.lock().unwrap().clone()
    }

    /// Every span opened so far, in order.
    pub fn spans(&self) -> Vec<CapturedSpan> {
        self.inner.spans.lock().unwrap().clone()
    }

    fn push(&self, line: String) {
        let mut text = self.inner.text.lock().unwrap();
        text.push_str(&line);
        text.push('\n');
    }
}

/// Collects fields both as pairs and as ` name=value` text.
#[derive(Default)]
struct Fields {
    pairs: Vec<(String, String)>,
    text: String,
}

impl Fields {
    fn add(&mut self, field: &tracing::field::Field, value: String) {
        let _ = write!(self.text, " {}={}", field.name(), value);
        self.pairs.push((field.name().to_owned(), value));
    }
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.add(field, format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.add(field, value.to_owned());
    }

    fn record_error(
        &mut self,
        field: &tracing::field::Field,
        value: &(dyn std::error::Error + 'static),
    ) {
        let mut text = format!("{value} ({value:?})");
        let mut source = value.source();
        while let Some(s) = source {
            let _ = write!(text, " caused by: {s} ({s:?})");
            source = s.source();
        }
        self.add(field, text);
    }
}

impl tracing::Subscriber for Capture {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::always()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Fields::default();
        span.record(&mut fields);
        let meta = span.metadata();
        self.push(format!(
            "span#{id} new {} {} {}:{}",
            meta.level(),
            meta.target(),
            meta.name(),
            fields.text
        ));
        let mut spans = self.inner.spans.lock().unwrap();
        // Ids count from 1 in opening order, so a span's index is its id - 1.
        spans.push(CapturedSpan { name: meta.name().to_owned(), fields: fields.pairs });
        tracing::span::Id::from_u64(id)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        self.push(format!("span#{} record:{}", span.into_u64(), fields.text));
        let mut spans = self.inner.spans.lock().unwrap();
        if let Some(entry) =
            usize::try_from(span.into_u64() - 1).ok().and_then(|i| spans.get_mut(i))
        {
            entry.fields.extend(fields.pairs);
        }
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        self.push(format!("event {} {}:{}", meta.level(), meta.target(), fields.text));
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_events_and_later_fields_are_recorded() {
        let capture = Capture::default();
        tracing::subscriber::with_default(capture.clone(), || {
            let span = tracing::info_span!("call", path = "/a", status = tracing::field::Empty);
            span.record("status", 200);
            let error = std::io::Error::other("refused");
            tracing::warn!(error = &error as &(dyn std::error::Error + 'static), "failed");
        });
        let spans = capture.spans();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].name, "call");
        assert_eq!(spans[0].field("path"), Some("/a"));
        assert_eq!(spans[0].field("status"), Some("200"));
        let text = capture.text();
        assert!(text.contains("span#1 new INFO"), "{text}");
        assert!(text.contains("span#1 record: status=200"), "{text}");
        assert!(text.contains("error=refused (Custom"), "{text}");
        assert!(text.contains("message=failed"), "{text}");
    }
}
