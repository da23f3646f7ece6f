//! End-to-end tests of the generated client against a local server; the tests are in tests/.
//!
//! The README is included below so that its Rust example compiles as a doctest
//! against the generated crate: the README cannot drift from the client.
#![doc = include_str!("../../README.md")]
