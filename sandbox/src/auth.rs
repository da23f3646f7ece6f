//! Access tokens: issuing them to the app and checking `Authorization` headers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::SandboxConfig;
use crate::ids::IdGen;
use crate::reply::Reply;
use crate::store::TENANT_KEY;

/// The token endpoints, which need no token themselves.
pub(crate) const TENANT_TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
/// See [`TENANT_TOKEN_PATH`].
pub(crate) const APP_TOKEN_PATH: &str = "/open-apis/auth/v3/app_access_token/internal";

/// `99991661`: no `Authorization` header.
pub(crate) const MISSING_TOKEN: i64 = 99991661;
/// `99991663`: unknown or expired token.
pub(crate) const INVALID_TOKEN: i64 = 99991663;

/// Which kind of access token was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tenant,
    App,
    User,
}

/// What a token stands for: its kind, the tenant whose data it opens, the
/// app it was issued to, and for user tokens the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub kind: Kind,
    pub tenant_key: String,
    pub app_id: String,
    pub open_id: Option<String>,
}

impl Grant {
    /// A token of the self-built app, in the sandbox's own tenant.
    pub(crate) fn own(kind: Kind, app_id: &str) -> Grant {
        Grant { kind, tenant_key: TENANT_KEY.into(), app_id: app_id.into(), open_id: None }
    }
}

/// Every token issued, with its expiry and grant.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, (Instant, Grant)>,
}

impl Tokens {
    /// Issues a new token `prefix-…` for `grant`, living `ttl`.
    pub(crate) fn issue_for(
        &mut self,
        ids: &IdGen,
        prefix: &str,
        ttl: Duration,
        grant: Grant,
    ) -> String {
        let now = Instant::now();
        // Forget long-expired tokens so that the map stays small.
        if self.issued.len() > 10_000 {
            self.issued.retain(|_, (expiry, _)| *expiry > now);
        }
        let token = format!("{prefix}-{}", ids.hex32());
        self.issued.insert(token.clone(), (now + ttl, grant));
        token
    }

    /// The grant of `token`, when it was issued and has not expired.
    pub(crate) fn grant(&self, token: &str) -> Option<&Grant> {
        self.issued
            .get(token)
            .filter(|(expiry, _)| Instant::now() < *expiry)
            .map(|(_, grant)| grant)
    }

    /// Expires every token issued so far, of every kind.
    pub(crate) fn expire_all(&mut self) {
        self.expire_where(|_| true);
    }

    /// Expires the tokens whose grant `matches`.
    pub(crate) fn expire_where(&mut self, matches: impl Fn(&Grant) -> bool) {
        let now = Instant::now();
        for (expiry, grant) in self.issued.values_mut() {
            if matches(grant) {
                *expiry = now.min(*expiry);
            }
        }
    }
}

/// Checks an `Authorization` header value and answers the token's grant;
/// `Err` is the answer to send.
pub(crate) fn check_header(tokens: &Tokens, header: Option<&str>) -> Result<Grant, Reply> {
    let Some(header) = header else {
        return Err(Reply::error(
            MISSING_TOKEN,
            "Missing access token for authorization. Please make a request with token attached.",
        ));
    };
    let token = header.trim().strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    match tokens.grant(token) {
        Some(grant) if !token.is_empty() => Ok(grant.clone()),
        _ => Err(Reply::error(
            INVALID_TOKEN,
            "Invalid access token for authorization. Please make a request with token attached.",
        )),
    }
}

/// `99991672`: the token's kind is not one the endpoint accepts.
pub(crate) const TOKEN_KIND_REFUSED: i64 = 99991672;

/// Refuses a user token on an endpoint whose spec lists the tokens it
/// accepts without `user_access_token`. Tenant and app tokens open every
/// endpoint, as before.
pub(crate) fn check_kind(endpoint: &feishu_spec::Endpoint, grant: &Grant) -> Result<(), Reply> {
    let listed = &endpoint.access_tokens;
    if grant.kind == Kind::User
        && !listed.is_empty()
        && !listed.contains(&feishu_spec::AccessToken::UserAccessToken)
    {
        return Err(Reply::error(
            TOKEN_KIND_REFUSED,
            format!("Access denied: {} does not accept a user_access_token", endpoint.id),
        ));
    }
    Ok(())
}

/// Answers a token request: `app` tells the app-token call from the tenant one.
pub(crate) fn token_request(
    config: &SandboxConfig,
    tokens: &mut Tokens,
    ids: &IdGen,
    body: Option<&Value>,
    app: bool,
) -> Reply {
    let field = |name: &str| body.and_then(|b| b.get(name)).and_then(Value::as_str);
    let (Some(app_id), Some(app_secret)) = (field("app_id"), field("app_secret")) else {
        return Reply::error(10003, "invalid param: app_id and app_secret are required");
    };
    if app_id != config.app_id || app_secret != config.app_secret {
        return Reply::error(10014, "app secret invalid");
    }
    let expire = config.token_ttl.as_secs();
    let tenant = tokens.issue_for(ids, "t", config.token_ttl, Grant::own(Kind::Tenant, app_id));
    let mut answer =
        json!({ "code": 0, "msg": "ok", "tenant_access_token": tenant, "expire": expire });
    if app {
        answer["app_access_token"] =
            tokens.issue_for(ids, "a", config.token_ttl, Grant::own(Kind::App, app_id)).into();
    }
    Reply::json(200, answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire() {
        let ids = IdGen::default();
        let mut tokens = Tokens::default();
        let t =
            tokens.issue_for(&ids, "t", Duration::from_secs(60), Grant::own(Kind::Tenant, "cli_1"));
        assert!(t.starts_with("t-"));
        assert!(check_header(&tokens, Some(&format!("Bearer {t}"))).is_ok());
        assert_eq!(check_header(&tokens, None).unwrap_err().code, Some(MISSING_TOKEN));
        assert_eq!(
            check_header(&tokens, Some("Bearer nope")).unwrap_err().code,
            Some(INVALID_TOKEN)
        );
        assert_eq!(check_header(&tokens, Some(&t)).unwrap_err().code, Some(INVALID_TOKEN));
        tokens.expire_all();
        assert_eq!(
            check_header(&tokens, Some(&format!("Bearer {t}"))).unwrap_err().code,
            Some(INVALID_TOKEN)
        );
    }
}
