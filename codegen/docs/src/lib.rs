//! Reads Feishu Open Platform doc pages into the neutral spec (`feishu-spec`).
//!
//! The pages arrive in several shapes (the docs' own HTML-in-markdown source,
//! GFM pipe tables, pipe tables without outer pipes, flattened text). The
//! reader works in stages, each knowing only the one before it:
//!
//! 1. [`page`]: front matter and line numbers;
//! 2. [`blocks`]: an extractor turns any shape into one stream of headings,
//!    tables, code and text (pulldown-cmark for markdown, scraper for HTML);
//! 3. [`rules`]: one small function per Chinese rule sentence (示例值, 默认值,
//!    可选值有, 长度范围 …);
//! 4. [`fields`] and [`nesting`]: table rows become field trees, and nesting a
//!    page lost is rebuilt from its type notes or JSON example;
//! 5. [`extract`] and [`catalogue`]: a state machine over the blocks yields
//!    endpoints, catalogue entries and events;
//! 6. [`merge`] and [`check`]: pages about one endpoint merge, and examples are
//!    checked against the extracted trees.
//!
//! Nothing is lost silently: every table row ends in the spec or in a
//! [`Diagnostic`]. Nothing panics: a garbage page is a diagnostic.

pub mod blocks;
pub mod catalogue;
pub mod check;
pub mod diag;
pub mod extract;
pub mod fields;
pub mod merge;
pub mod nesting;
pub mod page;
pub mod rules;
pub mod text;

pub use diag::{Diagnostic, DiagnosticKind};
