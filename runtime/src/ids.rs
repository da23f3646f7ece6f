//! Ids that say what they name, so that two ids given in the wrong order
//! do not compile.
//!
//! Generated requests take these where the docs' example shows the id's
//! prefix (`om_` a message, `oc_` a chat, `ou_` an open id, `on_` a union
//! id). There is deliberately no `From<&str>`: an id is made with
//! [`MessageId::new`] (or comes from an event or an answer), which is what
//! stops a chat id from passing for a message id. The prefix is not
//! checked: the platform is the judge of its ids.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(String);

        impl $name {
            /// The prefix the platform gives these ids.
            pub const PREFIX: &'static str = $prefix;

            /// The id `id`.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as a `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        /// Reads as the text, for `&str` parameters.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }
    };
}

id!(
    /// A message's id (`om_…`).
    MessageId,
    "om_"
);
id!(
    /// A chat's id (`oc_…`).
    ChatId,
    "oc_"
);
id!(
    /// A user's open id (`ou_…`): unique to the user within one app.
    OpenId,
    "ou_"
);
id!(
    /// A user's union id (`on_…`): the same for the user across one developer's apps.
    UnionId,
    "on_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_text_and_serialise_as_strings() {
        let id = MessageId::new("om_1");
        assert_eq!(
            (id.as_str(), id.len(), format!("{id}"), format!("{id:?}")),
            ("om_1", 4, "om_1".to_owned(), "MessageId(\"om_1\")".to_owned())
        );
        assert!(id == "om_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"om_1\"");
        assert_eq!(serde_json::from_str::<ChatId>("\"oc_2\"").unwrap(), ChatId::new("oc_2"));
        assert_eq!(String::from(id), "om_1");
        assert_eq!(
            (MessageId::PREFIX, ChatId::PREFIX, OpenId::PREFIX, UnionId::PREFIX),
            ("om_", "oc_", "ou_", "on_")
        );
    }
}
