//! The runtime's modules import only downward, and no file imports itself
//! round a circle (issue 23; `ARCHITECTURE.md` lists the layers and their
//! rules).
//!
//! Every `crate::…` path of the sources (imports, paths in code, paths in
//! macro calls; not doc links, not `#[cfg(test)]` items) is resolved to the
//! file it names; so are `super::…` and a `mod.rs`'s paths into its own
//! child modules. `lib.rs` and `codegen/mod.rs` are faces: they only hand
//! names on, and nothing may import from them, so a path through a name the
//! crate root re-exports (`crate::Client`) is refused too: it names the
//! module above everything (as `farm-studio look runtime/src` draws it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

/// The layers, lowest first: a module may import from its own layer and
/// from the ones below it, never from one above.
const LAYERS: &[(&str, &[&str])] = &[
    // Plain values and their errors: nothing here sends anything.
    // (`codegen/` is here for its `de` and `ser`; its `mod.rs` is a face.)
    (
        "ground",
        &["secret", "ids", "clock", "random", "validate", "content", "error", "outcome", "codegen"],
    ),
    // One HTTP exchange: the request, its body and files, the raw answer
    // and its envelope. The only layer that knows the HTTP library.
    ("transport", &["request", "upload", "transport"]),
    // What decides about an exchange: tokens, limits, retries, settings.
    ("policy", &["config", "retry", "limit", "auth"]),
    // The client users hold, and what it returns.
    ("client", &["client", "builder", "download", "call", "paginate"]),
    // Receiving events, by webhook or long connection; a fleet's shared
    // stores (Redis), which serve both the client and the dispatcher.
    ("events", &["events", "ws", "redis"]),
];

/// Faces: files that only re-export, which nothing may import.
const FACES: &[&str] = &["lib.rs", "codegen/mod.rs"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, relative to `src`, sorted.
fn files(src: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(src).unwrap().to_path_buf());
        }
    }
}

/// The module path of a file: `auth/mod.rs` → `[auth]`, `auth/token.rs` →
/// `[auth, token]`, `lib.rs` → `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        file.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The file of a module path, if there is one.
fn file_of(src: &Path, module: &[String]) -> Option<PathBuf> {
    if module.is_empty() {
        return Some(PathBuf::from("lib.rs"));
    }
    let joined: PathBuf = module.iter().collect();
    let flat = joined.with_extension("rs");
    let nested = joined.join("mod.rs");
    [flat, nested].into_iter().find(|f| src.join(f).is_file())
}

/// The longest module prefix of `path` that is a file, and that file.
fn deepest_file(src: &Path, path: &[String]) -> Option<(usize, PathBuf)> {
    (1..=path.len()).rev().find_map(|n| file_of(src, &path[..n]).map(|f| (n, f)))
}

/// Whether an attribute list holds `#[cfg(test)]`.
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta.to_token_stream().to_string().replace(' ', "") == "cfg(test)"
    })
}

/// The paths (as segments, `crate`/`super`/child first) in `tokens`,
/// including those in macro calls and `use` groups.
fn paths(tokens: TokenStream, roots: &BTreeSet<String>, out: &mut Vec<Vec<String>>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        let start_ok = i == 0 || !is_colon(&trees[i - 1]);
        if let TokenTree::Ident(id) = &trees[i]
            && start_ok
            && roots.contains(&id.to_string())
            && is_path_sep(&trees, i + 1)
        {
            let mut prefix = vec![id.to_string()];
            i = follow(&trees, i + 1, &mut prefix, out);
            continue;
        }
        if let TokenTree::Group(g) = &trees[i] {
            paths(g.stream(), roots, out);
        }
        i += 1;
    }
}

fn is_colon(t: &TokenTree) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == ':')
}

fn is_path_sep(trees: &[TokenTree], i: usize) -> bool {
    i + 1 < trees.len() && is_colon(&trees[i]) && is_colon(&trees[i + 1])
}

