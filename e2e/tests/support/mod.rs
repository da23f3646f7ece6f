//! A tiny scripted HTTP/1.1 server on 127.0.0.1 that records every request,
//! plus readers of the spec the generated client was made from.
//!
//! The server answers the tenant token endpoint itself (with [`TOKEN`]) and
//! every other request with the next scripted [`Reply`]; a request with no
//! reply left gets an HTTP 599 that no test expects.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::VecDeque;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use feishu::{Client, ErrorKind, OperationError};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub const TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
pub const APP_ID: &str = "cli_e2e_app";
pub const APP_SECRET: &str = "e2e-app-secret-5f3c9a";
pub const TOKEN: &str = "t-e2e-tenant-token-81d2";
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The request target's path, exactly as sent (still percent-encoded).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(value: Value) -> Self {
        Self { status: 200, headers: vec![("Content-Type".into(), JSON_CONTENT_TYPE.into())], body: serde_json::to_vec(&value).unwrap() }
    }

    /// A successful envelope around `data`.
    pub fn ok(data: Value) -> Self {
        Self::json(json!({"code": 0, "msg": "success", "data": data}))
    }

    /// An error envelope `{code, msg}` with the given HTTP status.
    pub fn error(status: u16, code: i64, msg: &str) -> Self {
        Self::json(json!({"code": code, "msg": msg})).status(status)
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The answer of the tenant token endpoint.
pub fn token_reply(token: &str, expire: i64) -> Reply {
    Reply::json(json!({
        "code": 0,
        "msg": "ok",
        "tenant_access_token": token,
        "expire": expire,
    }))
}

pub struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    accept: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Server {
    /// Starts a server that hands out [`TOKEN`] (valid two hours) and answers
    /// everything else from the script.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let (recorded, replies) = (requests.clone(), script.clone());
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, replies.clone(), recorded.clone()));
            }
        });
        Self { url, requests, script, accept }
    }

    /// Queues the answer to the next non-token request.
    pub fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client without retries: the server answers from a script, one
    /// reply per request, and these tests check how each answer is mapped.
    /// Retries are tested against the sandbox (`sandbox_load.rs`).
    pub fn client(&self) -> Client {
        Client::builder(APP_ID, APP_SECRET).base_url(self.url.clone()).retry(feishu::RetryPolicy::none()).build().unwrap()
    }

    /// Every request, token fetches included, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn token_fetches(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path == TOKEN_PATH).collect()
    }

    /// Requests other than token fetches.
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path != TOKEN_PATH).collect()
    }

    /// The one API request sent so far.
    pub fn only_api_request(&self) -> Recorded {
        let api = self.api_requests();
        assert_eq!(api.len(), 1, "expected exactly one API request: {api:#?}");
        api.into_iter().next().unwrap()
    }
}

fn answer(request: &Recorded, script: &Mutex<VecDeque<Reply>>) -> Reply {
    if request.method == "POST" && request.path == TOKEN_PATH {
        return token_reply(TOKEN, 7200);
    }
    script.lock().unwrap().pop_front().unwrap_or_else(|| Reply {
        status: 599,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"no scripted reply left".to_vec(),
    })
}

async fn serve(stream: TcpStream, script: Arc<Mutex<VecDeque<Reply>>>, recorded: Arc<Mutex<Vec<Recorded>>>) {
    let mut stream = BufReader::new(stream);
    // Keep-alive: the client reuses connections.
    while let Some(request) = read_request(&mut stream).await {
        recorded.lock().unwrap().push(request.clone());
        let reply = answer(&request, &script);
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (n, v) in &reply.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        let out = stream.get_mut();
        if out.write_all(head.as_bytes()).await.is_err() || out.write_all(&reply.body).await.is_err() {
            return;
        }
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target, None),
    };
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = get("content-length") {
        body.resize(len.parse().ok()?, 0);
        stream.read_exact(&mut body).await.ok()?;
    } else if get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Recorded { method, path, query, headers, body })
}

// ---------------------------------------------------------------------------
// The spec.

/// The endpoint `id` (e.g. `im.v1.message.reply`) of `spec/<file>`.
pub fn spec_endpoint(file: &str, id: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
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
                .map(|subs| subs.iter().map(|s| (s["code"].as_i64().expect("sub-error code"), s["message"].as_str().unwrap_or_default().to_owned())).collect())
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
pub fn api_variant<K: ErrorKind>(result: Result<impl Debug, OperationError<K>>) -> OperationError<K> {
    match result {
        Err(e) if e.api_error().is_some() => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Checks that `error` is the documented variant of `expected` (named by
/// the generator's rule from the messages of all of the operation's
/// `documented` codes), carrying the whole envelope.
pub fn assert_documented<K: ErrorKind>(error: &OperationError<K>, expected: &SpecError, documented: &[SpecError], log_id: &str) {
    let code = expected.code;
    assert!(!error.is_unhandled(), "code {code} fell into the catch-all: {error:?}");
    assert!(error.is(error.kind()), "{error:?}");
    assert_eq!(error.code(), Some(code), "{error:?}");
    let pairs: Vec<(i64, &str)> = documented.iter().map(|e| (e.code, e.message.as_str())).collect();
    let names = feishu_model::errors::variant_names(&pairs);
    assert_eq!(variant_name(&error.kind()), names[&code], "code {code} mapped to the wrong variant: {error:?}");
    let api_error = error.api_error().expect("an API error");
    assert_eq!(api_error.code, code);
    assert_eq!(api_error.http_status, expected.http_status);
    assert_eq!(error.http_status(), Some(expected.http_status));
    assert_eq!(api_error.msg, expected.message);
    assert_eq!(api_error.log_id.as_deref(), Some(log_id));
    assert_eq!(error.log_id(), Some(log_id));
}

/// The validation error the call was refused with, failing the test on
/// anything else.
pub fn validation_error<K: ErrorKind>(result: Result<impl Debug, OperationError<K>>) -> feishu_runtime::ValidationError {
    match result {
        Err(e) if e.validation().is_some() => e.validation().cloned().expect("checked"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}
