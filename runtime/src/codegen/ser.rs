//! Encoding of the generated request structs: the counterpart of
//! [`super::de`].
//!
//! serde's derived `Serialize` spends a `?` on every field, and every user
//! of the generated crate type-checks and borrow-checks those for the
//! thousands of fields the API sends. The generated structs are only ever
//! JSON objects whose absent optional fields are left out, so they write
//! themselves as a chain of calls on an [`Object`], which carries the first
//! error to [`Object::end`].

use serde::ser::{Serialize, SerializeMap, Serializer};

/// An object being written: its entries, or the first error.
#[must_use = "an object is written by `end()`"]
pub struct Object<S: Serializer> {
    state: Result<S::SerializeMap, S::Error>,
}

impl<S: Serializer> Object<S> {
    /// Starts an object of unknown length.
    #[inline]
    pub fn new(serializer: S) -> Self {
        Self { state: serializer.serialize_map(None) }
    }

    /// Writes the entry `key: value`, unless an earlier entry failed.
    #[inline]
    pub fn field<T: Serialize + ?Sized>(mut self, key: &'static str, value: &T) -> Self {
        if let Ok(map) = &mut self.state
            && let Err(e) = map.serialize_entry(key, value)
        {
            self.state = Err(e);
        }
        self
    }

    /// Writes the entry `key: value` if the value is present; an absent one
    /// is left out (not written as `null`).
    #[inline]
    pub fn optional<T: Serialize>(self, key: &'static str, value: &Option<T>) -> Self {
        match value {
            Some(value) => self.field(key, value),
            None => self,
        }
    }

    /// Ends the object, or returns the first error.
    #[inline]
    pub fn end(self) -> Result<S::Ok, S::Error> {
        self.state?.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sample {
        name: String,
        count: Option<i64>,
        tags: Option<Vec<String>>,
    }

    impl Serialize for Sample {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            Object::new(serializer)
                .field("name", &self.name)
                .optional("count", &self.count)
                .optional("tags", &self.tags)
                .end()
        }
    }

    #[test]
    fn writes_fields_in_order_and_leaves_absent_ones_out() {
        let sample = Sample { name: "a\"b".into(), count: None, tags: Some(vec!["x".into()]) };
        assert_eq!(serde_json::to_string(&sample).unwrap(), r#"{"name":"a\"b","tags":["x"]}"#);
        let sample = Sample { name: String::new(), count: Some(0), tags: None };
        assert_eq!(serde_json::to_string(&sample).unwrap(), r#"{"name":"","count":0}"#);
    }

    #[test]
    fn the_first_error_is_the_one_returned() {
        struct Fails(&'static str);
        impl Serialize for Fails {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom(self.0))
            }
        }
        struct Two;
        impl Serialize for Two {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                Object::new(serializer)
                    .field("a", &Fails("first"))
                    .field("b", &1)
                    .field("c", &Fails("second"))
                    .end()
            }
        }
        assert_eq!(serde_json::to_string(&Two).unwrap_err().to_string(), "first");
    }
}
