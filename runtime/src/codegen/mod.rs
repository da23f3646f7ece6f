//! What only generated code uses: the encoding and decoding of its types,
//! the checks behind its `Validate` impls, the traits its operations
//! implement and the helpers that build their requests.
//!
//! Not an API to write against by hand: it is hidden from the docs and
//! changes with the generator. What users call is at the crate root.

pub mod de;
mod lenient;
pub mod ser;

pub use crate::call::{Operation, RawOutput};
pub use crate::outcome::DocumentedKind;
pub use crate::paginate::{PagedOperation, pages};
pub use crate::request::{encode_path_segment, fill_idempotency_key};
pub use crate::validate::{
    check_enum, check_items, check_length, check_range, validate_items, validate_nested,
};
