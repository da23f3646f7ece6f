//! Webhook event delivery: the v2 envelope, AES-256-CBC encryption, the
//! `X-Lark-Signature` and the POST (hyper-util's client).

use std::time::Duration;

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ids::now_millis;
use crate::reply::Reply;
use crate::state::{Shared, lock};
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
    let event = request
        .event
        .clone()
        .unwrap_or_else(|| crate::bodies::event_body(shared, &request.event_type));
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

/// POSTs `body` with `headers` to an `http://` URL, through hyper-util's
/// client on a fresh connection (none is kept: a webhook is a test's server,
/// which may stop at any time); answers the status and body.
pub(crate) async fn post(
    url: &str,
    headers: &[(&'static str, String)],
    body: String,
) -> Result<(u16, Vec<u8>), String> {
    let uri = webhook_uri(url)?;
    let client =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http::<Full<Bytes>>();
    let mut builder = hyper::Request::post(uri);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    let request = builder.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| with_sources(&e))?;
    let status = response.status().as_u16();
    let answer = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, answer.to_vec()))
}

/// The largest webhook answer read.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// `url` as an `http://` URI with a host (webhooks here are plain HTTP).
fn webhook_uri(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{url:?} is not an http:// URL"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    // `http::Uri` keeps a port it cannot read (`h:x`) as no port at all.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, rest)| rest);
    if let Some((_, port)) = after_host.rsplit_once(':')
        && port.parse::<u16>().is_err()
    {
        return Err(format!("{url:?} has a bad port"));
    }
    Ok(uri)
}

/// An error and its causes, `a: b: c` (hyper-util's own message is only "client error").
fn with_sources(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
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
    fn webhook_urls_are_plain_http_with_a_host() {
        let uri = webhook_uri("http://127.0.0.1:8080/hook?x=1").unwrap();
        assert_eq!(
            (uri.host(), uri.port_u16(), uri.path_and_query().map(|p| p.as_str())),
            (Some("127.0.0.1"), Some(8080), Some("/hook?x=1"))
        );
        assert_eq!(webhook_uri("http://[::1]:9/e").unwrap().host(), Some("[::1]"));
        assert!(webhook_uri("http://[::1/e").is_err());
        assert!(webhook_uri("https://x/").unwrap_err().contains("not an http:// URL"));
        assert!(webhook_uri("http://h:notaport/").is_err());
        assert!(webhook_uri("/just/a/path").is_err());
    }
}
