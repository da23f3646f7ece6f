//! Robustness fuzzing: the reader must never panic, whatever the page holds.
//!
//! The crate promises "nothing panics: a garbage page is a diagnostic". That is
//! easy to break with a slice at a byte offset that is not a char boundary, an
//! index past the end of a row, an unchecked `level="N"`, or a region that ends
//! before it starts. These tests feed the reader damaged pages and check only
//! that it returns.
//!
//! * A proptest mutates the five seed pages (`tests/seeds/**/*.md`, read
//!   recursively and sorted): it deletes, duplicates and swaps line ranges,
//!   inserts strings built from the markup the parser reacts to (pipes and
//!   delimiter rows, `:::html` fences, `<md-…>` tags, `└`, `&nbsp;`, rule
//!   sentences, code fences, JSON brackets, multi-byte chars, lone `\r`, NUL),
//!   truncates at random char boundaries and replaces random chars.
//! * A second proptest builds pages from scratch out of the same vocabulary,
//!   reaching markup combinations the seeds never show.
//! * Deterministic tests cover the degenerate pages: empty text, a header only,
//!   10 000 `|`, very deep `level="1000"` rows, and binary garbage.
//!
//! Every test calls [`feishu_docs::read_page`], which turns a reader panic into
//! a diagnostic; `read` fails the test on that diagnostic. Failure
//! persistence is off, so a failing run writes no files; proptest prints the
//! shrunk input instead.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The markup the reader reacts to, and some characters that break naive slicing.
const VOCAB: &[&str] = &[
    "|",
    "||",
    " | ",
    "---|---",
    "|---|---|",
    "| --- | :---: |",
    ":::html",
    ":::html\n",
    ":::",
    ":::note",
    "<md-dt-tr level=\"9\">",
    "<md-dt-tr level=\"0\">",
    "<md-dt-tr level=\"-1\">",
    "<md-dt-tr level=\"99999999999999999999999\">",
    "</md-dt-tr>",
    "<md-dt-table>",
    "</md-dt-table>",
    "<md-dt-thead>",
    "<md-dt-td>",
    "<md-table>",
    "</md-table>",
    "<md-thead>",
    "<md-tbody>",
    "<md-tr>",
    "</md-tr>",
    "<md-th>",
    "</md-th>",
    "<md-td>",
    "</md-td>",
    "<tr>",
    "<md-code-json>",
    "</md-code-json>",
    "<md-perm name=\"im:message\" desc=\"发消息\">",
    "<md-tag type=\"token-tenant\">",
    "<md-app-support types=\"custom,isv\">",
    "<md-enum>",
    "<md-enum-item key=\"a\">",
    "<br>",
    "└",
    "&nbsp;",
    "&nbsp;&nbsp;└",
    "**可选值有**：",
    "可选值有：",
    "示例值：",
    "默认值：",
    "长度范围：",
    "长度范围：`1` ～ `",
    "数据校验规则",
    "- ",
    "\n- ",
    "  - ",
    "# ",
    "## 请求体",
    "### 响应体",
    "请求头",
    "路径参数",
    "查询参数",
    "错误码",
    "HTTP URL",
    "HTTP Method",
    "```",
    "```json",
    "```json\n",
    "~~~",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "`",
    "``",
    "*",
    "**",
    "<!--",
    "-->",
    "---",
    "\n",
    "\n\n",
    "\t",
    "\r",
    "\r\n",
    "\0",
    "\u{feff}",
    "\u{301}",
    "你",
    "🙂",
    "é",
    "\u{10ffff}",
    "string",
    "object[]",
    "int",
    "是",
    "否",
];

/// Single characters for in-place replacement.
const CHARS: &[char] =
    &['|', ':', '<', '>', '`', '└', '你', '🙂', '\r', '\n', '\0', '{', '[', '-', ' ', '\u{301}'];

/// The seed pages, `(path relative to tests/seeds, text)`, sorted by path.
fn seeds() -> &'static [(String, String)] {
    static SEEDS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
        let mut files = Vec::new();
        collect_md(&root, &mut files);
        files.sort();
        let seeds: Vec<(String, String)> = files
            .iter()
            .map(|path| {
                let name = path.strip_prefix(&root).unwrap_or(path).display().to_string();
                let text = std::fs::read_to_string(path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                (name, text)
            })
            .collect();
        assert!(!seeds.is_empty(), "no seed pages under {}", root.display());
        seeds
    })
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_md(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// One edit of a page. Positions are raw numbers, reduced modulo the page's
/// current size when applied, so every mutation applies to every page.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLines { at: usize, len: usize },
    DuplicateLines { at: usize, len: usize, to: usize },
    SwapLines { a: usize, b: usize, len: usize },
    Insert { at: usize, piece: String },
    InsertLine { at: usize, piece: String },
    Truncate { at: usize },
    ReplaceChar { at: usize, with: char },
}

