//! The generated crate's package files: `Cargo.toml` (its features and
//! dependency on the runtime, and what a registry needs to publish it) and
//! `README.md` (the page a registry shows).

use feishu_model::Model;

use crate::Options;

/// TOML strings are JSON-compatible for the characters that matter here.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn toml_list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
    format!("[{}]", items.join(", "))
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

/// The runtime's other optional parts, forwarded as they are. Off by
/// default: `redis` pulls in the redis crate.
const RUNTIME_EXTRAS: [(&str, &str); 1] =
    [("redis", "Shared state for several processes of one app, on Redis: `feishu::redis`.")];

/// The runtime's event transports, forwarded so that a user of the
/// generated crate alone can receive events (`feishu::ws`,
/// `feishu::events::axum`); each needs the webhook feature's
/// decoding. Off by default: they pull in prost and tokio-tungstenite, or
/// axum.
const EVENT_TRANSPORTS: [(&str, &str); 2] = [
    ("ws", "Receiving events over the long connection (WebSocket): `feishu::ws`."),
    ("axum", "A ready-made axum handler for the webhook: `feishu::events::axum`."),
];

/// The package's one-line summary, also the README's first paragraph.
const DESCRIPTION: &str =
    "Typed client of the Feishu (Lark) Open Platform API, generated from its docs.";

/// What a registry indexes the package under (at most five keywords).
const KEYWORDS: [&str; 5] = ["feishu", "lark", "api", "client", "bot"];
const CATEGORIES: [&str; 2] = ["api-bindings", "web-programming::http-client"];

/// What the package holds: the code, the manifest, the README and the
/// changelog (`cargo xtask regen` writes it beside the crate). Not
/// `rustfmt.toml`, which only the generator's workspace reads.
const INCLUDE: [&str; 4] = ["Cargo.toml", "README.md", "CHANGELOG.md", "src/**/*.rs"];

/// The features a service does not take: the webhook's, unless a service
/// has that name, and each event transport a service does not shadow.
pub(crate) fn event_features(model: &Model) -> (bool, Vec<(&'static str, &'static str)>) {
    let webhook = !model.services.values().any(|s| s.feature == WEBHOOK_FEATURE);
    // A service named like a transport keeps its name; the transport
    // is then reached through feishu-runtime directly.
    let transports = EVENT_TRANSPORTS
        .iter()
        .filter(|(f, _)| webhook && !model.services.values().any(|s| s.feature == *f))
        .copied()
        .collect();
    (webhook, transports)
}

/// Whether the runtime's optional part `extra` (`redis`) is a feature of the
/// crate: it is unless a service has that name.
pub(crate) fn has_extra(model: &Model, extra: &str) -> bool {
    RUNTIME_EXTRAS.iter().any(|(f, _)| *f == extra)
        && !model.services.values().any(|s| s.feature == extra)
}

/// Whether the event transport `transport` (`ws`, `axum`) is a feature of
/// the crate (see [`event_features`]).
pub(crate) fn has_transport(model: &Model, transport: &str) -> bool {
    event_features(model).1.iter().any(|(f, _)| *f == transport)
}

