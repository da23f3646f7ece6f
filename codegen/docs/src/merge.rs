//! Merging what several pages say about one endpoint or event (then
//! [`naming`](crate::naming) names the result).
//!
//! Pages are merged in a fixed order (detail pages before catalogues, then by
//! file name), so the outcome never depends on the order files were given.
//! Facts one page lacks are taken from the other; where both state a fact and
//! disagree, the more specific one is kept and a [`DiagnosticKind::Conflict`]
//! names both files.

use std::collections::BTreeMap;

use feishu_spec::{Constraints, Endpoint, ErrorCode, Event, Field, Spec};

use crate::diag::{Diagnostic, DiagnosticKind};
use crate::{naming, push_unique};

/// Merges per-page specs into one, naming every endpoint and event.
pub fn merge(mut pages: Vec<Spec>, diagnostics: &mut Vec<Diagnostic>) -> Spec {
    let mut endpoints: Vec<Endpoint> =
        pages.iter_mut().flat_map(|p| std::mem::take(&mut p.endpoints)).collect();
    endpoints.sort_by(|a, b| b.detailed.cmp(&a.detailed).then_with(|| a.sources.cmp(&b.sources)));
    let mut by_key: BTreeMap<(String, feishu_spec::Method), Endpoint> = BTreeMap::new();
    for endpoint in endpoints {
        // Pages spell one route's parameters differently (`:spreadsheetToken`
        // in a catalogue, `:spreadsheet_token` on the detail page): the
        // route's shape, not the spelling, names the endpoint.
        match by_key.entry((endpoint.template().shape(), endpoint.method)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(endpoint);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let endpoint = respell_path_params(o.get(), endpoint, diagnostics);
                merge_endpoint(o.get_mut(), endpoint, diagnostics)
            }
        }
    }
    let mut events_by_type: BTreeMap<String, Event> = BTreeMap::new();
    let mut events: Vec<Event> =
        pages.iter_mut().flat_map(|p| std::mem::take(&mut p.events)).collect();
    events.sort_by(|a, b| a.sources.cmp(&b.sources));
    for event in events {
        match events_by_type.entry(event.event_type.clone()) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(event);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let kept = o.get_mut();
                fill(&mut kept.title, event.title);
                fill(&mut kept.description, event.description);
                if kept.doc_url.is_none() {
                    kept.doc_url = event.doc_url;
                }
                push_unique(&mut kept.scopes, event.scopes);
                push_unique(&mut kept.app_types, event.app_types);
                let mut clash = |what: String| {
                    conflict(
                        diagnostics,
                        Clash {
                            what: format!("event {}: {what}", kept.event_type),
                            ours: &kept.sources.clone(),
                            theirs: &event.sources.clone(),
                        },
                    )
                };
                merge_fields(&mut kept.body, event.body, "event", &mut clash);
                if kept.example.is_none() {
                    kept.example = event.example;
                }
                push_unique(&mut kept.sources, event.sources);
            }
        }
    }
    let mut endpoints: Vec<Endpoint> = by_key.into_values().collect();
    // Other methods on the route take the spelling too: one path, one set
    // of parameter names (OpenAPI, for one, requires it). The detail pages'
    // spelling wins, then the first source's.
    let mut spelling: BTreeMap<String, (bool, Vec<String>, Endpoint)> = BTreeMap::new();
    for ep in &endpoints {
        let candidate = (!ep.detailed, ep.sources.clone());
        let entry = spelling
            .entry(ep.template().shape())
            .or_insert_with(|| (!ep.detailed, ep.sources.clone(), ep.clone()));
        if candidate < (entry.0, entry.1.clone()) {
            *entry = (!ep.detailed, ep.sources.clone(), ep.clone());
        }
    }
    for ep in &mut endpoints {
        let canonical = &spelling[&ep.template().shape()].2;
        if canonical.path != ep.path {
            let respelled = respell_path_params(canonical, std::mem::take(ep), diagnostics);
            *ep = respelled;
        }
    }
    let mut spec = Spec { endpoints, events: events_by_type.into_values().collect() };
    naming::name_all(&mut spec);
    spec.sort();
    spec
}

