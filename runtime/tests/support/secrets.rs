//! Secrets with recognisable values, a server that hands out one of them as
//! its token, and the check that none shows: shared by the redaction and
//! tracing tests.

use feishu_runtime::Client;
use serde_json::json;

use super::{Reply, Server, TOKEN_PATH, token_reply};

pub const APP_SECRET: &str = "APP-SECRET-7f3a";
pub const TENANT_TOKEN: &str = "t-TENANT-9c1e";
pub const USER_TOKEN: &str = "u-USER-44b2";

/// Fails the test when `text` (`what`, for the message) shows any of the secrets.
pub fn assert_no_secret(what: &str, text: &str) {
    for secret in [APP_SECRET, TENANT_TOKEN, USER_TOKEN] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

/// A server handing out [`TENANT_TOKEN`] and answering everything else with
/// success and a log id.
pub async fn server() -> Server {
    Server::start(|r| {
        if r.path == TOKEN_PATH {
            token_reply(TENANT_TOKEN, 7200)
        } else {
            Reply::json(json!({"code": 0, "data": {}})).header("X-Tt-Logid", "LOG-TRACE")
        }
    })
    .await
}

/// A client with [`APP_SECRET`] and the default settings.
pub fn client(server: &Server) -> Client {
    Client::builder("cli_test", APP_SECRET).base_url(server.url()).build().unwrap()
}
