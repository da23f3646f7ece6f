//! Checks that generated request types run before anything is sent.
//!
//! Generated code implements [`Validate`] by calling the `check_*` helpers
//! (hidden from these docs: they are the generator's) with the field's path
//! as the caller wants to read it in an error, e.g. `follow_ups[0].content`.

use std::fmt;

/// A request value broke a documented constraint.
///
/// Displays as `{field}: {detail}`, e.g.
/// `follow_ups[0].content: length 201 characters exceeds the maximum of 200`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationError {
    /// Path of the offending field, e.g. `follow_ups[0].content`.
    pub field: String,
    /// Which rule was broken: one of the `rules::*` names, or a name of the
    /// generated code's own.
    pub rule: String,
    /// What was wrong, in words, naming the limit.
    pub detail: String,
}

/// The names [`ValidationError::rule`] takes for the built-in checks.
pub mod rules {
    /// Fewer characters than allowed.
    pub const MIN_LENGTH: &str = "min_length";
    /// More characters than allowed.
    pub const MAX_LENGTH: &str = "max_length";
    /// Fewer list items than allowed.
    pub const MIN_ITEMS: &str = "min_items";
    /// More list items than allowed.
    pub const MAX_ITEMS: &str = "max_items";
    /// A number below the minimum.
    pub const MINIMUM: &str = "minimum";
    /// A number above the maximum.
    pub const MAXIMUM: &str = "maximum";
    /// A value outside the allowed set.
    pub const ENUM: &str = "enum";
    /// A value the endpoint needs is missing.
    pub const REQUIRED: &str = "required";
}

impl ValidationError {
    /// A validation error for `field` breaking `rule`.
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self { field: field.into(), rule: rule.into(), detail: detail.into() }
    }

    /// Puts `prefix` in front of the field path, so that a nested value's
    /// error names its place in the whole request: `content` under
    /// `follow_ups[0]` becomes `follow_ups[0].content`.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.field = join_path(prefix, &self.field);
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

impl std::error::Error for ValidationError {}

fn join_path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else if field.is_empty() {
        prefix.to_owned()
    } else if field.starts_with('[') {
        format!("{prefix}{field}")
    } else {
        format!("{prefix}.{field}")
    }
}

/// A value that can check its documented constraints.
pub trait Validate {
    /// Returns the first broken constraint, if any.
    fn validate(&self) -> Result<(), ValidationError>;
}

impl<T: Validate + ?Sized> Validate for &T {
    fn validate(&self) -> Result<(), ValidationError> {
        (**self).validate()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Some(value) => value.validate(),
            None => Ok(()),
        }
    }
}

#[doc(hidden)]
/// Validates a nested value and prefixes its errors with `field`.
pub fn validate_nested<T: Validate + ?Sized>(
    field: &str,
    value: &T,
) -> Result<(), ValidationError> {
    value.validate().map_err(|e| e.with_prefix(field))
}

#[doc(hidden)]
/// Validates every item of a list, prefixing errors with `field[i]`.
pub fn validate_items<T: Validate>(field: &str, items: &[T]) -> Result<(), ValidationError> {
    for (i, item) in items.iter().enumerate() {
        item.validate().map_err(|e| e.with_prefix(&format!("{field}[{i}]")))?;
    }
    Ok(())
}

#[doc(hidden)]
/// Checks a string's length in characters (Unicode scalar values, as the
/// platform counts them: `"你好"` is 2, not 6).
pub fn check_length(
    field: &str,
    value: &str,
    min: Option<u64>,
    max: Option<u64>,
) -> Result<(), ValidationError> {
    let len = value.chars().count() as u64;
    check_count(field, len, min, max, "length", "characters", rules::MIN_LENGTH, rules::MAX_LENGTH)
}

#[doc(hidden)]
/// Checks the number of items in a list.
pub fn check_items(
    field: &str,
    len: usize,
    min: Option<u64>,
    max: Option<u64>,
) -> Result<(), ValidationError> {
    check_count(
        field,
        len as u64,
        min,
        max,
        "list has",
        "items",
        rules::MIN_ITEMS,
        rules::MAX_ITEMS,
    )
}

#[allow(clippy::too_many_arguments)] // private; the two public wrappers stay short
fn check_count(
    field: &str,
    n: u64,
    min: Option<u64>,
    max: Option<u64>,
    what: &str,
    unit: &str,
    min_rule: &str,
    max_rule: &str,
) -> Result<(), ValidationError> {
    if let Some(min) = min
        && n < min
    {
        return Err(ValidationError::new(
            field,
            min_rule,
            format!("{what} {n} {unit} is below the minimum of {min}"),
        ));
    }
    if let Some(max) = max
        && n > max
    {
        return Err(ValidationError::new(
            field,
            max_rule,
            format!("{what} {n} {unit} exceeds the maximum of {max}"),
        ));
    }
    Ok(())
}

