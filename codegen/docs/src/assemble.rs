//! Assembly: a page as [extracted](crate::extract) becomes endpoints and
//! events. Extraction only records what the blocks say; here rows settle
//! into field trees, examples are checked against them, and whatever the
//! page gives but no endpoint takes is reported.

use feishu_spec::{ContentType, Event, Field, FieldType, Spec};
use serde_json::Value;

use crate::check;
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::extract::RawPage;
use crate::fields::{self, RawField};
use crate::nesting::{self, Settled, Settlement};
use crate::{push_unique, rules};

impl RawPage {
    /// Turns the extracted page into its endpoints and events: sub-codes
    /// join their codes, field rows settle into trees, examples are checked
    /// against them, and what belongs nowhere becomes a diagnostic.
    pub(crate) fn assemble(mut self, diags: &mut Diagnostics) -> Spec {
        for (parent, line, sub) in std::mem::take(&mut self.pending_sub_errors) {
            let target = match parent {
                Some(code) => self.endpoint.errors.iter_mut().find(|e| e.code == code),
                None => None,
            };
            match target {
                Some(error) => error.sub_errors.push(sub),
                None => diags.push(
                    line,
                    DiagnosticKind::BadErrorCode,
                    format!("sub-code {} under an error code the page does not list", sub.code),
                ),
            }
        }
        let mut spec = Spec {
            endpoints: std::mem::take(&mut self.catalogue),
            events: std::mem::take(&mut self.events),
        };
        if let Some(event) = self.event(diags) {
            spec.events.push(event);
        }
        let (Some(method), Some(path)) = (self.method, self.path.clone()) else {
            if spec.endpoints.is_empty() && spec.events.is_empty() {
                diags.push(0, DiagnosticKind::NoEndpoint, "the page states no HTTP method and URL");
            }
            let all = [
                &self.headers,
                &self.path_params,
                &self.query_params,
                &self.request,
                &self.response,
            ];
            for row in all.into_iter().flatten() {
                diags.push(
                    row.line,
                    DiagnosticKind::NoEndpoint,
                    format!("field `{}` on a page without an endpoint", row.field.name),
                );
            }
            for (line, what) in &self.stray_rows {
                diags.push(*line, DiagnosticKind::NoEndpoint, what.clone());
            }
            return spec;
        };
        for (line, what) in &self.stray_rows {
            diags.push(*line, DiagnosticKind::UnknownTable, what.clone());
        }
        let mut ep = std::mem::take(&mut self.endpoint);
        ep.method = method;
        ep.path = path;
        ep.title = self.title.clone();
        ep.description = self.description.join("\n");
        if let Some(n) = self.per_receiver {
            ep.rate_limit.get_or_insert_with(Default::default).per_receiver_per_second = Some(n);
        }
        ep.doc_url = self.doc_url.clone();
        ep.detailed = true;
        ep.sources = vec![self.file.clone()];
        if ep.scopes.iter().all(|s| s.description.is_empty())
            && ep.scopes.len() == self.scope_names.len()
        {
            for (scope, name) in ep.scopes.iter_mut().zip(&self.scope_names) {
                scope.description = name.clone();
            }
        }
        for header in &self.headers {
            if header.field.name.eq_ignore_ascii_case("Authorization") {
                push_unique(&mut ep.access_tokens, rules::access_tokens(&header.field.description));
            }
            if header.field.name.eq_ignore_ascii_case("Content-Type") {
                let value =
                    header.field.fixed.clone().unwrap_or_else(|| header.field.description.clone());
                if value.contains("multipart") {
                    ep.request_content_type = Some(ContentType::Multipart);
                } else if value.contains("json") {
                    ep.request_content_type = Some(ContentType::Json);
                }
            }
        }
        ep.access_tokens.sort();
        ep.headers = self.headers.iter().map(|r| r.field.clone()).collect();
        ep.path_params = fields::tree_by_levels(&self.path_params);
        ep.query_params = fields::tree_by_levels(&self.query_params);
        let request_example = self.request_example.as_ref().map(|(_, v)| v);
        ep.request_body = self.settle(&self.request, request_example, "request body", diags);
        let response_example = self.response_example.as_ref().map(|(_, v)| v);
        let response = self.settle(&self.response, response_example, "response body", diags);
        ep.response_body = data_fields(response);
        if ep.request_body.iter().any(|f| f.field_type == FieldType::File) {
            ep.request_content_type = Some(ContentType::Multipart);
        } else if ep.request_content_type.is_none() && !ep.request_body.is_empty() {
            ep.request_content_type = Some(ContentType::Json);
        }
        if let Some((line, example)) = &self.request_example {
            mistyped(*line, "request example", "", &ep.request_body, example, diags);
            for key in check::unknown_keys(&ep.request_body, example) {
                diags.push(
                    *line,
                    DiagnosticKind::ExampleKeyNotField,
                    format!("request example key `{key}` is not a request body field"),
                );
            }
        }
        if let Some((line, example)) = &self.response_example
            && let Some(data) = example.get("data")
        {
            mistyped(*line, "response example", "data.", &ep.response_body, data, diags);
            for key in check::unknown_keys(&ep.response_body, data) {
                diags.push(
                    *line,
                    DiagnosticKind::ExampleKeyNotField,
                    format!("response example key `data.{key}` is not a response body field"),
                );
            }
        }
        ep.request_example = self.request_example.take().map(|(_, v)| v);
        ep.response_example = self.response_example.take().map(|(_, v)| v);
        spec.endpoints.push(ep);
        spec
    }