/// A string glued together from vocabulary items, random chars and short ASCII runs.
fn piece() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => prop::sample::select(VOCAB).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
        1 => "[ -~]{0,6}",
    ];
    prop::collection::vec(token, 1..6).prop_map(|tokens| tokens.concat())
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        2 => (at, 1usize..40).prop_map(|(at, len)| Mutation::DeleteLines { at, len }),
        2 => (at, 1usize..40, any::<usize>()).prop_map(|(at, len, to)| Mutation::DuplicateLines { at, len, to }),
        2 => (at, any::<usize>(), 1usize..20).prop_map(|(a, b, len)| Mutation::SwapLines { a, b, len }),
        4 => (at, piece()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        4 => (at, piece()).prop_map(|(at, piece)| Mutation::InsertLine { at, piece }),
        1 => at.prop_map(|at| Mutation::Truncate { at }),
        3 => (at, prop_oneof![3 => prop::sample::select(CHARS), 1 => any::<char>()])
            .prop_map(|(at, with)| Mutation::ReplaceChar { at, with }),
    ]
}

/// The page's lines, each with its line ending.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// Byte offsets of every char boundary, including the end.
fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect()
}

fn apply(text: &mut String, mutation: &Mutation) {
    match mutation {
        Mutation::DeleteLines { at, len } => {
            let mut ls = lines(text);
            if ls.is_empty() {
                return;
            }
            let start = at % ls.len();
            let end = (start + len).min(ls.len());
            ls.drain(start..end);
            *text = ls.concat();
        }
        Mutation::DuplicateLines { at, len, to } => {
            let mut ls = lines(text);
            if ls.is_empty() {
                return;
            }
            let start = at % ls.len();
            let end = (start + len).min(ls.len());
            let copy: Vec<String> = ls[start..end].to_vec();
            let to = to % (ls.len() + 1);
            ls.splice(to..to, copy);
            *text = ls.concat();
        }
        Mutation::SwapLines { a, b, len } => {
            let mut ls = lines(text);
            if ls.len() < 2 {
                return;
            }
            let (a, b) = (a % ls.len(), b % ls.len());
            let (lo, hi) = (a.min(b), a.max(b));
            // Two ranges of equal length that do not overlap.
            let len = (*len).min(hi - lo).min(ls.len() - hi);
            for k in 0..len {
                ls.swap(lo + k, hi + k);
            }
            *text = ls.concat();
        }
        Mutation::Insert { at, piece } => {
            let bounds = boundaries(text);
            text.insert_str(bounds[at % bounds.len()], piece);
        }
        Mutation::InsertLine { at, piece } => {
            let mut ls = lines(text);
            let at = at % (ls.len() + 1);
            ls.insert(at, format!("{piece}\n"));
            *text = ls.concat();
        }
        Mutation::Truncate { at } => {
            let bounds = boundaries(text);
            text.truncate(bounds[at % bounds.len()]);
        }
        Mutation::ReplaceChar { at, with } => {
            let bounds = boundaries(text);
            if bounds.len() < 2 {
                return;
            }
            let k = at % (bounds.len() - 1);
            text.replace_range(bounds[k]..bounds[k + 1], with.encode_utf8(&mut [0; 4]));
        }
    }
}

/// Reads the page; a reader panic fails the test with the panic message.
fn read(file: &str, text: &str) {
    let (_, diagnostics) = feishu_docs::read_page(file, text);
    let failed = diagnostics.iter().find(|d| d.message.starts_with(feishu_docs::READER_FAILED));
    assert!(failed.is_none(), "{failed:?}");
}

/// `cases` per property; `PROPTEST_CASES=100000` in the environment runs a deeper search.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config(256))]

    /// Mutated seed pages never panic the reader.
    #[test]
    fn mutated_seed_pages_never_panic(seed in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..10)) {
        let (name, original) = &seeds()[seed.index(seeds().len())];
        let mut text = original.clone();
        for mutation in &mutations {
            apply(&mut text, mutation);
        }
        read(name, &text);
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Pages made only of vocabulary lines (no seed) never panic the reader.
    #[test]
    fn vocabulary_pages_never_panic(lines in prop::collection::vec(piece(), 0..40)) {
        let text = lines.join("\n");
        read("vocabulary.md", &text);
    }
}

#[test]
fn seed_pages_read_without_panic() {
    for (name, text) in seeds() {
        read(name, text);
    }
}

#[test]
fn empty_and_blank_pages() {
    for text in [
        "",
        "\n",
        "\r",
        "\r\n",
        " ",
        "\u{feff}",
        "\n\n\n",
        "|",
        ":::",
        ":::html",
        "```",
        "<md-table>",
    ] {
        read("empty.md", text);
    }
}

#[test]
fn header_only_pages() {
    for text in [
        "---\ntitle: x\n---",
        "---\ntitle: x\n---\n",
        "---\n---",
        "---",
        "---\n",
        "\u{feff}---\ntitle: 你\n---",
        "<!--\ntitle: x\n-->",
        "<!--\ntitle: x\n-->\n",
        "<!---->",
        "<!--",
        "<!--\nfullPath: /a\nsource: http://x\n-->",
        "---\ntitle: \"\n---\n",
    ] {
        read("header.md", text);
    }
}

