//! The answer of `obtain_token` and `refresh-token`, parsed without leaving a
//! plain copy of the token behind: the `token` string is read straight into
//! a buffer wiped when dropped (a `serde_json::Value` would keep one), and
//! every other field is only looked at as far as the checks need.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroizing;

use crate::auth::clock::to_chrono;
use crate::auth::token::TokenData;

/// The shortest life a token may have. A shorter one would expire before a
/// call made with it reached the server; it is refused as malformed (which
/// also keeps a server handing such tokens from being asked on every call:
/// the failure cooldown applies).
pub(crate) const MIN_LIFE: Duration = Duration::from_secs(1);

/// One field of the answer, as far as the checks need it.
enum Field {
    Text(Zeroizing<String>),
    Number(f64),
    /// Anything else, by what it is: "null", "a boolean", "an array" …
    Other(&'static str),
}

impl Field {
    fn kind(&self) -> &'static str {
        match self {
            Field::Text(_) => "a string",
            Field::Number(_) => "a number",
            Field::Other(kind) => kind,
        }
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, s: &str) -> Result<Field, E> {
        Ok(Field::Text(Zeroizing::new(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Field, E> {
        Ok(Field::Text(Zeroizing::new(s)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
        Ok(Field::Other("a boolean"))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Field, E> {
        Ok(Field::Number(n as f64))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Field, E> {
        Ok(Field::Number(n as f64))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Field, E> {
        Ok(Field::Number(n))
    }

    fn visit_unit<E>(self) -> Result<Field, E> {
        Ok(Field::Other("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an object"))
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

/// The fields of the answer the parser reads; the rest are skipped unread.
#[derive(Default)]
struct Fields {
    token: Option<Field>,
    expires_in: Option<Field>,
    /// `expires_at` and `expiry`, as many as were sent: each must be a
    /// date, and the earliest counts.
    expiries: Vec<(&'static str, Field)>,
}

/// The whole answer: an object, or what it was instead.
enum TokenAnswer {
    Object(Fields),
    Other(&'static str),
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = TokenAnswer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenAnswer, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "token" => fields.token = Some(map.next_value()?),
                "expires_in" => fields.expires_in = Some(map.next_value()?),
                "expires_at" => fields.expiries.push(("expires_at", map.next_value()?)),
                "expiry" => fields.expiries.push(("expiry", map.next_value()?)),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(TokenAnswer::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TokenAnswer, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TokenAnswer::Other("an array"))
    }

    fn visit_str<E>(self, _: &str) -> Result<TokenAnswer, E> {
        Ok(TokenAnswer::Other("a string"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<TokenAnswer, E> {
        Ok(TokenAnswer::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<TokenAnswer, E> {
        Ok(TokenAnswer::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<TokenAnswer, E> {
        Ok(TokenAnswer::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<TokenAnswer, E> {
        Ok(TokenAnswer::Other("a number"))
    }

    fn visit_unit<E>(self) -> Result<TokenAnswer, E> {
        Ok(TokenAnswer::Other("null"))
    }
}

impl<'de> Deserialize<'de> for TokenAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TokenAnswer, D::Error> {
        d.deserialize_any(AnswerVisitor)
    }
}

/// Parses the answer of `obtain_token` or `refresh-token`: a JSON object with a
/// non-empty `"token"` string. The token must be printable ASCII without spaces
/// (it goes into a header). The token lives `lifetime` from `now`, or less if the
/// answer carries `expires_in` (seconds) or `expires_at` / `expiry` (RFC 3339),
/// and at least one second (a shorter life is refused).
///
/// The error says what was wrong and never quotes the token.
///
/// ```
/// use amp_client::__private::parse_token_answer;
/// use std::time::Duration;
/// let now = chrono::Utc::now();
/// let day = Duration::from_secs(86_400);
/// let t = parse_token_answer(br#"{"token": "abc123"}"#, now, day).unwrap();
/// assert_eq!(t.expires_at - now, chrono::Duration::hours(24));
/// assert!(parse_token_answer(br#"{"token": ""}"#, now, day).unwrap_err().contains("empty"));
/// ```
pub fn parse_token_answer(
    body: &[u8],
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<TokenData, String> {
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|e| {
        if body.is_empty() {
            "the body is empty".to_string()
        } else {
            format!("the body is not JSON ({e})")
        }
    })?;
    let fields = match answer {
        TokenAnswer::Object(fields) => fields,
        TokenAnswer::Other(kind) => return Err(format!("expected a JSON object, got {kind}")),
    };
    let token = match fields.token {
        None => return Err("no \"token\" field".to_string()),
        Some(Field::Text(token)) => token,
        Some(other) => return Err(format!("\"token\" is {}, not a string", other.kind())),
    };
    if token.is_empty() {
        return Err("\"token\" is empty".to_string());
    }
    if token.len() > 4096 {
        return Err(format!("\"token\" is {} bytes long", token.len()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("\"token\" holds characters that cannot go in a header".to_string());
    }
    // Saturating: the parser takes any lifetime at any clock reading.
    let mut expires_at = now
        .checked_add_signed(to_chrono(lifetime))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if let Some(v) = &fields.expires_in {
        let secs = match v {
            Field::Number(n) if n.is_finite() => *n,
            other => return Err(format!("\"expires_in\" is {}, not a number", other.kind())),
        };
        let server = now
            .checked_add_signed(to_chrono(Duration::from_secs_f64(secs.clamp(0.0, 1e10))))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        expires_at = expires_at.min(server);
    }
    for (key, v) in &fields.expiries {
        let Field::Text(s) = v else {
            return Err(format!("\"{key}\" is {}, not a date", v.kind()));
        };
        let server = DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("\"{key}\" is not an RFC 3339 date ({e})"))?
            .with_timezone(&Utc);
        expires_at = expires_at.min(server);
    }
    if expires_at <= now {
        return Err("the server says the new token has already expired".to_string());
    }
    let life = expires_at.signed_duration_since(now);
    if life < to_chrono(MIN_LIFE) {
        return Err(format!(
            "the server says the new token lives {} ms, less than the {} ms a call needs",
            life.num_milliseconds(),
            MIN_LIFE.as_millis()
        ));
    }
    Ok(
        TokenData::obtained(SecretString::from(token.as_str()), now, Duration::ZERO)
            .with_expiry(expires_at),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn token_answers() {
        let now = Utc::now();
        let t = parse_token_answer(br#"{"token":"66b9af51","extra":1}"#, now, DAY).unwrap();
        assert_eq!(t.token().expose_secret(), "66b9af51");
        assert_eq!(t.obtained_at, now);
        assert_eq!(t.expires_at, now + chrono::Duration::hours(24));
    }

    #[test]
    fn server_expiry_only_shortens() {
        let now = Utc::now();
        let t = parse_token_answer(br#"{"token":"a","expires_in":60}"#, now, DAY).unwrap();
        assert_eq!(t.expires_at, now + chrono::Duration::seconds(60));
        let t = parse_token_answer(br#"{"token":"a","expires_in":999999}"#, now, DAY).unwrap();
        assert_eq!(t.expires_at, now + chrono::Duration::hours(24));
        let at = (now + chrono::Duration::hours(1)).to_rfc3339();
        let body = format!(r#"{{"token":"a","expires_at":"{at}"}}"#);
        let t = parse_token_answer(body.as_bytes(), now, DAY).unwrap();
        assert_eq!(
            t.expires_at.timestamp(),
            (now + chrono::Duration::hours(1)).timestamp()
        );
    }

    #[test]
    fn malformed_token_answers_say_what_is_wrong() {
        let now = Utc::now();
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"<html>", "not JSON"),
            (b"[]", "an array"),
            (b"{}", "no \"token\""),
            (br#"{"token":null}"#, "null"),
            (br#"{"token":42}"#, "a number"),
            (br#"{"token":""}"#, "empty"),
            (br#"{"token":"a b"}"#, "header"),
            (br#"{"token":"a\nb"}"#, "header"),
            (br#"{"token":"ok","expires_in":"soon"}"#, "expires_in"),
            (br#"{"token":"ok","expires_in":0}"#, "already expired"),
            (br#"{"token":"ok","expires_at":"yesterday"}"#, "RFC 3339"),
        ];
        for (body, want) in cases {
            let e = parse_token_answer(body, now, DAY).unwrap_err();
            assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(body));
        }
        let e = parse_token_answer(br#"{"token":"sec ret"}"#, now, DAY).unwrap_err();
        assert!(!e.contains("sec ret"));
    }

    #[test]
    fn a_life_below_the_floor_is_refused_and_the_earlier_expiry_counts() {
        let now = Utc::now();
        let e = parse_token_answer(br#"{"token":"ok","expires_in":0.5}"#, now, DAY).unwrap_err();
        assert!(e.contains("500 ms"), "{e}");
        assert!(parse_token_answer(br#"{"token":"ok","expires_in":1}"#, now, DAY).is_ok());
        let soon = (now + chrono::Duration::hours(1)).to_rfc3339();
        let later = (now + chrono::Duration::hours(2)).to_rfc3339();
        for (a, b) in [(&soon, &later), (&later, &soon)] {
            let body = format!(r#"{{"token":"ok","expires_at":"{a}","expiry":"{b}"}}"#);
            let t = parse_token_answer(body.as_bytes(), now, DAY).unwrap();
            assert_eq!(
                t.expires_at.timestamp(),
                (now + chrono::Duration::hours(1)).timestamp()
            );
        }
        let body = format!(r#"{{"token":"ok","expires_at":"{soon}","expiry":5}}"#);
        assert!(parse_token_answer(body.as_bytes(), now, DAY)
            .unwrap_err()
            .contains("expiry"));
    }
}
