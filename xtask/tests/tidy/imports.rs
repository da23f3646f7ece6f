//! The module graph of a crate, read from its sources, for the tidy rules on
//! import cycles.
//!
//! A node is a module with a file of its own (`src/a.rs`, `src/a/mod.rs`,
//! `src/a/b.rs`; the crate root is `""`). A module depends on another when
//! its non-test code names it by path: `use crate::a::…`, `super::b::…`,
//! `self::c::…`, a child module by its bare name, or a sibling by its bare
//! name after a glob import of the parent (`use crate::*`, `use super::*`).
//! `#[cfg(test)]` modules are left out: tests may reach anywhere.
//!
//! The rule judges siblings: a dependency between two modules counts as one
//! between their ancestors just below the deepest common one (`a::x` using
//! `b::y` is `a` using `b`). A module and its parent are not siblings: a
//! parent declares its children and children use the vocabulary of their
//! parent, which is how a Rust crate is built, not a tangle.
//!
//! The reader is lexical (comments, strings and char literals blanked, then
//! tokens), which is enough for paths: macros that build paths from
//! fragments would be missed, and none of the checked crates has one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path, `["events", "dispatch"]`; empty for the crate root.
pub type ModPath = Vec<String>;

/// Each module's sibling-level dependencies, by module path joined with `::`.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module graph of the crate whose sources are `src` (its `lib.rs` or
/// `main.rs` is the root).
pub fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    crate::rust_files(src, &mut files);
    let modules: BTreeMap<ModPath, String> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            (module_path(&file.strip_prefix(src).unwrap().to_string_lossy()), text)
        })
        .collect();
    let known: BTreeSet<&ModPath> = modules.keys().collect();
    let mut graph = Graph::new();
    for (module, text) in &modules {
        let tokens = without_test_modules(&tokens(&blank(text)));
        graph.entry(module.join("::")).or_default();
        for target in references(module, &tokens, &known) {
            if let Some((from, to)) = siblings(module, &target) {
                graph.entry(from.join("::")).or_default().insert(to.join("::"));
            }
        }
    }
    graph
}

/// The cycles of `graph`, each as the modules on it (`a → b → a`), one per
/// strongly connected part; empty when the graph is acyclic.
pub fn cycles(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for start in graph.keys() {
        if reported.contains(start.as_str()) {
            continue;
        }
        // The shortest way back to `start`, breadth first.
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.as_str()]);
        let mut closed = None;
        'search: while let Some(node) = queue.pop_front() {
            for next in graph.get(node).into_iter().flatten() {
                if next == start {
                    closed = Some(node);
                    break 'search;
                }
                if !previous.contains_key(next.as_str()) {
                    previous.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        if let Some(last) = closed {
            // Back from `last` to `start`, then turned around.
            let mut path = vec![last];
            let mut node = last;
            while node != start {
                node = previous[node];
                path.push(node);
            }
            path.reverse();
            path.push(start);
            reported.extend(path.iter().copied());
            found.push(path.join(" → "));
        }
    }
    found
}

/// `a/b.rs` → `["a", "b"]`, `a/mod.rs` → `["a"]`, `lib.rs` → `[]`.
fn module_path(relative: &str) -> ModPath {
    let relative = relative.trim_end_matches(".rs");
    let mut parts: ModPath = relative.split(['/', '\\']).map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The modules `module` names, as paths of known modules.
fn references(module: &ModPath, tokens: &[String], known: &BTreeSet<&ModPath>) -> Vec<ModPath> {
    let parent: ModPath = module.iter().take(module.len().saturating_sub(1)).cloned().collect();
    let mut paths: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let end = tokens[i..].iter().position(|t| t == ";").map_or(tokens.len(), |n| i + n);
            use_paths(&tokens[i + 1..end], &[], &mut paths);
            i = end + 1;
            continue;
        }
        // A path: an identifier not itself after `::`, followed by `::`.
        let starts_path = tokens.get(i + 1).is_some_and(|t| t == "::")
            && is_ident(&tokens[i])
            && (i == 0 || tokens[i - 1] != "::");
        if starts_path {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t == "::")
                && tokens.get(j + 1).is_some_and(|t| is_ident(t))
            {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            paths.push(path);
            i = j;
            continue;
        }
        i += 1;
    }
    let globbed = |of: &ModPath| {
        paths.iter().any(|p| p.last().is_some_and(|l| l == "*") && resolve(module, p) == *of)
    };
    let crate_glob = globbed(&Vec::new());
    let super_glob = !module.is_empty() && globbed(&parent);
    let mut out = Vec::new();
    for path in &paths {
        let first = path[0].as_str();
        let absolute = match first {
            "crate" | "super" | "self" => resolve(module, path),
            _ => {
                let child: ModPath = module.iter().cloned().chain([path[0].clone()]).collect();
                let sibling: ModPath = parent.iter().cloned().chain([path[0].clone()]).collect();
                if known.contains(&child) {
                    module.iter().cloned().chain(path.iter().cloned()).collect()
                } else if super_glob && known.contains(&sibling) {
                    parent.iter().cloned().chain(path.iter().cloned()).collect()
                } else if crate_glob && known.contains(&vec![path[0].clone()]) {
                    path.clone()
                } else {
                    continue;
                }
            }
        };
        // The longest prefix that is a module.
        if let Some(target) = (0..=absolute.len())
            .rev()
            .map(|n| absolute[..n].to_vec())
            .find(|prefix| known.contains(prefix))
        {
            out.push(target);
        }
    }
    out
}