#[test]
fn ten_thousand_pipes() {
    let pipes = "|".repeat(10_000);
    read("pipes.md", &pipes);
    read("pipes.md", &format!("{pipes}\n{pipes}\n{pipes}\n"));
    // The same line as a table header, with a delimiter and a body row.
    read("pipes.md", &format!("a | b\n---|---\n{pipes}\n"));
    read("pipes.md", &format!("{pipes}\n---|---\n{pipes}\n"));
    read("pipes.md", &format!("| a | b |\n|---|---|\n| x | {pipes}"));
}

#[test]
fn deeply_nested_rows() {
    let mut deep = String::from(
        ":::html\n<md-dt-table>\n<md-dt-thead><md-dt-tr><md-dt-th>名称</md-dt-th><md-dt-th>类型</md-dt-th><md-dt-th>描述</md-dt-th></md-dt-tr></md-dt-thead>\n<md-dt-tbody>\n",
    );
    deep.push_str("<md-dt-tr level=\"0\"><md-dt-td>root</md-dt-td><md-dt-td>object</md-dt-td><md-dt-td>x</md-dt-td></md-dt-tr>\n");
    for _ in 0..200 {
        deep.push_str("<md-dt-tr level=\"1000\"><md-dt-td>leaf</md-dt-td><md-dt-td>string</md-dt-td><md-dt-td>示例值：\"a\"</md-dt-td></md-dt-tr>\n");
    }
    deep.push_str("</md-dt-tbody>\n</md-dt-table>\n:::\n");
    for heading in ["## 请求体\n", "## 响应体\n", "## 查询参数\n", "## 事件体\n", ""] {
        read("deep.md", &format!("# 页\n\n{heading}{deep}"));
    }

    // Levels climbing one at a time to 1000, then falling back.
    let mut stair = String::from("## 请求体\n:::html\n<md-dt-table>\n<md-dt-tbody>\n");
    for level in (0..=1000).chain((0..1000).rev()) {
        stair.push_str(&format!("<md-dt-tr level=\"{level}\"><md-dt-td>f{level}</md-dt-td><md-dt-td>object</md-dt-td><md-dt-td>d</md-dt-td></md-dt-tr>\n"));
    }
    stair.push_str("</md-dt-tbody>\n</md-dt-table>\n:::\n");
    read("stair.md", &stair);

    // The pipe-table way to nest: a thousand `└` and `&nbsp;`.
    let mut pipe = String::from(
        "## 请求体\n| 名称 | 类型 | 必填 | 描述 |\n| --- | --- | --- | --- |\n| root | object | 是 | r |\n",
    );
    for depth in [1, 2, 1000, 3] {
        pipe.push_str(&format!("| {}└ f | string | 否 | 示例值：1 |\n", "&nbsp;".repeat(depth)));
        pipe.push_str(&format!("| {} f | string | 否 | d |\n", "└".repeat(depth)));
    }
    read("pipe-deep.md", &pipe);

    // A JSON example nested 1000 deep, for the nesting rebuilt from examples.
    let json = format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000));
    read(
        "json.md",
        &format!(
            "## 请求体\n名称 | 类型 | 描述\n---|---|---\na | object | x\n\n### 请求体示例\n```json\n{json}\n```\n"
        ),
    );
}

#[test]
fn binary_garbage() {
    // xorshift64*: deterministic bytes, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for size in [1, 7, 100, 4096, 65_536] {
        let bytes: Vec<u8> = (0..size).map(|_| next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        read("garbage.bin", &text);
        // Without NUL the reader does not refuse the file early, so the garbage reaches every stage.
        read("garbage.bin", &text.replace('\0', " "));
        // Garbage spliced into a real page.
        let (name, seed) = &seeds()[size % seeds().len()];
        let bounds = boundaries(seed);
        let at = bounds[size % bounds.len()];
        read(name, &format!("{}{}{}", &seed[..at], text.replace('\0', ""), &seed[at..]));
    }
}

/// The mutators themselves: they must keep the text valid and actually change it.
#[test]
fn mutations_apply() {
    let mut text = String::from("a\nb\nc\nd\n");
    apply(&mut text, &Mutation::SwapLines { a: 0, b: 2, len: 5 });
    assert_eq!(text, "c\nd\na\nb\n");
    apply(&mut text, &Mutation::DeleteLines { at: 1, len: 2 });
    assert_eq!(text, "c\nb\n");
    apply(&mut text, &Mutation::DuplicateLines { at: 0, len: 1, to: 2 });
    assert_eq!(text, "c\nb\nc\n");
    apply(&mut text, &Mutation::Insert { at: 1, piece: "你".into() });
    assert_eq!(text, "c你\nb\nc\n");
    apply(&mut text, &Mutation::ReplaceChar { at: 1, with: '🙂' });
    assert_eq!(text, "c🙂\nb\nc\n");
    apply(&mut text, &Mutation::InsertLine { at: 1, piece: "|".into() });
    assert_eq!(text, "c🙂\n|\nb\nc\n");
    apply(&mut text, &Mutation::Truncate { at: 2 });
    assert_eq!(text, "c🙂");
}
