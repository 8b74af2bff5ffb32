//! Parsers for what the server sends: error bodies and token answers.
//!
//! They take raw bytes from the network, so they are written to accept
//! anything without panicking (they are fuzzed) and to say what was wrong.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::Value;

use crate::auth::token::{to_chrono, TokenData};

/// The longest server message kept in an error.
const MAX_MESSAGE: usize = 300;

/// Turns an error answer into one readable line, leniently: DRF's
/// `{"detail": "…"}`, `{"Error": "…"}` / `{"error": "…"}` / `{"message": "…"}`,
/// field errors `{"field": ["msg", …], "non_field_errors": […]}`, a JSON
/// string, or plain text. An empty body gives an empty string.
///
/// ```
/// use amp_client::__private::parse_error_body;
/// assert_eq!(parse_error_body(br#"{"detail": "Invalid token."}"#), "Invalid token.");
/// assert_eq!(parse_error_body(br#"{"password": ["This field is required."]}"#),
///            "password: This field is required.");
/// assert_eq!(parse_error_body(b"<html>Bad Gateway</html>"), "<html>Bad Gateway</html>");
/// ```
pub fn parse_error_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            let direct = ["detail", "Error", "error", "message"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str).map(str::to_string));
            match direct {
                Some(m) => m,
                None => map
                    .iter()
                    .map(|(field, v)| {
                        let msgs = flatten(v);
                        if field == "non_field_errors" {
                            msgs
                        } else {
                            format!("{field}: {msgs}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        }
        Ok(Value::String(s)) => s,
        Ok(other @ Value::Array(_)) => flatten(&other),
        Ok(_) | Err(_) => text.to_string(),
    };
    truncate(message.trim())
}

fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_MESSAGE {
        return s.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Parses the answer of `obtain_token` or `refresh-token`: a JSON object with a
/// non-empty `"token"` string. The token must be printable ASCII without spaces
/// (it goes into a header). The token lives `lifetime` from `now`, or less if the
/// answer carries `expires_in` (seconds) or `expires_at` / `expiry` (RFC 3339).
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
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if body.is_empty() {
            "the body is empty".to_string()
        } else {
            format!("the body is not JSON ({e})")
        }
    })?;
    let Value::Object(map) = value else {
        return Err(format!("expected a JSON object, got {}", kind(&value)));
    };
    let token = match map.get("token") {
        None => return Err("no \"token\" field".to_string()),
        Some(Value::String(s)) => s,
        Some(other) => return Err(format!("\"token\" is {}, not a string", kind(other))),
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
    if let Some(v) = map.get("expires_in") {
        let secs = v
            .as_f64()
            .filter(|s| s.is_finite())
            .ok_or_else(|| format!("\"expires_in\" is {}, not a number", kind(v)))?;
        let server = now
            .checked_add_signed(to_chrono(Duration::from_secs_f64(secs.clamp(0.0, 1e10))))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        expires_at = expires_at.min(server);
    }
    for key in ["expires_at", "expiry"] {
        if let Some(v) = map.get(key) {
            let s = v
                .as_str()
                .ok_or_else(|| format!("\"{key}\" is {}, not a date", kind(v)))?;
            let server = DateTime::parse_from_rfc3339(s)
                .map_err(|e| format!("\"{key}\" is not an RFC 3339 date ({e})"))?
                .with_timezone(&Utc);
            expires_at = expires_at.min(server);
        }
    }
    if expires_at <= now {
        return Err("the server says the new token has already expired".to_string());
    }
    Ok(
        TokenData::obtained(SecretString::from(token.as_str()), now, Duration::ZERO)
            .with_expiry(expires_at),
    )
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn error_bodies() {
        let cases: &[(&[u8], &str)] = &[
            (br#"{"detail":"Invalid token."}"#, "Invalid token."),
            (
                br#"{"Error":"The asset is already registered."}"#,
                "The asset is already registered.",
            ),
            (br#"{"error":"nope"}"#, "nope"),
            (
                br#"{"non_field_errors":["Unable to log in with provided credentials."]}"#,
                "Unable to log in with provided credentials.",
            ),
            (
                br#"{"name":["required"],"GAID":["bad","worse"]}"#,
                "GAID: bad worse; name: required",
            ),
            (br#""just a string""#, "just a string"),
            (b"plain text\n", "plain text"),
            (b"", ""),
            (b"\xff\xfe", "\u{fffd}\u{fffd}"),
            (b"[1, \"a\"]", "1 a"),
        ];
        for (body, want) in cases {
            assert_eq!(
                parse_error_body(body),
                *want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let long = "x".repeat(5000);
        assert!(parse_error_body(long.as_bytes()).chars().count() <= MAX_MESSAGE + 1);
        let multibyte = "é".repeat(400);
        assert!(parse_error_body(multibyte.as_bytes()).ends_with('…'));
    }

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
}
