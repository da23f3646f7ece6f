//! An `/open-apis` request, as Feishu itself would answer it: logged, faults
//! applied around it, then the checks in Feishu's order (token requests,
//! routing, token and auth, rate limits, validation) and the handler.

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use feishu_spec::{ContentType, Endpoint, Method, ResponseContentType};
use serde_json::{Value, json};

use crate::call::Call;
use crate::faults::Kind;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::uploads::{self, Refused, Staged};
use crate::validate::{self, invalid_param};
use crate::{auth, files, im, limits, oauth, tenants};

/// What the request log and the pipeline need of an `/open-apis` request.
pub(crate) struct OpenApiRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Result<Bytes, String>,
    /// An upload, already streamed to disk (see [`uploads`]).
    pub upload: Option<Result<Staged, Refused>>,
    /// When it arrived; moved past any injected delay before it is handled
    /// (the instant its rate limits count it at).
    pub at: Instant,
}

/// An `/open-apis` request: logged, faults applied around [`process`]. `None` drops the connection.
pub(crate) async fn open_api(shared: &Shared, mut incoming: OpenApiRequest) -> Option<Reply> {
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
        "body": incoming.upload.as_ref().map_or_else(|| body_json.clone().unwrap_or(Value::Null), uploads::staged_summary),
        "endpoint": endpoint_id,
        "status": null,
        "code": null,
        "at_us": null,
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
    // The instant the rate limits count the request at, logged so that a
    // test can tell which requests shared a window.
    let at = Instant::now();
    let mut reply = match before {
        Some(kind) => shared.fault_reply(kind),
        None => {
            let upload = incoming.upload.take();
            incoming.at = at;
            Some(process(shared, &incoming, method, is_token, body_json, body_error, upload))
        }
    };
    if let Some(kind) = after {
        if let Kind::Delay(wait) = kind {
            tokio::time::sleep(wait).await;
        } else {
            reply = shared.fault_reply(kind);
        }
    }

    let mut requests = lock(&shared.requests);
    if let Some((_, record)) = requests.iter_mut().rev().find(|(id, _)| *id == record_id) {
        record["at_us"] = (at.duration_since(shared.started).as_micros() as u64).into();
        if let Some(reply) = &reply {
            record["status"] = reply.status.into();
            record["code"] = reply.code.into();
        }
    }
    reply
}

/// What Feishu itself would answer: tokens, routing, auth, rate limits, validation, then the handler.
fn process(
    shared: &Shared,
    incoming: &OpenApiRequest,
    method: Option<Method>,
    is_token: bool,
    body: Option<Value>,
    body_error: Option<String>,
    upload: Option<Result<Staged, Refused>>,
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
        return Reply::not_found();
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
            lock(&shared.limits).hit(&format!("endpoint:{}", endpoint.id), &rules, incoming.at);
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
        at: incoming.at,
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
