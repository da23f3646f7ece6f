//! End-to-end tests of the generated client against a local server; the tests are in tests/.
//!
//! The READMEs are included below so that their Rust snippets compile as
//! doctests against the generated crate: the root README on this page, the
//! runtime's and the generator's as doctests only. No README can drift from
//! the client.
#![doc = include_str!("../../README.md")]

/// The Rust snippets of `runtime/README.md` (the client's behaviour), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../runtime/README.md")]
struct RuntimeReadme;

/// The Rust snippets of `codegen/README.md` (the generator's upkeep), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../codegen/README.md")]
struct CodegenReadme;
