//! What breaks code that uses the generated crate: one small function per rule.
//!
//! The crate's shape decides. A typed endpoint has a request struct whose
//! required fields are `new()` arguments and whose optional fields are
//! `Option`s set with setters; `validate()` enforces the documented constraints
//! before sending; the response struct has only `Option` fields; string fields
//! with documented values become `#[non_exhaustive]` enums with an `Other`
//! fallback; the error enum is `#[non_exhaustive]` with one variant per
//! documented code. An endpoint known only from a catalogue (or a multipart or
//! binary one) is an untyped call taking and returning JSON, so the fields and
//! codes of its docs do not reach the crate's types.
//!
//! "Breaking" means: code that compiled and passed `validate()` against the old
//! crate may fail to compile, or fail validation, against the new one.

/// Where a field sits, which decides what a change to it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldPlace {
    /// A path parameter: always a `new()` argument.
    Path,
    /// A query parameter: a field of the request struct.
    Query,
    /// A field of the JSON request body.
    RequestBody,
    /// A field inside the response envelope's `data`: always an `Option`.
    Response,
    /// A field of an event's `event` object: a field of the event's struct,
    /// received like a response field and always an `Option`.
    Event,
}

impl FieldPlace {
    /// True for the places the request struct is built from.
    pub fn is_request(self) -> bool {
        matches!(self, FieldPlace::Path | FieldPlace::Query | FieldPlace::RequestBody)
    }

    /// How a report line names a field in this place.
    pub fn label(self) -> &'static str {
        match self {
            FieldPlace::Path => "path parameter",
            FieldPlace::Query => "query parameter",
            FieldPlace::RequestBody => "request body field",
            FieldPlace::Response => "response field",
            FieldPlace::Event => "event field",
        }
    }
}

/// Which way a limit moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Fewer values are accepted than before.
    Tighter,
    /// More values are accepted than before.
    Looser,
}

/// Which end of a range a limit bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A minimum (`min_length`, `min_items`, `minimum`).
    Lower,
    /// A maximum (`max_length`, `max_items`, `maximum`).
    Upper,
}

/// A field appeared. On a request, a required field is a new `new()`
/// argument (a path parameter always is); an optional one is a new setter on a
/// `#[non_exhaustive]` struct. A response or event field is a new `Option`.
pub fn field_added(place: FieldPlace, required: bool, typed: bool) -> bool {
    typed && place.is_request() && (required || place == FieldPlace::Path)
}

/// A field disappeared: its struct field, setter or `new()` argument goes
/// (on a typed event body too: its struct loses the field).
pub fn field_removed(_place: FieldPlace, typed: bool) -> bool {
    typed
}

/// A field's Rust type changed (`string` → `integer`, a string gaining
/// documented values becomes an enum, an object losing its fields becomes JSON …),
/// on a request, a response or a typed event body alike.
pub fn field_retyped(_place: FieldPlace, typed: bool) -> bool {
    typed
}

/// A request field became required or optional. Either way `new()` changes its
/// arguments and the struct field changes between `T` and `Option<T>`, so both
/// directions break. Response fields are `Option`s whatever the docs say, and
/// path parameters are always required.
pub fn required_changed(place: FieldPlace, typed: bool) -> bool {
    typed && matches!(place, FieldPlace::Query | FieldPlace::RequestBody)
}

/// Which way a limit moved, if it did. `None` means "no limit".
pub fn bound_change(bound: Bound, old: Option<f64>, new: Option<f64>) -> Option<Direction> {
    match (old, new) {
        (None, None) => None,
        (None, Some(_)) => Some(Direction::Tighter),
        (Some(_), None) => Some(Direction::Looser),
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) => {
            let raised = b > a;
            Some(match (bound, raised) {
                (Bound::Lower, true) | (Bound::Upper, false) => Direction::Tighter,
                (Bound::Lower, false) | (Bound::Upper, true) => Direction::Looser,
            })
        }
    }
}

/// A constraint moved. `validate()` checks request fields only, so a tighter
/// request limit rejects values that passed before; a looser one, and any
/// change on a response, breaks nothing.
pub fn constraint_changed(place: FieldPlace, direction: Direction, typed: bool) -> bool {
    typed && place.is_request() && direction == Direction::Tighter
}

/// A documented value disappeared. On a request `validate()` now rejects it;
/// where the field is a Rust enum (string fields of requests, responses and
/// typed event bodies), its variant disappears too.
pub fn enum_value_removed(place: FieldPlace, rust_enum: bool, typed: bool) -> bool {
    typed && (place.is_request() || rust_enum)
}

/// A documented value appeared: enums are `#[non_exhaustive]` with an `Other`
/// fallback, and a value list of a non-string field only accepts more.
pub fn enum_value_added() -> bool {
    false
}

/// A documented default changed: the server behaves differently when the
/// field is left out, but no code stops compiling or validating.
pub fn default_changed() -> bool {
    false
}

/// A documented error code appeared: the error enum is `#[non_exhaustive]`, so
/// matches already have a wildcard arm. (Errors with that code used to arrive
/// as `Unhandled`.)
pub fn error_code_added() -> bool {
    false
}

/// A documented error code disappeared, and with it its `CodeNNN` variant.
pub fn error_code_removed(typed: bool) -> bool {
    typed
}

/// A documented code's variant was renamed: its name comes from the docs'
/// message, so rewording the message renames it, and code matching the old
/// name stops compiling.
pub fn error_variant_renamed(typed: bool) -> bool {
    typed
}

