//! Marketplace (ISV) apps and tenants: the app_ticket pushed to a webhook,
//! the app token fetched with it, one tenant token per tenant, and a store
//! per tenant so that one tenant's token never sees another's messages.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::auth::{Grant, Kind};
use crate::events::{encrypt, post, signature};
use crate::ids::now_millis;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::store::TENANT_KEY;

/// `POST`: the marketplace app's app token, with `{app_id, app_secret, app_ticket}`.
pub(crate) const APP_TOKEN_PATH: &str = "/open-apis/auth/v3/app_access_token";
/// `POST`: a tenant's token, with `{app_access_token, tenant_key}`.
pub(crate) const TENANT_TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token";
/// `POST`: push the app_ticket again, with `{app_id, app_secret}`.
pub(crate) const RESEND_PATH: &str = "/open-apis/auth/v3/app_ticket/resend";

/// `10012`: the app_ticket is unknown or too old.
pub(crate) const INVALID_TICKET: i64 = 10012;
/// `99991664`: the app_access_token of a tenant-token request is invalid.
pub(crate) const INVALID_APP_TOKEN: i64 = 99991664;

/// How many of the newest tickets are accepted: the platform keeps the
/// previous ticket valid for a while after pushing a new one.
const VALID_TICKETS: usize = 2;

/// How long the webhook gets to answer a ticket push.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `path` (without a trailing `/`) is a token request this module serves.
pub(crate) fn is_token_path(path: &str) -> bool {
    [APP_TOKEN_PATH, TENANT_TOKEN_PATH, RESEND_PATH].contains(&path)
}

