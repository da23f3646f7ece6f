//! The program `cargo xtask examples` adds to a generated crate (as
//! `src/bin/examples_check/main.rs`, beside the `cases.rs` it writes for the
//! crate's own types) to put the doc pages' examples through the crate.
//!
//! It reads a JSON array of cases on stdin (`{"check": N, "value": …}`) and
//! prints one JSON line per case. Responses and event bodies are decoded by
//! the crate's own decoders, as a call and `Event::decode` do, with two
//! observers around the decoder (`serde_ignored` notes every value the type
//! skips as unknown, `serde_path_to_error` names where a decode fails): the
//! observers see the decoder's work, they do not change it. Requests are
//! built from the example through the public API (`new`, then the public
//! fields), every value checked against its field's type on the way, and
//! then validated by the crate's own `validate()`.

mod cases;

use std::io::Read;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("the cases on stdin");
    let list: Vec<Value> = serde_json::from_str(&input).expect("a JSON array of cases");
    let mut out = String::new();
    for case in &list {
        let check = case["check"].as_u64().unwrap_or(u64::MAX) as usize;
        let result = cases::run(check, &case["value"], &case["event_type"]);
        out.push_str(&result.to_string());
        out.push('\n');
    }
    print!("{out}");
}

/// The number of leaf values (strings, numbers, booleans, nulls) in `value`.
fn leaves(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.values().map(leaves).sum(),
        Value::Array(items) => items.iter().map(leaves).sum(),
        _ => 1,
    }
}

/// One step of a path into a JSON value.
enum Step {
    Key(String),
    Index(usize),
}

/// The steps of a path that `serde_ignored` reports.
fn steps(path: &serde_ignored::Path<'_>, out: &mut Vec<Step>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            steps(parent, out);
            out.push(Step::Index(*index));
        }
        Path::Map { parent, key } => {
            steps(parent, out);
            out.push(Step::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => steps(parent, out),
    }
}

/// `a.b[0].c`, the form `validate()` and the report use.
fn dotted(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

fn at<'v>(value: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    steps.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(index) => value.get(index),
    })
}

/// Decodes `bytes` as `T` with the two observers: the paths of the values
/// skipped as unknown, or where and why the decode failed.
fn traced<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<Vec<Step>>, (String, String)> {
    let mut skipped = Vec::new();
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let mut note = |path: serde_ignored::Path<'_>| {
        let mut list = Vec::new();
        steps(&path, &mut list);
        skipped.push(list);
    };
    let observed = serde_ignored::Deserializer::new(&mut json, &mut note);
    let decoded: Result<T, _> = serde_path_to_error::deserialize(observed);
    match decoded {
        Ok(_) => Ok(skipped),
        Err(error) => {
            let path = error.path().to_string();
            let path = if path == "?" || path == "." { String::new() } else { path };
            Err((path, error.into_inner().to_string()))
        }
    }
}

/// The result of decoding `value` as `T` (the decoder's verdict, leaf counts,
/// the values skipped, or where it failed).
fn decoded<T: DeserializeOwned>(value: &Value, tries: &[Value]) -> Value {
    let total = leaves(value);
    let mut failure = None;
    for attempt in tries {
        let bytes = serde_json::to_vec(attempt).expect("JSON");
        match traced::<T>(&bytes) {
            Ok(skipped) => {
                let dropped: usize =
                    skipped.iter().map(|steps| at(value, steps).map_or(0, leaves)).sum();
                let paths: Vec<String> = skipped.iter().map(|steps| dotted(steps)).collect();
                return json!({"ok": true, "total": total, "kept": total - dropped.min(total), "dropped": paths});
            }
            Err(error) => {
                failure.get_or_insert(error);
            }
        }
    }
    let (path, reason) = failure.unwrap_or_default();
    json!({"ok": false, "total": total, "kept": 0, "path": path, "reason": reason})
}

/// A response's `data`, as `feishu_runtime` decodes it for a call: an absent
/// or `null` `data` as `null`, then as `{}`; `{}` as itself, then as `null`.
pub fn response<T: DeserializeOwned>(data: &Value) -> Value {
    let tries = match data {
        Value::Null => vec![Value::Null, json!({})],
        Value::Object(map) if map.is_empty() => vec![json!({}), Value::Null],
        other => vec![other.clone()],
    };
    decoded::<T>(data, &tries)
}

/// An event body, through `Event::decode` (the verdict) and its body type
/// `T` (what it keeps).
pub fn event<T: DeserializeOwned>(event_type: &str, body: &Value) -> Value {
    use feishu::events::Event;
    let verdict = match Event::decode(event_type, body.clone()) {
        Ok(Event::Unknown { .. }) => {
            Err(format!("`Event::decode` gave `Unknown` for {event_type}"))
        }
        Ok(event) if event.event_type() == event_type => Ok(()),
        Ok(event) => Err(format!("`Event::decode` gave {}", event.event_type())),
        Err(error) => Err(error.to_string()),
    };
    let mut result = decoded::<T>(body, std::slice::from_ref(body));
    if let (Err(reason), true) = (verdict, result["ok"] == true) {
        result =
            json!({"ok": false, "total": leaves(body), "kept": 0, "path": "", "reason": reason});
    }
    result
}

/// What building a request from an example found.
#[derive(Default)]
pub struct Ctx {
    /// `(path, reason)` of each finding.
    findings: Vec<(String, String)>,
    /// The leaf values that reached a typed field.
    kept: usize,
}

