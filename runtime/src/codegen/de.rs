//! Decoding of the generated structs.
//!
//! A derived `Deserialize` is about ten functions per struct (a field enum
//! with its own visitor, a sequence visitor, a map visitor that tracks every
//! field), and every user of the generated crate compiles them for each of
//! its thousands of structs. The generated structs only ever come from JSON
//! objects and keep an absent field as `None`, so they implement [`Fields`]
//! (one `match` on the key) and decode through [`object`], which holds the
//! loop once for all of them.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

pub use super::lenient::{Lenient, read_lenient};

/// A struct that is filled from a JSON object one field at a time.
pub trait Fields: Default {
    /// The struct's name, for error messages.
    const NAME: &'static str;

    /// Reads the value of the field whose wire name is `key` from `map`
    /// into `self` (with [`read`]), or skips it (with [`skip`]) when the
    /// struct has no such field.
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;
}

/// Decodes a [`Fields`] struct from an object; keys it does not know are
/// skipped, absent ones keep their default.
pub fn object<'de, D: Deserializer<'de>, T: Fields>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

/// Reads the value of a key into the field `slot`.
pub fn read<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut T,
    map: &mut A,
) -> Result<(), A::Error> {
    *slot = map.next_value()?;
    Ok(())
}

/// Skips the value of a key the struct does not know.
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Fields> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a `{}` object", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            value.field(&key.0, &mut map)?;
        }
        Ok(value)
    }
}

/// An object key, borrowed from the input when the input allows it.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Sample {
        name: Option<String>,
        count: Option<i64>,
        nested: Option<Box<Sample>>,
    }

    impl Fields for Sample {
        const NAME: &'static str = "Sample";

        fn field<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
        ) -> Result<(), A::Error> {
            match key {
                "name" => read(&mut self.name, map),
                "count" => read(&mut self.count, map),
                "nested" => read(&mut self.nested, map),
                _ => skip(map),
            }
        }
    }

    impl<'de> Deserialize<'de> for Sample {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            object(deserializer)
        }
    }

    #[test]
    fn reads_known_keys_skips_others_and_keeps_absent_ones_none() {
        let text = r#"{"name":"a\"b","extra":[1,{"x":null}],"count":null,"nested":{"count":3}}"#;
        let expected = Sample {
            name: Some("a\"b".into()),
            count: None,
            nested: Some(Box::new(Sample { count: Some(3), ..Sample::default() })),
        };
        assert_eq!(serde_json::from_str::<Sample>(text).unwrap(), expected);
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::from_value::<Sample>(value).unwrap(), expected);
        assert_eq!(serde_json::from_str::<Sample>("{}").unwrap(), Sample::default());
    }

    #[test]
    fn escaped_keys_and_wrong_types_are_handled() {
        let sample: Sample = serde_json::from_str(r#"{"n\u0061me":"x"}"#).unwrap();
        assert_eq!(sample.name.as_deref(), Some("x"));
        let error = serde_json::from_str::<Sample>(r#"{"count":"three"}"#).unwrap_err();
        assert!(error.to_string().contains("invalid type"), "{error}");
        let error = serde_json::from_str::<Sample>("[1]").unwrap_err();
        assert!(error.to_string().contains("a `Sample` object"), "{error}");
    }
}