/// An absolute path for `path` (starting with `crate`, `super` or `self`)
/// as written in `module`.
fn resolve(module: &ModPath, path: &[String]) -> ModPath {
    let mut at: ModPath = match path[0].as_str() {
        "crate" => Vec::new(),
        _ => module.clone(),
    };
    let mut rest = if matches!(path[0].as_str(), "crate" | "self") { &path[1..] } else { path };
    while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
        at.pop();
        rest = tail;
    }
    at.extend(rest.iter().filter(|s| *s != "*").cloned());
    at
}

/// The paths a `use` tree (tokens between `use` and `;`) brings in, each
/// after `prefix`; a glob ends in `*`.
fn use_paths(tokens: &[String], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "{" => {
                let close = matching(tokens, i);
                for part in split_top_level(&tokens[i + 1..close]) {
                    use_paths(part, &path, out);
                }
                return;
            }
            "::" => i += 1,
            "as" => break,
            token => {
                path.push(token.to_owned());
                i += 1;
            }
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

/// The index of the `}` closing the `{` at `open`.
fn matching(tokens: &[String], open: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The comma-separated parts of a use group, nested groups kept whole.
fn split_top_level(tokens: &[String]) -> Vec<&[String]> {
    let (mut parts, mut start, mut depth) = (Vec::new(), 0, 0);
    for (i, token) in tokens.iter().enumerate() {
        match token.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "," if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// `from` depending on `to`, lifted to the two siblings below their deepest
/// common ancestor; `None` for one module, or a module and its ancestor.
fn siblings(from: &ModPath, to: &ModPath) -> Option<(ModPath, ModPath)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') || token == "*"
}

/// The tokens of `text` (already blanked): identifiers, `::`, and single
/// punctuation characters.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `r#type`: the raw identifier is the word after `#`.
            out.push(word);
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".to_owned());
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
        i += 1;
    }
    out
}

/// `tokens` without the items marked `#[cfg(test)]` (a `mod tests { … }`,
/// or a `use` for tests only).
fn without_test_modules(tokens: &[String]) -> Vec<String> {
    let marker = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i..].starts_with(&marker.map(String::from)) {
            // Skip to the end of the item: its `;` or its balanced braces.
            let mut j = i + marker.len();
            while j < tokens.len() && tokens[j] != ";" && tokens[j] != "{" {
                j += 1;
            }
            i = if tokens.get(j).is_some_and(|t| t == "{") {
                matching(tokens, j) + 1
            } else {
                j + 1
            };
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out
}

/// `text` with comments, string literals and char literals replaced by
/// spaces, so that a `{` or a `crate::` inside them is not code.
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c));
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (c == 'r' || c == 'b')
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
            && raw_string_hashes(&chars, i).is_some()
        {
            let (hashes, body) = raw_string_hashes(&chars, i).unwrap();
            i = body;
            let close: String =
                std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while i < chars.len() && !at(i, &close) {
                i += 1;
            }
            i = (i + close.chars().count()).min(chars.len());
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
        } else if c == '\'' {
            // A char literal (`'{'`, `'\n'`, `'\u{7b}'`), not a lifetime (`'a`).
            let close = if chars.get(i + 1) == Some(&'\\') {
                (i + 2..chars.len().min(i + 12)).find(|&k| chars[k] == '\'')
            } else {
                (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            match close {
                Some(end) => i = end + 1,
                None => {
                    out.push(c);
                    i += 1;
                    continue;
                }
            }
        } else {
            out.push(c);
            i += 1;
            continue;
        }
        // Keep line breaks, so that nothing joins across a blanked span.
        out.extend(chars[start..i].iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
    }
    out
}

/// For a raw string starting at `i` (`r"`, `r#"`, `br##"`): the number of
/// `#` and the index where its text begins.
fn raw_string_hashes(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some((hashes, j + hashes + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(module: &[&str], text: &str, known: &[&[&str]]) -> Vec<String> {
        let module: ModPath = module.iter().map(|s| s.to_string()).collect();
        let known: Vec<ModPath> =
            known.iter().map(|k| k.iter().map(|s| s.to_string()).collect()).collect();
        let known: BTreeSet<&ModPath> = known.iter().collect();
        let tokens = without_test_modules(&tokens(&blank(text)));
        references(&module, &tokens, &known).into_iter().map(|p| p.join("::")).collect()
    }

    #[test]
    fn paths_and_use_trees_are_read() {
        let known: &[&[&str]] = &[&[], &["a"], &["b"], &["c"], &["d"], &["d", "e"]];
        let text = r#"
            use crate::{a::{X, Y as Z}, b};
            use super::*;
            // crate::c::in_a_comment
            fn f() { let s = "crate::c::in_a_string"; let c = '{'; d::e::g(); }
            #[cfg(test)]
            mod tests { use crate::c::T; }
        "#;
        let found = refs(&["a"], text, known);
        assert_eq!(found, ["a", "a", "b", "", "d::e"]);
    }

    #[test]
    fn a_cycle_is_found_and_a_chain_is_not() {
        let graph = |edges: &[(&str, &str)]| {
            let mut g = Graph::new();
            for (a, b) in edges {
                g.entry(a.to_string()).or_default().insert(b.to_string());
                g.entry(b.to_string()).or_default();
            }
            g
        };
        assert!(cycles(&graph(&[("a", "b"), ("b", "c")])).is_empty());
        assert_eq!(cycles(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])), ["a → b → c → a"]);
        assert_eq!(
            siblings(&vec!["x".into(), "y".into()], &vec!["z".into()]),
            Some((vec!["x".into()], vec!["z".into()]))
        );
        assert_eq!(siblings(&vec!["x".into(), "y".into()], &vec!["x".into()]), None);
    }
}