/// Serves the marketplace token requests; `None` for other paths.
pub(crate) fn handle(
    shared: &Shared,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Option<Reply> {
    if method != "POST" || !is_token_path(path) {
        return None;
    }
    let config = &shared.config;
    let field = |name: &str| {
        body.and_then(|b| b.get(name)).and_then(Value::as_str).filter(|v| !v.is_empty())
    };
    let credentials = || match (field("app_id"), field("app_secret")) {
        (Some(id), Some(secret))
            if id == config.marketplace_app_id && secret == config.marketplace_app_secret =>
        {
            Ok(())
        }
        (Some(_), Some(_)) => Err(Reply::error(10014, "app secret invalid")),
        _ => Err(Reply::error(10003, "invalid param: app_id and app_secret are required")),
    };
    let reply = match path {
        RESEND_PATH => credentials().map(|()| {
            shared.ticket_push.notify_one();
            Reply::json(200, json!({ "code": 0, "msg": "ok" }))
        }),
        APP_TOKEN_PATH => credentials().and_then(|()| {
            let ticket = field("app_ticket").ok_or_else(|| Reply::error(10003, "invalid param: app_ticket is required"))?;
            if !lock(&shared.tickets).valid.iter().any(|t| t == ticket) {
                return Err(Reply::error(INVALID_TICKET, "app_ticket invalid"));
            }
            let grant = Grant { kind: Kind::App, tenant_key: String::new(), app_id: config.marketplace_app_id.clone(), open_id: None };
            let token = lock(&shared.tokens).issue_for(&shared.ids, "a", config.token_ttl, grant);
            Ok(Reply::json(200, json!({ "code": 0, "msg": "ok", "app_access_token": token, "expire": config.token_ttl.as_secs() })))
        }),
        _ => (|| {
            let (Some(app_token), Some(tenant_key)) = (field("app_access_token"), field("tenant_key")) else {
                return Err(Reply::error(10003, "invalid param: app_access_token and tenant_key are required"));
            };
            let mut tokens = lock(&shared.tokens);
            match tokens.grant(app_token) {
                Some(g) if g.kind == Kind::App && g.app_id == config.marketplace_app_id => {}
                _ => return Err(Reply::error(INVALID_APP_TOKEN, "Invalid app access token")),
            }
            if !config.marketplace_tenants.iter().any(|t| t == tenant_key) {
                return Err(Reply::error(10003, format!("invalid param: tenant {tenant_key:?} has not installed the app")));
            }
            let grant = Grant { kind: Kind::Tenant, tenant_key: tenant_key.into(), app_id: config.marketplace_app_id.clone(), open_id: None };
            let token = tokens.issue_for(&shared.ids, "t", config.token_ttl, grant);
            Ok(Reply::json(200, json!({ "code": 0, "msg": "ok", "tenant_access_token": token, "expire": config.token_ttl.as_secs() })))
        })(),
    };
    Some(reply.unwrap_or_else(|error| error))
}

/// The task of [`push_tickets`]; dropping it stops the task.
pub(crate) struct TicketPusher(tokio::task::JoinHandle<()>);

impl TicketPusher {
    pub(crate) fn start(shared: Arc<Shared>) -> TicketPusher {
        TicketPusher(tokio::spawn(push_tickets(shared)))
    }
}

impl Drop for TicketPusher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Pushes a ticket when the sandbox starts (if a webhook is configured) and
/// on every resend request, until the server stops.
async fn push_tickets(shared: Arc<Shared>) {
    if shared.config.app_ticket_url.is_some() {
        let _ = push_ticket(&shared).await;
    }
    loop {
        shared.ticket_push.notified().await;
        let _ = push_ticket(&shared).await;
    }
}

/// Issues a new ticket and posts it to the webhook as the v1 `app_ticket`
/// event, encrypted and signed like every event; answers the webhook's
/// status and body.
pub(crate) async fn push_ticket(shared: &Shared) -> Result<(u16, String), String> {
    let config = &shared.config;
    let (url, ticket) = {
        let mut tickets = lock(&shared.tickets);
        let url = tickets
            .url
            .clone()
            .or_else(|| config.app_ticket_url.clone())
            .ok_or("no app_ticket webhook is configured")?;
        let ticket = format!("tkt-{}", shared.ids.hex32());
        tickets.valid.push(ticket.clone());
        let excess = tickets.valid.len().saturating_sub(VALID_TICKETS);
        tickets.valid.drain(..excess);
        tickets.pushed += 1;
        (url, ticket)
    };
    let millis = now_millis();
    let event = json!({
        "uuid": shared.ids.hex32(),
        "token": config.verification_token,
        "ts": format!("{}.{:03}", millis / 1000, millis % 1000),
        "type": "event_callback",
        "event": { "app_id": config.marketplace_app_id, "app_ticket": ticket, "type": "app_ticket" },
    });
    let (iv, nonce) = {
        let mut rng = lock(&shared.rng);
        let iv: [u8; 16] = rng.bytes(16).try_into().unwrap_or([0; 16]);
        (iv, format!("{:016x}", rng.next_u64()))
    };
    let body = json!({ "encrypt": encrypt(&config.encrypt_key, iv, event.to_string().as_bytes()) })
        .to_string();
    let timestamp = (millis / 1000).to_string();
    let headers = [
        ("content-type", "application/json; charset=utf-8".to_string()),
        ("x-lark-request-timestamp", timestamp.clone()),
        ("x-lark-request-nonce", nonce.clone()),
        ("x-lark-signature", signature(&timestamp, &nonce, &config.encrypt_key, body.as_bytes())),
    ];
    match tokio::time::timeout(PUSH_TIMEOUT, post(&url, &headers, body)).await {
        Ok(Ok((status, answer))) => Ok((status, String::from_utf8_lossy(&answer).into_owned())),
        Ok(Err(error)) => Err(format!("delivering the app_ticket to {url} failed: {error}")),
        Err(_) => Err(format!(
            "{url} did not answer the app_ticket push within {} s",
            PUSH_TIMEOUT.as_secs()
        )),
    }
}

/// The control calls of this module; `None` for other calls.
pub(crate) async fn control(
    shared: &Shared,
    method: &str,
    call: &str,
    request: &Value,
) -> Option<Reply> {
    if let Some(tenant) =
        call.strip_prefix("tenants/").and_then(|rest| rest.strip_suffix("/messages"))
        && method == "GET"
    {
        let known =
            tenant == TENANT_KEY || shared.config.marketplace_tenants.iter().any(|t| t == tenant);
        if !known {
            return Some(Reply::control_error(404, format!("no tenant {tenant:?}")));
        }
        let store = shared.store_for(tenant);
        let messages: Vec<Value> =
            lock(&store).messages().iter().map(|m| m.control_json()).collect();
        return Some(Reply::plain_json(200, json!({ "tenant_key": tenant, "messages": messages })));
    }
    match (method, call) {
        ("POST", "app_ticket") => {
            if let Some(url) = request.get("url") {
                let Some(url) = url.as_str().filter(|u| u.starts_with("http://")) else {
                    return Some(Reply::control_error(400, "url must be an http:// URL"));
                };
                lock(&shared.tickets).url = Some(url.to_owned());
            }
            if request.get("push").and_then(Value::as_bool) == Some(false) {
                return Some(Reply::plain_json(200, json!({ "pushed": false })));
            }
            Some(match push_ticket(shared).await {
                Ok((status, body)) => {
                    Reply::plain_json(200, json!({ "status": status, "body": body }))
                }
                Err(error) => Reply::control_error(502, error),
            })
        }
        ("GET", "app_ticket") => {
            let tickets = lock(&shared.tickets);
            Some(Reply::plain_json(
                200,
                json!({ "pushed": tickets.pushed, "url": tickets.url.clone().or_else(|| shared.config.app_ticket_url.clone()) }),
            ))
        }
        _ => None,
    }
}

/// Forgets every marketplace tenant's data (for `POST /_sandbox/reset`).
pub(crate) fn reset(shared: &Shared) {
    lock(&shared.tenant_stores).clear();
}
