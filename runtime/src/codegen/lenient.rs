//! Received scalars that the platform writes in another JSON type than its
//! table says: an integer as `"1"`, an id as a bare number.
//!
//! The doc table is the type's one statement (the field is `i64` or
//! `String`), but a page's own answer example, and the platform, sometimes
//! send the other spelling. A strict decoder turns the whole response into
//! an error for the sake of one quoted number, and the user gets nothing. So
//! the generated decoders read integers, numbers and strings through
//! [`Lenient`]: the table wins for the Rust type, and the decoder forgives a
//! value that converts without loss. Anything else (a word for an integer,
//! an object for a string) is still the usual decode error.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A received field's type that [`read_lenient`] decodes, accepting the
/// other JSON spelling of the same value.
pub trait Lenient: Sized {
    /// Decodes a value, forgiving the spelling this type accepts.
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// Reads the value of a key into the field `slot`, through [`Lenient`].
pub fn read_lenient<'de, T: Lenient, A: MapAccess<'de>>(
    slot: &mut T,
    map: &mut A,
) -> Result<(), A::Error> {
    *slot = map.next_value_seed(Seed(PhantomData))?;
    Ok(())
}

struct Seed<T>(PhantomData<T>);

impl<'de, T: Lenient> DeserializeSeed<'de> for Seed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::lenient(deserializer)
    }
}

/// An integer, or a string that holds one (`"1"`, `" 42 "`).
impl Lenient for i64 {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntegerVisitor)
    }
}

struct IntegerVisitor;

impl Visitor<'_> for IntegerVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string holding one")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim().parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// A number, or a string that holds one (`"1.5"`).
impl Lenient for f64 {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or a string holding one")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    // Precision past 2^53 is lost the same way a JSON number decoded as
    // `f64` loses it; the field is `f64` by the table's word.
    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// A string, or a number written bare: an id such as `6953903108179099667`
/// keeps its digits exactly, since JSON integers are read as `i64`/`u64`.
impl Lenient for String {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringVisitor)
    }
}

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// Absent or `null` is `None`.
impl<T: Lenient> Lenient for Option<T> {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(OptionVisitor(PhantomData))
    }
}

struct OptionVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for OptionVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        T::lenient(deserializer).map(Some)
    }
}

/// Each item leniently.
impl<T: Lenient> Lenient for Vec<T> {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(SeqVisitor(PhantomData))
    }
}

struct SeqVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for SeqVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // The size hint comes from the input: bound it so that a hostile
        // length cannot reserve memory the items never fill.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(Seed(PhantomData))? {
            items.push(item);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Wire {
        count: Option<i64>,
        ratio: Option<f64>,
        id: Option<String>,
        levels: Option<Vec<i64>>,
        name: String,
    }

    impl super::super::de::Fields for Wire {
        const NAME: &'static str = "Wire";

        fn field<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
        ) -> Result<(), A::Error> {
            match key {
                "count" => read_lenient(&mut self.count, map),
                "ratio" => read_lenient(&mut self.ratio, map),
                "id" => read_lenient(&mut self.id, map),
                "levels" => read_lenient(&mut self.levels, map),
                "name" => read_lenient(&mut self.name, map),
                _ => super::super::de::skip(map),
            }
        }
    }

    impl<'de> serde::Deserialize<'de> for Wire {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::super::de::object(deserializer)
        }
    }

    fn decode(text: &str) -> Result<Wire, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn an_integer_written_as_a_string_is_read_as_the_integer() {
        let wire = decode(r#"{"count":"1","levels":["2",3," 4 "]}"#).unwrap();
        assert_eq!(wire.count, Some(1));
        assert_eq!(wire.levels, Some(vec![2, 3, 4]));
        assert_eq!(decode(r#"{"count":-7}"#).unwrap().count, Some(-7));
    }

    #[test]
    fn a_number_written_bare_for_a_string_keeps_its_digits() {
        let wire = decode(r#"{"id":6953903108179099667,"name":12}"#).unwrap();
        assert_eq!(wire.id.as_deref(), Some("6953903108179099667"));
        assert_eq!(wire.name, "12");
        assert_eq!(decode(r#"{"id":"od-1"}"#).unwrap().id.as_deref(), Some("od-1"));
    }

    #[test]
    fn a_number_written_as_a_string_is_read_as_the_number() {
        assert_eq!(decode(r#"{"ratio":"1.5"}"#).unwrap().ratio, Some(1.5));
        assert_eq!(decode(r#"{"ratio":2}"#).unwrap().ratio, Some(2.0));
    }

    #[test]
    fn null_is_none_and_what_does_not_convert_is_still_an_error() {
        assert_eq!(decode(r#"{"count":null,"id":null}"#).unwrap(), Wire::default());
        for (text, says) in [
            (r#"{"count":"three"}"#, "an integer, or a string holding one"),
            (r#"{"count":1.5}"#, "an integer"),
            (r#"{"count":18446744073709551615}"#, "an integer"),
            (r#"{"ratio":"NaN"}"#, "a number"),
            (r#"{"id":{"a":1}}"#, "a string, or a number"),
            (r#"{"id":true}"#, "a string, or a number"),
            (r#"{"levels":"1"}"#, "an array"),
        ] {
            let error = decode(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
