//! The OpenAPI documents of the repository's spec, and of the third-party
//! corpus in `../shared/corpus/raw` when it is there, checked by an independent
//! validator: openapi-spec-validator from PyPI, run with the interpreter named
//! by `FEISHU_PEER_PYTHON` (default `python3`). `cargo xtask test` installs it
//! (xtask/src/peers.rs). Without it, or without the corpus, the tests skip with
//! a message, except on CI (`feishu_testkit::on_ci`), where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use feishu_openapi::Problem;
use feishu_spec::Spec;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> String {
    std::env::var("FEISHU_PEER_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// Whether the validator can run; `false` means skip (outside CI).
fn validator_available() -> bool {
    let python = python();
    let probe = Command::new(&python).args(["-c", "import openapi_spec_validator"]).output();
    if probe.is_ok_and(|out| out.status.success()) {
        return true;
    }
    let message = format!(
        "openapi-spec-validator is not importable with {python} (FEISHU_PEER_PYTHON); `cargo xtask test` installs it into target/peers/venv, or run `{python} -m pip install openapi-spec-validator==0.9.0`"
    );
    feishu_testkit::skip_or_fail("openapi validation", &message);
    false
}

/// Runs the validator on `document`: whether it accepts it, and what it said.
fn run_validator(name: &str, document: &serde_json::Value) -> (bool, String, PathBuf) {
    let text = serde_json::to_string_pretty(document).unwrap();
    let file =
        std::env::temp_dir().join(format!("feishu-openapi-{name}-{}.json", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(python())
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("the validator runs");
    let report =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), report, file)
}

/// Writes `spec`'s document to a temporary file and runs the validator on it.
fn validate(name: &str, spec: &Spec) {
    let document = feishu_openapi::openapi(spec).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (ok, report, file) = run_validator(name, &document);
    assert!(
        ok,
        "openapi-spec-validator rejects the document of {name} (kept at {}):\n{report}",
        file.display()
    );
    assert!(report.contains("OK"), "{report}");
    eprintln!(
        "{name}: {} operations; openapi-spec-validator: {}",
        spec.endpoints.len(),
        report.trim()
    );
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn the_validator_rejects_a_broken_document() {
    if !validator_available() {
        return;
    }
    // A path template whose parameter is not declared: the check must see it.
    let mut document = feishu_openapi::openapi(&repository_spec()).unwrap();
    let reply = &mut document["paths"]["/open-apis/im/v1/messages/{message_id}/reply"]["post"];
    reply.as_object_mut().unwrap().remove("parameters").expect("reply has parameters");
    let (ok, report, file) = run_validator("broken", &document);
    std::fs::remove_file(&file).unwrap();
    assert!(!ok, "the validator accepted a document with an undeclared path parameter:\n{report}");
    assert!(report.contains("message_id"), "{report}");
}

/// The checked-in spec: every `spec/<service>/<resource>.json`.
fn repository_spec() -> Spec {
    Spec::read_dir(root().join("spec")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_repository_spec_is_a_valid_openapi_document() {
    let spec = repository_spec();
    assert!(spec.endpoints.len() >= 30, "the seed pages and catalogue give about 34 endpoints");
    // Deterministic: the same spec gives the same bytes.
    let once = serde_json::to_string(&feishu_openapi::openapi(&spec).unwrap()).unwrap();
    let twice = serde_json::to_string(&feishu_openapi::openapi(&spec).unwrap()).unwrap();
    assert_eq!(once, twice);
    if validator_available() {
        validate("repository", &spec);
    }
}

/// The markdown pages under `dir`, as the parser's own [`feishu_docs::page_files`]
/// lists them; an absent folder has none (the corpus is optional).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut files = Vec::new();
    if feishu_docs::page_files(dir, &mut files).is_ok() {
        out.extend(files.into_iter().filter(|f| f.extension().is_some_and(|x| x == "md")));
    }
}

#[test]
fn the_corpus_spec_is_a_valid_openapi_document() {
    let corpus = root().join("../shared/corpus/raw");
    if feishu_testkit::corpus_folder("the_corpus_spec_is_a_valid_openapi_document", &corpus)
        .is_none()
    {
        return;
    }
    let mut files = Vec::new();
    walk(&corpus, &mut files);
    let pages: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            (
                f.strip_prefix(&corpus).unwrap().to_string_lossy().replace('\\', "/"),
                String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned(),
            )
        })
        .collect();
    let mut spec = feishu_docs::parse_pages(&pages).spec;
    assert!(
        spec.endpoints.len() > 500,
        "the raw corpus documents hundreds of endpoints, got {}",
        spec.endpoints.len()
    );
    // Some pages document one endpoint twice under different parameter names
    // (`:spreadsheetToken` and `:spreadsheet_token`): the export must say so,
    // and the rest must still be a valid document.
    if let Err(error) = feishu_openapi::openapi(&spec) {
        let mut dropped = std::collections::BTreeSet::new();
        for problem in &error.problems {
            eprintln!("corpus: {problem}");
            match problem {
                Problem::SameRoute { ids, .. } | Problem::PathSpellings { ids, .. } => {
                    dropped.extend(ids.iter().skip(1).cloned())
                }
                Problem::SameId { .. } => {}
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        spec.endpoints.retain(|e| !dropped.contains(&e.id) && seen.insert(e.id.clone()));
        eprintln!(
            "corpus: {} endpoints left out of the document for the problems above",
            dropped.len()
        );
    }
    if validator_available() {
        validate("corpus-raw", &spec);
    }
}
