//! Doc pages → spec.
