//! The sandbox's long connection checked against the official Python SDK's
//! client (lark-oapi's `lark.ws.Client`, pinned: 1.7.5): events delivered
//! with `"via": "ws"`, whole and split into fragments, reach its handler
//! once each, and its acks reach the sandbox. It checks the sandbox (which
//! our `LongConnection` is tested against in `long_connection.rs`), not our
//! client: nothing of ours runs here. (It was `differential_ws.rs`.)
//!
//! The peer is `peers/lark_ws_receive.py`, run with the interpreter named by
//! `FEISHU_PEER_PYTHON` (default `python3`), like `differential.rs`. Without
//! lark-oapi the test says so and passes, unless `CI` is set: then it fails.

mod peer_support;
mod sandbox_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use peer_support::peer_python_or_skip;
use sandbox_support::Env;
use serde_json::{Value, json};

/// Kills the peer (which runs until killed) when the test ends, however it ends.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn lark_oapi_receives_events_over_the_long_connection_and_acks_them() {
    let Some(python) =
        peer_python_or_skip("lark_oapi_receives_events_over_the_long_connection_and_acks_them")
    else {
        return;
    };
    let env = Env::start().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/lark_ws_receive.py");
    let mut child = Command::new(&python)
        .arg(script)
        .arg(env.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _peer = Peer(child);
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let stats = env.control(reqwest::Method::GET, "stats", None).await;
        if stats["ws_connections"] == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "lark.ws.Client did not connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for (n, split) in [(1, 1), (2, 3), (3, 16)] {
        let content =
            json!({"text": format!("来自沙盒的第 {n} 条消息, split {split}")}).to_string();
        let event = json!({
            "sender": {"sender_id": {"open_id": "ou_peer"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
            "message": {"message_id": format!("om_peer_{n}"), "chat_id": "oc_peer", "chat_type": "p2p", "message_type": "text", "content": content},
        });
        let request = json!({"via": "ws", "event_type": "im.message.receive_v1", "event_id": format!("ev_peer_{n}"), "event": event, "split": split});
        let (status, answer) =
            env.try_control(reqwest::Method::POST, "events", Some(request)).await;
        assert_eq!(status, 200, "event {n}: {answer}");
        assert_eq!(
            answer["status"], 200,
            "the SDK's ack reached the sandbox with code 200: {answer}"
        );
        assert_eq!(answer["attempts"], 1, "acked in time, not pushed again: {answer}");
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("the SDK printed nothing for event {n}"));
        let received: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            received,
            json!({"event_id": format!("ev_peer_{n}"), "message_id": format!("om_peer_{n}"), "content": content})
        );
    }
    // Each event was handled once: one more event, and the next line is
    // its own. The SDK handles a connection's frames in order, so a second
    // handling of an earlier event would have printed before it.
    let end = json!({"via": "ws", "event_type": "im.message.receive_v1", "event_id": "ev_peer_end", "event": {
        "sender": {"sender_id": {"open_id": "ou_peer"}, "sender_type": "user", "tenant_key": "sandbox-tenant"},
        "message": {"message_id": "om_peer_end", "chat_id": "oc_peer", "chat_type": "p2p", "message_type": "text", "content": "{}"},
    }});
    let (status, answer) = env.try_control(reqwest::Method::POST, "events", Some(end)).await;
    assert_eq!((status, &answer["status"]), (200, &json!(200)), "{answer}");
    let line = lines.recv_timeout(Duration::from_secs(10)).expect("the SDK printed the last event");
    let received: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(received["event_id"], "ev_peer_end", "an event was handled twice: {line}");
    drop(_peer);
    let errors = errors.join().unwrap();
    assert!(!errors.contains("handle message failed"), "{errors}");
}
