//! What changed in one endpoint: method, path, content types, tokens, scopes,
//! rate limit and error codes (its fields are `fields`'s).

use std::collections::{BTreeMap, BTreeSet};

use feishu_model::{Auth, is_typed};
use feishu_spec::{AccessToken, ContentType, Endpoint, ResponseContentType};

use super::fields::{fields, show};
use super::{ChangeKind, Changes};
use crate::rules::{self, Bound, Direction, FieldPlace};

pub(super) fn content_type_name(content: Option<ContentType>) -> &'static str {
    match content {
        None => "none",
        Some(ContentType::Json) => "JSON",
        Some(ContentType::Multipart) => "multipart",
    }
}

pub(super) fn endpoint(old: &Endpoint, new: &Endpoint, out: &mut Changes) {
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

pub(super) fn errors(old: &Endpoint, new: &Endpoint, typed: bool, out: &mut Changes) {
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

pub(super) fn scopes(old: &[feishu_spec::Scope], new: &[feishu_spec::Scope], out: &mut Changes) {
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

pub(super) fn tokens(old: &Endpoint, new: &Endpoint, out: &mut Changes) {
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

pub(super) fn rate_limit(old: &Endpoint, new: &Endpoint, out: &mut Changes) {
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
