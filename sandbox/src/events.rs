//! Webhook event delivery: the v2 envelope, AES-256-CBC encryption, the
//! `X-Lark-Signature` and a minimal HTTP/1.1 POST.

use std::time::Duration;

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ids::now_millis;
use crate::reply::Reply;
use crate::server::{Shared, lock};
use crate::store::TENANT_KEY;

/// How long a webhook gets to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRequest {
    url: String,
    event_type: String,
    event: Option<Value>,
    event_id: Option<String>,
    #[serde(default)]
    encrypt: bool,
    encrypt_key: Option<String>,
    token: Option<String>,
    timestamp: Option<Value>,
    tamper: Option<String>,
}

/// `base64(IV ‖ AES-256-CBC(SHA-256(key), IV, plaintext))` with PKCS#7 padding.
pub(crate) fn encrypt(key: &str, iv: [u8; 16], plaintext: &[u8]) -> String {
    let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let cipher = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let mut out = iv.to_vec();
    out.extend_from_slice(&cipher);
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// `hex(SHA-256(timestamp ‖ nonce ‖ key ‖ body))`.
pub(crate) fn signature(timestamp: &str, nonce: &str, key: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(timestamp.as_bytes());
    hasher.update(nonce.as_bytes());
    hasher.update(key.as_bytes());
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Answers `POST /_sandbox/events`: builds, encrypts, signs and posts the event; reports the webhook's answer.
pub(crate) async fn deliver(shared: &Shared, request: &Value) -> Reply {
    let request: EventRequest = match serde_json::from_value(request.clone()) {
        Ok(request) => request,
        Err(error) => return Reply::control_error(400, format!("invalid event request: {error}")),
    };
    let config = &shared.config;
    let key = request.encrypt_key.clone().unwrap_or_else(|| config.encrypt_key.clone());
    let token = request.token.clone().unwrap_or_else(|| config.verification_token.clone());
    let event =
        request.event.clone().unwrap_or_else(|| crate::ws::event_body(shared, &request.event_type));
    let payload = if request.event_type == "url_verification" {
        let challenge = event
            .get("challenge")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| shared.ids.hex32());
        json!({ "challenge": challenge, "token": token, "type": "url_verification" })
    } else {
        let event_id = request.event_id.clone().unwrap_or_else(|| shared.ids.hex32());
        envelope(shared, &request.event_type, &event_id, &token, event)
    };
    let (iv, nonce) = {
        let mut rng = lock(&shared.rng);
        let iv: [u8; 16] = rng.bytes(16).try_into().unwrap_or([0; 16]);
        (iv, format!("{:016x}", rng.next_u64()))
    };
    let plain = payload.to_string();
    let mut body = if request.encrypt {
        json!({ "encrypt": encrypt(&key, iv, plain.as_bytes()) }).to_string()
    } else {
        plain
    };
    let timestamp = match &request.timestamp {
        None | Some(Value::Null) => (now_millis() / 1000).to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut sig = signature(&timestamp, &nonce, &key, body.as_bytes());
    match request.tamper.as_deref() {
        None => {}
        Some("signature") => {
            sig = signature(&timestamp, &nonce, &format!("{key}-tampered"), body.as_bytes())
        }
        Some("body") => body.insert(1, ' '),
        Some(other) => {
            return Reply::control_error(400, format!("tamper {other:?} is not signature or body"));
        }
    }
    let headers = [
        ("content-type", "application/json; charset=utf-8".to_string()),
        ("x-lark-request-timestamp", timestamp.clone()),
        ("x-lark-request-nonce", nonce.clone()),
        ("x-lark-signature", sig.clone()),
    ];
    match tokio::time::timeout(DELIVERY_TIMEOUT, post(&request.url, &headers, body.clone())).await {
        Ok(Ok((status, answer))) => {
            let text = String::from_utf8_lossy(&answer).into_owned();
            let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            Reply::plain_json(
                200,
                json!({
                    "status": status,
                    "body": text,
                    "json": parsed,
                    "sent": { "body": body, "timestamp": timestamp, "nonce": nonce, "signature": sig },
                }),
            )
        }
        Ok(Err(error)) => {
            Reply::control_error(502, format!("delivering to {} failed: {error}", request.url))
        }
        Err(_) => Reply::control_error(
            504,
            format!("{} did not answer within {} s", request.url, DELIVERY_TIMEOUT.as_secs()),
        ),
    }
}

/// The v2 envelope `{schema, header{event_id, event_type, create_time, token, app_id, tenant_key}, event}`.
pub(crate) fn envelope(
    shared: &Shared,
    event_type: &str,
    event_id: &str,
    token: &str,
    event: Value,
) -> Value {
    json!({
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": event_type,
            "create_time": now_millis().to_string(),
            "token": token,
            "app_id": shared.config.app_id,
            "tenant_key": TENANT_KEY,
        },
        "event": event,
    })
}

/// The parts of an `http://host[:port]/path` URL: host, port, path with query, and the `Host` header.
fn split_url(url: &str) -> Result<(String, u16, String, String), String> {
    let rest =
        url.strip_prefix("http://").ok_or_else(|| format!("{url:?} is not an http:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let bad_port = || format!("{url:?} has a bad port");
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("{url:?} has an unclosed [ in its host"))?;
        match after.strip_prefix(':') {
            Some(port) => (host, port.parse::<u16>().map_err(|_| bad_port())?),
            None if after.is_empty() => (host, 80),
            None => return Err(bad_port()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad_port())?),
            None => (authority, 80),
        }
    };
    if host.is_empty() {
        return Err(format!("{url:?} names no host"));
    }
    Ok((host.to_string(), port, path.to_string(), authority.to_string()))
}

/// POSTs `body` with `headers`; answers the status and body.
pub(crate) async fn post(
    url: &str,
    headers: &[(&'static str, String)],
    body: String,
) -> Result<(u16, Vec<u8>), String> {
    let (host, port, path, authority) = split_url(url)?;
    let stream =
        tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let mut builder = hyper::Request::post(path.as_str()).header("host", authority);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    let request = builder.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
    let result = async {
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let answer = Limited::new(response.into_body(), 16 * 1024 * 1024)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, answer.to_vec()))
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockDecryptMut;

    #[test]
    fn encryption_round_trips() {
        let text = encrypt("key", [7; 16], b"{\"a\":1}");
        let raw = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
        assert_eq!(&raw[..16], &[7; 16]);
        let key: [u8; 32] = Sha256::digest(b"key").into();
        let iv: [u8; 16] = raw[..16].try_into().unwrap();
        let plain = cbc::Decryptor::<aes::Aes256>::new(&key.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&raw[16..])
            .unwrap();
        assert_eq!(plain, b"{\"a\":1}");
    }

    #[test]
    fn signature_is_hex_sha256_of_the_concatenation() {
        // SHA-256("abc")
        assert_eq!(
            signature("a", "b", "c", b""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/hook?x=1").unwrap(),
            ("127.0.0.1".into(), 8080, "/hook?x=1".into(), "127.0.0.1:8080".into())
        );
        assert_eq!(
            split_url("http://localhost").unwrap(),
            ("localhost".into(), 80, "/".into(), "localhost".into())
        );
        assert_eq!(
            split_url("http://[::1]:9/e").unwrap(),
            ("::1".into(), 9, "/e".into(), "[::1]:9".into())
        );
        assert!(split_url("http://[::1/e").is_err());
        assert!(split_url("https://x/").is_err());
        assert!(split_url("http://h:notaport/").is_err());
    }
}