/// Gives `other` the parameter names of `kept` (by position) when the two
/// spell one route differently, renaming its documented path parameters to
/// match, so that merging them adds no stray parameter. The difference is a
/// `conflict` diagnostic.
fn respell_path_params(
    kept: &Endpoint,
    mut other: Endpoint,
    diagnostics: &mut Vec<Diagnostic>,
) -> Endpoint {
    let (kept_template, other_template) = (kept.template(), other.template());
    let (ours, theirs) = (kept_template.params(), other_template.params());
    if ours == theirs {
        return other;
    }
    conflict(
        diagnostics,
        Clash {
            what: format!(
                "{} {}: path parameters spelled {theirs:?} against {ours:?}",
                other.method.as_str(),
                kept.path
            ),
            ours: &kept.sources,
            theirs: &other.sources,
        },
    );
    for field in &mut other.path_params {
        if let Some(at) = theirs.iter().position(|n| *n == field.name)
            && let Some(name) = ours.get(at)
        {
            field.name = (*name).to_owned();
        }
    }
    other.path = kept.path.clone();
    other
}

struct Clash<'a> {
    what: String,
    ours: &'a [String],
    theirs: &'a [String],
}

fn conflict(diagnostics: &mut Vec<Diagnostic>, clash: Clash<'_>) {
    diagnostics.push(Diagnostic {
        file: clash.theirs.join(", "),
        line: 0,
        kind: DiagnosticKind::Conflict,
        message: format!("{} (kept the fact of {})", clash.what, clash.ours.join(", ")),
    });
}

fn merge_endpoint(kept: &mut Endpoint, other: Endpoint, diagnostics: &mut Vec<Diagnostic>) {
    let ours = kept.sources.clone();
    let theirs = other.sources.clone();
    let mut clash =
        |what: String| conflict(diagnostics, Clash { what, ours: &ours, theirs: &theirs });
    let key = format!("{} {}", kept.method.as_str(), kept.path);
    fill(&mut kept.title, other.title);
    // A detail page's description beats a catalogue summary; between two detail pages the fuller one wins.
    if kept.description.is_empty()
        || (other.detailed == kept.detailed
            && other.description.chars().count() > kept.description.chars().count())
    {
        kept.description = other.description;
    }
    if kept.doc_url.is_none() {
        kept.doc_url = other.doc_url;
    }
    match (&kept.rate_limit, other.rate_limit) {
        (None, theirs) => kept.rate_limit = theirs,
        (Some(a), Some(b)) if a.per_second != b.per_second || a.per_minute != b.per_minute => {
            clash(format!("{key}: rate limit `{}` against `{}`", a.text, b.text));
        }
        (Some(_), Some(b)) => {
            // The prose limit may be on one page only; the stricter one holds.
            let kept = kept.rate_limit.as_mut().expect("matched Some");
            kept.per_receiver_per_second =
                match (kept.per_receiver_per_second, b.per_receiver_per_second) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
            if kept.text.is_empty() {
                kept.text = b.text;
            }
        }
        _ => {}
    }
    for (name, a, b) in [
        ("scopes", &mut kept.scopes, other.scopes),
        ("field scopes", &mut kept.field_scopes, other.field_scopes),
    ] {
        let a_names: Vec<String> = a.iter().map(|s| s.name.clone()).collect();
        let b_names: Vec<String> = b.iter().map(|s| s.name.clone()).collect();
        if !a.is_empty() && !b.is_empty() && {
            let mut x = a_names.clone();
            let mut y = b_names.clone();
            x.sort();
            y.sort();
            x != y
        } {
            clash(format!(
                "{key}: {name} [{}] against [{}]; kept the union",
                a_names.join(", "),
                b_names.join(", ")
            ));
        }
        for scope in b {
            match a.iter_mut().find(|s| s.name == scope.name) {
                Some(s) => fill(&mut s.description, scope.description),
                None => a.push(scope),
            }
        }
    }
    if !kept.access_tokens.is_empty()
        && !other.access_tokens.is_empty()
        && kept.access_tokens != other.access_tokens
    {
        clash(format!(
            "{key}: access tokens {:?} against {:?}; kept the union",
            kept.access_tokens, other.access_tokens
        ));
    }
    push_unique(&mut kept.access_tokens, other.access_tokens);
    kept.access_tokens.sort();
    push_unique(&mut kept.app_types, other.app_types);
    kept.app_types.sort();
    if kept.request_content_type.is_none() {
        kept.request_content_type = other.request_content_type;
    }
    if other.response_content_type != feishu_spec::ResponseContentType::Json {
        kept.response_content_type = other.response_content_type;
    }
    let mut field_clash = |what: String| clash(format!("{key}: {what}"));
    merge_fields(&mut kept.headers, other.headers, "header", &mut field_clash);
    merge_fields(&mut kept.path_params, other.path_params, "path", &mut field_clash);
    merge_fields(&mut kept.query_params, other.query_params, "query", &mut field_clash);
    merge_fields(&mut kept.request_body, other.request_body, "request", &mut field_clash);
    merge_fields(&mut kept.response_body, other.response_body, "response", &mut field_clash);
    merge_errors(&mut kept.errors, other.errors, &mut field_clash);
    if kept.request_example.is_none() {
        kept.request_example = other.request_example;
    }
    if kept.response_example.is_none() {
        kept.response_example = other.response_example;
    }
    kept.detailed |= other.detailed;
    push_unique(&mut kept.sources, other.sources);
}

