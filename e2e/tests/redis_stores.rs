//! A fleet of clients sharing one real Redis (`feishu_runtime::redis`)
//! against the sandbox. Each client connects on its own and keeps its own
//! in-process state, as separate processes would:
//!
//! - the rate limit is held by all of them together;
//! - a user's single-use refresh token is spent once, and all use the new
//!   token;
//! - an app_ticket pushed to one serves the others and outlives them;
//! - the tenant token is fetched once for the fleet.
//!
//! Without `redis-server` these tests print why and pass (they fail with
//! `CI` set): see `feishu_testkit::RedisServer`.

mod sandbox_support;

use std::time::Duration;

use feishu::events::{Webhook, WebhookConfig};
use feishu::{Client, RequestOptions};
use feishu_runtime::redis::RedisStores;
use feishu_runtime::{ApiRequest, AppType, Method, RateLimit};
use feishu_testkit::RedisServer;
use sandbox_support::{
    APP_ID, APP_SECRET, ENCRYPT_KEY, Env, Handled, MARKET_ID, MARKET_SECRET, VERIFICATION_TOKEN,
    WebhookServer, json_data, sandbox_config, send_as_tenant, token_fetches,
};
use serde_json::{Value, json};

const OAUTH: &str = "/open-apis/authen/v2/oauth/token";
const REDIRECT: &str = "https://bot.example.com/oauth/callback";
/// An endpoint the sandbox answers with its documented example.
const PROGRESS: &str = "im.v1.batch_message.get_progress";
const PROGRESS_PATH: &str = "/open-apis/im/v1/batch_messages/bm_1/get_progress";

