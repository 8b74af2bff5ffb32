//! The API root: `AMP_API_BASE_URL` parsed and checked, and what counts as
//! loopback.

use reqwest::Url;

use super::vars;
use crate::error::{Error, Result};

pub(super) fn parse_base_url(raw: &str) -> Result<Url> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::config(vars::BASE_URL, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(
            vars::BASE_URL,
            format!("scheme {:?} is not http or https", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(vars::BASE_URL, "has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            vars::BASE_URL,
            "must not have a query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            vars::BASE_URL,
            "must not carry credentials; use AMP_USERNAME and AMP_PASSWORD",
        ));
    }
    // Paths are joined onto the root, which only keeps the last segment when the
    // root ends in a slash.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// True for `localhost` and loopback addresses: plain http (or redis) there
/// never leaves the machine.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // A `redis://` URL's host is not parsed as an address (only the
        // special schemes' are): `127.0.0.1` comes as a name.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        // `::1`, and `::ffff:127.x.y.z`, which reaches 127.x.y.z.
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}
