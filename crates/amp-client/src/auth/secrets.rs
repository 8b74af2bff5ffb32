//! Scrubbing secrets from text: every form a secret may take in server text,
//! and their removal. The secrets themselves are gathered where they live
//! ([`Shared::scrub`](crate::auth::state::Shared::scrub)).

use zeroize::Zeroizing;

/// What replaces a secret in text.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// The forms a secret may take in server text: plain, JSON-escaped, and
/// with control characters escaped as the error summaries write them
/// (`wire::escape_controls_line`). Copies of the secret: wiped when dropped.
fn forms(secret: &str) -> Vec<Zeroizing<String>> {
    let mut forms = vec![Zeroizing::new(secret.to_string()), json_form(secret)];
    forms.push(Zeroizing::new(
        crate::wire::escape_controls_line(secret).into_owned(),
    ));
    // An empty form would match everywhere. Forms that are alike (most
    // secrets have no character to escape) find the same ranges, which
    // `redact` merges.
    forms.retain(|f| !f.is_empty());
    forms
}

/// `secret` as a JSON string holds it: escaped, without the quotes (empty
/// if it cannot be written). A copy of the secret: wiped when dropped.
pub(crate) fn json_form(secret: &str) -> Zeroizing<String> {
    let json = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    let inner = json
        .get(1..json.len().saturating_sub(1))
        .unwrap_or_default();
    Zeroizing::new(inner.to_string())
}

