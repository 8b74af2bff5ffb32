//! Every secret a client holds, in one place: the credentials and the
//! current token. Anything else that holds a secret holds it only while it
//! uses it (an [`AccessToken`](crate::AccessToken) a caller keeps, a request
//! on the wire).
//!
//! The token manager writes [`Secrets::current`] (always while it holds its
//! token cell's lock, so the two never disagree); the hot path reads it
//! without locking; the transport reads both to scrub server text.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

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
    /// A new password on its way to the server (a password change): the
    /// server's answer is scrubbed of it too.
    pending: ArcSwapOption<SecretString>,
}

/// Scrubs a new password from server text while it lives ([`Secrets::pending`]).
pub(crate) struct Pending<'a>(&'a Secrets);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.pending.store(None);
    }
}

/// What replaces a secret in text.
pub(crate) const REDACTED: &str = "[REDACTED]";

impl Secrets {
    pub fn new(credentials: Option<Credentials>) -> Secrets {
        Secrets {
            credentials: ArcSwapOption::new(credentials.map(Arc::new)),
            current: ArcSwapOption::empty(),
            pending: ArcSwapOption::empty(),
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
        self.pending.store(Some(Arc::new(password.clone())));
        Pending(self)
    }

    /// The snapshot the hot path reads.
    pub fn current(&self) -> &ArcSwapOption<Current> {
        &self.current
    }

    /// `text` with every secret this client holds replaced by `[REDACTED]`:
    /// the password, the current token, and `also` (the token the request
    /// that drew this text was sent with, which may be the previous one).
    /// Each is found plain, JSON-escaped (an echoed request body), and cut
    /// short at the end of a text that was shortened (ending in `…`).
    ///
    /// This is the one place server text is cleaned of secrets; it runs
    /// where an answer is turned into an error, before any log or error
    /// sees the text.
    pub fn scrub(&self, text: &str, also: Option<&TokenData>) -> String {
        let mut out = text.to_string();
        if let Some(c) = self.credentials.load().as_deref() {
            redact(&mut out, c.password().expose_secret());
        }
        if let Some(p) = self.pending.load().as_deref() {
            redact(&mut out, p.expose_secret());
        }
        if let Some(current) = self.current.load().as_deref() {
            redact(&mut out, current.token.token().expose_secret());
        }
        if let Some(token) = also {
            redact(&mut out, token.token().expose_secret());
        }
        out
    }
}

/// Replaces `secret` in `text`: plain, JSON-escaped, and a trailing start of
/// either form before a final `…` (the text was cut in the middle of it).
fn redact(text: &mut String, secret: &str) {
    if secret.is_empty() {
        return;
    }
    // The escaped form is a copy of the secret: wiped when dropped.
    let escaped = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    let escaped = escaped
        .get(1..escaped.len().saturating_sub(1))
        .filter(|e| !e.is_empty() && *e != secret);
    let forms: Vec<&str> = std::iter::once(secret).chain(escaped).collect();
    for form in &forms {
        if text.contains(form) {
            *text = text.replace(form, REDACTED);
        }
    }
    if let Some(kept) = text.strip_suffix('…') {
        let cut = forms
            .iter()
            .filter_map(|form| {
                (1..form.len())
                    .rev()
                    .filter(|k| form.is_char_boundary(*k))
                    .find(|k| kept.ends_with(&form[..*k]))
            })
            .max();
        if let Some(k) = cut {
            *text = format!("{}{REDACTED}…", &kept[..kept.len() - k]);
        }
    }
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
        let now = chrono::Utc::now();
        let previous = TokenData::new("tok-previous", now, now);
        assert_eq!(
            s.scrub(
                "pw s3cr3t-pw, now tok-current, before tok-previous",
                Some(&previous)
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