/// A client of the sandbox's self-built app on its own connection to
/// `redis`, like one process of a fleet.
async fn fleet_client(env: &Env, redis: &RedisServer) -> Client {
    let stores = RedisStores::connect(&redis.url()).await.expect("Redis answers");
    env.builder().redis_stores(&stores).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_keep_one_documented_rate_together() {
    let Some(redis) = RedisServer::start("three_clients_keep_one_documented_rate_together") else {
        return;
    };
    const PER_SECOND: u32 = 5;
    const PER_CLIENT: usize = 8;
    let mut config = sandbox_config();
    config.spec.endpoints.iter_mut().find(|e| e.id == PROGRESS).unwrap().rate_limit =
        Some(feishu_spec::RateLimit { per_second: Some(PER_SECOND), ..Default::default() });
    let env = Env::start_with(config).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let client = fleet_client(&env, &redis).await;
        // The token first, so that its fetch does not sit between a
        // reserved slot and its request.
        client.tenant_access_token().await.unwrap();
        clients.push(client);
    }
    env.clear_requests().await;

    // Every client sends as fast as it can, all at once.
    let calls: Vec<_> = clients
        .iter()
        .flat_map(|client| std::iter::repeat_n(client.clone(), PER_CLIENT))
        .map(|client| {
            tokio::spawn(async move {
                let request = ApiRequest::new(Method::GET, PROGRESS_PATH)
                    .endpoint(PROGRESS)
                    .rate_limit(RateLimit::new(Some(PER_SECOND), None));
                client.send_value(request).await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("no caller sees an error");
    }
    let requests = env.requests().await;
    let progress: Vec<&Value> = requests.iter().filter(|r| r["path"] == PROGRESS_PATH).collect();
    let refused: Vec<&&Value> = progress.iter().filter(|r| r["code"] != 0).collect();
    assert!(refused.is_empty(), "the sandbox refused {refused:#?}");
    assert_eq!(progress.len(), 3 * PER_CLIENT, "each call sent once");
    assert_eq!(env.stats().await.rate_limited, 0);
}

/// The user approves on the sandbox's authorisation page and `client`
/// exchanges the code, storing the tokens in the shared store.
async fn authorise(client: &Client, user_key: &str) {
    let auth = client.user_auth();
    let page = auth.authorize_url(REDIRECT, &["offline_access"], "state-1").unwrap();
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_redirects.get(&page).send().await.unwrap();
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(n, _)| n == "code").unwrap().1.into_owned();
    auth.exchange_code(user_key, &code, Some(REDIRECT)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_refreshing_one_user_make_one_refresh_and_all_use_its_token() {
    let Some(redis) = RedisServer::start("three_clients_refreshing_one_user") else {
        return;
    };
    let env = Env::start().await;
    let chat = env.group_chat().await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(fleet_client(&env, &redis).await);
    }
    authorise(&clients[0], "ou_alice").await;
    let first = clients[2].user_auth().access_token("ou_alice").await.unwrap();

    // Due for refresh in the clients' eyes (issued an hour ago, expiring in
    // 30 s), while the sandbox honours it for two hours: only the due check
    // can bring the refresh. (User tokens are kept in wall-clock time for
    // the fleet's shared store, which tokio's paused clock cannot move.)
    let store = clients[0].user_auth().store();
    let mut token = store.get("ou_alice").await.unwrap().expect("a stored token");
    let now = std::time::SystemTime::now();
    token.issued_at = now - Duration::from_secs(3600);
    token.expires_at = now + Duration::from_secs(30);
    clients[0].user_auth().store_token("ou_alice", token).await.unwrap();
    let calls: Vec<_> = clients
        .iter()
        .flat_map(|client| std::iter::repeat_n(client.clone(), 4))
        .map(|client| {
            let chat = chat.clone();
            tokio::spawn(async move {
                let options = RequestOptions::default().user_key("ou_alice");
                json_data(
                    client.im().pin().list().queries([("chat_id", chat.as_str())]).options(options),
                )
                .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("no call fails");
    }

    let oauth = env.control(reqwest::Method::GET, "oauth", None).await;
    assert_eq!(oauth["refreshes"], 1, "one refresh for the fleet: {oauth}");
    assert_eq!(oauth["refused_refreshes"], 0, "{oauth}");
    let requests = env.requests().await;
    let refreshed: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == OAUTH && r["body"]["grant_type"] == "refresh_token")
        .collect();
    assert_eq!(refreshed.len(), 1);
    let refused: Vec<&Value> = requests.iter().filter(|r| r["code"] == 99991663).collect();
    assert!(refused.is_empty(), "refreshed before any refusal: {refused:#?}");
    let new = clients[1].user_auth().access_token("ou_alice").await.unwrap();
    assert_ne!(new, first, "the token was refreshed");
    let new_header = format!("Bearer {}", new.expose());
    let pins: Vec<&Value> = requests.iter().filter(|r| r["endpoint"] == "im.v1.pin.list").collect();
    assert_eq!(pins.len(), 12);
    assert!(
        pins.iter().all(|r| r["authorization"] == new_header.as_str()),
        "every call waited for the refresh and carried its token: {:#?}",
        pins.iter().map(|r| &r["authorization"]).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_ticket_pushed_to_one_client_serves_the_others_and_outlives_them() {
    let Some(redis) = RedisServer::start("an_app_ticket_pushed_to_one_client") else {
        return;
    };
    let webhook = WebhookServer::start(
        Webhook::new(
            WebhookConfig::new().verification_token(VERIFICATION_TOKEN).encrypt_key(ENCRYPT_KEY),
        )
        .unwrap(),
    )
    .await;
    let env = Env::start().await;
    let marketplace = |stores: &RedisStores| {
        Client::builder(MARKET_ID, MARKET_SECRET)
            .base_url(env.url())
            .app_type(AppType::Marketplace)
            .redis_stores(stores)
            .build()
            .unwrap()
    };
    let connect = || async { RedisStores::connect(&redis.url()).await.unwrap() };
    let receiver = marketplace(&connect().await);
    let other = marketplace(&connect().await);

    // The platform pushes the ticket to the receiver's webhook only.
    env.control(reqwest::Method::POST, "app_ticket", Some(json!({"url": webhook.url()}))).await;
    let mut pushed = 0;
    for handled in webhook.take() {
        if let Handled::Event(envelope) = handled {
            receiver.accept_app_ticket_event(&envelope).await.unwrap();
            pushed += 1;
        }
    }
    assert_eq!(pushed, 1);
    send_as_tenant(&other, "tenant-a", 1).await.expect("the other client has the ticket");

    // Every process restarts: the ticket is still there.
    drop((receiver, other));
    let restarted = marketplace(&connect().await);
    send_as_tenant(&restarted, "tenant-b", 2).await.expect("a restarted client has the ticket");
    let resends = env
        .requests()
        .await
        .iter()
        .filter(|r| r["path"] == "/open-apis/auth/v3/app_ticket/resend")
        .count();
    assert_eq!(resends, 0, "no client had to ask for the ticket again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_fetches_the_tenant_token_once_and_a_new_secret_never_reads_it() {
    let Some(redis) = RedisServer::start("the_fleet_fetches_the_tenant_token_once") else {
        return;
    };
    let env = Env::start().await;
    let mut tokens = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(fleet_client(&env, &redis).await);
    }
    let fetches: Vec<_> = clients
        .iter()
        .map(|client| {
            let client = client.clone();
            tokio::spawn(async move { client.tenant_access_token().await })
        })
        .collect();
    for fetch in fetches {
        tokens.push(fetch.await.unwrap().unwrap());
    }
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "one token for the fleet");
    assert_eq!(token_fetches(&env.requests().await).len(), 1, "fetched once");

    // Another secret for the same app reads nothing of it, and fails.
    let stores = RedisStores::connect(&redis.url()).await.unwrap();
    let wrong = Client::builder(APP_ID, format!("{APP_SECRET}-rotated"))
        .base_url(env.url())
        .redis_stores(&stores)
        .build()
        .unwrap();
    assert!(wrong.tenant_access_token().await.is_err(), "a wrong secret gets no token");
    assert_eq!(token_fetches(&env.requests().await).len(), 2);

    // A refused token is evicted for the whole fleet: one new fetch.
    env.expire_tokens().await;
    let chat = env.group_chat().await;
    for client in &clients {
        json_data(client.im().pin().list().queries([("chat_id", chat.as_str())]))
            .await
            .expect("the call goes through with a new token");
    }
    assert_eq!(token_fetches(&env.requests().await).len(), 3, "one more fetch for the fleet");
}
