//! Access tokens: issuing them to the app and checking `Authorization` headers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::SandboxConfig;
use crate::ids::IdGen;
use crate::reply::Reply;

/// The token endpoints, which need no token themselves.
pub(crate) const TENANT_TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
/// See [`TENANT_TOKEN_PATH`].
pub(crate) const APP_TOKEN_PATH: &str = "/open-apis/auth/v3/app_access_token/internal";

/// `99991661`: no `Authorization` header.
pub(crate) const MISSING_TOKEN: i64 = 99991661;
/// `99991663`: unknown or expired token.
pub(crate) const INVALID_TOKEN: i64 = 99991663;

/// Every token issued, with its expiry.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    expiries: HashMap<String, Instant>,
}

impl Tokens {
    /// Issues a new token `prefix-…` living `ttl`.
    pub(crate) fn issue(&mut self, ids: &IdGen, prefix: &str, ttl: Duration) -> String {
        let now = Instant::now();
        // Forget long-expired tokens so that the map stays small.
        if self.expiries.len() > 10_000 {
            self.expiries.retain(|_, expiry| *expiry > now);
        }
        let token = format!("{prefix}-{}", ids.hex32());
        self.expiries.insert(token.clone(), now + ttl);
        token
    }

    /// True when `token` was issued and has not expired.
    pub(crate) fn is_valid(&self, token: &str) -> bool {
        self.expiries.get(token).is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// Expires every token issued so far.
    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        for expiry in self.expiries.values_mut() {
            *expiry = now;
        }
    }
}

/// Checks an `Authorization` header value; `Err` is the answer to send.
pub(crate) fn check_header(tokens: &Tokens, header: Option<&str>) -> Result<(), Reply> {
    let Some(header) = header else {
        return Err(Reply::error(MISSING_TOKEN, "Missing access token for authorization. Please make a request with token attached."));
    };
    let token = header.trim().strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    if token.is_empty() || !tokens.is_valid(token) {
        return Err(Reply::error(INVALID_TOKEN, "Invalid access token for authorization. Please make a request with token attached."));
    }
    Ok(())
}

/// Answers a token request: `app` tells the app-token call from the tenant one.
pub(crate) fn token_request(config: &SandboxConfig, tokens: &mut Tokens, ids: &IdGen, body: Option<&Value>, app: bool) -> Reply {
    let field = |name: &str| body.and_then(|b| b.get(name)).and_then(Value::as_str);
    let (Some(app_id), Some(app_secret)) = (field("app_id"), field("app_secret")) else {
        return Reply::error(10003, "invalid param: app_id and app_secret are required");
    };
    if app_id != config.app_id || app_secret != config.app_secret {
        return Reply::error(10014, "app secret invalid");
    }
    let expire = config.token_ttl.as_secs();
    let tenant = tokens.issue(ids, "t", config.token_ttl);
    let mut answer = json!({ "code": 0, "msg": "ok", "tenant_access_token": tenant, "expire": expire });
    if app {
        answer["app_access_token"] = tokens.issue(ids, "a", config.token_ttl).into();
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
        let t = tokens.issue(&ids, "t", Duration::from_secs(60));
        assert!(t.starts_with("t-"));
        assert!(check_header(&tokens, Some(&format!("Bearer {t}"))).is_ok());
        assert_eq!(check_header(&tokens, None).unwrap_err().code, Some(MISSING_TOKEN));
        assert_eq!(check_header(&tokens, Some("Bearer nope")).unwrap_err().code, Some(INVALID_TOKEN));
        assert_eq!(check_header(&tokens, Some(&t)).unwrap_err().code, Some(INVALID_TOKEN));
        tokens.expire_all();
        assert_eq!(check_header(&tokens, Some(&format!("Bearer {t}"))).unwrap_err().code, Some(INVALID_TOKEN));
    }
}
