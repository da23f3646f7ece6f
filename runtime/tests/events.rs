//! Webhook handling: decryption against Feishu's published example,
//! challenges, signatures, timestamps, tokens, deduplication, redaction and
//! garbage input.

#![cfg(feature = "events")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use feishu_runtime::events::{self, Delivery, EventEnvelope, Webhook, WebhookConfig, WebhookError};
use serde::Deserialize;
use serde_json::json;

const KEY: &str = "ENCRYPT-KEY-5d1f";
const TOKEN: &str = "VERIFY-TOKEN-8a2c";
const NOW_SECS: u64 = 1_700_000_000;
const IV: [u8; 16] = *b"0123456789abcdef";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn webhook() -> Webhook {
    Webhook::new(WebhookConfig::new().verification_token(TOKEN).encrypt_key(KEY)).unwrap()
}

fn v2_event(event_id: &str, token: &str) -> serde_json::Value {
    json!({
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "token": token,
            "create_time": "1699999999000",
            "event_type": "im.message.receive_v1",
            "tenant_key": "tk_1",
            "app_id": "cli_1"
        },
        "event": {"message": {"message_id": "om_1", "chat_id": "oc_1", "message_type": "text"}}
    })
}

fn encrypted(plain: &serde_json::Value) -> Vec<u8> {
    let enc = events::encrypt(KEY, plain.to_string().as_bytes(), IV);
    json!({ "encrypt": enc }).to_string().into_bytes()
}

/// The three signature headers Feishu sends, for `body` at `timestamp`.
fn signed_headers(timestamp: u64, body: &[u8]) -> Vec<(String, String)> {
    let ts = timestamp.to_string();
    let nonce = "nonce-1";
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-Lark-Request-Timestamp".into(), ts.clone()),
        ("X-Lark-Request-Nonce".into(), nonce.into()),
        ("X-Lark-Signature".into(), events::signature(&ts, nonce, KEY, body)),
    ]
}

fn handle(
    webhook: &Webhook,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Delivery, WebhookError> {
    webhook.handle(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), body, now())
}

fn handle_signed(webhook: &Webhook, body: &[u8]) -> Result<Delivery, WebhookError> {
    handle(webhook, &signed_headers(NOW_SECS, body), body)
}

