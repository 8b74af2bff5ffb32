//! Where the node is and how to log in to it: the URL (kept without its
//! `user:password`), and the credentials, from the URL or from Elements
//! Core's `.cookie` file, held as secrets.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};
use url::{Host, Url};

use crate::error::{Error, Result};

/// The user name Elements Core writes in its cookie file.
pub const COOKIE_USER: &str = "__cookie__";

/// How the client logs in to the node.
#[derive(Clone)]
pub(crate) enum Auth {
    /// No credentials (a node without `rpcauth`; rare).
    None,
    /// `rpcuser` / `rpcpassword`, from the URL or given.
    Password {
        user: String,
        password: SecretString,
    },
    /// The cookie file Elements Core writes at start (`__cookie__:HEX`);
    /// read when first needed and again after the node refuses it (it
    /// writes a new one on every start).
    Cookie { path: PathBuf },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"[hidden]")
                .finish(),
            Auth::Cookie { path } => f.debug_struct("Cookie").field("path", path).finish(),
        }
    }
}

/// A node URL split into the URL without credentials and the credentials.
pub(crate) fn split_url(raw: &str) -> Result<(Url, Option<(String, SecretString)>)> {
    let mut url = Url::parse(raw.trim()).map_err(|e| {
        // The URL may hold the password: never repeat it.
        Error::config("node URL", format!("not a URL ({e})"))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::config(
            "node URL",
            format!("must be http:// or https://, not {}://", url.scheme()),
        ));
    }
    if url.host().is_none() {
        return Err(Error::config("node URL", "has no host"));
    }
    let user = percent_decode_str(url.username())
        .decode_utf8()
        .map_err(|_| Error::config("node URL", "the user name is not UTF-8"))?
        .into_owned();
    let password = url
        .password()
        .map(|p| {
            percent_decode_str(p)
                .decode_utf8()
                .map(|p| SecretString::from(p.into_owned()))
                .map_err(|_| Error::config("node URL", "the password is not UTF-8"))
        })
        .transpose()?;
    // Both setters fail only for URLs that cannot have credentials, which
    // an http(s) URL with a host can.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let credentials = match (user.is_empty(), password) {
        (true, None) => None,
        (false, Some(password)) => Some((user, password)),
        (false, None) => Some((user, SecretString::from(String::new()))),
        (true, Some(password)) => Some((String::new(), password)),
    };
    Ok((url, credentials))
}

/// Whether `url` names this machine (127.0.0.0/8, ::1, `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Reads a cookie file: `__cookie__:HEX` on one line, as Elements Core
/// writes it. The error names the file, never its contents.
pub(crate) fn read_cookie(path: &Path) -> Result<(String, SecretString)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(
            "node cookie file",
            format!(
                "cannot read {}: {e} (is the node running, and is this its data folder?)",
                path.display()
            ),
        )
    })?;
    let text = SecretString::from(text);
    let line = text.expose_secret().trim();
    match line.split_once(':') {
        Some((user, password)) if !user.is_empty() && !password.is_empty() => {
            Ok((user.to_string(), SecretString::from(password.to_string())))
        }
        _ => Err(Error::config(
            "node cookie file",
            format!(
                "{} is not a cookie file (expected {COOKIE_USER}:HEX on one line)",
                path.display()
            ),
        )),
    }
}

/// Replaces every secret in `text` by `[hidden]`, then escapes what could
/// drive a terminal: server text is made safe before it reaches an error
/// or a log.
pub(crate) fn scrub(text: &str, secrets: &[SecretString]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let s = secret.expose_secret();
        // A secret of a few characters would blank ordinary words.
        if s.len() >= 4 {
            out = out.replace(s, "[hidden]");
        }
    }
    amp_client::text::escape_controls_line(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_are_decoded() {
        let (url, creds) = split_url("http://rpc%40user:p%3Ass@127.0.0.1:7041/wallet/w").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:7041/wallet/w");
        let (user, password) = creds.unwrap();
        assert_eq!(user, "rpc@user");
        assert_eq!(password.expose_secret(), "p:ss");
        let (url, creds) = split_url("https://node.example:443/").unwrap();
        assert_eq!(url.as_str(), "https://node.example/");
        assert!(creds.is_none());
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for raw in [
            "ftp://u:secretpw@h/",
            "not a url secretpw",
            "http://u:secretpw@/",
        ] {
            let e = split_url(raw).unwrap_err();
            assert!(!e.to_string().contains("secretpw"), "{e}");
            assert!(e.is_usage(), "{e}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for (raw, yes) in [
            ("http://127.0.0.1:1/", true),
            ("http://127.8.9.1:1/", true),
            ("http://[::1]:1/", true),
            ("http://localhost:1/", true),
            ("http://LOCALHOST./", true),
            ("http://10.0.0.1/", false),
            ("http://node.example/", false),
            ("http://localhost.example/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(raw).unwrap()), yes, "{raw}");
        }
    }

    #[test]
    fn cookies_are_read_and_bad_ones_named_without_contents() {
        let dir = std::env::temp_dir().join(format!("amp-elements-cookie-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join(".cookie");
        std::fs::write(&good, "__cookie__:abcdef0123\n").unwrap();
        let (user, password) = read_cookie(&good).unwrap();
        assert_eq!(user, COOKIE_USER);
        assert_eq!(password.expose_secret(), "abcdef0123");
        let bad = dir.join("bad");
        std::fs::write(&bad, "secretstuff-without-colon").unwrap();
        let e = read_cookie(&bad).unwrap_err().to_string();
        assert!(
            e.contains("not a cookie file") && !e.contains("secretstuff"),
            "{e}"
        );
        let e = read_cookie(&dir.join("missing")).unwrap_err().to_string();
        assert!(e.contains("cannot read"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scrub_hides_secrets_and_escapes_controls() {
        let secrets = [SecretString::from("hunter22".to_string())];
        let out = scrub("bad password hunter22\u{1b}[2J", &secrets);
        assert_eq!(out, r"bad password [hidden]\u{1b}[2J");
    }
}
