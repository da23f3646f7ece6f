//! User tokens: OAuth code exchange, refresh with single-use refresh
//! tokens (one in flight per user), and calls by user key.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use feishu_runtime::auth::UserToken;
use feishu_runtime::{
    ApiRequest, Auth, AuthError, Client, Error, Method, RequestOptions, RetryPolicy, Secret,
};
use serde_json::json;
use support::{Recorded, Reply, Server};

const OAUTH: &str = "/open-apis/authen/v2/oauth/token";

/// An OAuth endpoint that issues `u-N` / `r-N` and accepts each refresh
/// token once; API calls accept only the newest access token.
#[derive(Default)]
struct Oauth {
    issued: usize,
    used_refresh: HashSet<String>,
    valid_refresh: HashSet<String>,
    valid_access: HashSet<String>,
}

impl Oauth {
    fn issue(&mut self, expires_in: u64) -> Reply {
        self.issued += 1;
        let (access, refresh) = (format!("u-{}", self.issued), format!("r-{}", self.issued));
        self.valid_access.insert(access.clone());
        self.valid_refresh.insert(refresh.clone());
        Reply::json(json!({
            "code": 0, "access_token": access, "expires_in": expires_in, "refresh_token": refresh,
            "refresh_token_expires_in": 604800, "token_type": "Bearer", "scope": "offline_access",
        }))
    }

    fn answer(&mut self, r: &Recorded) -> Reply {
        if r.path == OAUTH {
            let body = r.json();
            return match body["grant_type"].as_str() {
                Some("authorization_code") if body["code"] == "good-code" => self.issue(7200),
                Some("refresh_token") => {
                    let token = body["refresh_token"].as_str().unwrap_or_default().to_owned();
                    if !self.used_refresh.insert(token.clone()) || !self.valid_refresh.contains(&token) {
                        return Reply::json(json!({"code": 20064, "error": "invalid_grant", "error_description": "refresh token already used"})).status(400);
                    }
                    self.issue(7200).delay(Duration::from_millis(600))
                }
                _ => Reply::json(json!({"code": 20003, "error": "invalid_grant", "error_description": "invalid code"})).status(400),
            };
        }
        if r.path == "/open-apis/tenant-only" {
            // How the platform refuses a user token where it takes none.
            return Reply::json(json!({"code": 99991668, "msg": "user access token not support"}))
                .status(400);
        }
        let token =
            r.header("authorization").unwrap_or_default().trim_start_matches("Bearer ").to_owned();
        if self.valid_access.contains(&token) {
            Reply::json(json!({"code": 0, "msg": "ok", "data": {}}))
        } else {
            Reply::json(json!({"code": 99991677, "msg": "user access token expired"})).status(400)
        }
    }
}

async fn server() -> (Server, Arc<Mutex<Oauth>>) {
    let oauth = Arc::new(Mutex::new(Oauth::default()));
    // r-0 / u-0 are the tokens tests store by hand.
    oauth.lock().unwrap().valid_refresh.insert("r-0".into());
    oauth.lock().unwrap().valid_access.insert("u-0".into());
    let answering = oauth.clone();
    (Server::start(move |r| answering.lock().unwrap().answer(r)).await, oauth)
}

