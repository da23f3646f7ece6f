//! Run-time checks of whether a capability the bench measures has landed:
//! what the runtime's manifest and sources offer, and how the sandbox
//! answers a call. A key whose capability is missing stays `null` with the
//! check's finding as its reason, so it starts measuring once the capability
//! is merged, without a change here.

use std::path::Path;

/// Whether `runtime/Cargo.toml` declares the cargo feature `name` in `[features]`.
pub fn runtime_feature(root: &Path, name: &str) -> Result<bool, String> {
    let manifest = root.join("runtime").join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut in_features = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features
            && line.split('=').next().is_some_and(|key| key.trim() == name)
            && line.contains('=')
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether any `.rs` file under `runtime/src` names `ident` (a whole word).
pub fn runtime_mentions(root: &Path, ident: &str) -> bool {
    let mut stack = vec![root.join("runtime").join("src")];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && std::fs::read_to_string(&path).is_ok_and(|text| mentions(&text, ident))
            {
                return true;
            }
        }
    }
    false
}

/// `ident` in `text` as a whole word.
fn mentions(text: &str, ident: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(ident).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(word)
            && !text[at + ident.len()..].chars().next().is_some_and(word)
    })
}

/// An answer: HTTP status and (the start of) the body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// `status: body` for a reason, the body cut short.
    pub fn describe(&self) -> String {
        let body: String = self.body.chars().take(160).collect();
        format!("HTTP {}: {}", self.status, body.trim())
    }
}

/// Sends `request` on a runtime of its own; the status and body.
pub fn send(request: reqwest::RequestBuilder) -> Result<Answer, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let response = request
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok(Answer { status, body })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_read_from_the_features_table_only() {
        let root = std::env::temp_dir().join(format!("xtask-bench-probe-{}", std::process::id()));
        std::fs::create_dir_all(root.join("runtime")).unwrap();
        let manifest = "[package]\nws = 1\n\n[features]\ndefault = [\"events\"]\nevents = [\"dep:aes\"]\n\n[dependencies]\nupload = \"1\"\n";
        std::fs::write(root.join("runtime/Cargo.toml"), manifest).unwrap();
        assert!(runtime_feature(&root, "events").unwrap());
        assert!(!runtime_feature(&root, "ws").unwrap());
        assert!(!runtime_feature(&root, "upload").unwrap());
        std::fs::write(
            root.join("runtime/Cargo.toml"),
            format!("{manifest}\n[features]\nws = [\"dep:tokio-tungstenite\"]\n"),
        )
        .unwrap();
        assert!(runtime_feature(&root, "ws").unwrap());
        std::fs::remove_dir_all(&root).unwrap();
        assert!(runtime_feature(&root, "ws").is_err());
    }

    #[test]
    fn mentions_are_whole_words() {
        assert!(mentions("pub struct UploadFile {", "UploadFile"));
        assert!(mentions("UploadFile", "UploadFile"));
        assert!(!mentions("pub struct UploadFileKey;", "UploadFile"));
        assert!(!mentions("fn my_UploadFile()", "UploadFile"));
    }
}