#[test]
fn decrypts_feishus_published_example() {
    let plain =
        events::decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap();
    assert_eq!(plain, b"hello world");
    // And encrypting with the example's IV gives the example back.
    let data = BASE64.decode("P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap();
    let iv: [u8; 16] = data[..16].try_into().unwrap();
    assert_eq!(
        events::encrypt("test key", b"hello world", iv),
        "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="
    );
}

#[test]
fn signature_is_sha256_hex_of_timestamp_nonce_key_body() {
    // sha256("1" "2" "3" "4") = sha256("1234")
    assert_eq!(
        events::signature("1", "2", "3", b"4"),
        "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4"
    );
}

#[test]
fn plain_url_verification() {
    let webhook = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    let body = json!({"challenge": "ch-1", "token": TOKEN, "type": "url_verification"}).to_string();
    let delivery: Delivery =
        webhook.handle([("content-type", "application/json")], body.as_bytes(), now()).unwrap();
    assert_eq!(delivery, Delivery::Challenge { challenge: "ch-1".into() });
    assert_eq!(delivery.response_body(), r#"{"challenge":"ch-1"}"#);

    // Without any configuration, a challenge is answered too.
    let open = Webhook::new(WebhookConfig::default().insecure_no_verification()).unwrap();
    let d: Delivery = open.handle(Vec::<(String, String)>::new(), body.as_bytes(), now()).unwrap();
    assert!(matches!(d, Delivery::Challenge { .. }));
}

#[test]
fn encrypted_url_verification_needs_no_signature() {
    let body = encrypted(&json!({"challenge": "ch-2", "token": TOKEN, "type": "url_verification"}));
    let delivery = handle(&webhook(), &[], &body).unwrap();
    assert_eq!(delivery.response_body(), r#"{"challenge":"ch-2"}"#);
    // Signed works as well.
    assert!(matches!(handle_signed(&webhook(), &body), Ok(Delivery::Challenge { .. })));
}

#[test]
fn challenge_token_is_checked() {
    let body = encrypted(&json!({"challenge": "c", "token": "nope", "type": "url_verification"}));
    assert!(matches!(handle(&webhook(), &[], &body), Err(WebhookError::WrongToken)));
    let body = encrypted(&json!({"challenge": "c", "type": "url_verification"}));
    assert!(matches!(handle(&webhook(), &[], &body), Err(WebhookError::WrongToken)));
    let webhook = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    let body = json!({"challenge": "c", "token": "nope", "type": "url_verification"}).to_string();
    assert!(matches!(handle(&webhook, &[], body.as_bytes()), Err(WebhookError::WrongToken)));
}

#[derive(Debug, PartialEq)]
enum EventType {
    MessageReceive,
    Other(String),
}

impl From<&str> for EventType {
    fn from(s: &str) -> Self {
        match s {
            "im.message.receive_v1" => Self::MessageReceive,
            other => Self::Other(other.to_owned()),
        }
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct MessageReceived {
    message: Message,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Message {
    message_id: String,
    chat_id: String,
}

#[test]
fn good_event_is_accepted_and_decoded_with_a_typed_event_type() {
    let body = encrypted(&v2_event("ev-1", TOKEN));
    let headers = signed_headers(NOW_SECS, &body);
    let delivery: Delivery<EventType> = webhook()
        .handle(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), &body, now())
        .unwrap();
    let Delivery::Event(envelope) = delivery else { panic!("not an event: {delivery:?}") };
    assert_eq!(envelope.schema, "2.0");
    assert_eq!(envelope.event_id, "ev-1");
    assert_eq!(envelope.event_type, EventType::MessageReceive);
    assert_eq!(envelope.create_time.as_deref(), Some("1699999999000"));
    assert_eq!(envelope.app_id.as_deref(), Some("cli_1"));
    assert_eq!(envelope.tenant_key.as_deref(), Some("tk_1"));
    let event: MessageReceived = envelope.decode().unwrap();
    assert_eq!(event.message.message_id, "om_1");
    assert_eq!(event.message.chat_id, "oc_1");

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        missing: String,
    }
    let err = envelope.decode::<Wrong>().unwrap_err();
    assert!(matches!(err, WebhookError::Decode(_)));
    assert_eq!(err.http_status(), 400);
}

#[test]
fn header_names_are_case_insensitive() {
    let body = encrypted(&v2_event("ev-case", TOKEN));
    let headers: Vec<(String, String)> = signed_headers(NOW_SECS, &body)
        .into_iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .collect();
    assert!(matches!(handle(&webhook(), &headers, &body), Ok(Delivery::Event(_))));
    let headers: Vec<(String, String)> = signed_headers(NOW_SECS, &body)
        .into_iter()
        .map(|(n, v)| (n.to_ascii_uppercase(), v))
        .collect();
    assert!(matches!(handle(&webhook(), &headers, &body), Ok(Delivery::Event(_))));
}

#[test]
fn plain_event_with_only_a_token() {
    let webhook = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    let body = v2_event("ev-plain", TOKEN).to_string();
    let delivery = handle(&webhook, &[], body.as_bytes()).unwrap();
    assert!(matches!(delivery, Delivery::Event(ref e) if e.event_type == "im.message.receive_v1"));
    assert_eq!(delivery.response_body(), "{}");
}

#[test]
fn v1_event_callback() {
    let webhook = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    let body = json!({
        "uuid": "uuid-1",
        "token": TOKEN,
        "ts": "1502199207.7171419",
        "type": "event_callback",
        "event": {"type": "message", "app_id": "cli_1", "tenant_key": "tk_1", "text": "hi"}
    })
    .to_string();
    let Delivery::Event(envelope) = handle(&webhook, &[], body.as_bytes()).unwrap() else {
        panic!("not an event")
    };
    assert_eq!(envelope.schema, "1.0");
    assert_eq!(envelope.event_id, "uuid-1");
    assert_eq!(envelope.event_type, "message");
    assert_eq!(envelope.create_time.as_deref(), Some("1502199207.7171419"));
    assert_eq!(envelope.app_id.as_deref(), Some("cli_1"));
    assert_eq!(envelope.tenant_key.as_deref(), Some("tk_1"));
    assert_eq!(envelope.event["text"], "hi");
}

#[test]
fn tampered_signature_is_refused() {
    let body = encrypted(&v2_event("ev-2", TOKEN));
    let mut headers = signed_headers(NOW_SECS, &body);
    let sig = &mut headers.last_mut().unwrap().1;
    let flipped = if sig.ends_with('0') { '1' } else { '0' };
    sig.pop();
    sig.push(flipped);
    let err = handle(&webhook(), &headers, &body).unwrap_err();
    assert!(matches!(err, WebhookError::BadSignature));
    assert_eq!(err.http_status(), 401);
    // A signature of another length, or empty, is no better.
    headers.last_mut().unwrap().1 = "abc".into();
    assert!(matches!(handle(&webhook(), &headers, &body), Err(WebhookError::BadSignature)));
    headers.last_mut().unwrap().1 = String::new();
    assert!(matches!(handle(&webhook(), &headers, &body), Err(WebhookError::BadSignature)));
    // A signature made with another key.
    let ts = NOW_SECS.to_string();
    headers.last_mut().unwrap().1 = events::signature(&ts, "nonce-1", "other key", &body);
    assert!(matches!(handle(&webhook(), &headers, &body), Err(WebhookError::BadSignature)));
}

#[test]
fn tampered_body_is_refused() {
    let body = encrypted(&v2_event("ev-3", TOKEN));
    let headers = signed_headers(NOW_SECS, &body);
    let mut tampered = body.clone();
    tampered.insert(1, b' ');
    assert!(matches!(handle(&webhook(), &headers, &tampered), Err(WebhookError::BadSignature)));
    let other = encrypted(&v2_event("ev-other", TOKEN));
    assert!(matches!(handle(&webhook(), &headers, &other), Err(WebhookError::BadSignature)));
    // The untampered one still goes through.
    assert!(matches!(handle(&webhook(), &headers, &body), Ok(Delivery::Event(_))));
}

#[test]
fn missing_signature_headers_are_refused_when_a_key_is_set() {
    let body = encrypted(&v2_event("ev-4", TOKEN));
    let err = handle(&webhook(), &[], &body).unwrap_err();
    assert!(matches!(err, WebhookError::MissingSignature));
    assert_eq!(err.http_status(), 401);
    // Any one header missing counts as unsigned.
    let full = signed_headers(NOW_SECS, &body);
    for skip in 1..full.len() {
        let partial: Vec<_> =
            full.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, h)| h.clone()).collect();
        assert!(
            matches!(handle(&webhook(), &partial, &body), Err(WebhookError::MissingSignature)),
            "without {}",
            full[skip].0
        );
    }
    // A plain (unencrypted) event is no exception.
    let plain = v2_event("ev-4b", TOKEN).to_string();
    assert!(matches!(
        handle(&webhook(), &[], plain.as_bytes()),
        Err(WebhookError::MissingSignature)
    ));
    // Nor is an unsigned body that fails to decrypt: unsigned requests
    // learn nothing about why they failed.
    let garbage = json!({"encrypt": BASE64.encode([0u8; 48])}).to_string();
    assert!(matches!(
        handle(&webhook(), &[], garbage.as_bytes()),
        Err(WebhookError::MissingSignature)
    ));
    assert!(matches!(handle(&webhook(), &[], b"not json"), Err(WebhookError::MissingSignature)));
}

#[test]
fn stale_timestamps_are_refused_both_ways() {
    let webhook = Webhook::new(
        WebhookConfig::new()
            .verification_token(TOKEN)
            .encrypt_key(KEY)
            .max_clock_skew(Duration::from_secs(300)),
    )
    .unwrap();
    for (i, (ts, ok)) in [
        (NOW_SECS - 300, true),
        (NOW_SECS + 300, true),
        (NOW_SECS - 301, false),
        (NOW_SECS + 301, false),
        (NOW_SECS - 86_400, false),
        (NOW_SECS + 86_400, false),
        (0, false),
    ]
    .into_iter()
    .enumerate()
    {
        let body = encrypted(&v2_event(&format!("ev-ts-{i}"), TOKEN));
        let result = handle(&webhook, &signed_headers(ts, &body), &body);
        if ok {
            assert!(matches!(result, Ok(Delivery::Event(_))), "{ts}: {result:?}");
        } else {
            let err = result.unwrap_err();
            assert!(
                matches!(err, WebhookError::StaleTimestamp { timestamp, max_skew } if timestamp == ts && max_skew == Duration::from_secs(300)),
                "{ts}: {err:?}"
            );
            assert_eq!(err.http_status(), 401);
        }
    }
    // The default window is 5 minutes.
    assert_eq!(WebhookConfig::new().max_clock_skew, Duration::from_secs(300));
}

#[test]
fn wrong_or_missing_token_is_refused() {
    let body = encrypted(&v2_event("ev-5", "WRONG"));
    let err = handle_signed(&webhook(), &body).unwrap_err();
    assert!(matches!(err, WebhookError::WrongToken));
    assert_eq!(err.http_status(), 401);
    let mut no_token = v2_event("ev-6", TOKEN);
    no_token["header"].as_object_mut().unwrap().remove("token");
    let body = encrypted(&no_token);
    assert!(matches!(handle_signed(&webhook(), &body), Err(WebhookError::WrongToken)));
    // A token one character longer or shorter.
    for token in [format!("{TOKEN}x"), TOKEN[..TOKEN.len() - 1].to_owned()] {
        let body = encrypted(&v2_event("ev-7", &token));
        assert!(matches!(handle_signed(&webhook(), &body), Err(WebhookError::WrongToken)));
    }
}

#[test]
fn the_webhook_does_not_deduplicate_and_a_refused_request_uses_up_nothing() {
    // Deduplication is the dispatcher's: the webhook hands out every delivery.
    let webhook = webhook();
    let body = encrypted(&v2_event("ev-8", TOKEN));
    assert!(matches!(handle_signed(&webhook, &body), Ok(Delivery::Event(_))));
    let again = handle_signed(&webhook, &body).unwrap();
    assert!(matches!(again, Delivery::Event(ref e) if e.event_id == "ev-8"), "{again:?}");
    assert_eq!(again.response_body(), "{}");
    let wrong = encrypted(&v2_event("ev-9", "WRONG"));
    assert!(handle_signed(&webhook, &wrong).is_err());
    let right = encrypted(&v2_event("ev-9", TOKEN));
    assert!(matches!(handle_signed(&webhook, &right), Ok(Delivery::Event(_))));
}

/// Issue 24 item 5: a webhook that checks nothing must be asked for.
#[test]
fn a_webhook_without_token_or_key_needs_an_explicit_opt_in() {
    let error = Webhook::new(WebhookConfig::new()).unwrap_err();
    assert!(matches!(error, WebhookError::NoVerification), "{error:?}");
    assert!(error.to_string().contains("insecure_no_verification"), "{error}");
    // A token or a key alone is enough.
    assert!(Webhook::new(WebhookConfig::new().verification_token(TOKEN)).is_ok());
    assert!(Webhook::new(WebhookConfig::new().encrypt_key(KEY)).is_ok());
    // With the opt-in, anything is accepted: that is what it says.
    let open = Webhook::new(WebhookConfig::new().insecure_no_verification()).unwrap();
    let forged = v2_event("ev-forged", "anything");
    assert!(matches!(handle(&open, &[], forged.to_string().as_bytes()), Ok(Delivery::Event(_))));
}

#[test]
fn debug_and_errors_show_no_secret() {
    let webhook = webhook();
    let body = encrypted(&v2_event("ev-debug", TOKEN));
    let Ok(delivery) = handle_signed(&webhook, &body) else { panic!("refused") };
    let Delivery::Event(envelope) = &delivery else { panic!("not an event") };
    let texts = [
        format!("{:?}", webhook.config()),
        format!("{webhook:?}"),
        format!("{envelope:?}"),
        format!("{delivery:?}"),
        format!(
            "{:?}",
            EventEnvelope::<String> {
                schema: "2.0".into(),
                event_id: "e".into(),
                event_type: "t".into(),
                create_time: None,
                app_id: None,
                tenant_key: None,
                event: json!({}),
            }
        ),
    ];
    for text in &texts {
        assert!(!text.contains(KEY) && !text.contains(TOKEN), "{text}");
    }
    assert!(texts[0].contains("Secret(***)"), "{}", texts[0]);

    let mut errors = Vec::new();
    let mut collect = |body: &[u8], headers: &[(String, String)]| {
        if let Err(e) = handle(&webhook, headers, body) {
            errors.push(e);
        }
    };
    let bad = encrypted(&v2_event("x", "WRONG"));
    collect(&bad, &signed_headers(NOW_SECS, &bad));
    collect(&bad, &[]);
    collect(&bad, &signed_headers(NOW_SECS - 1000, &bad));
    collect(&bad, &signed_headers(NOW_SECS, b"other"));
    let garbage = json!({"encrypt": "!!"}).to_string();
    collect(garbage.as_bytes(), &signed_headers(NOW_SECS, garbage.as_bytes()));
    collect(b"[]", &signed_headers(NOW_SECS, b"[]"));
    assert_eq!(errors.len(), 6);
    let no_key = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    errors.push(handle(&no_key, &[], &bad).unwrap_err());
    for e in &errors {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(KEY) && !text.contains(TOKEN), "{text}");
    }
}

#[test]
fn encrypted_body_without_a_key() {
    let webhook = Webhook::new(WebhookConfig::new().verification_token(TOKEN)).unwrap();
    let body = encrypted(&v2_event("ev-10", TOKEN));
    let err = handle(&webhook, &[], &body).unwrap_err();
    assert!(matches!(err, WebhookError::NoEncryptKey));
    assert_eq!(err.http_status(), 500);
}

#[test]
fn garbage_bodies_are_errors() {
    let webhook = webhook();
    let signed = |body: &[u8]| handle_signed(&webhook, body);
    assert!(matches!(signed(b"not json"), Err(WebhookError::Malformed { .. })));
    assert!(matches!(signed(b""), Err(WebhookError::Malformed { .. })));
    assert!(matches!(signed(b"42"), Err(WebhookError::Malformed { .. })));
    assert!(matches!(signed(b"{}"), Err(WebhookError::Malformed { .. })));
    assert!(matches!(
        signed(br#"{"schema":"2.0","header":{"event_type":"x"}}"#),
        Err(WebhookError::Malformed { .. })
    ));
    assert!(matches!(
        signed(br#"{"schema":"2.0","header":"x"}"#),
        Err(WebhookError::Malformed { .. })
    ));
    assert!(matches!(
        signed(br#"{"type":"event_callback","uuid":"u"}"#),
        Err(WebhookError::Malformed { .. })
    ));
    assert!(matches!(
        signed(br#"{"type":"url_verification"}"#),
        Err(WebhookError::Malformed { .. })
    ));

    let wrap = |enc: &str| json!({ "encrypt": enc }).to_string();
    // Bad base64.
    let err = signed(wrap("not base64 !!!").as_bytes()).unwrap_err();
    assert!(matches!(err, WebhookError::Decrypt(_)), "{err:?}");
    assert_eq!(err.http_status(), 400);
    // Too short: an IV only, or an IV and a partial block.
    for len in [0, 1, 16, 17, 31, 33] {
        let enc = BASE64.encode(vec![7u8; len]);
        assert!(
            matches!(signed(wrap(&enc).as_bytes()), Err(WebhookError::Decrypt(_))),
            "{len} bytes"
        );
    }
    // Bad padding: the last block decrypts to text ending in a 0 byte.
    let full = BASE64.decode(events::encrypt(KEY, b"0123456789abcde\0", IV)).unwrap();
    let truncated = BASE64.encode(&full[..32]);
    let err = signed(wrap(&truncated).as_bytes()).unwrap_err();
    assert!(matches!(err, WebhookError::Decrypt(_)), "{err:?}");
    assert!(events::decrypt(KEY, &truncated).is_err());
    // Decrypts, but not to JSON.
    let enc = events::encrypt(KEY, b"hello world", IV);
    assert!(matches!(signed(wrap(&enc).as_bytes()), Err(WebhookError::Malformed { .. })));
    // The wrong key.
    let other = events::encrypt("other key", v2_event("e", TOKEN).to_string().as_bytes(), IV);
    assert!(signed(wrap(&other).as_bytes()).is_err());
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next() % (max_len as u64 + 1)) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_input_never_panics() {
    let keyed = webhook();
    let open = Webhook::new(WebhookConfig::default().insecure_no_verification()).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..3000 {
        let raw = rng.bytes(200);
        let as_encrypt = json!({ "encrypt": BASE64.encode(&raw) }).to_string();
        let as_text = json!({ "encrypt": String::from_utf8_lossy(&raw) }).to_string();
        for body in [&raw[..], as_encrypt.as_bytes(), as_text.as_bytes()] {
            let _ = handle(&keyed, &[], body);
            let _ = handle_signed(&keyed, body);
            let _ = handle(&open, &[], body);
        }
        let _ = events::decrypt(KEY, &String::from_utf8_lossy(&raw));
        // Random headers, random values.
        let name = ["X-Lark-Signature", "X-Lark-Request-Timestamp", "X-Lark-Request-Nonce"][i % 3];
        let value = String::from_utf8_lossy(&rng.bytes(40)).into_owned();
        let headers = vec![(name.to_owned(), value)];
        let _ = handle(&keyed, &headers, &raw);
    }
    // Random bodies that are encrypted with the right key and signed.
    for _ in 0..500 {
        let raw = rng.bytes(100);
        let body = json!({ "encrypt": events::encrypt(KEY, &raw, IV) }).to_string();
        assert!(handle_signed(&keyed, body.as_bytes()).is_err());
    }
}

#[test]
fn an_envelope_debug_names_the_payload_keys_but_not_their_values() {
    let envelope = feishu_runtime::events::EventEnvelope::<String> {
        schema: "1.0".into(),
        event_id: "ev-1".into(),
        event_type: "app_ticket".into(),
        create_time: None,
        app_id: Some("cli_a".into()),
        tenant_key: None,
        event: serde_json::json!({"app_ticket": "TICKET-SECRET-93f1", "type": "app_ticket"}),
    };
    let debug = format!("{envelope:?}");
    assert!(!debug.contains("TICKET-SECRET-93f1"), "{debug}");
    assert!(debug.contains("app_ticket") && debug.contains("ev-1"), "{debug}");
}
