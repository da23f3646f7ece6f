//! The generated crate's `Cargo.toml`: its package, its dependency on the
//! runtime, and its features (one per service, the webhook and event
//! transports, and the runtime's TLS choices forwarded).

use feishu_model::Model;

use crate::Options;

/// TOML strings are JSON-compatible for the characters that matter here.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The runtime's transport features, forwarded as they are; the first is
/// on by default.
const TLS_FEATURES: [(&str, &str); 4] = [
    ("rustls-ring", "TLS by rustls with ring (the default): no aws-lc-sys, no cmake."),
    ("rustls-aws-lc", "TLS by rustls with aws-lc-rs (needs cmake and a C compiler)."),
    ("native-tls", "TLS by the platform's library (OpenSSL on Linux)."),
    ("http2", "HTTP/2, negotiated over TLS."),
];

/// The feature that turns on webhook handling (and its crypto crates).
pub const WEBHOOK_FEATURE: &str = "webhook";

/// The runtime's event transports, forwarded so that a user of the
/// generated crate alone can receive events (`feishu::runtime::ws`,
/// `feishu::runtime::events::axum`); each needs the webhook feature's
/// decoding. Off by default: they pull in prost and tokio-tungstenite, or
/// axum.
const EVENT_TRANSPORTS: [(&str, &str); 2] = [
    ("ws", "Receiving events over the long connection (WebSocket): `feishu::runtime::ws`."),
    ("axum", "A ready-made axum handler for the webhook: `feishu::runtime::events::axum`."),
];

pub fn cargo_toml(model: &Model, options: &Options, header: &str) -> String {
    let mut features: Vec<String> =
        model.services.values().map(|s| toml_string(&s.feature)).collect();
    let webhook = !model.services.values().any(|s| s.feature == WEBHOOK_FEATURE);
    if webhook {
        features.push(toml_string(WEBHOOK_FEATURE));
    }
    // Service features are snake_case, so these hyphenated names never meet one.
    features.push(toml_string(TLS_FEATURES[0].0));
    let mut text = header.replace("// ", "# ");
    text.push_str(&format!(
        "\n[package]\nname = {}\nversion = \"0.1.0\"\nedition = \"2024\"\nrust-version = \"1.88\"\npublish = false\n\
         description = \"Typed client of the Feishu (Lark) Open Platform API, generated from its docs.\"\n\
         license = \"MIT OR Apache-2.0\"\n\n\
         [dependencies]\nfeishu-runtime = {{ path = {}, default-features = false }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         [features]\ndefault = [{}]\n",
        toml_string(&options.crate_name),
        toml_string(&options.runtime_path),
        features.join(", ")
    ));
    for service in model.services.values() {
        text.push_str(&format!("{} = []\n", service.feature));
    }
    if webhook {
        text.push_str(&format!("{WEBHOOK_FEATURE} = [\"feishu-runtime/events\"]\n"));
        // A service named like a transport keeps its name; the transport
        // is then reached through feishu-runtime directly.
        for (feature, doc) in EVENT_TRANSPORTS
            .iter()
            .filter(|(f, _)| !model.services.values().any(|s| s.feature == *f))
        {
            text.push_str(&format!(
                "# {doc}\n{feature} = [{}, \"feishu-runtime/{feature}\"]\n",
                toml_string(WEBHOOK_FEATURE)
            ));
        }
    }
    for (feature, doc) in TLS_FEATURES {
        text.push_str(&format!("# {doc}\n{feature} = [\"feishu-runtime/{feature}\"]\n"));
    }
    text
}
