//! OAuth for users: the authorisation page (which approves at once), the
//! v2 code exchange and refresh with refresh tokens that work once, and
//! revoked consent.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::auth::{Grant, Kind};
use crate::reply::{Reply, percent_encode};
use crate::state::oauth::{Code, Consent, OAuth, Refresh};
use crate::state::{Shared, lock};
use crate::store::{DEFAULT_USER, TENANT_KEY};

/// `GET`: the authorisation page.
pub(crate) const AUTHORIZE_PATH: &str = "/open-apis/authen/v1/authorize";
/// `POST`: code exchange and refresh.
pub(crate) const TOKEN_PATH: &str = "/open-apis/authen/v2/oauth/token";

/// How long an authorisation code can be exchanged.
const CODE_TTL: Duration = Duration::from_secs(300);

/// At most this many codes wait to be exchanged, and refresh tokens stay
/// usable; beyond it new ones are refused, so that the state stays bounded.
const MAX_KEPT: usize = 10_000;

/// The answers' codes (HTTP 400, `error`, `error_description`).
const INVALID_REQUEST: i64 = 20001;
const INVALID_CLIENT: i64 = 20002;
const INVALID_CODE: i64 = 20003;
const UNKNOWN_REFRESH: i64 = 20026;
const EXPIRED_REFRESH: i64 = 20037;
const REVOKED: i64 = 20064;
const USED_REFRESH: i64 = 20073;

fn oauth_error(code: i64, error: &str, description: impl Into<String>) -> Reply {
    Reply::json(
        400,
        json!({ "code": code, "error": error, "error_description": description.into() }),
    )
}

/// The tenant a user of `app_id` belongs to unless one is named: the
/// sandbox's own for the self-built app, the first installed tenant for the
/// marketplace app.
fn default_tenant(shared: &Shared, app_id: &str) -> Option<String> {
    let config = &shared.config;
    if app_id == config.app_id {
        Some(TENANT_KEY.into())
    } else if app_id == config.marketplace_app_id {
        config.marketplace_tenants.first().cloned()
    } else {
        None
    }
}

/// Whether `tenant_key` installed `app_id`: the self-built app lives in the
/// sandbox's own tenant, the marketplace app in its configured tenants.
fn installed(shared: &Shared, app_id: &str, tenant_key: &str) -> bool {
    let config = &shared.config;
    (app_id == config.app_id && tenant_key == TENANT_KEY)
        || (app_id == config.marketplace_app_id
            && config.marketplace_tenants.iter().any(|t| t == tenant_key))
}

/// A new code for `consent` (the user approved); `Err` when too many wait.
fn new_code(
    shared: &Shared,
    consent: Consent,
    redirect_uri: Option<String>,
) -> Result<String, String> {
    if !installed(shared, &consent.app_id, &consent.tenant_key) {
        return Err(format!(
            "tenant {:?} has not installed app {:?}",
            consent.tenant_key, consent.app_id
        ));
    }
    let code = format!("code-{}", shared.ids.hex32());
    let mut oauth = lock(&shared.oauth);
    let now = Instant::now();
    if oauth.codes.len() >= MAX_KEPT {
        oauth.codes.retain(|_, c| c.expires > now);
    }
    if oauth.codes.len() >= MAX_KEPT {
        return Err(format!("{MAX_KEPT} codes wait to be exchanged already"));
    }
    oauth.revoked.remove(&(consent.app_id.clone(), consent.open_id.clone()));
    oauth.codes.insert(code.clone(), Code { consent, redirect_uri, expires: now + CODE_TTL });
    Ok(code)
}