/// Reads `:: seg :: seg …` (or `:: { a::b, c }`) from `i` onwards after
/// `prefix`, pushing each whole path; returns the index after it.
fn follow(
    trees: &[TokenTree],
    mut i: usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    while is_path_sep(trees, i) {
        match trees.get(i + 2) {
            Some(TokenTree::Ident(seg)) => {
                prefix.push(seg.to_string());
                i += 3;
            }
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                for part in inner.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                {
                    let mut sub = prefix.clone();
                    if let Some(TokenTree::Ident(first)) = part.first() {
                        sub.push(first.to_string());
                        follow(part, 1, &mut sub, out);
                    } else {
                        out.push(sub);
                    }
                }
                return i + 3;
            }
            _ => break,
        }
    }
    out.push(prefix.clone());
    i
}

/// Every file each file imports from (other than itself).
fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut all = Vec::new();
    files(src, src, &mut all);
    let mut graph = BTreeMap::new();
    for file in &all {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", file.display()));
        let module = module_of(file);
        // A `mod.rs` (or `lib.rs`) reaches its children by their bare names.
        let children: BTreeSet<String> = parsed
            .items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Mod(m) if m.content.is_none() && !is_test(&m.attrs) => {
                    Some(m.ident.to_string())
                }
                _ => None,
            })
            .collect();
        let is_dir_module = file.ends_with("mod.rs") || file == Path::new("lib.rs");
        let mut roots: BTreeSet<String> = ["crate", "super", "self"].map(String::from).into();
        if is_dir_module {
            roots.extend(children.iter().cloned());
        }
        let mut found = Vec::new();
        for item in parsed.items.iter().filter(|item| !item_is_test(item)) {
            paths(item.to_token_stream(), &roots, &mut found);
        }
        let mut targets = BTreeSet::new();
        for path in found {
            let absolute: Vec<String> = match path[0].as_str() {
                "crate" => path[1..].to_vec(),
                "self" => module.iter().cloned().chain(path[1..].iter().cloned()).collect(),
                "super" => {
                    // `super` of a top-level item: the parent module. (The
                    // file's own inline modules are tests, skipped above.)
                    let mut parent = module.clone();
                    if parent.pop().is_none() {
                        panic!("{}: `super` above the crate root", file.display());
                    }
                    parent.into_iter().chain(path[1..].iter().cloned()).collect()
                }
                child if children.contains(child) && is_dir_module => {
                    module.iter().cloned().chain(path.iter().cloned()).collect()
                }
                _ => continue,
            };
            // A path whose first segment is no module names the root's
            // re-export: the face `lib.rs`.
            let target = match deepest_file(src, &absolute) {
                Some((_, f)) => f,
                None => PathBuf::from("lib.rs"),
            };
            if &target != file {
                targets.insert(target);
            }
        }
        graph.insert(file.clone(), targets);
    }
    graph
}

fn item_is_test(item: &syn::Item) -> bool {
    match item {
        syn::Item::Mod(m) => is_test(&m.attrs),
        syn::Item::Fn(f) => is_test(&f.attrs),
        syn::Item::Impl(i) => is_test(&i.attrs),
        syn::Item::Use(u) => is_test(&u.attrs),
        _ => false,
    }
}

/// The layer of a file, by its top-level module.
fn layer(file: &Path) -> Result<usize, String> {
    let top = module_of(file).first().cloned().unwrap_or_default();
    LAYERS.iter().position(|(_, modules)| modules.contains(&top.as_str())).ok_or_else(|| {
        format!(
            "{}: module `{top}` is in no layer: add it to LAYERS in runtime/tests/layers.rs (and to ARCHITECTURE.md)",
            file.display()
        )
    })
}

