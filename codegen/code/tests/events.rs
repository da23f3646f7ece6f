//! Typed event bodies: what the seeds, a small event page written for this
//! test (`tests/fixtures/demo_note_shared.md`, a made-up event) and the
//! event pages of the third-party corpus generate, and whether the
//! generated structs decode the pages' own examples.
//!
//! The decoding runs in a generated crate: a crate of only the events (no
//! endpoints, so that it builds in a fraction of the whole crate's time)
//! with an example program that decodes the envelopes it is given, each
//! both with `Event::decode` and through the runtime's webhook and
//! `Event::from_envelope`, and prints one JSON line per envelope.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use feishu_code::{Options, generate};
use feishu_model::Model;
use serde_json::{Value, json};
use support::{GeneratedCrate, corpus, pages_in};

/// The spec of the pages under `dir` whose text passes `keep`.
fn parse_dir(dir: &Path, keep: impl Fn(&str) -> bool) -> feishu_spec::Spec {
    feishu_docs::parse_pages(&pages_in(dir, keep)).spec
}

fn fixture_spec() -> feishu_spec::Spec {
    parse_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), |_| true)
}

/// The checked-in spec (`spec/**.json`).
fn seeds_spec() -> feishu_spec::Spec {
    feishu_spec::Spec::read_dir(support::workspace().join("spec")).unwrap_or_else(|e| panic!("{e}"))
}

/// The seeds list their five events only in the IM catalogue: no body, no
/// struct, `Event::Unknown`. (An event page added later types its event.)
#[test]
fn the_seeds_type_no_event() {
    let spec = seeds_spec();
    let catalogue_only: Vec<&str> =
        spec.events.iter().filter(|e| e.body.is_empty()).map(|e| e.event_type.as_str()).collect();
    assert!(catalogue_only.len() >= 5, "{catalogue_only:?}");
    if catalogue_only.len() < spec.events.len() {
        println!(
            "the_seeds_type_no_event: the spec has event pages now; only the catalogue-only events are checked"
        );
    }
    let model = Model::build(&spec);
    for event in &model.events {
        assert_eq!(
            event.body.is_none(),
            catalogue_only.contains(&event.event_type.as_str()),
            "{}",
            event.event_type
        );
    }
    if catalogue_only.len() < spec.events.len() {
        return;
    }
    assert!(model.services.values().all(|s| s.events.is_empty()));
    let files = generate(&spec, &Options::default());
    let events = &files[Path::new("src/events/event.rs")];
    assert!(events.contains("pub enum Event {"), "{events}");
    assert!(!events.contains("Box<crate::"), "no typed variant: {events}");
    let event_files: Vec<_> =
        files.keys().filter(|p| p.to_string_lossy().contains("/events/")).collect();
    assert_eq!(event_files, [Path::new("src/events/event.rs")], "no event struct files");
}

#[test]
fn fixture_event_snapshot() {
    let spec = fixture_spec();
    assert_eq!(spec.events.len(), 1);
    let files = generate(&spec, &Options::default());
    let mut names: Vec<String> = files
        .keys()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.starts_with("src/demo"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "src/demo.rs",
            "src/demo/events.rs",
            "src/demo/events/note_shared_v1.rs",
            "src/demo/types.rs",
            "src/demo/types/events.rs",
            "src/demo/types/events/receiver.rs",
            "src/demo/types/events/share_kind.rs",
            "src/demo/types/events/user_id.rs",
        ]
    );
    insta::assert_snapshot!("event_struct", files[Path::new("src/demo/events/note_shared_v1.rs")]);
    insta::assert_snapshot!("event_enum", files[Path::new("src/events/event.rs")]);
    assert!(files[Path::new("Cargo.toml")].contains("demo = []"));
}

/// The program the generated crate runs on the envelopes given on stdin.
const DECODE_PROGRAM: &str = r#"//! Decodes the event envelopes given on stdin (a JSON array) and prints one
//! JSON line per envelope: how `Event::decode` and the webhook path took it.
use std::io::Read;
use std::time::SystemTime;

