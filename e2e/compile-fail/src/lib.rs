//! Nothing to use: this crate holds `tests/compile_fail.rs`, the misuses of
//! the generated crate that must not compile, in a package whose only
//! dependency is the generated crate, so that trybuild checks no more than
//! that crate needs.