/// The problems of `graph`: unknown modules, upward imports, imports of a
/// face, and circles.
fn problems(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<String> {
    let mut problems = Vec::new();
    let is_face = |f: &Path| FACES.iter().any(|face| f == Path::new(face));
    for (file, targets) in graph {
        if is_face(file) {
            continue;
        }
        let from = match layer(file) {
            Ok(l) => l,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for target in targets {
            if is_face(target) {
                problems.push(format!(
                    "{} imports the face {}: import from the module that defines the name",
                    file.display(),
                    target.display()
                ));
                continue;
            }
            if let Ok(to) = layer(target)
                && to > from
            {
                problems.push(format!(
                    "{} ({}) imports {} ({}): an import that runs upward",
                    file.display(),
                    LAYERS[from].0,
                    target.display(),
                    LAYERS[to].0
                ));
            }
        }
    }
    // Circles: a depth-first search over files (faces left out).
    let mut state: BTreeMap<&Path, u8> = BTreeMap::new(); // 1 = on the stack, 2 = done
    let mut stack: Vec<&Path> = Vec::new();
    fn visit<'a>(
        node: &'a Path,
        graph: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<&'a Path, u8>,
        stack: &mut Vec<&'a Path>,
        problems: &mut Vec<String>,
    ) {
        state.insert(node, 1);
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if FACES.iter().any(|f| next == Path::new(f)) {
                continue;
            }
            match state.get(next.as_path()) {
                Some(1) => {
                    let start = stack.iter().position(|f| *f == next.as_path()).unwrap();
                    let circle: Vec<String> =
                        stack[start..].iter().map(|f| f.display().to_string()).collect();
                    problems.push(format!(
                        "a circle of imports: {} -> {}",
                        circle.join(" -> "),
                        next.display()
                    ));
                }
                Some(_) => {}
                None => visit(next, graph, state, stack, problems),
            }
        }
        stack.pop();
        state.insert(node, 2);
    }
    for file in graph.keys() {
        if !FACES.iter().any(|f| file == Path::new(f)) && !state.contains_key(file.as_path()) {
            visit(file, graph, &mut state, &mut stack, &mut problems);
        }
    }
    problems
}

#[test]
fn runtime_modules_import_only_downward_and_never_in_a_circle() {
    let src = src();
    let graph = graph(&src);
    assert!(graph.len() > 30, "read only {} files", graph.len());
    let problems = problems(&graph);
    assert!(problems.is_empty(), "runtime/src breaks its layers:\n{}", problems.join("\n"));
}

/// The check itself: an upward import and a circle are found.
#[test]
fn an_upward_import_and_a_circle_are_reported() {
    let mut graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<PathBuf, BTreeSet<PathBuf>>, a: &str, b: &str| {
        g.entry(PathBuf::from(a)).or_default().insert(PathBuf::from(b));
        g.entry(PathBuf::from(b)).or_default();
    };
    edge(&mut graph, "client.rs", "error/mod.rs");
    assert!(problems(&graph).is_empty(), "{:?}", problems(&graph));
    edge(&mut graph, "error/mod.rs", "client.rs");
    let found = problems(&graph);
    assert!(
        found.iter().any(|p| p.contains("error/mod.rs (ground) imports client.rs (client)")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.starts_with("a circle of imports")), "{found:?}");
    let mut faces = BTreeMap::new();
    edge(&mut faces, "auth/mod.rs", "lib.rs");
    assert!(problems(&faces)[0].contains("imports the face lib.rs"), "{:?}", problems(&faces));
}

/// Paths are found in `use` groups, in code and in macro calls, but not in
/// doc comments or tests.
#[test]
fn paths_are_read_from_uses_code_and_macros() {
    let file: syn::File = syn::parse_str(
        "/// [`x`](crate::docs::Only)\nuse crate::{a::X, b::{c::Y, Z}};\nfn f() { crate::d::g(); matches!(e, crate::e::E::V); }\n#[cfg(test)] mod tests { use crate::t::T; }",
    )
    .unwrap();
    let roots: BTreeSet<String> = ["crate".to_owned()].into();
    let mut found = Vec::new();
    for item in file.items.iter().filter(|i| !item_is_test(i)) {
        paths(item.to_token_stream(), &roots, &mut found);
    }
    let found: BTreeSet<String> = found.iter().map(|p| p.join("::")).collect();
    let want: BTreeSet<String> =
        ["crate::a::X", "crate::b::c::Y", "crate::b::Z", "crate::d::g", "crate::e::E::V"]
            .map(String::from)
            .into();
    assert_eq!(found, want);
}