/// The access tokens changed. The generated call picks its `Auth` from them;
/// when a token was removed and that choice changed, a caller relying on the
/// old token stops working (a `User` endpoint needs a user token).
pub fn access_tokens_changed(token_removed: bool, auth_changed: bool) -> bool {
    token_removed && auth_changed
}

/// A scope was added or removed: the app's permissions matter, the crate's
/// code does not change.
pub fn scope_changed() -> bool {
    false
}

/// The rate limit changed: the client's limiter follows it, no code changes.
pub fn rate_limit_changed() -> bool {
    false
}

/// An endpoint appeared: a new function.
pub fn endpoint_added() -> bool {
    false
}

/// An endpoint disappeared, and with it its function and types.
pub fn endpoint_removed() -> bool {
    true
}

/// An endpoint became typed (catalogue-only → documented in detail) or
/// untyped: its function's signature changes from JSON to typed structs or back.
pub fn typing_changed(old_typed: bool, new_typed: bool) -> bool {
    old_typed != new_typed
}

/// The method or path changed: the generated function sends the new one by
/// itself (new path parameters are reported as fields).
pub fn route_changed() -> bool {
    false
}

/// An event appeared: `EventType` and `Event` are `#[non_exhaustive]`.
pub fn event_added() -> bool {
    false
}

/// An event disappeared, and with it its `EventType` variant (and its
/// struct and `Event` variant, when it was typed).
pub fn event_removed() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_fields_break_only_as_required_request_fields() {
        assert!(field_added(FieldPlace::RequestBody, true, true));
        assert!(field_added(FieldPlace::Query, true, true));
        assert!(field_added(FieldPlace::Path, false, true), "path parameters are always arguments");
        assert!(!field_added(FieldPlace::RequestBody, false, true));
        assert!(!field_added(FieldPlace::Response, true, true));
        assert!(!field_added(FieldPlace::RequestBody, true, false), "untyped endpoints take JSON");
    }

    #[test]
    fn removed_and_retyped_fields_break_typed_endpoints() {
        for place in
            [FieldPlace::Path, FieldPlace::Query, FieldPlace::RequestBody, FieldPlace::Response]
        {
            assert!(field_removed(place, true));
            assert!(field_retyped(place, true));
            assert!(!field_removed(place, false));
        }
        assert!(
            field_removed(FieldPlace::Event, true),
            "typed event bodies are structs like responses"
        );
        assert!(field_retyped(FieldPlace::Event, true));
        assert!(!field_removed(FieldPlace::Event, false), "an untyped event is JSON");
        assert!(!field_retyped(FieldPlace::Event, false));
        assert!(!field_added(FieldPlace::Event, true, true));
    }

    #[test]
    fn required_changes_break_in_both_directions_on_requests() {
        assert!(required_changed(FieldPlace::RequestBody, true));
        assert!(required_changed(FieldPlace::Query, true));
        assert!(!required_changed(FieldPlace::Response, true));
        assert!(!required_changed(FieldPlace::Path, true));
    }

    #[test]
    fn bounds_move_tighter_or_looser() {
        use Direction::*;
        assert_eq!(bound_change(Bound::Upper, Some(50.0), Some(40.0)), Some(Tighter));
        assert_eq!(bound_change(Bound::Upper, Some(40.0), Some(50.0)), Some(Looser));
        assert_eq!(bound_change(Bound::Lower, Some(1.0), Some(2.0)), Some(Tighter));
        assert_eq!(bound_change(Bound::Lower, Some(2.0), Some(1.0)), Some(Looser));
        assert_eq!(bound_change(Bound::Upper, None, Some(3.0)), Some(Tighter));
        assert_eq!(bound_change(Bound::Lower, Some(3.0), None), Some(Looser));
        assert_eq!(bound_change(Bound::Upper, Some(3.0), Some(3.0)), None);
        assert_eq!(bound_change(Bound::Upper, None, None), None);
    }

    #[test]
    fn tighter_request_constraints_break() {
        assert!(constraint_changed(FieldPlace::RequestBody, Direction::Tighter, true));
        assert!(!constraint_changed(FieldPlace::RequestBody, Direction::Looser, true));
        assert!(!constraint_changed(FieldPlace::Response, Direction::Tighter, true));
    }

    #[test]
    fn removed_enum_values_break_requests_and_rust_enums() {
        assert!(enum_value_removed(FieldPlace::RequestBody, false, true));
        assert!(enum_value_removed(FieldPlace::Response, true, true));
        assert!(!enum_value_removed(FieldPlace::Response, false, true));
        assert!(enum_value_removed(FieldPlace::Event, true, true));
        assert!(!enum_value_removed(FieldPlace::Event, false, true));
        assert!(!enum_value_removed(FieldPlace::Event, true, false));
        assert!(!enum_value_added());
    }

    #[test]
    fn errors_scopes_limits_and_endpoints() {
        assert!(!error_code_added());
        assert!(error_code_removed(true));
        assert!(!error_code_removed(false));
        assert!(error_variant_renamed(true));
        assert!(!error_variant_renamed(false));
        assert!(access_tokens_changed(true, true));
        assert!(!access_tokens_changed(true, false));
        assert!(!access_tokens_changed(false, true));
        assert!(
            !scope_changed() && !rate_limit_changed() && !default_changed() && !route_changed()
        );
        assert!(endpoint_removed() && !endpoint_added());
        assert!(
            typing_changed(false, true)
                && typing_changed(true, false)
                && !typing_changed(true, true)
        );
        assert!(event_removed() && !event_added());
    }
}