fn client(server: &Server) -> Client {
    Client::builder("cli_test", "app-secret-xyz")
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A client that gives up (300 ms) before the refresh answer comes (600 ms).
fn impatient_client(server: &Server) -> Client {
    Client::builder("cli_test", "app-secret-xyz")
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

/// A stored token due for refresh (inside its last five minutes) but not
/// expired.
fn due_token() -> UserToken {
    let now = SystemTime::now();
    UserToken {
        access_token: Secret::new("u-0"),
        refresh_token: Some(Secret::new("r-0")),
        issued_at: now - Duration::from_secs(7140),
        expires_at: now + Duration::from_secs(60),
        refresh_expires_at: None,
        scope: None,
    }
}

fn as_user(key: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, "/open-apis/contact/v3/users/me")
        .auth(Auth::User)
        .options(RequestOptions::default().user_key(key))
}

fn oauth_bodies(server: &Server) -> Vec<serde_json::Value> {
    server.requests_to(OAUTH).iter().map(Recorded::json).collect()
}

#[tokio::test]
async fn the_authorisation_url_names_the_app_redirect_scopes_and_state() {
    let client = Client::builder("cli_test", "s").build().unwrap();
    let url = client
        .user_auth()
        .authorize_url("https://bot.example.com/cb?x=1", &["offline_access", "im:message"], "st 1")
        .unwrap();
    assert_eq!(
        url,
        "https://accounts.feishu.cn/open-apis/authen/v1/authorize?client_id=cli_test&response_type=code&redirect_uri=https%3A%2F%2Fbot.example.com%2Fcb%3Fx%3D1&scope=offline_access+im%3Amessage&state=st+1"
    );
    let lark = Client::builder("cli_test", "s").lark().build().unwrap();
    assert!(
        lark.user_auth()
            .authorize_url("https://b/cb", &[], "s")
            .unwrap()
            .starts_with("https://accounts.larksuite.com/open-apis/authen/v1/authorize?")
    );
}

#[tokio::test]
async fn a_code_is_exchanged_stored_and_used_by_user_key() {
    let (server, _) = server().await;
    let client = client(&server);

    let token = client
        .user_auth()
        .exchange_code("ou_alice", "good-code", Some("https://bot.example.com/cb"))
        .await
        .unwrap();
    client.send_value(as_user("ou_alice")).await.unwrap();

    assert_eq!(token.access_token.expose(), "u-1");
    assert_eq!(token.refresh_token.as_ref().map(Secret::expose), Some("r-1"));
    assert_eq!(
        oauth_bodies(&server),
        vec![
            json!({"grant_type": "authorization_code", "client_id": "cli_test", "client_secret": "app-secret-xyz", "code": "good-code", "redirect_uri": "https://bot.example.com/cb"})
        ]
    );
    assert_eq!(
        server.requests_to("/open-apis/contact/v3/users/me")[0].header("authorization"),
        Some("Bearer u-1")
    );
    let bad = client.user_auth().exchange_code("ou_bob", "bad-code", None).await.unwrap_err();
    assert_eq!(bad.code(), Some(20003), "{bad:?}");
}

#[tokio::test]
async fn fifty_concurrent_calls_during_a_refresh_make_one_refresh() {
    let (server, _) = server().await;
    let client = client(&server);
    client.user_auth().store_token("ou_alice", due_token()).await.unwrap();

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.send_value(as_user("ou_alice")).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(
        oauth_bodies(&server),
        vec![
            json!({"grant_type": "refresh_token", "client_id": "cli_test", "client_secret": "app-secret-xyz", "refresh_token": "r-0"})
        ]
    );
    let api = server.requests_to("/open-apis/contact/v3/users/me");
    assert_eq!(api.len(), 50);
    assert!(api.iter().all(|r| r.header("authorization") == Some("Bearer u-1")));
    let stored = client.user_auth().store().get("ou_alice").await.unwrap().unwrap();
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("r-1"),
        "the newest refresh token is kept"
    );
}