use feishu::events::{Delivery, Event, Webhook, WebhookConfig};

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let envelopes: Vec<serde_json::Value> = serde_json::from_str(&input).expect("a JSON array of envelopes");
    for envelope in envelopes {
        let event_type = envelope["header"]["event_type"].as_str().unwrap_or_default().to_owned();
        let body = envelope.get("event").cloned().unwrap_or_default();
        let (direct, debug) = match Event::decode(&event_type, body) {
            Ok(Event::Unknown { .. }) => ("unknown".to_owned(), String::new()),
            Ok(event) if event.event_type() == event_type => ("typed".to_owned(), format!("{event:?}")),
            Ok(event) => (format!("typed as {}", event.event_type()), String::new()),
            Err(error) => (format!("error: {error}"), String::new()),
        };
        // A webhook of its own per envelope: pages share example event ids.
        let webhook = Webhook::new(WebhookConfig::new().insecure_no_verification()).unwrap();
        let bytes = serde_json::to_vec(&envelope).expect("JSON");
        let via_webhook = match webhook.handle([("Content-Type", "application/json")], &bytes, SystemTime::now()) {
            Ok(Delivery::Event(delivered)) => match Event::from_envelope(&delivered) {
                Ok(Event::Unknown { .. }) => format!("unknown {}", delivered.event_id),
                Ok(_) => format!("typed {}", delivered.event_id),
                Err(error) => format!("error: {error}"),
            },
            Ok(other) => format!("not an event: {other:?}"),
            Err(error) => format!("refused: {error}"),
        };
        println!("{}", serde_json::json!({"event_type": event_type, "direct": direct, "webhook": via_webhook, "debug": debug}));
    }
}
"#;

