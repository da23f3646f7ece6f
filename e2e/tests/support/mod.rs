//! The e2e tests' view of the shared test server (`feishu-testkit`), plus
//! readers of the spec the generated client was made from.
//!
//! The server answers the tenant token endpoint itself (with [`TOKEN`]) and
//! every other request with the next scripted [`Reply`]; a request with no
//! reply left gets an HTTP 599 that no test expects.

#![allow(dead_code)] // each test binary uses a different part

use std::fmt::Debug;
use std::ops::Deref;
use std::path::PathBuf;

use feishu::{Client, ErrorKind, OperationError};
#[allow(unused_imports)] // each test binary uses a different part
pub use feishu_testkit::{
    JSON_CONTENT_TYPE, Recorded, Reply, TENANT_TOKEN_PATH as TOKEN_PATH, token_reply,
};
use serde_json::Value;

pub const APP_ID: &str = "cli_e2e_app";
pub const APP_SECRET: &str = "e2e-app-secret-5f3c9a";
pub const TOKEN: &str = "t-e2e-tenant-token-81d2";

/// A scripted [`feishu_testkit::Server`] that also builds clients of the
/// generated crate.
pub struct Server(feishu_testkit::Server);

impl Deref for Server {
    type Target = feishu_testkit::Server;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Server {
    /// Starts a server that hands out [`TOKEN`] (valid two hours) and answers
    /// everything else from the script.
    pub async fn start() -> Self {
        Self(feishu_testkit::Server::scripted(TOKEN).await)
    }

    /// A client without retries: the server answers from a script, one
    /// reply per request, and these tests check how each answer is mapped.
    /// Retries are tested against the sandbox (`sandbox_load.rs`).
    pub fn client(&self) -> Client {
        Client::builder(APP_ID, APP_SECRET)
            .base_url(self.url())
            .retry(feishu::RetryPolicy::none())
            .build()
            .unwrap()
    }

    /// The one API request sent so far.
    pub fn only_api_request(&self) -> Recorded {
        let api = self.api_requests();
        assert_eq!(api.len(), 1, "expected exactly one API request: {api:#?}");
        api.into_iter().next().unwrap()
    }
}

// ---------------------------------------------------------------------------
// The spec.

/// The endpoint `id` (e.g. `im.v1.message.reply`) of `spec/<file>`.
pub fn spec_endpoint(file: &str, id: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let spec: Value = serde_json::from_str(&text).unwrap();
    spec["endpoints"]
        .as_array()
        .expect("the spec has an `endpoints` array")
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in spec/{file}"))
        .clone()
}

/// One documented error code of an endpoint.
#[derive(Clone, Debug)]
pub struct SpecError {
    pub code: i64,
    pub http_status: u16,
    pub message: String,
    /// `(code, message)` of the documented sub-errors.
    pub sub_errors: Vec<(i64, String)>,
}

pub fn spec_errors(file: &str, id: &str) -> Vec<SpecError> {
    let endpoint = spec_endpoint(file, id);
    let errors: Vec<SpecError> = endpoint["errors"]
        .as_array()
        .expect("the endpoint has an `errors` array")
        .iter()
        .map(|e| SpecError {
            code: e["code"].as_i64().expect("error code"),
            http_status: e["http_status"].as_u64().expect("error http_status").try_into().unwrap(),
            message: e["message"].as_str().unwrap_or_default().to_owned(),
            sub_errors: e["sub_errors"]
                .as_array()
                .map(|subs| {
                    subs.iter()
                        .map(|s| {
                            (
                                s["code"].as_i64().expect("sub-error code"),
                                s["message"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    assert!(!errors.is_empty(), "{id} documents no error codes");
    errors
}

/// A code no endpoint of the spec documents.
pub const UNDOCUMENTED_CODE: i64 = 239_999_001;

// ---------------------------------------------------------------------------
// Error assertions.

/// The name of an enum variant, from its `Debug` output.
pub fn variant_name(value: &impl Debug) -> String {
    let debug = format!("{value:?}");
    debug.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default().to_owned()
}

/// The operation's error when the platform answered with a code, failing
/// the test on anything else.
pub fn api_variant<K: ErrorKind>(
    result: Result<impl Debug, OperationError<K>>,
) -> OperationError<K> {
    match result {
        Err(e) if e.api_error().is_some() => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Checks that `error` is the documented variant of `expected` (named by
/// the generator's rule from the messages of all of the operation's
/// `documented` codes), carrying the whole envelope.
pub fn assert_documented<K: ErrorKind>(
    error: &OperationError<K>,
    expected: &SpecError,
    documented: &[SpecError],
    log_id: &str,
) {
    let code = expected.code;
    assert!(!error.is_unhandled(), "code {code} fell into the catch-all: {error:?}");
    assert!(error.is(error.kind()), "{error:?}");
    assert_eq!(error.code(), Some(code), "{error:?}");
    let pairs: Vec<(i64, &str)> = documented.iter().map(|e| (e.code, e.message.as_str())).collect();
    let names = feishu_model::errors::variant_names(&pairs);
    assert_eq!(
        variant_name(&error.kind()),
        names[&code],
        "code {code} mapped to the wrong variant: {error:?}"
    );
    let api_error = error.api_error().expect("an API error");
    assert_eq!(api_error.code, code);
    assert_eq!(api_error.http_status, expected.http_status);
    assert_eq!(error.http_status(), Some(expected.http_status));
    assert_eq!(api_error.msg, expected.message);
    assert_eq!(api_error.log_id.as_deref(), Some(log_id));
    assert_eq!(error.log_id(), Some(log_id));
}

/// Answers `call` with each error code documented for `id` (in
/// `spec/<file>`) in turn, each with its documented HTTP status and message
/// and a log id of its own, and checks that the code maps to its documented
/// variant ([`assert_documented`]), one request per code. Returns the server,
/// for checks of what else the calls sent.
pub async fn assert_every_documented_code<K: ErrorKind, T: Debug>(
    file: &str,
    id: &str,
    call: impl AsyncFn(&Client) -> Result<T, OperationError<K>>,
) -> Server {
    let errors = spec_errors(file, id);
    let server = Server::start().await;
    let client = server.client();
    for expected in &errors {
        let log_id = format!("log-{}", expected.code);
        server.push(
            Reply::error(expected.http_status, expected.code, &expected.message)
                .header("X-Tt-Logid", &log_id),
        );
        let error = api_variant(call(&client).await);
        assert_documented(&error, expected, &errors, &log_id);
    }
    assert_eq!(server.api_requests().len(), errors.len());
    server
}

/// The validation error the call was refused with, failing the test on
/// anything else.
pub fn validation_error<K: ErrorKind>(
    result: Result<impl Debug, OperationError<K>>,
) -> feishu_runtime::ValidationError {
    match result {
        Err(e) if e.validation().is_some() => e.validation().cloned().expect("checked"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}