/// `Cargo.toml`.
pub fn cargo_toml(model: &Model, options: &Options, header: &str) -> String {
    let package = &options.package;
    let mut features: Vec<String> =
        model.services.values().map(|s| toml_string(&s.feature)).collect();
    let (webhook, transports) = event_features(model);
    if webhook {
        features.push(toml_string(WEBHOOK_FEATURE));
    }
    // Service features are snake_case, so these hyphenated names never meet one.
    features.push(toml_string(TLS_FEATURES[0].0));
    let mut text = header.replace("// ", "# ");
    text.push_str(&format!(
        "\n[package]\nname = {}\nversion = {}\nedition = \"2024\"\nrust-version = {}\n\
         description = {}\nlicense = {}\n",
        toml_string(&options.crate_name),
        toml_string(&package.version),
        toml_string(&package.rust_version),
        toml_string(DESCRIPTION),
        toml_string(&package.license),
    ));
    if let Some(repository) = &package.repository {
        text.push_str(&format!("repository = {}\n", toml_string(repository)));
    }
    text.push_str(&format!(
        "readme = \"README.md\"\nkeywords = {}\ncategories = {}\ninclude = {}\n",
        toml_list(&KEYWORDS),
        toml_list(&CATEGORIES),
        toml_list(&INCLUDE),
    ));
    // docs.rs builds the default features (every service, webhooks, rustls
    // with ring); the other TLS backends only swap the connector, and
    // would need cmake or OpenSSL there.
    let mut documented: Vec<&str> = transports.iter().map(|(f, _)| *f).collect();
    documented.push("http2");
    text.push_str(&format!(
        "\n[package.metadata.docs.rs]\nfeatures = {}\n",
        toml_list(&documented)
    ));
    let runtime_version = package
        .runtime_version
        .as_ref()
        .map(|v| format!("version = {}, ", toml_string(v)))
        .unwrap_or_default();
    text.push_str(&format!(
        "\n[dependencies]\nfeishu-runtime = {{ {runtime_version}path = {}, default-features = false }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         [features]\ndefault = [{}]\n",
        toml_string(&options.runtime_path),
        features.join(", ")
    ));
    for service in model.services.values() {
        text.push_str(&format!("{} = []\n", service.feature));
    }
    if webhook {
        text.push_str(&format!("{WEBHOOK_FEATURE} = [\"feishu-runtime/events\"]\n"));
        for (feature, doc) in &transports {
            text.push_str(&format!(
                "# {doc}\n{feature} = [{}, \"feishu-runtime/{feature}\"]\n",
                toml_string(WEBHOOK_FEATURE)
            ));
        }
    }
    for (feature, doc) in TLS_FEATURES {
        text.push_str(&format!("# {doc}\n{feature} = [\"feishu-runtime/{feature}\"]\n"));
    }
    // A service named like one keeps its name, as for the transports.
    for (feature, doc) in
        RUNTIME_EXTRAS.iter().filter(|(f, _)| !model.services.values().any(|s| s.feature == *f))
    {
        text.push_str(&format!("# {doc}\n{feature} = [\"feishu-runtime/{feature}\"]\n"));
    }
    text
}

/// The version requirement a user writes for this version: `0.4` while
/// 0.x (a minor release may break), the major version from 1.0.
fn requirement(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(major), _) => major.to_owned(),
        _ => version.to_owned(),
    }
}

/// `README.md`: what the crate is, how to depend on it, its features, and
/// where to read what each version changed.
pub fn readme(model: &Model, options: &Options, header: &str) -> String {
    let name = &options.crate_name;
    let header = header.trim_start_matches("// ").trim_end();
    let mut text = format!(
        "<!-- {header} -->\n\n# {name}\n\n{DESCRIPTION} Every operation is a method, \
         `client.<service>().<resource>().<operation>(…)`; the HTTP, tokens, retries and rate \
         limits are done by [`feishu-runtime`](https://docs.rs/feishu-runtime), which the crate \
         re-exports as `{}::runtime`.\n\n```toml\n[dependencies]\n{name} = \"{}\"\n```\n\n\
         ## Versions\n\nThe version follows the API the docs describe: while 0.x, a change that \
         can break code that compiled (a field or an operation removed, a type changed) raises the \
         minor version, an addition raises the patch version, and a change of prose alone keeps \
         the version. [`CHANGELOG.md`](CHANGELOG.md) lists every change of every version, each \
         with its doc page.\n\n## Features\n\n| feature | what it turns on |\n| --- | --- |\n",
        name.replace('-', "_"),
        requirement(&options.package.version),
    );
    for service in model.services.values() {
        text.push_str(&format!(
            "| `{}` | the `{}` service (on by default) |\n",
            service.feature, service.wire_name
        ));
    }
    let (webhook, transports) = event_features(model);
    if webhook {
        text.push_str(&format!(
            "| `{WEBHOOK_FEATURE}` | receiving webhook events: signatures, decryption (on by default) |\n"
        ));
    }
    for (feature, doc) in transports.iter().chain(&TLS_FEATURES) {
        text.push_str(&format!("| `{feature}` | {doc} |\n"));
    }
    if let Some(repository) = &options.package.repository {
        text.push_str(&format!(
            "\nThe crate is written by a generator from the Feishu doc pages: \
             <{repository}>. Changes to it are made there.\n"
        ));
    }
    text
}