/// `text` with every occurrence of every form of every secret replaced by
/// [`REDACTED`]. The ranges are all found in the original text first and
/// merged, so secrets that overlap (a password inside a token) are removed
/// whole, not in pieces. A text cut short (ending in `…`) also loses a
/// trailing start of a secret of at least four characters (or all but one
/// of a shorter secret).
pub(crate) fn redact<'a>(text: &str, secrets: impl Iterator<Item = &'a str>) -> String {
    let forms: Vec<Zeroizing<String>> = secrets.flat_map(forms).collect();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for form in &forms {
        ranges.extend(
            text.match_indices(form.as_str())
                .map(|(i, m)| (i, i + m.len())),
        );
    }
    let body = text.strip_suffix('…').unwrap_or(text);
    if body.len() < text.len() {
        for form in &forms {
            // The longest start of the form, shorter than the form and no
            // longer than the text, that the text ends with; at least four
            // characters (or all but one of a shorter secret). Linear in
            // the form: char boundaries are walked, not recounted.
            let chars = form.chars().count();
            let least = 4.min(chars.saturating_sub(1)).max(1);
            let mut cut = None;
            for (n, (k, _)) in form.char_indices().enumerate().skip(1) {
                if k > body.len() {
                    break;
                }
                if n >= least && body.ends_with(&form[..k]) {
                    cut = Some(k);
                }
            }
            if let Some(k) = cut {
                ranges.push((body.len() - k, body.len()));
            }
        }
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if end <= at {
            continue;
        }
        // A range that starts inside the one before extends it: its
        // [REDACTED] is out already.
        if start >= at {
            out.push_str(&text[at..start]);
            out.push_str(REDACTED);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::clock::SystemClock;
    use crate::auth::state::Shared;
    use crate::auth::token::TokenData;
    use crate::config::TokenPolicy;
    use crate::credentials::Credentials;
    use secrecy::{ExposeSecret, SecretString};
    use std::sync::Arc;

    fn secrets(password: &str, token: Option<&str>) -> Shared {
        let credentials = Credentials::new("someone", password);
        let s = Shared::new(
            Some(credentials),
            TokenPolicy::default(),
            Arc::new(SystemClock),
        );
        if let Some(t) = token {
            let now = chrono::Utc::now();
            s.set(TokenData::new(t, now, now + chrono::Duration::hours(24)));
        }
        s
    }

    #[test]
    fn the_password_and_the_tokens_are_removed() {
        let s = secrets("s3cr3t-pw", Some("tok-current"));
        assert_eq!(
            s.scrub(
                "pw s3cr3t-pw, now tok-current, before tok-previous",
                Some("tok-previous")
            ),
            "pw [REDACTED], now [REDACTED], before [REDACTED]"
        );
        assert_eq!(s.scrub("nothing here", None), "nothing here");
    }

    #[test]
    fn escaped_and_cut_forms_are_found() {
        let s = secrets(r#"pa"ss\word"#, None);
        assert_eq!(
            s.scrub(r#"body {"password": "pa\"ss\\word"}"#, None),
            r#"body {"password": "[REDACTED]"}"#
        );
        let s = secrets("s3cr3t-pw", Some("abcdef0123"));
        assert_eq!(s.scrub("echo: s3cr…", None), "echo: [REDACTED]…");
        assert_eq!(s.scrub("token abcd…", None), "token [REDACTED]…");
        assert_eq!(s.scrub("plain text…", None), "plain text…");
    }

    #[test]
    fn a_pending_password_is_scrubbed_while_it_lives() {
        let s = secrets("old-pw", None);
        {
            let _held = s.pending(&SecretString::from("new-pw"));
            assert_eq!(s.scrub("too weak: new-pw", None), "too weak: [REDACTED]");
        }
        assert_eq!(s.scrub("new-pw", None), "new-pw");
    }

    // A password inside a token: the token goes whole, not in pieces.
    #[test]
    fn overlapping_secrets_are_removed_whole() {
        let s = secrets("dead", Some("deadbeef00c0ffee11deadbeef22"));
        assert_eq!(
            s.scrub("bad token deadbeef00c0ffee11deadbeef22 (dead)", None),
            "bad token [REDACTED] ([REDACTED])"
        );
        let s = secrets("a", Some("tok-a-tok"));
        assert_eq!(s.scrub("x tok-a-tok y", None), "x [REDACTED] y");
    }

    #[test]
    fn a_short_cut_is_left_alone_and_control_escapes_are_found() {
        let s = secrets("s3cr3t-pw", None);
        assert_eq!(s.scrub("ends in s…", None), "ends in s…");
        let password = "pw\u{7}bell\ttab";
        let s = secrets(password, None);
        let escaped = crate::wire::escape_controls_line(password);
        assert_ne!(escaped, password);
        assert_eq!(s.scrub(&format!("echo {escaped}"), None), "echo [REDACTED]");
    }

    // Several password changes at once: each new password is scrubbed
    // while its own change runs, whichever ends first.
    #[test]
    fn pending_passwords_are_scrubbed_each_until_its_own_end() {
        let s = secrets("old-pw", None);
        let a = s.pending(&SecretString::from("new-pw-A"));
        let b = s.pending(&SecretString::from("new-pw-B"));
        drop(b);
        assert_eq!(s.scrub("too weak: new-pw-A", None), "too weak: [REDACTED]");
        assert_eq!(s.scrub("new-pw-B", None), "new-pw-B");
        drop(a);
        assert_eq!(s.scrub("new-pw-A", None), "new-pw-A");
    }

    // A very long secret cut short is found too (the search walks the
    // secret once; the quadratic one took minutes at this size).
    #[test]
    fn a_long_secret_cut_short_is_found() {
        let token = "t".repeat(200_000);
        let s = secrets("pw", Some(&token));
        let text = format!("echo {}…", &token[..150_000]);
        assert_eq!(s.scrub(&text, None), "echo [REDACTED]…");
    }

    #[test]
    fn new_credentials_replace_the_old() {
        let s = secrets("old-pw", None);
        s.lock().credentials = Some(Arc::new(Credentials::new("someone", "new-pw")));
        assert_eq!(
            s.credentials()
                .map(|c| c.password().expose_secret().to_string()),
            Some("new-pw".to_string())
        );
        assert_eq!(s.scrub("new-pw", None), REDACTED);
    }
}