#[tokio::test]
async fn a_refused_refresh_asks_for_authorisation_again_and_forgets_the_user() {
    let (server, oauth) = server().await;
    // Someone else spent r-0 already.
    oauth.lock().unwrap().used_refresh.insert("r-0".into());
    let client = client(&server);
    client.user_auth().store_token("ou_alice", due_token()).await.unwrap();

    let err = client.send_value(as_user("ou_alice")).await.unwrap_err();
    match &err {
        Error::Auth(e @ AuthError::ReauthorizationRequired { user_key, code, .. }) => {
            assert_eq!((user_key.as_str(), *code), ("ou_alice", Some(20064)));
            assert!(e.needs_authorization());
        }
        other => panic!("expected ReauthorizationRequired, got {other:?}"),
    }
    assert!(!err.to_string().contains("r-0"), "{err}");
    let again = client.send_value(as_user("ou_alice")).await.unwrap_err();
    assert!(matches!(again, Error::Auth(AuthError::UserNotAuthorized { .. })), "{again:?}");
    assert_eq!(server.requests_to(OAUTH).len(), 1, "the refused refresh token is not sent again");
    assert!(server.requests_to("/open-apis/contact/v3/users/me").is_empty());
}

#[tokio::test]
async fn a_refresh_whose_answer_is_lost_never_sends_its_refresh_token_again() {
    let (server, oauth) = server().await;
    let client = impatient_client(&server);
    client.user_auth().store_token("ou_alice", due_token()).await.unwrap();

    // The old access token works until it expires, so the calls go out.
    client.send_value(as_user("ou_alice")).await.unwrap();
    client.send_value(as_user("ou_alice")).await.unwrap();
    // Then it stops working: the only way on is to authorise again.
    oauth.lock().unwrap().valid_access.remove("u-0");
    let err = client.send_value(as_user("ou_alice")).await.unwrap_err();

    assert!(matches!(&err, Error::Auth(e) if e.needs_authorization()), "{err:?}");
    let refreshes: Vec<_> =
        oauth_bodies(&server).into_iter().map(|b| b["refresh_token"].clone()).collect();
    assert_eq!(refreshes, [json!("r-0")], "r-0 is sent once, whatever happens after");
    let used: Vec<_> = server
        .requests_to("/open-apis/contact/v3/users/me")
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(used, ["Bearer u-0"; 3]);
}

/// Issue 23 item 6: when the answer to the refresh of an expired token is
/// lost, the error that lost it is the source of `ReauthorizationRequired`,
/// not words in its reason.
#[tokio::test]
async fn a_lost_refresh_of_an_expired_token_keeps_what_lost_it() {
    let (server, _oauth) = server().await;
    let client = impatient_client(&server);
    let expired =
        UserToken { expires_at: SystemTime::now() - Duration::from_secs(1), ..due_token() };
    client.user_auth().store_token("ou_alice", expired).await.unwrap();

    let err = client.send_value(as_user("ou_alice")).await.unwrap_err();

    let Error::Auth(AuthError::ReauthorizationRequired { source: Some(_), .. }) = &err else {
        panic!("{err:?}")
    };
    let mut chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source());
    let lost =
        chain.find_map(|e| e.downcast_ref::<Error>().filter(|e| !matches!(e, Error::Auth(_))));
    assert!(matches!(lost, Some(Error::Timeout)), "{err:?}");
    assert!(err.to_string().contains("request timed out"), "{err}");
}

#[tokio::test]
async fn a_refused_user_token_is_refreshed_and_the_call_sent_again_once() {
    let (server, oauth) = server().await;
    let client = client(&server);
    let fresh = UserToken {
        issued_at: SystemTime::now(),
        expires_at: SystemTime::now() + Duration::from_secs(7200),
        ..due_token()
    };
    client.user_auth().store_token("ou_alice", fresh).await.unwrap();
    // The platform revoked u-0 early.
    oauth.lock().unwrap().valid_access.remove("u-0");

    client.send_value(as_user("ou_alice")).await.unwrap();

    let used: Vec<_> = server
        .requests_to("/open-apis/contact/v3/users/me")
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(used, ["Bearer u-0", "Bearer u-1"]);
    assert_eq!(server.requests_to(OAUTH).len(), 1);
}

