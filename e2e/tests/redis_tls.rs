//! `rediss://`: the Redis stores over TLS, against a real `redis-server`
//! serving TLS with a certificate of the test CA (`feishu_testkit`'s
//! `RedisServer::start_tls`).
//!
//! The certificate is checked against the system's roots, which the test
//! replaces by the test CA with `SSL_CERT_FILE`. A test cannot set that
//! variable for itself (the environment is shared by every thread), so it
//! runs this test binary again as a child with the variable set.
//!
//! Without `redis-server` these tests print why and pass (they fail with
//! `CI` set): see `feishu_testkit::RedisServer`.

use std::process::Command;

use feishu_runtime::Secret;
use feishu_runtime::auth::AppTicketStore;
use feishu_runtime::redis::{ConnectError, RedisStores};
use feishu_testkit::RedisServer;

/// The variable that tells the child which URL to connect to.
const CHILD_URL: &str = "FEISHU_TEST_REDISS_URL";

#[tokio::test]
async fn stores_work_over_rediss_with_a_verified_certificate() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        return child(&url).await;
    }
    let Some(redis) = RedisServer::start_tls("stores_work_over_rediss_with_a_verified_certificate")
    else {
        return;
    };
    let url = redis.tls_url().unwrap();

    // Without the test CA among the roots, the certificate is refused.
    let refused = RedisStores::connect(&url).await;
    assert!(
        matches!(refused, Err(ConnectError::Unreachable(_))),
        "a certificate of an unknown CA must be refused: {refused:?}"
    );
    // And the checks cannot be turned off by the URL.
    let insecure = RedisStores::connect(&format!("{url}/#insecure")).await;
    assert!(matches!(insecure, Err(ConnectError::Url { .. })), "{insecure:?}");

    // With it, a child process stores an app_ticket over TLS ...
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stores_work_over_rediss_with_a_verified_certificate", "--nocapture"])
        .env(CHILD_URL, &url)
        .env("SSL_CERT_FILE", RedisServer::ca_file())
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the child failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // ... that this server holds (read on its plain port).
    assert_eq!(redis.command("GET feishu:cli_tls:app_ticket"), "ticket-over-tls");
}

/// The child: connects over TLS and stores a ticket through the store.
async fn child(url: &str) {
    let stores = RedisStores::connect(url).await.expect("the TLS connection is accepted");
    let tickets = stores.app_ticket_store("cli_tls");
    tickets.set(Secret::new("ticket-over-tls")).await.unwrap();
    let read = tickets.get().await.unwrap().expect("the ticket just stored");
    assert_eq!(read.expose(), "ticket-over-tls");
}
