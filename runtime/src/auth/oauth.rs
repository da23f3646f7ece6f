//! OAuth for the users of an app, as a handle of the client: the
//! authorisation URL, the code exchange and the stored tokens (the
//! refresh rules are in `user.rs`).

use std::sync::Arc;

use super::state::Session;
use super::user::{OAuthFailure, UserToken, UserTokenStore, oauth_token};
use crate::config::{FEISHU_BASE_URL, LARK_BASE_URL};
use crate::error::Error;
use crate::secret::Secret;
use crate::transport::BaseUri;

/// The authorisation page, under the accounts host.
const AUTHORIZE_PATH: &str = "/open-apis/authen/v1/authorize";

/// OAuth for the users of an app: where to send them, what to do with the
/// code they come back with, and their tokens afterwards. Get one from
/// [`Client::user_auth`](crate::Client::user_auth); clones share the client's store.
///
/// ```no_run
/// # async fn demo(client: feishu_runtime::Client) -> Result<(), feishu_runtime::Error> {
/// use feishu_runtime::RequestOptions;
/// let auth = client.user_auth();
/// let url = auth.authorize_url("https://bot.example.com/oauth", &["offline_access"], "state-123")?;
/// // … the user approves and comes back to the redirect URI with `?code=…&state=…`
/// auth.exchange_code("ou_alice", "the-code", Some("https://bot.example.com/oauth")).await?;
/// // Calls as the user name the key; the token is refreshed as needed.
/// let options = RequestOptions::default().user_key("ou_alice");
/// # let _ = (url, options); Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct UserAuth {
    session: Arc<Session>,
}

impl UserAuth {
    pub(crate) fn new(session: Arc<Session>) -> Self {
        UserAuth { session }
    }

    /// The page to send a user to. `scopes` are joined with spaces (ask for
    /// `offline_access` to get a refresh token); `state` comes back with
    /// the code and should be checked.
    ///
    /// The page lives on the accounts host: `accounts.feishu.cn` for
    /// [`FEISHU_BASE_URL`](crate::FEISHU_BASE_URL), `accounts.larksuite.com`
    /// for [`LARK_BASE_URL`](crate::LARK_BASE_URL), and the base URL itself
    /// otherwise (a proxy, or the sandbox).
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scopes: &[&str],
        state: &str,
    ) -> Result<String, Error> {
        let base = self.session.config.base_url.trim_end_matches('/');
        let host = match base {
            FEISHU_BASE_URL => "https://accounts.feishu.cn",
            LARK_BASE_URL => "https://accounts.larksuite.com",
            other => other,
        };
        BaseUri::parse(host)?;
        let url = format!("{host}{AUTHORIZE_PATH}?");
        let query_start = url.len();
        let mut query = form_urlencoded::Serializer::for_suffix(url, query_start);
        query
            .append_pair("client_id", &self.session.config.app_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri);
        if !scopes.is_empty() {
            query.append_pair("scope", &scopes.join(" "));
        }
        query.append_pair("state", state);
        Ok(query.finish())
    }

    /// Exchanges the code the user came back with for tokens, stores them
    /// under `user_key` and returns them. `redirect_uri` must be the one the
    /// authorisation URL named, when it named one.
    ///
    /// A refused code is [`Error::Token`]; codes are single-use and short
    /// lived, so the exchange is never retried.
    pub async fn exchange_code(
        &self,
        user_key: &str,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<UserToken, Error> {
        let (f, auth) = (self.session.fetcher(), &self.session.tokens);
        let mut body = serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": f.config.app_id,
            "client_secret": f.config.app_secret.expose(),
            "code": code,
        });
        if let Some(uri) = redirect_uri {
            body["redirect_uri"] = uri.into();
        }
        let token = oauth_token(f, body).await.map_err(|failure| match failure {
            OAuthFailure::NotSent(e) | OAuthFailure::Lost(e) => e,
            OAuthFailure::Refused { http_status, code, msg, log_id } => {
                Error::Token { http_status, code, msg, log_id }
            }
        })?;
        auth.users.store.put(user_key, token.clone()).await?;
        Ok(token)
    }

    /// `user_key`'s access token, refreshed first if due.
    pub async fn access_token(&self, user_key: &str) -> Result<Secret, Error> {
        let (f, auth) = (self.session.fetcher(), &self.session.tokens);
        auth.users.access_token(f, user_key).await
    }

    /// Stores tokens obtained elsewhere (the v1 OIDC endpoints, say).
    pub async fn store_token(&self, user_key: &str, token: UserToken) -> Result<(), Error> {
        self.session.tokens.users.store.put(user_key, token).await
    }

    /// Forgets `user_key`'s tokens (on logout, say).
    pub async fn forget(&self, user_key: &str) -> Result<(), Error> {
        self.session.tokens.users.store.remove(user_key).await
    }

    /// The store the tokens are kept in.
    pub fn store(&self) -> Arc<dyn UserTokenStore> {
        self.session.tokens.users.store.clone()
    }
}