/// Serves the OAuth paths; `None` for other paths.
pub(crate) fn handle(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Option<Reply> {
    match (method, path) {
        ("GET", AUTHORIZE_PATH) => Some(authorize(shared, query)),
        ("POST", TOKEN_PATH) => Some(token(shared, body)),
        _ => None,
    }
}

/// The page approves at once and redirects with `code` and `state`. The
/// user is `sandbox_open_id` (default `ou_sandbox_user`), in
/// `sandbox_tenant_key` (default: the app's tenant).
fn authorize(shared: &Shared, query: &[(String, String)]) -> Reply {
    let param = |name: &str| {
        query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    };
    let Some(app_id) = param("client_id") else {
        return oauth_error(INVALID_REQUEST, "invalid_request", "client_id is required");
    };
    let Some(redirect_uri) = param("redirect_uri") else {
        return oauth_error(INVALID_REQUEST, "invalid_request", "redirect_uri is required");
    };
    let Some(tenant_key) =
        param("sandbox_tenant_key").map(str::to_owned).or_else(|| default_tenant(shared, app_id))
    else {
        return oauth_error(
            INVALID_CLIENT,
            "invalid_client",
            format!("unknown client_id {app_id:?}"),
        );
    };
    let consent = Consent {
        app_id: app_id.into(),
        open_id: param("sandbox_open_id").unwrap_or(DEFAULT_USER).into(),
        tenant_key,
        scope: param("scope").unwrap_or("").into(),
    };
    let code = match new_code(shared, consent, Some(redirect_uri.into())) {
        Ok(code) => code,
        Err(error) => return oauth_error(INVALID_REQUEST, "invalid_request", error),
    };
    let mut location =
        format!("{redirect_uri}{}code={code}", if redirect_uri.contains('?') { '&' } else { '?' });
    if let Some(state) = param("state") {
        location.push_str("&state=");
        location.push_str(&percent_encode(state));
    }
    Reply::plain_json(302, json!({ "location": location })).with_header("location", location)
}

fn token(shared: &Shared, body: Option<&Value>) -> Reply {
    let config = &shared.config;
    let field = |name: &str| {
        body.and_then(|b| b.get(name)).and_then(Value::as_str).filter(|v| !v.is_empty())
    };
    let (Some(grant_type), Some(client_id), Some(client_secret)) =
        (field("grant_type"), field("client_id"), field("client_secret"))
    else {
        return oauth_error(
            INVALID_REQUEST,
            "invalid_request",
            "grant_type, client_id and client_secret are required",
        );
    };
    let known = (client_id == config.app_id && client_secret == config.app_secret)
        || (client_id == config.marketplace_app_id
            && client_secret == config.marketplace_app_secret);
    if !known {
        return oauth_error(
            INVALID_CLIENT,
            "invalid_client",
            "client_id or client_secret is wrong",
        );
    }
    let now = Instant::now();
    let mut oauth = lock(&shared.oauth);
    let consent = match grant_type {
        "authorization_code" => {
            let Some(code) = field("code") else {
                return oauth_error(INVALID_REQUEST, "invalid_request", "code is required");
            };
            // A code works once, whatever the outcome.
            let Some(pending) = oauth.codes.remove(code) else {
                return oauth_error(
                    INVALID_CODE,
                    "invalid_grant",
                    "the code is unknown or was used already",
                );
            };
            if pending.expires <= now || pending.consent.app_id != client_id {
                return oauth_error(
                    INVALID_CODE,
                    "invalid_grant",
                    "the code expired or belongs to another app",
                );
            }
            if pending.redirect_uri.is_some()
                && field("redirect_uri")
                    .is_some_and(|uri| Some(uri) != pending.redirect_uri.as_deref())
            {
                return oauth_error(
                    INVALID_CODE,
                    "invalid_grant",
                    "redirect_uri differs from the authorisation request's",
                );
            }
            oauth.exchanges += 1;
            pending.consent
        }
        "refresh_token" => {
            let Some(token) = field("refresh_token") else {
                return oauth_error(
                    INVALID_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                );
            };
            oauth.refreshes += 1;
            let revoked = oauth.revoked.clone();
            let refused = |oauth: &mut OAuth, code, description: &str| {
                oauth.refused_refreshes += 1;
                oauth_error(code, "invalid_grant", description)
            };
            let Some(refresh) =
                oauth.refresh.get_mut(token).filter(|r| r.consent.app_id == client_id)
            else {
                return refused(&mut oauth, UNKNOWN_REFRESH, "the refresh token is unknown");
            };
            if refresh.used {
                return refused(
                    &mut oauth,
                    USED_REFRESH,
                    "the refresh token was used already; a refresh token works once",
                );
            }
            refresh.used = true;
            if revoked.contains(&(refresh.consent.app_id.clone(), refresh.consent.open_id.clone()))
            {
                return refused(&mut oauth, REVOKED, "the user revoked the app's authorisation");
            }
            if refresh.expires <= now {
                return refused(&mut oauth, EXPIRED_REFRESH, "the refresh token expired");
            }
            refresh.consent.clone()
        }
        other => {
            return oauth_error(
                INVALID_REQUEST,
                "unsupported_grant_type",
                format!("grant_type {other:?} is not authorization_code or refresh_token"),
            );
        }
    };
    if oauth.refresh.len() >= MAX_KEPT {
        oauth.refresh.retain(|_, r| !r.used && r.expires > now);
    }
    if oauth.refresh.len() >= MAX_KEPT {
        return oauth_error(
            INVALID_REQUEST,
            "invalid_request",
            format!("{MAX_KEPT} refresh tokens are in use already"),
        );
    }
    let refresh_token = format!("ur-{}", shared.ids.hex32());
    oauth.refresh.insert(
        refresh_token.clone(),
        Refresh { consent: consent.clone(), expires: now + config.refresh_token_ttl, used: false },
    );
    drop(oauth);
    let grant = Grant {
        kind: Kind::User,
        tenant_key: consent.tenant_key,
        app_id: consent.app_id,
        open_id: Some(consent.open_id),
    };
    let access_token =
        lock(&shared.tokens).issue_for(&shared.ids, "u", config.user_token_ttl, grant);
    Reply::json(
        200,
        json!({
            "code": 0,
            "access_token": access_token,
            "expires_in": config.user_token_ttl.as_secs(),
            "refresh_token": refresh_token,
            "refresh_token_expires_in": config.refresh_token_ttl.as_secs(),
            "token_type": "Bearer",
            "scope": consent.scope,
        }),
    )
}

/// The control calls of this module; `None` for other calls.
pub(crate) fn control(shared: &Shared, method: &str, call: &str, request: &Value) -> Option<Reply> {
    let text = |name: &str| request.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    let app_id = text("app_id").unwrap_or(&shared.config.app_id).to_owned();
    let reply = match (method, call) {
        ("POST", "oauth/code") => {
            let Some(tenant_key) =
                text("tenant_key").map(str::to_owned).or_else(|| default_tenant(shared, &app_id))
            else {
                return Some(Reply::control_error(400, format!("unknown app_id {app_id:?}")));
            };
            let open_id = text("open_id").unwrap_or(DEFAULT_USER).to_owned();
            let consent = Consent {
                app_id,
                open_id: open_id.clone(),
                tenant_key: tenant_key.clone(),
                scope: text("scope").unwrap_or("").into(),
            };
            match new_code(shared, consent, text("redirect_uri").map(str::to_owned)) {
                Ok(code) => Reply::plain_json(
                    200,
                    json!({ "code": code, "open_id": open_id, "tenant_key": tenant_key }),
                ),
                Err(error) => Reply::control_error(400, error),
            }
        }
        ("POST", "oauth/revoke") => {
            let Some(open_id) = text("open_id") else {
                return Some(Reply::control_error(400, "open_id is required"));
            };
            lock(&shared.oauth).revoked.insert((app_id.clone(), open_id.to_owned()));
            lock(&shared.tokens).expire_where(|g| {
                g.kind == Kind::User && g.app_id == app_id && g.open_id.as_deref() == Some(open_id)
            });
            Reply::plain_json(200, json!({ "ok": true }))
        }
        ("GET", "oauth") => {
            let oauth = lock(&shared.oauth);
            Reply::plain_json(
                200,
                json!({ "exchanges": oauth.exchanges, "refreshes": oauth.refreshes, "refused_refreshes": oauth.refused_refreshes }),
            )
        }
        _ => return None,
    };
    Some(reply)
}