#[tokio::test]
async fn an_unknown_user_or_two_kinds_of_user_credentials_fail_before_sending() {
    let (server, _) = server().await;
    let client = client(&server);

    let err = client.send_value(as_user("ou_nobody")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(e @ AuthError::UserNotAuthorized { .. }) if e.needs_authorization()),
        "{err:?}"
    );
    let both = ApiRequest::new(Method::GET, "/open-apis/x")
        .auth(Auth::User)
        .options(RequestOptions::default().user_key("ou_1").user_token("u-9"));
    assert!(matches!(
        client.send_value(both).await.unwrap_err(),
        Error::Auth(AuthError::ConflictingUserCredentials)
    ));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn user_tokens_do_not_show_in_debug_output() {
    let (server, _) = server().await;
    let client = client(&server);
    let token = client.user_auth().exchange_code("ou_alice", "good-code", None).await.unwrap();
    let shown = format!(
        "{token:?} {:?} {client:?} {:?}",
        client.user_auth(),
        RequestOptions::default().user_key("ou_alice")
    );
    assert!(!shown.contains("u-1") && !shown.contains("r-1"), "{shown}");
}

#[tokio::test]
async fn a_second_client_sharing_the_store_does_not_spend_the_refresh_token_again() {
    let (server, _) = server().await;
    let store: Arc<dyn feishu_runtime::auth::UserTokenStore> =
        Arc::new(feishu_runtime::auth::MemoryUserTokenStore::default());
    let build = || {
        Client::builder("cli_test", "app-secret-xyz")
            .base_url(server.url())
            .retry(RetryPolicy::none())
            .user_token_store(store.clone())
            .build()
            .unwrap()
    };
    let (first, second) = (build(), build());
    first.user_auth().store_token("ou_alice", due_token()).await.unwrap();

    // The first client's refresh is answered after 600 ms; the second client
    // calls meanwhile, finds the refresh token spent by a refresh in flight,
    // waits for it and uses its new token rather than the old one.
    let refreshing = tokio::spawn({
        let first = first.clone();
        async move { first.send_value(as_user("ou_alice")).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    second.send_value(as_user("ou_alice")).await.unwrap();
    refreshing.await.unwrap().unwrap();

    assert_eq!(oauth_bodies(&server).len(), 1, "r-0 went out once");
    let used: Vec<_> = server
        .requests_to("/open-apis/contact/v3/users/me")
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(used, ["Bearer u-1", "Bearer u-1"]);
    // Both clients now read the new tokens from the shared store.
    assert_eq!(second.user_auth().access_token("ou_alice").await.unwrap().expose(), "u-1");
}

#[tokio::test]
async fn a_user_token_an_endpoint_does_not_take_is_not_refreshed() {
    // 99991668 also says "this endpoint does not accept user tokens": then
    // the user's token is fine, and its single-use refresh token is kept.
    let (server, _) = server().await;
    let client = client(&server);
    let fresh = UserToken {
        issued_at: SystemTime::now(),
        expires_at: SystemTime::now() + Duration::from_secs(7200),
        ..due_token()
    };
    client.user_auth().store_token("ou_alice", fresh.clone()).await.unwrap();
    let not_supported = ApiRequest::new(Method::GET, "/open-apis/tenant-only")
        .auth(Auth::TenantOrUser)
        .options(RequestOptions::default().user_key("ou_alice"));

    let err = client.send_value(not_supported).await.unwrap_err();

    assert_eq!(err.code(), Some(99991668));
    assert_eq!(server.requests_to("/open-apis/tenant-only").len(), 1, "not sent again");
    assert!(server.requests_to(OAUTH).is_empty(), "no refresh token spent");
    let kept = client.user_auth().store().get("ou_alice").await.unwrap();
    assert_eq!(kept, Some(fresh), "the user's tokens are untouched");
}

/// A store in which another process's refresh lands just before this one
/// removes the user's tokens: the winner's tokens are put first, then the
/// removal runs.
struct RaceLosingStore {
    inner: feishu_runtime::auth::MemoryUserTokenStore,
    winner: Mutex<Option<UserToken>>,
}

impl RaceLosingStore {
    fn land_winner(&self) -> Option<UserToken> {
        self.winner.lock().unwrap().take()
    }
}

impl feishu_runtime::auth::UserTokenStore for RaceLosingStore {
    fn get<'a>(
        &'a self,
        user_key: &'a str,
    ) -> feishu_runtime::auth::BoxFuture<'a, Result<Option<UserToken>, Error>> {
        self.inner.get(user_key)
    }

    fn put<'a>(
        &'a self,
        user_key: &'a str,
        token: UserToken,
    ) -> feishu_runtime::auth::BoxFuture<'a, Result<(), Error>> {
        self.inner.put(user_key, token)
    }

    fn remove<'a>(
        &'a self,
        user_key: &'a str,
    ) -> feishu_runtime::auth::BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if let Some(winner) = self.land_winner() {
                self.inner.put(user_key, winner).await?;
            }
            self.inner.remove(user_key).await
        })
    }

    fn compare_and_swap<'a>(
        &'a self,
        user_key: &'a str,
        current: &'a UserToken,
        new: Option<UserToken>,
    ) -> feishu_runtime::auth::BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            if new.is_none()
                && let Some(winner) = self.land_winner()
            {
                self.inner.put(user_key, winner).await?;
            }
            self.inner.compare_and_swap(user_key, current, new).await
        })
    }
}

