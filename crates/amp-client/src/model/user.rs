//! Password changes: the caller's own (`POST /user/change-password`) and a
//! manager's (`POST /managers/{id}/change-password`), both added in 0.1.5
//! (amp-api.md §1.1, §3.6).

use std::borrow::Borrow;

use secrecy::{ExposeSecret, SecretString};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The body of both password changes: `{"password": <new>}`.
#[derive(Debug, Serialize)]
pub(crate) struct PasswordChange<'a> {
    #[serde(serialize_with = "expose")]
    pub(crate) password: &'a SecretString,
}

/// The answer of a password change.
///
/// amp-rs reads `{"username", "password", "token"}`, which suggests AMP
/// hands back a fresh token (amp-api.md §1.1, UNCERTAIN): every field is
/// optional, and any other answer (none, `{}`, a message) reads as all
/// `None`. The secrets are [`SecretString`]s, never in `Debug`.
///
/// ```
/// use amp_client::model::PasswordChanged;
/// let answer: PasswordChanged = serde_json::from_str(
///     r#"{"username": "m1", "password": "new-pw", "token": "0123abcd"}"#,
/// )?;
/// assert_eq!(answer.username.as_deref(), Some("m1"));
/// let shown = format!("{answer:?}");
/// assert!(!shown.contains("new-pw") && !shown.contains("0123abcd"));
/// let nothing: PasswordChanged = serde_json::from_str("null")?;
/// assert!(nothing.token.is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PasswordChanged {
    /// The account's login name.
    pub username: Option<String>,
    /// The new password, if AMP echoes it.
    pub password: Option<SecretString>,
    /// A new token for the account, if AMP hands one back.
    pub token: Option<SecretString>,
}

/// Every answer a password change may get: an object with the fields
/// amp-rs reads (others ignored, and a field that is not a string read as
/// none), or anything else (read as none of them).
///
/// Read field by field, never through serde's buffering of untagged enums
/// (which kept its own copy of every escaped string, the new password
/// included, and dropped it unwiped): the secrets go straight from the
/// answer, which the transport keeps in a wiped buffer, into
/// [`SecretString`]s.
impl<'de> Deserialize<'de> for PasswordChanged {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ChangedVisitor)
    }
}

struct ChangedVisitor;

impl<'de> serde::de::Visitor<'de> for ChangedVisitor {
    type Value = PasswordChanged;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the answer of a password change")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut changed = PasswordChanged::default();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Username => changed.username = map.next_value::<Text>()?.0,
                Field::Password => {
                    changed.password = map.next_value::<Text>()?.0.map(SecretString::from)
                }
                Field::Token => changed.token = map.next_value::<Text>()?.0.map(SecretString::from),
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(changed)
    }

    // Anything that is not an object reads as no field at all.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(PasswordChanged::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(PasswordChanged::default())
    }
}

/// The fields of [`PasswordChanged`] in an answer.
enum Field {
    Username,
    Password,
    Token,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "username" => Field::Username,
                    "password" => Field::Password,
                    "token" => Field::Token,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_identifier(Name)
    }
}

/// A field read as a string if it is one, else as none (`null`, or a value
/// of another type). The string is one copy of exactly its length, which a
/// [`SecretString`] then takes without copying it again.
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, s: &str) -> Result<Text, E> {
                Ok(Text(Some(s.to_string())))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Serializes a secret (owned or borrowed) as its text: only for request
/// bodies.
pub(crate) fn expose<T, S>(secret: &T, s: S) -> Result<S::Ok, S::Error>
where
    T: Borrow<SecretString>,
    S: Serializer,
{
    s.serialize_str(secret.borrow().expose_secret())
}