impl Ctx {
    fn find(&mut self, path: &str, reason: impl Into<String>) {
        self.findings.push((path.to_owned(), reason.into()));
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value of a request built from an example's JSON.
pub trait FromExample: Sized {
    /// The value, or `None` after noting in `ctx` why it cannot be one.
    fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self>;
}

/// A stand-in for a path or query parameter, which a body example does not give.
pub trait Stand: Sized {
    /// Any value of the type.
    fn stand() -> Self;
}

fn scalar<T>(value: &Value, at: &str, ctx: &mut Ctx, what: &str, read: Option<T>) -> Option<T> {
    match read {
        Some(read) => {
            ctx.kept += 1;
            Some(read)
        }
        None => {
            ctx.find(at, format!("expected {what}, found {}", kind(value)));
            None
        }
    }
}

impl FromExample for String {
    fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {
        scalar(value, at, ctx, "a string", value.as_str().map(str::to_owned))
    }
}

impl FromExample for i64 {
    fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {
        scalar(value, at, ctx, "an integer", value.as_i64())
    }
}

impl FromExample for f64 {
    fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {
        scalar(value, at, ctx, "a number", value.as_f64())
    }
}

impl FromExample for bool {
    fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {
        scalar(value, at, ctx, "a boolean", value.as_bool())
    }
}

impl FromExample for Value {
    fn from_example(value: &Value, _: &str, ctx: &mut Ctx) -> Option<Self> {
        ctx.kept += leaves(value);
        Some(value.clone())
    }
}

impl<T: FromExample> FromExample for Vec<T> {
    fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {
        let Some(items) = value.as_array() else {
            ctx.find(at, format!("expected an array, found {}", kind(value)));
            return None;
        };
        let read: Vec<Option<T>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_example(item, &format!("{at}[{i}]"), ctx))
            .collect();
        read.into_iter().collect()
    }
}

macro_rules! ids {
    ($($name:ident),*) => {$(
        impl FromExample for feishu_runtime::ids::$name {
            fn from_example(value: &Value, at: &str, ctx: &mut Ctx) -> Option<Self> {
                String::from_example(value, at, ctx).map(Self::new)
            }
        }
        impl Stand for feishu_runtime::ids::$name {
            fn stand() -> Self {
                Self::new(format!("{}stand_in", Self::PREFIX))
            }
        }
    )*};
}
ids!(MessageId, ChatId, OpenId, UnionId);

impl Stand for String {
    fn stand() -> Self {
        "stand_in".to_owned()
    }
}

impl Stand for i64 {
    fn stand() -> Self {
        1
    }
}

impl Stand for f64 {
    fn stand() -> Self {
        1.0
    }
}

impl Stand for bool {
    fn stand() -> Self {
        false
    }
}

impl<T> Stand for Vec<T> {
    fn stand() -> Self {
        Vec::new()
    }
}

/// A string enum's value; one the docs do not list is a finding.
pub fn enum_value<T: for<'a> From<&'a str>>(
    value: &Value,
    at: &str,
    ctx: &mut Ctx,
    documented: &[&str],
    name: &str,
) -> Option<T> {
    let text = String::from_example(value, at, ctx)?;
    if !documented.contains(&text.as_str()) {
        ctx.kept -= 1;
        ctx.find(at, format!("`{text}` is not a documented value of `{name}`"));
        return None;
    }
    Some(T::from(text.as_str()))
}

/// The object of a struct, with a finding per key that is not one of `fields`.
pub fn object<'v>(
    value: &'v Value,
    at: &str,
    ctx: &mut Ctx,
    fields: &[&str],
    name: &str,
) -> Option<&'v Map<String, Value>> {
    let Some(map) = value.as_object() else {
        ctx.find(at, format!("expected an object (`{name}`), found {}", kind(value)));
        return None;
    };
    for key in map.keys().filter(|key| !fields.contains(&key.as_str())) {
        ctx.find(&join(at, key), format!("not a field of `{name}`"));
    }
    Some(map)
}

/// A field's value: `None` when absent or `null` (a finding when the field
/// is required) or when it does not fit the type.
pub fn field<T: FromExample>(
    map: &Map<String, Value>,
    key: &str,
    at: &str,
    ctx: &mut Ctx,
    required: bool,
) -> Option<T> {
    match map.get(key) {
        None | Some(Value::Null) => {
            if required {
                ctx.find(&join(at, key), "a required field the example leaves out");
            }
            None
        }
        Some(value) => T::from_example(value, &join(at, key), ctx),
    }
}

/// A path or query parameter's stand-in: its documented example when it
/// fits the type, else any value of the type.
pub fn parameter<T: FromExample + Stand>(example: Option<&str>) -> T {
    let mut scratch = Ctx::default();
    example
        .and_then(|text| {
            let value =
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
            T::from_example(&value, "", &mut scratch)
                .or_else(|| T::from_example(&Value::String(text.to_owned()), "", &mut scratch))
        })
        .unwrap_or_else(T::stand)
}

/// A request built from its body example, then validated; `parameters` are
/// the wire names of its path and query fields, whose stand-ins are not the
/// example's to answer for.
pub fn request<T: FromExample + feishu_runtime::Validate>(
    body: &Value,
    parameters: &[&str],
) -> Value {
    let mut ctx = Ctx::default();
    if let Some(request) = T::from_example(body, "", &mut ctx)
        && let Err(error) = request.validate()
    {
        let root = error.field.split(['.', '[']).next().unwrap_or_default();
        let seen = ctx.findings.iter().any(|(path, _)| *path == error.field);
        if !parameters.contains(&root) && !seen {
            ctx.find(
                &error.field,
                format!("fails the generated validation ({}): {}", error.rule, error.detail),
            );
        }
    }
    let findings: Vec<Value> =
        ctx.findings.iter().map(|(path, reason)| json!({"path": path, "reason": reason})).collect();
    json!({
        "ok": findings.is_empty(),
        "total": leaves(body),
        "kept": ctx.kept.min(leaves(body)),
        "findings": findings,
    })
}