#[tokio::test]
async fn a_refresh_that_loses_a_race_keeps_the_winners_tokens() {
    let (server, oauth) = server().await;
    // Another process spent r-0 and is about to store u-9 / r-9.
    oauth.lock().unwrap().used_refresh.insert("r-0".into());
    oauth.lock().unwrap().valid_access.insert("u-9".into());
    let winner = UserToken {
        access_token: Secret::new("u-9"),
        refresh_token: Some(Secret::new("r-9")),
        issued_at: SystemTime::now(),
        expires_at: SystemTime::now() + Duration::from_secs(7200),
        refresh_expires_at: None,
        scope: None,
    };
    let store = Arc::new(RaceLosingStore {
        inner: Default::default(),
        winner: Mutex::new(Some(winner.clone())),
    });
    let client = Client::builder("cli_test", "app-secret-xyz")
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .user_token_store(store.clone())
        .build()
        .unwrap();
    client.user_auth().store_token("ou_alice", due_token()).await.unwrap();

    // The refresh of r-0 is refused, and the winner's tokens land as this
    // client forgets the user's: they are kept, and the call uses them.
    client.send_value(as_user("ou_alice")).await.unwrap();

    assert_eq!(client.user_auth().store().get("ou_alice").await.unwrap(), Some(winner));
    let used: Vec<_> = server
        .requests_to("/open-apis/contact/v3/users/me")
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(used, ["Bearer u-9"]);
}

#[tokio::test]
async fn absurd_oauth_lifetimes_are_clamped_not_overflowed() {
    // `expires_in` of u64::MAX seconds panicked when added to the time the
    // code was sent; it is read as the longest sane lifetime (a year and a
    // day), and so is `refresh_token_expires_in`.
    let server = Server::start(|_| {
        Reply::json(json!({
            "code": 0, "access_token": "u-1", "expires_in": u64::MAX, "refresh_token": "r-1",
            "refresh_token_expires_in": u64::MAX, "token_type": "Bearer",
        }))
    })
    .await;
    let client = client(&server);

    let token = client
        .user_auth()
        .exchange_code("ou_alice", "good-code", Some("https://example.com/callback"))
        .await
        .unwrap();

    let year_and_a_day = Duration::from_secs(366 * 24 * 3600);
    assert_eq!(token.expires_at.duration_since(token.issued_at).unwrap(), year_and_a_day);
    let refresh_expires_at = token.refresh_expires_at.unwrap();
    assert_eq!(refresh_expires_at.duration_since(token.issued_at).unwrap(), year_and_a_day);
}
