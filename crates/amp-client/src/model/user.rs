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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "ChangedWire")]
pub struct PasswordChanged {
    /// The account's login name.
    pub username: Option<String>,
    /// The new password, if AMP echoes it.
    pub password: Option<SecretString>,
    /// A new token for the account, if AMP hands one back.
    pub token: Option<SecretString>,
}

/// Every answer a password change may get: the fields amp-rs reads, or
/// anything else (read as none of them).
#[derive(Deserialize)]
#[serde(untagged)]
enum ChangedWire {
    Fields {
        #[serde(default)]
        username: Option<String>,
        #[serde(default, deserialize_with = "secret")]
        password: Option<SecretString>,
        #[serde(default, deserialize_with = "secret")]
        token: Option<SecretString>,
    },
    Other(IgnoredAny),
}

impl From<ChangedWire> for PasswordChanged {
    fn from(wire: ChangedWire) -> PasswordChanged {
        match wire {
            ChangedWire::Fields {
                username,
                password,
                token,
            } => PasswordChanged {
                username,
                password,
                token,
            },
            ChangedWire::Other(_) => PasswordChanged::default(),
        }
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

/// Reads an optional string straight into a secret.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}
