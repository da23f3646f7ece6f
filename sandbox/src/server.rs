//! The HTTP side: accept loop, routing of spec endpoints, the request log,
//! faults, auth, rate limits and validation in front of the handlers, and the
//! `X-Tt-Logid` header on every answer.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use feishu_spec::{ContentType, Endpoint, Method, PathTemplate, ResponseContentType};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::SandboxConfig;
use crate::auth::{self, Tokens};
use crate::faults::{Faults, Kind};
use crate::files::{self, Files};
use crate::ids::{self, IdGen, XorShift};
use crate::limits::{self, Limits};
use crate::oauth::OAuth;
use crate::paging::TokenMode;
use crate::reply::Reply;
use crate::store::Store;
use crate::tenants::{TenantStores, Tickets};
use crate::{control, im, oauth, tenants, validate};

/// The largest request body read; larger ones are refused.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Locks a mutex, carrying on after a panic elsewhere (the state stays usable).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counters behind `GET /_sandbox/stats`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub faults_injected: AtomicU64,
}

/// Everything the connections share. Each part has its own lock, held briefly.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SandboxConfig,
    routes: Vec<Route>,
    pub ids: IdGen,
    pub tokens: Mutex<Tokens>,
    /// The data of the self-built app's tenant (`sandbox-tenant`).
    pub store: Mutex<Store>,
    /// The data of each marketplace tenant (see `tenants`).
    pub tenant_stores: TenantStores,
    pub tickets: Mutex<Tickets>,
    /// Wakes the task that pushes app_tickets.
    pub ticket_push: tokio::sync::Notify,
    pub oauth: Mutex<OAuth>,
    pub limits: Mutex<Limits>,
    pub faults: Mutex<Faults>,
    pub files: Mutex<Files>,
    pub paging: Mutex<TokenMode>,
    pub requests: Mutex<Vec<(u64, Value)>>,
    pub stats: Stats,
    pub rng: Mutex<XorShift>,
    pub portal: crate::portal::Portal,
    pub ws: crate::ws::Hub,
    next_request: AtomicU64,
}

