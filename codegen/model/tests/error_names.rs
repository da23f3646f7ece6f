//! The error variant naming rule over every error table of the third-party
//! corpus (`../shared/corpus/raw`, next to the workspace): every name is a
//! valid identifier, no two codes of an operation share a name or a helper,
//! and two runs give the same names. Skips when the corpus is absent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use feishu_model::{Model, OperationKind};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/raw");
    dir.is_dir().then(|| dir.canonicalize().unwrap())
}

/// `(code, variant, helper, message)` of one documented code.
type Named = (i64, String, String, String);

/// `(operation id, its codes)` of every typed operation.
fn names(model: &Model) -> Vec<(String, Vec<Named>)> {
    let mut out = Vec::new();
    for service in model.services.values() {
        for resource in service.resources.values() {
            for op in &resource.operations {
                if let OperationKind::Typed(d) = &op.kind {
                    out.push((
                        op.id.clone(),
                        d.error
                            .variants
                            .iter()
                            .map(|v| {
                                (v.code, v.rust_name.clone(), v.helper.clone(), v.message.clone())
                            })
                            .collect(),
                    ));
                }
            }
        }
    }
    out
}

fn is_identifier(name: &str, first: fn(char) -> bool) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(first) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[test]
fn corpus_error_names_are_valid_unique_and_stable() {
    let Some(corpus) = corpus() else {
        feishu_testkit::skip_or_fail("corpus_error_names", "../shared/corpus/raw is absent");
        return;
    };
    let mut files = Vec::new();
    feishu_docs::page_files(&corpus, &mut files).expect("the corpus is readable");
    let pages: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            (
                f.strip_prefix(&corpus).unwrap().to_string_lossy().into_owned(),
                String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned(),
            )
        })
        .collect();
    let spec = feishu_docs::parse_pages(&pages).spec;
    let first = names(&Model::build(&spec));
    assert_eq!(first, names(&Model::build(&spec)), "two runs named the codes differently");

    let (mut total, mut from_message) = (0, 0);
    for (op, variants) in &first {
        let mut taken = BTreeSet::new();
        let mut helpers = BTreeSet::new();
        for (code, name, helper, _) in variants {
            total += 1;
            if *name != format!("Code{code}").replace('-', "Minus") {
                from_message += 1;
            }
            assert!(
                is_identifier(name, |c| c.is_ascii_uppercase()),
                "{op}: code {code} is named {name:?}"
            );
            assert!(name != "Unhandled" && name != "Self", "{op}: code {code} is named {name:?}");
            assert!(
                is_identifier(helper, |c| c.is_ascii_lowercase()) && helper.starts_with("is_"),
                "{op}: helper {helper:?}"
            );
            assert!(taken.insert(name.clone()), "{op}: two codes are named {name}");
            assert!(helpers.insert(helper.clone()), "{op}: two helpers are named {helper}");
        }
    }
    println!(
        "corpus_error_names: {total} codes of {} typed operations; {from_message} named from their message",
        first.len()
    );
    assert!(total > 1000, "only {total} documented codes in the corpus");

    // Every negative message keeps its negation, and the modal before it,
    // in the name: `BotNotOutsideGroup` for "The bot can not be outside
    // the group" would say the opposite. Read here by a rule of its own,
    // not by the generator's.
    let (mut negative, mut wrong) = (0, Vec::new());
    for (op, variants) in &first {
        for (code, name, _, message) in variants {
            let Some(token) = expected_negation(message) else { continue };
            negative += 1;
            if !has_word(name, &token) {
                wrong.push(format!("{op}: code {code} {message:?} is named {name} (no `{token}`)"));
            }
        }
    }
    println!("corpus_error_names: {negative} negative messages");
    assert!(negative > 100, "only {negative} negative messages in the corpus");
    assert!(wrong.is_empty(), "{} names lost their negation:\n{}", wrong.len(), wrong.join("\n"));
}

/// The word a name must carry for a message whose first clause is
/// negative (`Cannot`, `ShouldNot`, `Never`, `No`, `Not`); `None` for a
/// positive or non-English message, which the naming rule leaves to
/// `Code<code>`.
fn expected_negation(message: &str) -> Option<String> {
    let message = message.trim();
    if !message.is_ascii() {
        return None;
    }
    let clause = message.split(['.', ',', ';', ':', '(']).map(str::trim).find(|c| !c.is_empty())?;
    let words: Vec<String> = clause
        .to_ascii_lowercase()
        .replace("can't", "cannot")
        .replace("won't", "will not")
        .replace("n't", " not")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let modals = ["could", "will", "would", "should", "must", "may", "might"];
    words.iter().enumerate().find_map(|(i, w)| match w.as_str() {
        "cannot" => Some("Cannot".to_owned()),
        "never" => Some("Never".to_owned()),
        "no" => Some("No".to_owned()),
        "not" => Some(match i.checked_sub(1).map(|p| words[p].as_str()) {
            Some("can") => "Cannot".to_owned(),
            Some(m) if modals.contains(&m) => {
                format!("{}{}Not", m[..1].to_ascii_uppercase(), &m[1..])
            }
            _ => "Not".to_owned(),
        }),
        _ => None,
    })
}

/// Whether `word` (capitalised) stands in the camel-case `name` as whole
/// words: what follows it starts a new word or the code suffix.
fn has_word(name: &str, word: &str) -> bool {
    name.match_indices(word).any(|(at, _)| {
        name[at + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}
