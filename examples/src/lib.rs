//! Runnable examples of the Feishu client and bots; the library is empty.
//! Run one with `cargo run --example NAME -- ARGS` (see the README).