#[doc(hidden)]
/// Checks that a number lies within inclusive bounds; works for integers
/// and floats alike.
pub fn check_range<T>(
    field: &str,
    value: T,
    min: Option<T>,
    max: Option<T>,
) -> Result<(), ValidationError>
where
    T: PartialOrd + fmt::Display + Copy,
{
    if let Some(min) = min
        && value < min
    {
        return Err(ValidationError::new(
            field,
            rules::MINIMUM,
            format!("value {value} is below the minimum of {min}"),
        ));
    }
    if let Some(max) = max
        && value > max
    {
        return Err(ValidationError::new(
            field,
            rules::MAXIMUM,
            format!("value {value} exceeds the maximum of {max}"),
        ));
    }
    Ok(())
}

#[doc(hidden)]
/// Checks that a value is one of the allowed ones: strings
/// (`check_enum("f", "a", &["a", "b"])`) or anything else comparable.
pub fn check_enum<T>(field: &str, value: &T, allowed: &[&T]) -> Result<(), ValidationError>
where
    T: PartialEq + fmt::Debug + ?Sized,
{
    if allowed.contains(&value) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
    Err(ValidationError::new(
        field,
        rules::ENUM,
        format!("value {value:?} is not one of {}", list.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_chars_not_bytes() {
        assert_eq!("你好".len(), 6);
        assert!(check_length("f", "你好", Some(2), Some(2)).is_ok());
        let e = check_length("f", "你好", None, Some(1)).unwrap_err();
        assert_eq!(e.rule, rules::MAX_LENGTH);
        assert_eq!(e.to_string(), "f: length 2 characters exceeds the maximum of 1");
        let e = check_length("f", "你好", Some(3), None).unwrap_err();
        assert_eq!(e.rule, rules::MIN_LENGTH);
        assert_eq!(e.to_string(), "f: length 2 characters is below the minimum of 3");
        assert!(check_length("f", "", None, None).is_ok());
    }

    #[test]
    fn the_documented_example_message() {
        let content = "x".repeat(201);
        let e = check_length("follow_ups[0].content", &content, Some(1), Some(200)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "follow_ups[0].content: length 201 characters exceeds the maximum of 200"
        );
        assert_eq!(e.field, "follow_ups[0].content");
    }

    #[test]
    fn items_bounds() {
        assert!(check_items("ids", 3, Some(1), Some(3)).is_ok());
        let e = check_items("ids", 0, Some(1), None).unwrap_err();
        assert_eq!(
            (e.rule.as_str(), e.detail.as_str()),
            (rules::MIN_ITEMS, "list has 0 items is below the minimum of 1")
        );
        let e = check_items("ids", 51, None, Some(50)).unwrap_err();
        assert_eq!(e.rule, rules::MAX_ITEMS);
        assert_eq!(e.to_string(), "ids: list has 51 items exceeds the maximum of 50");
    }

    #[test]
    fn range_for_ints_and_floats() {
        assert!(check_range("page_size", 50_i64, Some(1), Some(50)).is_ok());
        let e = check_range("page_size", 51_i64, Some(1), Some(50)).unwrap_err();
        assert_eq!(e.to_string(), "page_size: value 51 exceeds the maximum of 50");
        assert_eq!(e.rule, rules::MAXIMUM);
        let e = check_range("ratio", -0.5_f64, Some(0.0), Some(1.0)).unwrap_err();
        assert_eq!(e.to_string(), "ratio: value -0.5 is below the minimum of 0");
        assert_eq!(e.rule, rules::MINIMUM);
        assert!(check_range("ratio", 1.0_f64, Some(0.0), Some(1.0)).is_ok());
    }

    #[test]
    fn enum_for_strings_and_ints() {
        assert!(check_enum("receive_id_type", "open_id", &["open_id", "user_id"]).is_ok());
        let e = check_enum("receive_id_type", "email2", &["open_id", "email"]).unwrap_err();
        assert_eq!(e.rule, rules::ENUM);
        assert_eq!(
            e.to_string(),
            r#"receive_id_type: value "email2" is not one of "open_id", "email""#
        );
        assert!(check_enum("n", &2_i64, &[&1, &2]).is_ok());
        assert!(check_enum("n", &3_i64, &[&1, &2]).is_err());
    }

    struct Item(String);
    impl Validate for Item {
        fn validate(&self) -> Result<(), ValidationError> {
            check_length("content", &self.0, None, Some(3))
        }
    }
    struct Req {
        follow_ups: Vec<Item>,
        head: Option<Item>,
    }
    impl Validate for Req {
        fn validate(&self) -> Result<(), ValidationError> {
            validate_nested("head", &self.head)?;
            validate_items("follow_ups", &self.follow_ups)
        }
    }

    #[test]
    fn nested_paths_are_prefixed() {
        let ok = Req { follow_ups: vec![Item("a".into())], head: None };
        assert!(ok.validate().is_ok());
        let bad = Req { follow_ups: vec![Item("a".into()), Item("abcd".into())], head: None };
        assert_eq!(bad.validate().unwrap_err().field, "follow_ups[1].content");
        let bad = Req { follow_ups: vec![], head: Some(Item("abcd".into())) };
        assert_eq!(bad.validate().unwrap_err().field, "head.content");
        assert_eq!(join_path("a", "[0]"), "a[0]");
        assert_eq!(join_path("", "b"), "b");
        assert_eq!(join_path("a", ""), "a");
    }
}
