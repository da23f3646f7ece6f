//! Markdown regions, read with pulldown-cmark: headings, code and text.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::blocks::{Block, Code, Heading, Text};
use crate::page::Page;

/// Appends the blocks of the markdown `region`, which starts at byte `start` of the page.
pub fn blocks(page: &Page<'_>, start: usize, region: &str, out: &mut Vec<Block>) {
    let mut depth = 0usize;
    let mut heading: Option<(u8, usize, String)> = None;
    let mut code: Option<(String, usize, String)> = None;
    let mut block_start = 0usize;
    for (event, range) in Parser::new(region).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    block_start = range.start;
                    match &tag {
                        Tag::Heading { level, .. } => {
                            heading = Some((*level as u8, range.start, String::new()))
                        }
                        Tag::CodeBlock(kind) => {
                            let lang = match kind {
                                CodeBlockKind::Fenced(info) => info
                                    .split_whitespace()
                                    .next()
                                    .unwrap_or("")
                                    .to_ascii_lowercase(),
                                CodeBlockKind::Indented => String::new(),
                            };
                            code = Some((lang, range.start, String::new()));
                        }
                        _ => {}
                    }
                }
                depth += 1;
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                if depth > 0 {
                    continue;
                }
                let line = page.line_of(start + block_start);
                match tag {
                    TagEnd::Heading(_) => {
                        if let Some((level, _, text)) = heading.take() {
                            out.push(Block::Heading(Heading {
                                line,
                                level,
                                text: text.trim().to_string(),
                            }));
                        }
                    }
                    TagEnd::CodeBlock => {
                        if let Some((lang, _, text)) = code.take() {
                            out.push(Block::Code(Code { line, lang, text }));
                        }
                    }
                    _ => {
                        let raw = region.get(block_start..range.end).unwrap_or("").trim();
                        if !raw.is_empty() {
                            out.push(Block::Text(Text { line, text: raw.to_string() }));
                        }
                    }
                }
            }
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, _, buf)) = heading.as_mut() {
                    buf.push_str(&text);
                } else if let Some((_, _, buf)) = code.as_mut() {
                    buf.push_str(&text);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) if depth == 0 => {
                let raw = html.trim();
                if !raw.is_empty() {
                    out.push(Block::Text(Text {
                        line: page.line_of(start + range.start),
                        text: raw.to_string(),
                    }));
                }
            }
            _ => {}
        }
    }
}