/// Generates `spec` into a crate under the temp dir, adds the decoding
/// program, optionally lints and documents the crate, and runs the program on
/// `envelopes`: one JSON object per envelope.
fn decode_in_generated_crate(
    label: &str,
    spec: &feishu_spec::Spec,
    envelopes: &[Value],
    lint: bool,
) -> Vec<Value> {
    let options = Options { runtime_path: support::runtime_path(), ..Options::default() };
    let generated = GeneratedCrate::write(&format!("events-{label}"), &generate(spec, &options));
    generated.add_file("examples/decode_events.rs", DECODE_PROGRAM);
    if lint {
        generated.run(&mut generated.cargo(&[
            "clippy",
            "--quiet",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]));
        // The doc links from the `Event` variants to the structs must resolve.
        generated.run(
            generated.cargo(&["doc", "--quiet", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
        );
    }
    let building = Instant::now();
    let mut child = generated
        .cargo(&["run", "--quiet", "--example", "decode_events"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo runs");
    let input = serde_json::to_vec(envelopes).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let output = child.wait_with_output().expect("cargo runs");
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "the {label} event crate in {} failed:\n{}",
        generated.dir().display(),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{label}: built and ran the event crate in {:.1?}", building.elapsed());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn fixture_crate_lints_and_decodes() {
    let spec = fixture_spec();
    let example = spec.events[0].example.clone().expect("the fixture has an example");
    let mut mistyped = example.clone();
    mistyped["event"]["shared_at"] = json!("yesterday");
    mistyped["header"]["event_id"] = json!("evt_demo_0002");
    let mut unknown = example.clone();
    unknown["header"]["event_type"] = json!("demo.note.deleted_v1");
    // The table says `int`; the platform may quote it (issue 29).
    let mut quoted = example.clone();
    quoted["event"]["shared_at"] = json!("1700000000001");
    quoted["header"]["event_id"] = json!("evt_demo_0003");
    let envelopes = [example, mistyped, unknown, quoted];
    let results = decode_in_generated_crate("fixture", &spec, &envelopes, true);
    assert_eq!(results.len(), 4);

    assert_eq!(results[0]["direct"], "typed", "{results:?}");
    assert_eq!(results[0]["webhook"], "typed evt_demo_0001", "{results:?}");
    let debug = results[0]["debug"].as_str().unwrap();
    for decoded in [
        r#"note_id: Some("note_42")"#,
        r#"open_id: Some("ou_demo_sharer")"#,
        "share_kind: Some(Link)",
        "shared_at: Some(1700000000000)",
        "role: Some(2)",
        r#"labels: Some(["todo", "team"])"#,
        "is_public: Some(false)",
    ] {
        assert!(debug.contains(decoded), "{decoded} not in {debug}");
    }

    let error = results[1]["direct"].as_str().unwrap();
    assert!(
        error.starts_with(
            "error: invalid value: string \"yesterday\", expected an integer, or a string holding one"
        ),
        "{error}"
    );
    assert!(results[1]["webhook"].as_str().unwrap().starts_with("error: "), "{results:?}");

    assert_eq!(results[2]["direct"], "unknown");
    assert_eq!(results[2]["webhook"], "unknown evt_demo_0001");

    assert_eq!(results[3]["direct"], "typed", "{results:?}");
    let debug = results[3]["debug"].as_str().unwrap();
    assert!(debug.contains("shared_at: Some(1700000000001)"), "{debug}");
}

/// Gives the events of one corpus folder names of their own
/// (`corehr.x_v1` → `corehr_gfm.x_v1`), so that the same event read from
/// two page shapes gets two structs in one crate, each decoding its own
/// page's example: one build instead of three.
fn rename_service(spec: &mut feishu_spec::Spec, suffix: &str) {
    for event in &mut spec.events {
        let renamed = format!("{}_{suffix}", event.service);
        event.event_type = format!("{renamed}{}", &event.event_type[event.service.len()..]);
        event.service = renamed;
        if let Some(example) = &mut event.example
            && example["header"].is_object()
        {
            example["header"]["event_type"] = json!(event.event_type);
        }
    }
}

#[test]
fn corpus_event_examples_decode() {
    let Some(corpus) = corpus("corpus_event_examples_decode", ".") else { return };
    let started = Instant::now();
    let mut spec = feishu_spec::Spec::default();
    let mut per_folder = Vec::new();
    for folder in ["raw", "gfm", "flat"] {
        let dir = corpus.join(folder);
        if !dir.is_dir() {
            continue;
        }
        // Only pages with an 事件类型 row or column can describe an event.
        let mut part = parse_dir(&dir, |text| text.contains("事件类型"));
        part.endpoints.clear();
        if folder != "raw" {
            rename_service(&mut part, folder);
        }
        per_folder.push(format!(
            "{folder}: {} events ({} with a body)",
            part.events.len(),
            part.events.iter().filter(|e| !e.body.is_empty()).count()
        ));
        spec.events.extend(part.events);
    }
    println!(
        "corpus_event_examples_decode: parsed in {:.1?}; {}",
        started.elapsed(),
        per_folder.join(", ")
    );
    let model = Model::build(&spec);
    let typed = model.events.iter().filter(|e| e.body.is_some()).count();
    assert!(typed >= 250, "only {typed} typed events");

    let mut envelopes = Vec::new();
    // Per envelope: how many of the example's top-level keys are documented
    // fields with a value, and how many are not fields (lenient decoding
    // skips those).
    let mut key_counts = Vec::new();
    let mut without_example = Vec::new();
    for event in spec.events.iter().filter(|e| !e.body.is_empty()) {
        match &event.example {
            Some(example) if example["header"].is_object() => {
                let keys: Vec<(&String, &Value)> =
                    example["event"].as_object().map(|o| o.iter().collect()).unwrap_or_default();
                let is_field = |key: &String| event.body.iter().any(|f| &f.name == key);
                // Null values decode to `None` like absent ones: not counted as filled.
                let documented = keys.iter().filter(|(k, v)| is_field(k) && !v.is_null()).count();
                let undocumented = keys.iter().filter(|(k, _)| !is_field(k)).count();
                key_counts.push((documented, undocumented));
                envelopes.push(example.clone());
            }
            _ => without_example.push(event.event_type.clone()),
        }
    }
    let results = decode_in_generated_crate("corpus", &spec, &envelopes, false);
    assert_eq!(results.len(), envelopes.len());
    let mut failures = Vec::new();
    let mut via_webhook = 0;
    for (result, (documented, _)) in results.iter().zip(&key_counts) {
        if result["direct"] != "typed" {
            failures.push(format!("{}: {}", result["event_type"], result["direct"]));
        } else if *documented > 0 && !result["debug"].as_str().unwrap_or_default().contains("Some(")
        {
            failures.push(format!(
                "{}: decoded, but none of its {documented} documented keys reached a field",
                result["event_type"]
            ));
        }
        if result["webhook"].as_str().is_some_and(|w| w.starts_with("typed ")) {
            via_webhook += 1;
        } else {
            println!(
                "corpus_event_examples_decode: webhook path of {}: {}",
                result["event_type"], result["webhook"]
            );
        }
    }
    let partly_undocumented =
        key_counts.iter().filter(|(_, undocumented)| *undocumented > 0).count();
    let nothing_documented = key_counts.iter().filter(|(documented, _)| *documented == 0).count();
    println!(
        "corpus_event_examples_decode: {typed} typed events, {} examples decoded ({via_webhook} also through the webhook), {} failed, {} without an example: {:?}; \
         {partly_undocumented} examples have top-level keys the body table does not list (skipped), {nothing_documented} have none it lists",
        results.len() - failures.len(),
        failures.len(),
        without_example.len(),
        without_example
    );
    assert!(
        failures.is_empty(),
        "{} of {} examples do not decode:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    assert_eq!(
        via_webhook,
        results.len(),
        "every example that decodes also decodes through the webhook"
    );
}
