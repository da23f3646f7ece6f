//! User tokens against the sandbox: the authorisation page, the code
//! exchange, one refresh for fifty concurrent calls, a refresh token that is
//! never sent twice, and no silent switch between user and tenant tokens.

mod sandbox_support;

use std::time::{Duration, SystemTime};

use feishu::{Body, Client, RequestOptions};
use feishu_runtime::{AuthError, Error};
use sandbox_support::{Env, json_data};
use serde_json::{Value, json};

const OAUTH: &str = "/open-apis/authen/v2/oauth/token";
const REDIRECT: &str = "https://bot.example.com/oauth/callback";

/// The user approves on the sandbox's authorisation page; the client
/// exchanges the code it redirects with. Returns the client.
async fn authorised(env: &Env, user_key: &str) -> Client {
    let client = env.client();
    let auth = client.user_auth();
    let page = auth.authorize_url(REDIRECT, &["offline_access"], "state-42").unwrap();
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_redirects.get(&page).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302, "{page}");
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let param =
        |name: &str| location.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some("state-42"));
    auth.exchange_code(user_key, &param("code").expect("a code"), Some(REDIRECT)).await.unwrap();
    client
}

async fn list_pins(client: &Client, chat: &str, options: RequestOptions) -> Result<Value, Error> {
    json_data(client.im().pin().list().queries([("chat_id", chat)]).options(options)).await
}

/// Makes the stored token of `user_key` due for refresh in the client's
/// eyes (issued an hour ago, expiring in 30 s), while the sandbox honours it
/// for its whole TTL: a refresh can then come only from the client's due
/// check, never from a refusal. (User tokens are kept in wall-clock time,
/// `SystemTime`, since a shared store holds them for several processes:
/// tokio's paused clock cannot move them, so the test moves the token.)
async fn make_due(client: &Client, user_key: &str) {
    let auth = client.user_auth();
    let mut token = auth.store().get(user_key).await.unwrap().expect("a stored token");
    let now = SystemTime::now();
    token.issued_at = now - Duration::from_secs(3600);
    token.expires_at = now + Duration::from_secs(30);
    auth.store_token(user_key, token).await.unwrap();
}

/// The calls the sandbox refused for their access token.
fn refused_tokens(requests: &[Value]) -> Vec<&Value> {
    requests.iter().filter(|r| r["path"] != OAUTH && r["code"] == 99991663).collect()
}

fn refreshes(requests: &[Value]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r["path"] == OAUTH && r["body"]["grant_type"] == "refresh_token")
        .map(|r| r["body"]["refresh_token"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_during_a_refresh_make_one_refresh_request() {
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let client = authorised(&env, "ou_alice").await;
    let burst = |client: &Client| {
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let (client, chat) = (client.clone(), chat.clone());
                tokio::spawn(async move {
                    list_pins(&client, &chat, RequestOptions::default().user_key("ou_alice")).await
                })
            })
            .collect();
        async move {
            for call in calls {
                call.await.unwrap().expect("no call fails");
            }
        }
    };

    // Due for refresh (the sandbox would honour it for two hours).
    make_due(&client, "ou_alice").await;
    burst(&client).await;
    let requests = env.requests().await;
    assert_eq!(refreshes(&requests).len(), 1, "one refresh for fifty calls");
    assert!(refused_tokens(&requests).is_empty(), "refreshed before any refusal");

    // Every token expires: fifty calls refused at once, one refresh.
    env.expire_tokens().await;
    burst(&client).await;
    let requests = env.requests().await;
    let sent = refreshes(&requests);
    assert_eq!(sent.len(), 2, "one more refresh");
    assert_ne!(sent[0], sent[1], "the newest refresh token is used");
    let pins: Vec<_> = requests.iter().filter(|r| r["endpoint"] == "im.v1.pin.list").collect();
    assert!(
        pins.iter()
            .all(|r| r["authorization"].as_str().is_some_and(|a| a.starts_with("Bearer u-"))),
        "always the user's token"
    );
    let oauth = env.control(reqwest::Method::GET, "oauth", None).await;
    assert_eq!(
        (oauth["refreshes"].as_u64(), oauth["refused_refreshes"].as_u64()),
        (Some(2), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_answer_is_lost_is_not_sent_again() {
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let client = authorised(&env, "ou_bob").await;
    let as_bob = || RequestOptions::default().user_key("ou_bob");

    // The refresh takes effect in the sandbox, but its answer never arrives.
    make_due(&client, "ou_bob").await;
    env.add_fault(
        json!({"kind": "drop", "count": 1, "path_prefix": OAUTH, "after_processing": true}),
    )
    .await;
    list_pins(&client, &chat, as_bob()).await.expect("the old token still works");
    // Once the old token has expired (for both), only a new authorisation
    // helps.
    env.expire_tokens().await;
    let auth = client.user_auth();
    let mut token = auth.store().get("ou_bob").await.unwrap().expect("a stored token");
    token.expires_at = SystemTime::now() - Duration::from_secs(1);
    auth.store_token("ou_bob", token).await.unwrap();
    let err = list_pins(&client, &chat, as_bob()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(e @ AuthError::ReauthorizationRequired { .. }) if e.needs_authorization()),
        "{err:?}"
    );

    let sent = refreshes(&env.requests().await);
    assert_eq!(sent.len(), 1, "the refresh token went out once");
    // The sandbox consumed it: sending it again would be refused.
    let replay = env
        .http
        .post(format!("{}{OAUTH}", env.url()))
        .json(&json!({"grant_type": "refresh_token", "client_id": "cli_sandbox", "client_secret": "sandbox-secret", "refresh_token": sent[0]}))
        .send()
        .await
        .unwrap();
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["code"], 20073, "{replay}");
    // And after authorising again, calls work.
    let client = authorised(&env, "ou_bob").await;
    list_pins(&client, &chat, as_bob()).await.unwrap();
}

#[tokio::test]
async fn a_user_token_on_a_tenant_only_operation_fails_before_any_request() {
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let client = authorised(&env, "ou_carol").await;
    let before = env.requests().await.len();
    let body = || {
        Body::Json(
            json!({"receive_id": chat, "msg_type": "text", "content": "{\"text\":\"as carol?\"}"}),
        )
    };

    for options in [
        RequestOptions::default().user_key("ou_carol"),
        RequestOptions::default().user_token("u-something"),
    ] {
        // message.create is documented for the tenant token only.
        let err = json_data(
            client
                .im()
                .message()
                .create()
                .body(body())
                .queries([("receive_id_type", "chat_id")])
                .options(options),
        )
        .await
        .unwrap_err();
        match &err {
            Error::Auth(AuthError::TokenNotAccepted { endpoint, .. }) => {
                assert_eq!(endpoint, "im.v1.message.create")
            }
            other => panic!("expected TokenNotAccepted, got {other:?}"),
        }
    }
    assert_eq!(env.requests().await.len(), before, "nothing was sent");
    assert!(env.messages().await.is_empty(), "nothing was posted as the bot either");
    // The sandbox, an independent oracle, refuses the same mix too.
    let token = client.user_auth().access_token("ou_carol").await.unwrap();
    let direct = env
        .http
        .post(format!("{}/open-apis/im/v1/messages?receive_id_type=chat_id", env.url()))
        .bearer_auth(token.expose())
        .json(&json!({"receive_id": chat, "msg_type": "text", "content": "{\"text\":\"x\"}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.json::<Value>().await.unwrap()["code"], 99991672);
}