fn merge_fields(kept: &mut Vec<Field>, other: Vec<Field>, at: &str, clash: &mut dyn FnMut(String)) {
    for field in other {
        let path = format!("{at}.{}", field.name);
        match kept.iter_mut().find(|f| f.name == field.name) {
            None => kept.push(field),
            Some(k) => {
                if k.type_name != field.type_name
                    && !k.type_name.is_empty()
                    && !field.type_name.is_empty()
                {
                    clash(format!(
                        "`{path}` has type `{}` against `{}`",
                        k.type_name, field.type_name
                    ));
                }
                fill(&mut k.type_name, field.type_name);
                if k.item_type.is_none() {
                    k.item_type = field.item_type;
                }
                if k.required != field.required {
                    // Only one capture states requiredness in most disagreements; requiring is the safer reading.
                    k.required = true;
                }
                if field.description.chars().count() > k.description.chars().count() {
                    k.description = field.description;
                }
                fill_opt(&mut k.example, field.example);
                if let (Some(a), Some(b)) = (&k.default, &field.default)
                    && a != b
                {
                    clash(format!("`{path}` defaults to `{a}` against `{b}`"));
                }
                fill_opt(&mut k.default, field.default);
                fill_opt(&mut k.fixed, field.fixed);
                merge_constraints(&mut k.constraints, field.constraints, &path, clash);
                push_unique(&mut k.scopes, field.scopes);
                merge_fields(&mut k.children, field.children, &path, clash);
            }
        }
    }
}

fn merge_constraints(
    kept: &mut Constraints,
    other: Constraints,
    path: &str,
    clash: &mut dyn FnMut(String),
) {
    macro_rules! one {
        ($name:ident) => {
            match (&kept.$name, other.$name) {
                (None, theirs) => kept.$name = theirs,
                (Some(a), Some(b)) if *a != b => {
                    clash(format!("`{path}` {} is {} against {}", stringify!($name), a, b))
                }
                _ => {}
            }
        };
    }
    one!(min_length);
    one!(max_length);
    one!(min_items);
    one!(max_items);
    one!(minimum);
    one!(maximum);
    for value in other.enum_values {
        match kept.enum_values.iter_mut().find(|v| v.value == value.value) {
            Some(v) => fill(&mut v.description, value.description),
            None => kept.enum_values.push(value),
        }
    }
}

fn merge_errors(kept: &mut Vec<ErrorCode>, other: Vec<ErrorCode>, clash: &mut dyn FnMut(String)) {
    for error in other {
        match kept.iter_mut().find(|e| e.code == error.code) {
            None => kept.push(error),
            Some(k) => {
                if !k.message.is_empty()
                    && !error.message.is_empty()
                    && k.message.trim() != error.message.trim()
                {
                    clash(format!(
                        "error {} says `{}` against `{}`",
                        error.code, k.message, error.message
                    ));
                }
                fill(&mut k.message, error.message);
                fill(&mut k.hint, error.hint);
                if k.http_status.is_none() {
                    k.http_status = error.http_status;
                }
                for sub in error.sub_errors {
                    if !k.sub_errors.iter().any(|s| s.code == sub.code) {
                        k.sub_errors.push(sub);
                    }
                }
            }
        }
    }
}

fn fill(kept: &mut String, other: String) {
    if kept.is_empty() {
        *kept = other;
    }
}

