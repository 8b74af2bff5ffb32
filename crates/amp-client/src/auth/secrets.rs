//! Every secret a client holds, in one place: the credentials and the
//! current token. Anything else that holds a secret holds it only while it
//! uses it (an [`AccessToken`](crate::AccessToken) a caller keeps, a request
//! on the wire).
//!
//! The token manager writes [`Secrets::current`] (always while it holds its
//! token cell's lock, so the two never disagree); the hot path reads it
//! without locking; the transport reads both to scrub server text.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::auth::lock;
use crate::auth::policy::Points;
use crate::auth::token::TokenData;
use crate::credentials::Credentials;

/// The current token as callers get it: the token, its generation and its
/// points, published as one immutable value.
#[derive(Debug)]
pub(crate) struct Current {
    pub token: TokenData,
    pub generation: u64,
    pub points: Points,
}

/// The credentials and the current token of one client.
#[derive(Debug)]
pub(crate) struct Secrets {
    /// Replaced whole when the password changes; the old value is dropped
    /// (and zeroized) once no login still uses it.
    credentials: ArcSwapOption<Credentials>,
    /// The snapshot of the token manager's cell.
    current: ArcSwapOption<Current>,
    /// New passwords on their way to the server (password changes, several
    /// may run at once): the server's answers are scrubbed of them too.
    pending: Mutex<Vec<Arc<SecretString>>>,
}

/// Scrubs a new password from server text while it lives ([`Secrets::pending`]).
pub(crate) struct Pending<'a> {
    secrets: &'a Secrets,
    password: Arc<SecretString>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        lock(&self.secrets.pending).retain(|p| !Arc::ptr_eq(p, &self.password));
    }
}

/// What replaces a secret in text.
pub(crate) const REDACTED: &str = "[REDACTED]";

impl Secrets {
    pub fn new(credentials: Option<Credentials>) -> Secrets {
        Secrets {
            credentials: ArcSwapOption::new(credentials.map(Arc::new)),
            current: ArcSwapOption::empty(),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// The credentials, shared (no copy of the password is made).
    pub fn credentials(&self) -> Option<Arc<Credentials>> {
        self.credentials.load_full()
    }

    /// Puts new credentials in place of the old ones.
    pub fn set_credentials(&self, credentials: Credentials) {
        self.credentials.store(Some(Arc::new(credentials)));
    }

    /// Scrubs `password` (a new one, being sent) from server text until the
    /// guard is dropped.
    pub fn pending(&self, password: &SecretString) -> Pending<'_> {
        let password = Arc::new(password.clone());
        lock(&self.pending).push(Arc::clone(&password));
        Pending {
            secrets: self,
            password,
        }
    }

    /// The snapshot the hot path reads.
    pub fn current(&self) -> &ArcSwapOption<Current> {
        &self.current
    }

    /// `text` with every secret this client holds replaced by `[REDACTED]`:
    /// the password (and a new one being sent), the current token, and
    /// `also` (the secret the request that drew this text carried: its
    /// token, which may be the previous one, or its login's password).
    /// Each is found plain, JSON-escaped (an echoed request body), with its
    /// control characters escaped as error summaries write them, and cut
    /// short at the end of a text that was shortened (ending in `…`).
    ///
    /// This is the one place server text is cleaned of secrets; it runs
    /// where an answer is turned into an error, before any log or error
    /// sees the text.
    pub fn scrub(&self, text: &str, also: Option<&str>) -> String {
        let credentials = self.credentials.load_full();
        let pending = lock(&self.pending).clone();
        let current = self.current.load_full();
        let held = [
            credentials.as_deref().map(|c| c.password().expose_secret()),
            current.as_deref().map(|c| c.token.token().expose_secret()),
            also,
        ];
        let pending = pending.iter().map(|p| p.expose_secret());
        redact(text, held.into_iter().flatten().chain(pending))
    }
}

/// The forms a secret may take in server text: plain, JSON-escaped, and
/// with control characters escaped as the error summaries write them
/// (`wire::escape_controls_line`). Copies of the secret: wiped when dropped.
fn forms(secret: &str) -> Vec<Zeroizing<String>> {
    let mut forms = vec![Zeroizing::new(secret.to_string())];
    let json = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    if let Some(inner) = json.get(1..json.len().saturating_sub(1)) {
        forms.push(Zeroizing::new(inner.to_string()));
    }
    forms.push(Zeroizing::new(
        crate::wire::escape_controls_line(secret).into_owned(),
    ));
    forms.retain(|f| !f.is_empty());
    forms.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    forms.dedup_by(|a, b| a.as_str() == b.as_str());
    forms
}

/// `text` with every occurrence of every form of every secret replaced by
/// [`REDACTED`]. The ranges are all found in the original text first and
/// merged, so secrets that overlap (a password inside a token) are removed
/// whole, not in pieces. A text cut short (ending in `…`) also loses a
/// trailing start of a secret of at least four characters (or all but one
/// of a shorter secret).
fn redact<'a>(text: &str, secrets: impl Iterator<Item = &'a str>) -> String {
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
        if start > at {
            out.push_str(&text[at..start]);
        }
        if start >= at || out.is_empty() || !out.ends_with(REDACTED) {
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
    use crate::config::TokenPolicy;

    fn secrets(password: &str, token: Option<&str>) -> Secrets {
        let s = Secrets::new(Some(Credentials::new("someone", password)));
        if let Some(t) = token {
            let now = chrono::Utc::now();
            let data = TokenData::new(t, now, now + chrono::Duration::hours(24));
            let points = data.points(&TokenPolicy::default(), 0.0);
            s.current.store(Some(Arc::new(Current {
                token: data,
                generation: 1,
                points,
            })));
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
            let _pending = s.pending(&SecretString::from("new-pw"));
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
        s.set_credentials(Credentials::new("someone", "new-pw"));
        assert_eq!(
            s.credentials()
                .map(|c| c.password().expose_secret().to_string()),
            Some("new-pw".to_string())
        );
        assert_eq!(s.scrub("new-pw", None), REDACTED);
    }
}