    /// The event an event page describes: its type, scopes and the fields inside `event`.
    fn event(&mut self, diags: &mut Diagnostics) -> Option<Event> {
        let event_type = self.event_type.take()?;
        let example = self.event_example.take();
        let rows = std::mem::take(&mut self.event_body);
        let tree = self.settle(&rows, example.as_ref().map(|(_, v)| v), "event body", diags);
        let body =
            tree.iter().find(|f| f.name == "event").map(|f| f.children.clone()).unwrap_or_else(
                || {
                    tree.into_iter()
                        .filter(|f| !matches!(f.name.as_str(), "schema" | "header"))
                        .collect()
                },
            );
        if let Some((line, value)) = &example
            && let Some(inner) = value.get("event")
        {
            mistyped(*line, "event example", "event.", &body, inner, diags);
            for key in check::unknown_keys(&body, inner) {
                diags.push(
                    *line,
                    DiagnosticKind::ExampleKeyNotField,
                    format!("event example key `event.{key}` is not an event body field"),
                );
            }
        }
        let mut scopes = std::mem::take(&mut self.endpoint.scopes);
        if scopes.iter().all(|s| s.description.is_empty()) && scopes.len() == self.scope_names.len()
        {
            for (scope, name) in scopes.iter_mut().zip(&self.scope_names) {
                scope.description = name.clone();
            }
        }
        Some(Event {
            event_type,
            title: self.title.clone(),
            description: self.description.join("\n"),
            doc_url: self.doc_url.clone(),
            scopes,
            app_types: std::mem::take(&mut self.endpoint.app_types),
            body,
            example: example.map(|(_, v)| v),
            sources: vec![self.file.clone()],
            ..Event::default()
        })
    }

    fn settle(
        &self,
        rows: &[RawField],
        example: Option<&Value>,
        what: &str,
        diags: &mut Diagnostics,
    ) -> Vec<Field> {
        let Settlement { mut tree, how, guesses } = nesting::settle(rows, example);
        let line = rows.first().map_or(0, |r| r.line);
        match how {
            Settled::AsStated => {}
            Settled::FromExample => {
                diags.push(line, DiagnosticKind::NestingRebuilt, format!("{what}: the table's nesting does not fit the JSON example; rebuilt from the example"))
            }
            Settled::Guessed => diags.push(
                line,
                DiagnosticKind::NestingGuessed,
                format!("{what}: the table lost its nesting and no example gives it; each object took the rows after it"),
            ),
        }
        for guess in guesses {
            let place = if guess.parent.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in `{}`", guess.parent)
            };
            diags.push(
                guess.line,
                DiagnosticKind::NestingGuessed,
                format!(
                    "{what}: `{}` is not in the JSON example and the table states no level; placed {place} by guess",
                    guess.name
                ),
            );
        }
        if let Some(example) = example {
            let mut shown = check::arrays_shown(&mut tree, example);
            // A table of `data`'s rows alone, or of `event`'s, beside the
            // whole envelope's example.
            for inner in ["data", "event"] {
                if !tree.iter().any(|f| f.name == inner)
                    && let Some(value) = example.get(inner)
                {
                    shown.extend(check::arrays_shown(&mut tree, value));
                }
            }
            for path in shown {
                let name = path.rsplit('.').next().unwrap_or(&path);
                let row = rows.iter().find(|r| r.field.name == name);
                diags.push(
                    row.map_or(line, |r| r.line),
                    DiagnosticKind::TypeFromExample,
                    format!("{what}: `{path}` names no type; a list of objects, as the JSON example shows"),
                );
            }
        }
        let filled = nesting::apply_notes(&mut tree, &self.notes);
        if !filled.is_empty() {
            diags.push(
                line,
                DiagnosticKind::NestingRebuilt,
                format!(
                    "{what}: fields of {} taken from the type notes (类型额外说明)",
                    filled.join(", ")
                ),
            );
        }
        tree
    }
}

/// Records each value of an example whose JSON type its table row
/// contradicts, naming both sides; the spec keeps the table's type.
fn mistyped(
    line: usize,
    what: &str,
    prefix: &str,
    fields: &[Field],
    example: &Value,
    diags: &mut Diagnostics,
) {
    for (path, shows, says) in check::mistyped_values(fields, example) {
        diags.push(
            line,
            DiagnosticKind::ExampleValueNotFieldType,
            format!("{what} `{prefix}{path}` is {shows}, where the table says `{says}`; the spec follows the table"),
        );
    }
}

/// The fields inside `data` of a response table (the envelope's `code` and `msg` dropped).
fn data_fields(response: Vec<Field>) -> Vec<Field> {
    if let Some(data) = response.iter().find(|f| f.name == "data") {
        return data.children.clone();
    }
    response.into_iter().filter(|f| !matches!(f.name.as_str(), "code" | "msg")).collect()
}