fn fill_opt<T>(kept: &mut Option<T>, other: Option<T>) {
    if kept.is_none() {
        *kept = other;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feishu_spec::Method;

    #[test]
    fn merges_two_captures_of_one_endpoint() {
        let field = |name: &str, desc: &str, max: Option<u64>| Field {
            name: name.into(),
            description: desc.into(),
            constraints: Constraints { max_items: max, ..Constraints::default() },
            ..Field::default()
        };
        let a = Endpoint {
            path: "/x".into(),
            method: Method::Post,
            detailed: true,
            sources: vec!["a.md".into()],
            request_body: vec![field("f", "short", Some(3))],
            ..Endpoint::default()
        };
        let mut b = Endpoint {
            path: "/x/".into(),
            method: Method::Post,
            detailed: true,
            sources: vec!["b.md".into()],
            request_body: vec![field("f", "a longer one", Some(4)), field("g", "", None)],
            ..Endpoint::default()
        };
        b.errors.push(ErrorCode { code: 1, message: "m".into(), ..ErrorCode::default() });
        let mut diags = Vec::new();
        let spec = merge(
            vec![
                Spec { endpoints: vec![a], events: vec![] },
                Spec { endpoints: vec![b], events: vec![] },
            ],
            &mut diags,
        );
        assert_eq!(spec.endpoints.len(), 1);
        let ep = &spec.endpoints[0];
        assert_eq!(ep.sources, ["a.md", "b.md"]);
        assert_eq!(ep.request_body.len(), 2);
        assert_eq!(ep.request_body[0].description, "a longer one");
        assert_eq!(ep.request_body[0].constraints.max_items, Some(3));
        assert_eq!(ep.errors.len(), 1);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("max_items is 3 against 4"), "{}", diags[0].message);
        assert!(diags[0].file.contains("b.md") && diags[0].message.contains("a.md"));
    }

    #[test]
    fn one_route_spelled_two_ways_is_one_endpoint() {
        let param = |name: &str, desc: &str| Field {
            name: name.into(),
            description: desc.into(),
            ..Field::default()
        };
        let detail = Endpoint {
            path: "/open-apis/sheets/v2/spreadsheets/:spreadsheet_token/values/:range".into(),
            method: Method::Get,
            detailed: true,
            sources: vec!["detail.md".into()],
            path_params: vec![param("spreadsheet_token", "表格 token"), param("range", "范围")],
            ..Endpoint::default()
        };
        let catalogue = Endpoint {
            path: "/open-apis/sheets/v2/spreadsheets/{spreadsheetToken}/values/:range".into(),
            method: Method::Get,
            sources: vec!["catalogue.md".into()],
            path_params: vec![param("spreadsheetToken", "the token, described longer")],
            ..Endpoint::default()
        };
        let other_method =
            Endpoint { method: Method::Put, sources: vec!["put.md".into()], ..catalogue.clone() };
        let mut diags = Vec::new();
        let spec = merge(
            vec![Spec { endpoints: vec![catalogue, detail, other_method], events: vec![] }],
            &mut diags,
        );
        assert_eq!(spec.endpoints.len(), 2, "{:#?}", spec.endpoints);
        let get = spec.endpoints.iter().find(|e| e.method == Method::Get).unwrap();
        // The detail page's spelling wins, and no stray parameter is added.
        assert_eq!(get.path, "/open-apis/sheets/v2/spreadsheets/:spreadsheet_token/values/:range");
        let names: Vec<&str> = get.path_params.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["spreadsheet_token", "range"]);
        assert_eq!(get.sources, ["detail.md", "catalogue.md"]);
        let spelled: Vec<&Diagnostic> =
            diags.iter().filter(|d| d.message.contains("path parameters spelled")).collect();
        assert_eq!(spelled.len(), 2, "{diags:#?}");
        assert!(
            spelled[0].file.contains("catalogue.md") && spelled[0].message.contains("detail.md")
        );
        // The other method on the route takes the detail page's spelling too.
        let put = spec.endpoints.iter().find(|e| e.method == Method::Put).unwrap();
        assert_eq!(put.path, get.path);
        assert_eq!(put.path_params[0].name, "spreadsheet_token");
        assert!(
            spelled[1].file.contains("put.md") && spelled[1].message.starts_with("PUT "),
            "{:?}",
            spelled[1]
        );
    }
}
