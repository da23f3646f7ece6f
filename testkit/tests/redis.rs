//! The test Redis: it answers, stops and comes back on the same port, and
//! its process is gone once dropped.

use std::net::TcpStream;

use feishu_testkit::RedisServer;

#[test]
fn a_server_answers_stops_and_restarts_empty_on_its_port() {
    let Some(mut redis) =
        RedisServer::start("a_server_answers_stops_and_restarts_empty_on_its_port")
    else {
        return;
    };
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
    assert_eq!(redis.command("SET k v"), "+OK");
    assert_eq!(redis.command("GET k"), "v");
    redis.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "stopped means refused");
    redis.restart();
    assert_eq!(redis.port(), port);
    assert_eq!(redis.command("DBSIZE"), ":0", "a restart comes back empty");
    drop(redis);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "dropped means gone");
}

#[test]
fn two_servers_never_share_a_port() {
    let (Some(a), Some(b)) =
        (RedisServer::start("two_servers_never_share_a_port"), RedisServer::start("two_servers"))
    else {
        return;
    };
    assert_ne!(a.port(), b.port());
    assert_eq!(a.command("SET only-in-a 1"), "+OK");
    assert_eq!(b.command("EXISTS only-in-a"), ":0");
}
