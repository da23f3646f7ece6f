//! Doc text from the spec, made safe for rustdoc and clippy.
//!
//! The docs are markdown written for a web page: indented lines would become
//! doctests, list items run on into the next line (clippy's
//! `doc_lazy_continuation`), and bare URLs are not links. This module fixes
//! those and turns text into `#[doc = "…"]` attributes, one per line, which
//! prettyplease prints as `///` comments.

use proc_macro2::TokenStream;
use quote::quote;

/// Outer doc attributes for `text`.
pub fn outer(text: &str) -> TokenStream {
    let lines = lines(text);
    quote! { #(#[doc = #lines])* }
}

/// Inner (`//!`) doc attributes for `text`.
pub fn inner(text: &str) -> TokenStream {
    let lines = lines(text);
    quote! { #(#![doc = #lines])* }
}

/// Inner doc attributes for text that is already valid rustdoc (a doc
/// example, whose `no_run` fence must survive).
pub fn inner_raw(text: &str) -> TokenStream {
    let lines: Vec<String> =
        text.lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") }).collect();
    quote! { #(#![doc = #lines])* }
}

fn lines(text: &str) -> Vec<String> {
    clean(text)
        .lines()
        .map(|l| if l.is_empty() { String::new() } else { format!(" {l}") })
        .collect()
}

/// Paragraphs joined by blank lines, skipping empty ones.
pub fn paragraphs<I: IntoIterator<Item = String>>(parts: I) -> String {
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The first paragraph of `text` (hints can be pages long).
pub fn first_paragraph(text: &str) -> String {
    text.trim().split("\n\n").next().unwrap_or_default().trim().to_owned()
}

fn is_list_item(line: &str) -> bool {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    line.starts_with("- ")
        || line.starts_with("* ")
        || line.starts_with("+ ")
        || line.starts_with("> ")
        || (digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") ")))
}

/// Makes markdown safe to put in a doc comment.
pub fn clean(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    let mut after_item = false;
    // Tabs are four spaces (clippy's `tabs_in_doc_comments`).
    let text = text.replace('\t', "    ");
    for raw in text.trim().lines() {
        let line = raw.trim();
        if line.starts_with("```") {
            // Fenced blocks are shown, never compiled as doctests.
            out.push(if in_fence { "```".to_owned() } else { "```text".to_owned() });
            in_fence = !in_fence;
            after_item = false;
            continue;
        }
        if in_fence {
            out.push(raw.trim_end().to_owned());
            continue;
        }
        if line.is_empty() {
            out.push(String::new());
            after_item = false;
            continue;
        }
        let item = is_list_item(line);
        if after_item && !item {
            out.push(String::new());
        }
        after_item = item;
        out.push(link_bare_urls(line));
    }
    if in_fence {
        out.push("```".to_owned());
    }
    let text = out.join("\n");
    if text.trim().is_empty() { "Undocumented.".to_owned() } else { text }
}

/// Wraps bare `http(s)://` URLs in `<…>` so that rustdoc links them.
fn link_bare_urls(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("http://").or_else(|| rest.find("https://")) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let end = from
            .find(|c: char| {
                c.is_whitespace()
                    || !c.is_ascii()
                    || matches!(c, ')' | '>' | ']' | '"' | '`' | '\'')
            })
            .unwrap_or(from.len());
        let (url, after) = from.split_at(end);
        let quoted = before.ends_with(['(', '<', '[', '"', '`', '\'']);
        if quoted || url.len() <= "https://".len() {
            out.push_str(url);
        } else {
            out.push('<');
            out.push_str(url);
            out.push('>');
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_markdown_for_rustdoc() {
        assert_eq!(clean("- a\n**示例值**：1"), "- a\n\n**示例值**：1");
        assert_eq!(clean("    let x = 1;"), "let x = 1;");
        assert_eq!(clean("```\nfn main() {}\n```"), "```text\nfn main() {}\n```");
        assert_eq!(clean("```json\n{}"), "```text\n{}\n```");
        assert_eq!(clean("see https://a.b/c。"), "see <https://a.b/c>。");
        assert_eq!(clean("[x](https://a.b/c)"), "[x](https://a.b/c)");
        assert_eq!(clean(""), "Undocumented.");
        assert_eq!(clean("a\tb"), "a    b");
        assert_eq!(clean("```\n\tx\n```"), "```text\n    x\n```");
    }
}
