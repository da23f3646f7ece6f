//! The optional parts of error messages, shown one way by every error of
//! the crate: a response's log id, and a kept cause.

use std::fmt;

/// Shows an optional log id as `, log_id X` inside an error message.
pub(crate) struct LogId<'a>(pub(crate) &'a Option<String>);

impl fmt::Display for LogId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, ", log_id {id}"),
            None => Ok(()),
        }
    }
}

/// Shows an optional cause as `: cause` after an error's own message (the
/// cause stays reachable through `source()` as well: a message alone is
/// often all a log shows).
pub(crate) struct Cause<'a, E>(pub(crate) &'a Option<E>);

impl<E: fmt::Display> fmt::Display for Cause<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(cause) => write!(f, ": {cause}"),
            None => Ok(()),
        }
    }
}