impl Shared {
    /// State for a new sandbox serving `config.spec`.
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let mut routes: Vec<Route> =
            config.spec.endpoints.iter().enumerate().map(|(i, e)| Route::new(i, e)).collect();
        // Most specific first: fewer parameters win, then the order of the spec.
        routes.sort_by_key(|r| r.params);
        let portal = crate::portal::Portal::new(config.docs.clone());
        Shared {
            config,
            routes,
            ids: IdGen::default(),
            tokens: Mutex::default(),
            store: Mutex::default(),
            tenant_stores: Mutex::default(),
            tickets: Mutex::default(),
            ticket_push: tokio::sync::Notify::new(),
            oauth: Mutex::default(),
            limits: Mutex::default(),
            faults: Mutex::default(),
            files: Mutex::default(),
            paging: Mutex::default(),
            requests: Mutex::default(),
            stats: Stats::default(),
            rng: Mutex::new(XorShift::from_entropy()),
            portal,
            ws: crate::ws::Hub::default(),
            next_request: AtomicU64::new(0),
        }
    }

    /// The endpoint serving `method path`, with the path parameters.
    fn route(&self, method: Method, path: &str) -> Option<(&Endpoint, Vec<(String, String)>)> {
        self.routes.iter().find_map(|route| {
            let endpoint = &self.config.spec.endpoints[route.endpoint];
            if endpoint.method != method {
                return None;
            }
            route.matches(path).map(|params| (endpoint, params))
        })
    }

    /// Counts a 99991400 answer (and any other rate-limit answer).
    pub(crate) fn count_rate_limited(&self) {
        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Route {
    endpoint: usize,
    template: PathTemplate,
    params: usize,
}

impl Route {
    fn new(endpoint: usize, spec: &Endpoint) -> Self {
        let template = spec.template();
        let params = template.params().len();
        Route { endpoint, template, params }
    }

    fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let params = self.template.matches(path)?;
        Some(
            params
                .into_iter()
                .map(|(name, value)| (name.to_owned(), percent_decode(value, false)))
                .collect(),
        )
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus`); bad escapes stay as they are.
pub(crate) fn percent_decode(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string as `(name, value)` pairs, decoded, in order.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// A request that reached a handler: the endpoint, its decoded parameters and the parsed body.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub endpoint: &'a Endpoint,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// The tenant whose data the call's token opens.
    pub tenant_key: String,
}

impl Call<'_> {
    /// A path parameter, or "".
    pub(crate) fn path_param(&self, name: &str) -> &str {
        self.path_params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The first value of a query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A body field.
    pub(crate) fn field(&self, name: &str) -> Option<&Value> {
        self.body.as_ref().and_then(|b| b.get(name)).filter(|v| !v.is_null())
    }

    /// A string body field.
    pub(crate) fn str_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(Value::as_str)
    }
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by a sandbox fault")
    }
}

impl std::error::Error for Dropped {}

/// Accepts connections until `stopped` fires (or its sender goes away), then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    // Stops with this future, also when the sandbox is dropped and it is aborted.
    let _tickets = tenants::TicketPusher::start(shared.clone());
    let _close_long_connections = crate::ws::CloseOnDrop(shared.clone());
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(shared.clone(), request));
                        let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// One request, from hyper. `Err` closes the connection without an answer.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    if request.uri().path().starts_with("/callback/ws/") {
        return Ok(crate::ws::handle(shared, request).await);
    }
    let log_id = ids::log_id(&shared.ids);
    let (parts, body) = request.into_parts();
    // Uploads are streamed to disk, not read whole like other bodies.
    let header =
        |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (body, upload) = match files::Kind::of_upload(parts.method.as_str(), parts.uri.path()) {
        Some(kind) => {
            let limit = kind.limit(shared.config.upload_limit);
            (
                Ok(Bytes::new()),
                Some(files::receive(kind, limit, header("content-type").as_deref(), body).await),
            )
        }
        None => match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => (Ok(collected.to_bytes()), None),
            Err(error) => (Err(error.to_string()), None),
        },
    };
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query());
    let reply = if path == "/_sandbox" || path.starts_with("/_sandbox/") {
        match body {
            Ok(bytes) => control::handle(&shared, parts.method.as_str(), &path, &bytes).await,
            Err(error) => Reply::control_error(400, format!("could not read the body: {error}")),
        }
    } else if path == "/open-apis" || path.starts_with("/open-apis/") {
        let incoming = OpenApiRequest {
            method: parts.method.as_str().to_string(),
            path,
            query,
            authorization: header("authorization"),
            content_type: header("content-type"),
            body,
            upload,
        };
        match open_api(&shared, incoming).await {
            Some(reply) => reply,
            None => return Err(Dropped),
        }
    } else if shared.portal.serves(&path) {
        // The local doc portal (portal.rs); faults see the path with its query.
        let target = parts.uri.path_and_query().map_or(path.clone(), |p| p.as_str().to_string());
        let language =
            parts.headers.get("accept-language").and_then(|v| v.to_str().ok()).map(str::to_string);
        match crate::portal::handle(&shared, &target, &query, language).await {
            Some(reply) => reply,
            None => return Err(Dropped),
        }
    } else {
        not_found()
    };
    Ok(into_response(reply, &log_id))
}

fn not_found() -> Reply {
    Reply::json(404, json!({ "code": 404, "msg": "404 page not found" }))
}

fn into_response(reply: Reply, log_id: &str) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(reply.status).header("x-tt-logid", log_id);
    // A download names its own type.
    if !reply.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
        builder = builder.header("content-type", reply.content_type);
    }
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(Full::new(Bytes::from(reply.body))).unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::from_static(
            b"{\"code\":500,\"msg\":\"sandbox could not build the response\"}",
        )));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// What the request log and the pipeline need of an `/open-apis` request.
struct OpenApiRequest {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Result<Bytes, String>,
    /// An upload, already streamed to disk (see [`files`]).
    upload: Option<Result<files::Staged, files::Refused>>,
}

/// An `/open-apis` request: logged, faults applied around [`process`]. `None` drops the connection.
async fn open_api(shared: &Shared, mut incoming: OpenApiRequest) -> Option<Reply> {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    let is_multipart = incoming
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/"));
    let (body_json, body_error) = match &incoming.body {
        Ok(bytes) if bytes.is_empty() || is_multipart => (None, None),
        Ok(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => (Some(value), None),
            Err(error) => (None, Some(format!("the body is not valid JSON: {error}"))),
        },
        Err(error) => (None, Some(format!("could not read the body: {error}"))),
    };
    let method = Method::parse(&incoming.method);
    let endpoint_id =
        method.and_then(|m| shared.route(m, &incoming.path)).map(|(e, _)| e.id.clone());
    let record_id = shared.next_request.fetch_add(1, Ordering::Relaxed);
    let record = json!({
        "method": incoming.method,
        "path": incoming.path,
        "query": incoming.query.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        "authorization": incoming.authorization,
        "content_type": incoming.content_type,
        "body": incoming.upload.as_ref().map_or_else(|| body_json.clone().unwrap_or(Value::Null), files::staged_summary),
        "endpoint": endpoint_id,
        "status": null,
        "code": null,
    });
    lock(&shared.requests).push((record_id, record));

    let trimmed = incoming.path.trim_end_matches('/');
    let is_token = trimmed == auth::TENANT_TOKEN_PATH
        || trimmed == auth::APP_TOKEN_PATH
        || tenants::is_token_path(trimmed)
        || trimmed == oauth::TOKEN_PATH;
    let fired = lock(&shared.faults).draw(&incoming.path, is_token);
    shared.stats.faults_injected.fetch_add(fired.len() as u64, Ordering::Relaxed);
    let mut before = None;
    let mut after = None;
    for fault in &fired {
        match (fault.kind, fault.after) {
            (Kind::Delay(wait), false) => tokio::time::sleep(wait).await,
            (kind, false) => before = Some(kind),
            (kind, true) => after = Some(kind),
        }
    }
    let mut reply = match before {
        Some(kind) => fault_reply(shared, kind),
        None => {
            let upload = incoming.upload.take();
            Some(process(shared, &incoming, method, is_token, body_json, body_error, upload))
        }
    };
    if let Some(kind) = after {
        if let Kind::Delay(wait) = kind {
            tokio::time::sleep(wait).await;
        } else {
            reply = fault_reply(shared, kind);
        }
    }

    let mut requests = lock(&shared.requests);
    if let Some((_, record)) = requests.iter_mut().rev().find(|(id, _)| *id == record_id)
        && let Some(reply) = &reply
    {
        record["status"] = reply.status.into();
        record["code"] = reply.code.into();
    }
    reply
}

/// The answer a fault gives instead of the real one; `None` drops the connection.
pub(crate) fn fault_reply(shared: &Shared, kind: Kind) -> Option<Reply> {
    match kind {
        Kind::Status(status) => Some(Reply::text(status, format!("sandbox fault: HTTP {status}"))),
        Kind::Drop => None,
        Kind::RateLimited => {
            shared.count_rate_limited();
            Some(Reply::rate_limited(230020, limits::per_chat(&shared.config.spec), 1))
        }
        Kind::ExpireToken => Some(Reply::error(
            auth::INVALID_TOKEN,
            "Invalid access token for authorization. Please make a request with token attached.",
        )),
        Kind::TooManyRequests(secs) => Some(
            Reply::text(429, "sandbox fault: too many requests")
                .with_header("retry-after", secs.to_string()),
        ),
        Kind::NotJson => Some(Reply {
            content_type: "text/html; charset=utf-8",
            ..Reply::text(200, "<html><body>sandbox fault: not JSON</body></html>")
        }),
        Kind::Delay(_) => None,
    }
}

/// What Feishu itself would answer: tokens, routing, auth, rate limits, validation, then the handler.
fn process(
    shared: &Shared,
    incoming: &OpenApiRequest,
    method: Option<Method>,
    is_token: bool,
    body: Option<Value>,
    body_error: Option<String>,
    upload: Option<Result<files::Staged, files::Refused>>,
) -> Reply {
    let internal = matches!(
        incoming.path.trim_end_matches('/'),
        auth::TENANT_TOKEN_PATH | auth::APP_TOKEN_PATH
    );
    if is_token && internal && incoming.method == "POST" {
        if let Some(error) = body_error {
            return Reply::error(9499, format!("Bad Request: {error}"));
        }
        let app = incoming.path.trim_end_matches('/') == auth::APP_TOKEN_PATH;
        return auth::token_request(
            &shared.config,
            &mut lock(&shared.tokens),
            &shared.ids,
            body.as_ref(),
            app,
        );
    }
    let path = incoming.path.trim_end_matches('/');
    let accounts = tenants::handle(shared, &incoming.method, path, body.as_ref())
        .or_else(|| oauth::handle(shared, &incoming.method, path, &incoming.query, body.as_ref()));
    if let Some(reply) = accounts {
        return match body_error {
            Some(error) => Reply::error(9499, format!("Bad Request: {error}")),
            None => reply,
        };
    }
    let Some((endpoint, path_params)) = method.and_then(|m| shared.route(m, &incoming.path)) else {
        return not_found();
    };
    let grant = match auth::check_header(&lock(&shared.tokens), incoming.authorization.as_deref()) {
        Ok(grant) => grant,
        Err(reply) => return reply,
    };
    if let Err(reply) = auth::check_kind(endpoint, &grant) {
        return reply;
    }
    if shared.config.rate_limits {
        let rules = limits::endpoint_rules(endpoint);
        let hit =
            lock(&shared.limits).hit(&format!("endpoint:{}", endpoint.id), &rules, Instant::now());
        if let Err(exceeded) = hit {
            shared.count_rate_limited();
            return Reply::rate_limited(99991400, exceeded.limit, exceeded.reset_secs);
        }
    }
    if let Some(error) = body_error {
        return Reply::error(9499, format!("Bad Request: {error}"));
    }
    if let Some(upload) = upload {
        return files::finish_upload(shared, upload);
    }
    let call = Call {
        endpoint,
        path_params,
        query: incoming.query.clone(),
        body,
        tenant_key: grant.tenant_key,
    };
    if let Err(violation) = check(&call) {
        return invalid_param(endpoint, &violation);
    }
    if let Some(reply) = files::handle(shared, &call).or_else(|| im::handle(shared, &call)) {
        return reply;
    }
    default_reply(endpoint)
}

/// Validation against the spec, or against the handler's own fields for an endpoint the spec knows only by name.
fn check(call: &Call<'_>) -> Result<(), validate::Violation> {
    let endpoint = call.endpoint;
    let builtin = (!endpoint.detailed).then(|| im::builtin_fields(&endpoint.id)).flatten();
    let (path, query, body) = match &builtin {
        Some(fields) => (&fields.path[..], &fields.query[..], &fields.body[..]),
        None => (&endpoint.path_params[..], &endpoint.query_params[..], &endpoint.request_body[..]),
    };
    validate::check_path(path, &call.path_params)?;
    validate::check_query(query, &call.query)?;
    if endpoint.request_content_type != Some(ContentType::Multipart) {
        validate::check_body(body, call.body.as_ref())?;
    }
    Ok(())
}

/// The endpoint's "invalid parameter" answer naming the field and rule.
pub(crate) fn invalid_param(endpoint: &Endpoint, violation: &validate::Violation) -> Reply {
    let code = if endpoint.service == "im" { 230001 } else { 99992402 };
    let mut value = json!({
        "code": code,
        "msg": format!("invalid request parameter: {violation}"),
        "error": { "field_violations": [{ "field": violation.field, "description": violation.rule }] },
    });
    if code == 99992402 {
        value["msg"] = format!("field validation failed: {violation}").into();
    }
    Reply::json(400, value)
}

/// The answer of an endpoint without a behaviour of its own.
fn default_reply(endpoint: &Endpoint) -> Reply {
    if endpoint.response_content_type == ResponseContentType::Binary {
        return Reply::binary(format!("sandbox file for {}", endpoint.id).into_bytes());
    }
    let example = endpoint
        .response_example
        .as_ref()
        .filter(|e| e.get("code").and_then(Value::as_i64) == Some(0))
        .and_then(|e| e.get("data"))
        .cloned();
    Reply::success(example.unwrap_or_else(|| json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            parse_query(Some("a=1&b=x%20y+z&c&=&d=%zz&e=%E4%BD%A0")),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into()),
                ("".into(), "".into()),
                ("d".into(), "%zz".into()),
                ("e".into(), "你".into())
            ]
        );
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("a+b%2F", false), "a+b/");
    }

    #[test]
    fn routes_prefer_literal_segments() {
        let endpoint = |id: &str, method: Method, path: &str| Endpoint {
            id: id.into(),
            method,
            path: path.into(),
            ..Endpoint::default()
        };
        let spec = feishu_spec::Spec {
            endpoints: vec![
                endpoint("get", Method::Get, "/open-apis/im/v1/messages/:message_id"),
                endpoint("merge", Method::Post, "/open-apis/im/v1/messages/merge_forward"),
                endpoint("reply", Method::Post, "/open-apis/im/v1/messages/:message_id/reply"),
                endpoint("forward", Method::Post, "/open-apis/im/v1/messages/:message_id"),
                endpoint("batch", Method::Post, "/open-apis/message/v4/batch_send/"),
            ],
            events: vec![],
        };
        let shared = Shared::new(SandboxConfig::new(spec));
        let id = |m, p| shared.route(m, p).map(|(e, params)| (e.id.clone(), params));
        assert_eq!(id(Method::Post, "/open-apis/im/v1/messages/merge_forward").unwrap().0, "merge");
        assert_eq!(
            id(Method::Post, "/open-apis/im/v1/messages/om_1").unwrap(),
            ("forward".into(), vec![("message_id".into(), "om_1".into())])
        );
        assert_eq!(
            id(Method::Get, "/open-apis/im/v1/messages/om%5F1").unwrap().1,
            vec![("message_id".into(), "om_1".into())]
        );
        assert_eq!(id(Method::Post, "/open-apis/im/v1/messages/om_1/reply").unwrap().0, "reply");
        assert_eq!(id(Method::Post, "/open-apis/message/v4/batch_send").unwrap().0, "batch");
        assert!(id(Method::Delete, "/open-apis/im/v1/messages/om_1").is_none());
        assert!(id(Method::Get, "/open-apis/im/v1/nothing").is_none());
    }
}
