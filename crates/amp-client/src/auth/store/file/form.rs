//! The stored form of a token: written by [`encode`], read by [`decode`]
//! (the file store's and the Redis store's form alike).
//!
//! `{"version":2,"token":"…","obtained_at":"<RFC 3339 UTC>","expires_at":"<RFC 3339 UTC>","account":"<user> at <API root>"}`;
//! readers ignore fields they do not know, so later versions may add some.
//! Version 1 had no account: such a token could belong to any account, so
//! it is not trusted (set aside like any form of another version).

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use crate::auth::token::TokenData;

/// The version of the stored form this crate writes and reads.
pub(crate) const FORM_VERSION: u64 = 2;

/// The stored form of a token, as written.
#[derive(Serialize)]
struct Form<'a> {
    version: u64,
    token: &'a str,
    obtained_at: String,
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
}

/// The stored form of `token`, in a buffer wiped when dropped.
pub(crate) fn encode(token: &TokenData) -> Zeroizing<Vec<u8>> {
    let form = Form {
        version: FORM_VERSION,
        token: token.token().expose_secret(),
        obtained_at: rfc3339(token.obtained_at),
        expires_at: rfc3339(token.expires_at),
        account: token.account.as_deref(),
    };
    // Serializing strings and integers into a Vec cannot fail.
    Zeroizing::new(serde_json::to_vec(&form).unwrap_or_default())
}

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The stored form as read: every field optional, so what is missing or wrong
/// is reported by name rather than by serde (whose messages may quote values).
#[derive(Deserialize)]
struct RawForm {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    token: Option<SecretField>,
    #[serde(default)]
    obtained_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    account: Option<String>,
}

/// A string read straight into a buffer that is wiped when dropped.
struct SecretField(Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(SecretField(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// Parses the stored form. The error says what is wrong, without quoting
/// anything from `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<TokenData, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("empty".to_string());
    }
    let raw: RawForm = serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        let at = format!("line {} column {}", e.line(), e.column());
        match e.classify() {
            Category::Eof => format!("truncated (ends at {at})"),
            Category::Syntax => format!("not JSON (syntax error at {at})"),
            Category::Data => format!("not the expected JSON object (wrong type at {at})"),
            Category::Io => format!("cannot be read ({at})"),
        }
    })?;
    match raw.version {
        Some(FORM_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "version {other}, this program reads version {FORM_VERSION}"
            ))
        }
        None => return Err("no version field".to_string()),
    }
    let token = match raw.token {
        Some(SecretField(t)) if !t.trim().is_empty() => t,
        Some(_) => return Err("the token is empty".to_string()),
        None => return Err("no token field".to_string()),
    };
    let date = |name: &str, value: Option<String>| {
        let value = value.ok_or_else(|| format!("no {name} field"))?;
        DateTime::parse_from_rfc3339(&value)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("{name} is not an RFC 3339 date: {e}"))
    };
    let obtained_at = date("obtained_at", raw.obtained_at)?;
    let expires_at = date("expires_at", raw.expires_at)?;
    // `to_string` allocates exactly the length, so the secret is not copied
    // again when it is boxed.
    let mut data = TokenData::new(token.as_str().to_string(), obtained_at, expires_at);
    data.account = raw.account;
    // A token that cannot go in a header, or dates that make no sense, would
    // fail every call: set aside like any other unusable form.
    match data.problem(Utc::now()) {
        Some(problem) => Err(problem.to_string()),
        None => Ok(data),
    }
}
