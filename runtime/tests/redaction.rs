//! No secret reaches a `Debug` string, an error message or a trace.

mod support;

use feishu_runtime::{
    ApiRequest, Auth, Client, Config, Error, Method, Multipart, RequestOptions, Secret,
};
use serde_json::json;
use support::secrets::{APP_SECRET, TENANT_TOKEN, USER_TOKEN, assert_no_secret, client, server};
use support::{Reply, Server};

#[tokio::test]
async fn debug_of_every_secret_bearing_type_is_redacted() {
    let server = server().await;
    let secret = Secret::new(APP_SECRET);
    assert_eq!(format!("{secret:?}"), "Secret(***)");
    assert_eq!(secret.to_string(), "***");

    let config = Config::new("cli_test", APP_SECRET);
    let config_debug = format!("{config:?}");
    assert!(
        config_debug.contains("cli_test") && config_debug.contains("Secret(***)"),
        "{config_debug}"
    );
    assert_no_secret("Config", &config_debug);
    assert_no_secret("ClientBuilder", &format!("{:?}", Client::builder("cli_test", APP_SECRET)));

    let client = client(&server);
    assert_no_secret("Client before a token", &format!("{client:?}"));
    let token = client.tenant_access_token().await.unwrap();
    assert_eq!(token.expose(), TENANT_TOKEN, "the token really is cached now");
    assert_no_secret("tenant token", &format!("{token:?} {token}"));
    let client_debug = format!("{client:?}");
    assert!(client_debug.contains("cached"), "{client_debug}");
    assert_no_secret("Client with a cached token", &client_debug);

    let options =
        RequestOptions::user(USER_TOKEN).header("Authorization", format!("Bearer {USER_TOKEN}"));
    assert_no_secret("RequestOptions", &format!("{options:?}"));
    let request = ApiRequest::new(Method::POST, "/open-apis/a")
        .auth(Auth::User)
        .body(feishu_runtime::Body::Multipart(Multipart::new().text("k", "v")))
        .options(options);
    assert_no_secret("ApiRequest", &format!("{request:?}"));
}

#[tokio::test]
async fn token_errors_do_not_show_the_secret() {
    let server =
        Server::start(|_| Reply::json(json!({"code": 10014, "msg": "app secret invalid"}))).await;
    let err = client(&server).tenant_access_token().await.unwrap_err();
    assert!(matches!(err, Error::Token { .. }));
    assert_no_secret("token error", &format!("{err} {err:?}"));
}
