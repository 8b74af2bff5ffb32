//! The body of an answer handed back as it came ([`AmpClient::send`](crate::AmpClient::send))
//! cleaned of the tokens: a server that echoes the request (a debugging
//! endpoint, a misconfigured proxy in front of AMP) would otherwise hand the
//! token to whoever reads the body, which for `amp agent` is every program
//! on the host. Every answer is scanned, so the scan is a substring search
//! (memchr's: SIMD, a rare-byte prefilter) and a body that holds no token,
//! every answer AMP gives, is returned as it is: no copy, no allocation.

use bytes::Bytes;

use crate::auth::secrets::{json_form, REDACTED};

/// `body` with every occurrence of `secret`, as it is and as a JSON string
/// holds it (when the two differ), replaced by `[REDACTED]`; the body itself
/// (no copy) when it holds neither, or `secret` is empty.
pub(crate) fn scrub(body: Bytes, secret: &str) -> Bytes {
    let body = replace(body, secret.as_bytes());
    // A token is sent as it is in the header, but a JSON echo escapes a
    // quote, a backslash or a control character in it. The escaped form
    // is made only for such a token (never for AMP's hex tokens).
    if secret.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return replace(body, json_form(secret).as_bytes());
    }
    body
}

/// Replaces whole every value in `headers` that holds `secret` (a server
/// echoing the request in a header): a header value is not text to cut
/// pieces out of, and a secret in it is the whole of what matters.
pub(crate) fn scrub_headers(headers: &mut reqwest::header::HeaderMap, secret: &str) {
    if secret.is_empty() {
        return;
    }
    for value in headers.values_mut() {
        if find(value.as_bytes(), secret.as_bytes()).is_some() {
            *value = reqwest::header::HeaderValue::from_static(REDACTED);
        }
    }
}

/// `body` with every occurrence of `secret` replaced by `[REDACTED]`; the
/// body itself when it holds none (or `secret` is empty).
fn replace(body: Bytes, secret: &[u8]) -> Bytes {
    if secret.is_empty() {
        return body;
    }
    let Some(first) = find(&body, secret) else {
        return body;
    };
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(&body[..first]);
    out.extend_from_slice(REDACTED.as_bytes());
    let mut rest = &body[first + secret.len()..];
    while let Some(at) = find(rest, secret) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(REDACTED.as_bytes());
        rest = &rest[at + secret.len()..];
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

/// Where `needle` first is in `haystack`: memchr's substring search, not a
/// comparison at every offset, since every answer is scanned whole.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_wherever_it_is() {
        assert_eq!(find(b"abc token xyz", b"token"), Some(4));
        assert_eq!(find(b"tok", b"token"), None);
        assert_eq!(find(b"", b"token"), None);
        assert_eq!(find(b"tokentoken", b"token"), Some(0));
        let long = [b"x".repeat(10_000), b"0123456789abcdef".to_vec()].concat();
        assert_eq!(find(&long, b"0123456789abcdef"), Some(10_000));
    }

    #[test]
    fn a_body_holding_the_token_is_scrubbed_and_any_other_left_as_it_is() {
        let token = "0123456789abcdef0123456789abcdef01234567";
        let clean = Bytes::from_static(b"[{\"asset_uuid\": \"x\"}]");
        let same = scrub(clean.clone(), token);
        // The very buffer, not a copy.
        assert_eq!(same.as_ptr(), clean.as_ptr());
        let echoed = [
            "{\"token\": \"",
            token,
            "\", \"again\": \"",
            token,
            token,
            "\"}",
        ]
        .concat();
        assert_eq!(
            &scrub(Bytes::from(echoed), token)[..],
            b"{\"token\": \"[REDACTED]\", \"again\": \"[REDACTED][REDACTED]\"}"
        );
        assert_eq!(
            &scrub(Bytes::from_static(token.as_bytes()), token)[..],
            REDACTED.as_bytes()
        );
        assert_eq!(&scrub(Bytes::from_static(b"x"), "")[..], b"x");
    }

    // A token holding a quote or a backslash: JSON escapes it, and the
    // escaped form is found too.
    #[test]
    fn a_json_escaped_echo_is_scrubbed_too() {
        let token = r#"ab"cd\ef"#;
        let body = Bytes::from(format!(
            "{{\"authorization\": {}}} raw {token}",
            serde_json::to_string(&format!("token {token}")).unwrap()
        ));
        assert_eq!(
            &scrub(body, token)[..],
            b"{\"authorization\": \"token [REDACTED]\"} raw [REDACTED]"
        );
        let clean = Bytes::from_static(b"nothing");
        assert_eq!(scrub(clean.clone(), token).as_ptr(), clean.as_ptr());
    }

    #[test]
    fn a_header_holding_the_token_is_replaced_whole() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let token = "0123456789abcdef";
        let mut headers = HeaderMap::new();
        headers.insert("x-echo", HeaderValue::from_static("token 0123456789abcdef"));
        headers.append("x-echo", HeaderValue::from_static("none here"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        scrub_headers(&mut headers, token);
        let echoes: Vec<_> = headers.get_all("x-echo").iter().collect();
        assert_eq!(echoes, ["[REDACTED]", "none here"]);
        assert_eq!(headers["content-type"], "application/json");
        scrub_headers(&mut headers, "");
        assert_eq!(headers.len(), 3);
    }
}
