//! One xtask binary, run from a second checkout, acts on that checkout: the
//! binary finds its checkout when it runs (issue 31), so a target folder
//! shared by two checkouts cannot make it read or write the other one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A second checkout with just what `openapi` reads: the workspace manifest,
/// xtask's manifest, and a spec of one resource (the reactions).
fn second_checkout() -> (PathBuf, PathBuf) {
    let base = std::env::temp_dir().join(format!("xtask-checkout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let second = base.join("second");
    std::fs::create_dir_all(second.join("xtask/src")).unwrap();
    std::fs::create_dir_all(second.join("spec/im")).unwrap();
    std::fs::copy(root().join("Cargo.toml"), second.join("Cargo.toml")).unwrap();
    std::fs::copy(root().join("xtask/Cargo.toml"), second.join("xtask/Cargo.toml")).unwrap();
    std::fs::copy(
        root().join("spec/im/message_reaction.json"),
        second.join("spec/im/message_reaction.json"),
    )
    .unwrap();
    (base, second)
}

/// `xtask openapi` run in `dir`, with cargo's variables as given (none by default).
fn openapi(dir: &Path, cargo_manifest_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .arg("openapi")
        .current_dir(dir)
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PKG_NAME");
    if let Some(manifest_dir) = cargo_manifest_dir {
        command.env("CARGO_MANIFEST_DIR", manifest_dir).env("CARGO_PKG_NAME", "xtask");
    }
    command.output().unwrap()
}

/// The operation paths of an OpenAPI document on stdout.
fn paths(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    document["paths"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_binary_acts_on_the_checkout_it_is_run_in() {
    let (base, second) = second_checkout();
    let reactions = [
        "/open-apis/im/v1/messages/{message_id}/reactions",
        "/open-apis/im/v1/messages/{message_id}/reactions/{reaction_id}",
    ];

    // This checkout's spec has every im operation.
    let here = paths(&openapi(&root(), None));
    assert!(here.iter().any(|p| p == "/open-apis/im/v1/messages"), "{here:?}");

    // Run by its path from inside the second checkout (a sub-folder of it).
    assert_eq!(paths(&openapi(&second.join("xtask/src"), None)), reactions);

    // Run by cargo for the second checkout: cargo names it, wherever the run starts.
    assert_eq!(paths(&openapi(&base, Some(&second.join("xtask")))), reactions);

    // Outside any checkout, and not run by cargo: a clear error, not some other tree.
    let lost = openapi(&base, None);
    assert_eq!(lost.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert!(stderr.contains("not inside a checkout of this project"), "{stderr}");
    let _ = std::fs::remove_dir_all(&base);
}
