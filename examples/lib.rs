//! Runnable programs using the generated Feishu client; each is an
//! `[[example]]` of this package, run from the workspace root with
//! `cargo run --example NAME -- --help`. This library is empty: Cargo wants
//! a target besides the examples.
