//! Which proxy, if any, the client's requests go through.
//!
//! reqwest on its own reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and
//! `NO_PROXY`, and exempts nothing: with
//! `AMP_API_BASE_URL=http://127.0.0.1:8443/api` (an SSH tunnel, say) and
//! `HTTP_PROXY=http://proxy.corp:3128`, the login body — the password — went
//! in cleartext to the proxy. [`choose`] replaces reqwest's reading of the
//! environment with these rules, and [`configure`] applies its choice:
//!
//! * **an API root on loopback** (`127.0.0.0/8`, `::1`, `localhost`) is
//!   always reached directly, whatever the variables say, as Go's
//!   `net/http` does: no proxy can reach this machine's loopback, and a
//!   proxy on loopback would read a plain-http login in clear (issue 19: a
//!   loopback proxy received the password of a loopback AMP).
//! * **https**: `HTTPS_PROXY` (or `https_proxy`), else `ALL_PROXY` (or
//!   `all_proxy`). The proxy only relays a TLS tunnel (`CONNECT`), so it
//!   sees neither the password nor the token.
//! * **plain http** to a host off loopback (only with
//!   `AMP_ALLOW_INSECURE_HTTP=1`): `HTTP_PROXY` (or `http_proxy`), else
//!   `ALL_PROXY`, and only when that proxy is itself on loopback (a local
//!   debugging proxy). Any other proxy would read every request in
//!   cleartext: the request goes directly to the server instead.
//! * `NO_PROXY` (or `no_proxy`) is respected as curl reads it: a
//!   comma-separated list of host names (each matching itself and its
//!   subdomains; a leading `.` or `*.` is ignored), IP addresses, CIDR blocks,
//!   or `*` for everything.
//! * In a CGI program (`REQUEST_METHOD` is set) `HTTP_PROXY` may come from a
//!   request's `Proxy:` header ("httpoxy"); there, as reqwest does, no proxy
//!   variable is read.
//!
//! The choice is logged at debug level when the client is built, the proxy's
//! password (if its URL has one) hidden. A proxy variable that applies but
//! cannot be used (not a URL, a SOCKS proxy, which this build cannot speak)
//! is a configuration error naming the variable, never quoting its value.

use std::net::IpAddr;

use reqwest::Url;

use crate::config::{is_loopback, redact_url, Config};
use crate::error::{Error, Result};

/// Set in a CGI program, whose `HTTP_PROXY` may come from a request header.
const CGI_VAR: &str = "REQUEST_METHOD";

/// Where requests go, and why. `Debug` hides a password in a proxy URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    /// Directly: no proxy variable applies.
    Direct,
    /// Directly: the API root is on loopback, whatever the variables say.
    Loopback,
    /// Directly: `variable` (NO_PROXY or no_proxy) exempts the host.
    Exempt {
        /// The variable that exempted it.
        variable: &'static str,
    },
    /// Directly, although `variable` names `proxy`: plain http never goes
    /// through a proxy that is not on loopback.
    Refused {
        /// The proxy that was not used.
        proxy: Url,
        /// The variable that named it.
        variable: &'static str,
    },
    /// Directly: a CGI program, whose proxy variables are not trusted.
    Cgi,
    /// Through the proxy at `url`, named by `variable`.
    Proxy {
        /// The proxy.
        url: Url,
        /// The variable that named it.
        variable: &'static str,
    },
}

impl std::fmt::Debug for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Choice::Direct => f.write_str("Direct"),
            Choice::Loopback => f.write_str("Loopback"),
            Choice::Cgi => f.write_str("Cgi"),
            Choice::Exempt { variable } => f
                .debug_struct("Exempt")
                .field("variable", variable)
                .finish(),
            Choice::Refused { proxy, variable } => f
                .debug_struct("Refused")
                .field("proxy", &redact_url(proxy.as_str()))
                .field("variable", variable)
                .finish(),
            Choice::Proxy { url, variable } => f
                .debug_struct("Proxy")
                .field("url", &redact_url(url.as_str()))
                .field("variable", variable)
                .finish(),
        }
    }
}

/// The proxy, if any, for requests to `config`'s base URL, with the
/// environment read through `env` (the process environment in
/// [`configure`]; a map in tests). Pure: it reads nothing else.
pub(crate) fn choose(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<Choice> {
    let base = config.base_url();
    if is_loopback(base) {
        return Ok(Choice::Loopback);
    }
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if get(CGI_VAR).is_some() {
        return Ok(Choice::Cgi);
    }
    let plain_http = base.scheme() == "http";
    let candidates: [&'static str; 4] = if plain_http {
        ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    };
    let Some((variable, raw)) = candidates
        .into_iter()
        .find_map(|name| get(name).map(|v| (name, v)))
    else {
        return Ok(Choice::Direct);
    };
    for no_proxy in ["NO_PROXY", "no_proxy"] {
        if let Some(list) = get(no_proxy) {
            if base.host().is_some_and(|host| exempts(&list, &host)) {
                return Ok(Choice::Exempt { variable: no_proxy });
            }
            // The first one set is the list (as curl and reqwest read it).
            break;
        }
    }
    let url = parse_proxy(&raw).map_err(|reason| Error::config(variable, reason))?;
    if plain_http && !is_loopback(&url) {
        return Ok(Choice::Refused {
            proxy: url,
            variable,
        });
    }
    Ok(Choice::Proxy { url, variable })
}

/// Sets the client's proxy from the process environment by the rules of
/// this module (reqwest's own reading of it, and any proxy already set on
/// `builder`, are switched off), and logs the choice at debug level.
pub(crate) fn configure(
    builder: reqwest::ClientBuilder,
    config: &Config,
) -> Result<reqwest::ClientBuilder> {
    // Lossy: a value that is not Unicode then fails to parse, naming its
    // variable, rather than passing for unset.
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    apply(builder, &choose(config, &env)?)
}

/// Applies `choice` to `builder`.
fn apply(builder: reqwest::ClientBuilder, choice: &Choice) -> Result<reqwest::ClientBuilder> {
    // Off first: reqwest would otherwise read the environment itself.
    let builder = builder.no_proxy();
    match choice {
        Choice::Direct => {
            tracing::debug!("no proxy variable applies; requests go directly to the server");
            Ok(builder)
        }
        Choice::Loopback => {
            tracing::debug!(
                "the API root is on loopback; requests go directly to it, \
                 whatever the proxy variables say"
            );
            Ok(builder)
        }
        Choice::Exempt { variable } => {
            tracing::debug!(
                variable,
                "the API host is exempt from the proxy; requests go directly to the server"
            );
            Ok(builder)
        }
        Choice::Refused { proxy, variable } => {
            tracing::debug!(
                proxy = %redact_url(proxy.as_str()),
                variable,
                "plain http never goes through a proxy that is not on loopback; \
                 requests go directly to the server"
            );
            Ok(builder)
        }
        Choice::Cgi => {
            tracing::debug!(
                "REQUEST_METHOD is set (a CGI program): proxy variables are not read; \
                 requests go directly to the server"
            );
            Ok(builder)
        }
        Choice::Proxy { url, variable } => {
            tracing::debug!(
                proxy = %redact_url(url.as_str()),
                variable,
                "requests go through a proxy"
            );
            // Every request goes to the base URL's origin (redirects elsewhere
            // are not followed), so one proxy for all of them is the choice.
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|_| Error::config(*variable, "is not usable as a proxy"))?;
            Ok(builder.proxy(proxy))
        }
    }
}

/// A proxy variable's value as a URL: `http://` when it names no scheme (as
/// curl reads it), and only http or https, with a host.
fn parse_proxy(raw: &str) -> std::result::Result<Url, String> {
    let raw = raw.trim();
    let url = if raw.contains("://") {
        Url::parse(raw)
    } else {
        Url::parse(&format!("http://{raw}"))
    }
    .map_err(|e| format!("not a proxy URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => {}
        s if s.starts_with("socks") => {
            return Err(format!(
                "a {s} proxy, which this build cannot use; use an http or https proxy, or unset it"
            ))
        }
        s => return Err(format!("scheme {s:?} is not http or https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the proxy URL has no host".to_string());
    }
    Ok(url)
}

/// Whether the NO_PROXY `list` exempts `host`.
fn exempts(list: &str, host: &url::Host<&str>) -> bool {
    let ip: Option<IpAddr> = match host {
        url::Host::Ipv4(ip) => Some((*ip).into()),
        url::Host::Ipv6(ip) => Some((*ip).into()),
        url::Host::Domain(_) => None,
    };
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            match (ip, host) {
                (Some(ip), _) => ip_matches(entry, ip),
                (None, url::Host::Domain(name)) => domain_matches(entry, name),
                (None, _) => false,
            }
        })
}

/// `entry` is an address (`10.1.2.3`, `::1`, `[::1]`) equal to `ip`, or a
/// CIDR block (`10.0.0.0/8`, `fd00::/8`) holding it.
fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let entry = entry.trim_start_matches('[').trim_end_matches(']');
    let (net, bits) = match entry.split_once('/') {
        Some((net, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (net, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = net.trim_end_matches(']').parse::<IpAddr>() else {
        // `[fd00::]/8`: the bracket closes before the mask.
        return false;
    };
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    // The top `bits` of a `width`-bit number, as a mask over u128.
    let mask = match width - bits {
        128 => 0,
        shift => (u128::MAX << shift) & (u128::MAX >> (128 - width)),
    };
    ip & mask == net & mask
}

/// `entry` (`example.com`, `.example.com`, `*.example.com`, with or without
/// a port) names `host` or a domain above it.
fn domain_matches(entry: &str, host: &str) -> bool {
    let entry = entry.trim_start_matches("*.").trim_start_matches('.');
    // A port is not part of the match (curl ignores it too).
    let entry = match entry.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => entry,
    };
    let host = host.trim_end_matches('.');
    let entry = entry.trim_end_matches('.');
    if entry.is_empty() {
        return false;
    }
    if host.eq_ignore_ascii_case(entry) {
        return true;
    }
    // A subdomain: `….<entry>`, the dot included.
    let Some(start) = host.len().checked_sub(entry.len() + 1) else {
        return false;
    };
    host.get(start..)
        .and_then(|tail| tail.strip_prefix('.'))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base: &str) -> Config {
        Config::builder()
            .base_url(base)
            .allow_insecure_http(true)
            .build()
            .unwrap()
    }

    fn choose_with(base: &str, vars: &[(&str, &str)]) -> Result<Choice> {
        let env = |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        choose(&config(base), &env)
    }

    fn proxy(url: &str, variable: &'static str) -> Choice {
        Choice::Proxy {
            url: Url::parse(url).unwrap(),
            variable,
        }
    }

    const TUNNEL: &str = "http://127.0.0.1:8443/api";
    const REMOTE: &str = "https://amp.blockstream.com/api";

    /// Issue 19: with a loopback API root and a proxy on loopback, the
    /// login (the password) went to that proxy in clear. A loopback root is
    /// reached directly whatever any variable says, as in Go's `net/http`.
    #[test]
    fn loopback_roots_never_go_through_a_proxy() {
        for base in [
            TUNNEL,
            "http://127.9.8.7:8080/api",
            "http://localhost:8080/api",
            "http://LOCALHOST/api",
            "http://[::1]:8080/api",
            "http://[::ffff:127.0.0.1]:8080/api",
            "https://127.0.0.1:8443/api",
            "https://localhost/api",
            "https://[::1]/api",
        ] {
            for (variable, value) in [
                ("HTTP_PROXY", "http://127.0.0.1:3128"),
                ("http_proxy", "localhost:3128"),
                ("HTTPS_PROXY", "http://[::1]:3128"),
                ("https_proxy", "http://proxy.corp:3128"),
                ("ALL_PROXY", "http://127.0.0.1:3128"),
                ("all_proxy", "https://user:pw@proxy.corp"),
                // Not even read: a value that could not be used is no error.
                ("HTTPS_PROXY", "socks5://127.0.0.1:1080"),
                ("HTTP_PROXY", "not a url"),
            ] {
                let choice = choose_with(base, &[(variable, value), ("REQUEST_METHOD", "GET")]);
                assert_eq!(
                    choice.unwrap(),
                    Choice::Loopback,
                    "{base} {variable}={value}"
                );
                let choice = choose_with(base, &[(variable, value)]);
                assert_eq!(
                    choice.unwrap(),
                    Choice::Loopback,
                    "{base} {variable}={value}"
                );
            }
        }
        // Names that only look like loopback keep the usual rules.
        for base in [
            "https://localhost.example.com/api",
            "https://127.0.0.1.example.com/api",
            "https://0.0.0.0/api",
        ] {
            let choice = choose_with(base, &[("HTTPS_PROXY", "http://proxy.corp:3128")]);
            assert!(matches!(choice.unwrap(), Choice::Proxy { .. }), "{base}");
        }
    }

    #[test]
    fn plain_http_never_goes_through_a_proxy_off_loopback() {
        for (variable, value) in [
            ("HTTP_PROXY", "http://proxy.corp:3128"),
            ("http_proxy", "proxy.corp:3128"),
            ("ALL_PROXY", "http://10.0.0.1:3128"),
            ("all_proxy", "https://user:pw@proxy.corp"),
            // 0.0.0.0 reaches this machine on Linux, but is no loopback address.
            ("HTTP_PROXY", "http://0.0.0.0:3128"),
        ] {
            for base in ["http://amp.example.com/api", "http://10.1.2.3:8080/api"] {
                let choice = choose_with(base, &[(variable, value)]).unwrap();
                assert!(
                    matches!(&choice, Choice::Refused { variable: v, .. } if *v == variable),
                    "{base} {variable}={value}: {choice:?}"
                );
            }
        }
    }

    #[test]
    fn plain_http_may_use_a_proxy_on_loopback() {
        for value in [
            "http://127.0.0.1:8080",
            "localhost:8080",
            "http://[::1]:8080",
        ] {
            let choice =
                choose_with("http://amp.example.com/api", &[("HTTP_PROXY", value)]).unwrap();
            assert!(
                matches!(
                    choice,
                    Choice::Proxy {
                        variable: "HTTP_PROXY",
                        ..
                    }
                ),
                "{value}: {choice:?}"
            );
        }
    }

    #[test]
    fn https_uses_the_standard_variables_in_order() {
        let cases: &[(&[(&str, &str)], Choice)] = &[
            (&[], Choice::Direct),
            (&[("HTTP_PROXY", "http://p:1")], Choice::Direct),
            (
                &[("HTTPS_PROXY", "http://p:1")],
                proxy("http://p:1", "HTTPS_PROXY"),
            ),
            (
                &[("https_proxy", "p:2")],
                proxy("http://p:2", "https_proxy"),
            ),
            (
                &[("ALL_PROXY", "https://p:3")],
                proxy("https://p:3", "ALL_PROXY"),
            ),
            (
                &[("all_proxy", "http://p:4")],
                proxy("http://p:4", "all_proxy"),
            ),
            (
                &[
                    ("ALL_PROXY", "http://all:1"),
                    ("HTTPS_PROXY", "http://https:1"),
                ],
                proxy("http://https:1", "HTTPS_PROXY"),
            ),
            (
                &[("HTTPS_PROXY", "  "), ("https_proxy", "http://lower:1")],
                proxy("http://lower:1", "https_proxy"),
            ),
            // A remote proxy for https: the tunnel is TLS.
            (
                &[("HTTPS_PROXY", "http://proxy.corp:3128")],
                proxy("http://proxy.corp:3128", "HTTPS_PROXY"),
            ),
        ];
        for (vars, want) in cases {
            assert_eq!(&choose_with(REMOTE, vars).unwrap(), want, "{vars:?}");
        }
    }

    #[test]
    fn no_proxy_is_respected() {
        let with = |base: &str, list: &str| {
            choose_with(
                base,
                &[
                    ("HTTPS_PROXY", "http://proxy.corp:3128"),
                    ("NO_PROXY", list),
                ],
            )
            .unwrap()
        };
        let exempt = Choice::Exempt {
            variable: "NO_PROXY",
        };
        for (base, list) in [
            (REMOTE, "*"),
            (REMOTE, "blockstream.com"),
            (REMOTE, ".blockstream.com"),
            (REMOTE, "*.blockstream.com"),
            (REMOTE, "AMP.Blockstream.com:443"),
            (REMOTE, "example.org, amp.blockstream.com"),
            ("https://10.1.2.3/api", "10.0.0.0/8"),
            ("https://10.1.2.3/api", "10.1.2.3"),
            ("https://192.0.2.7:8443/api", "192.0.2.7"),
            ("https://[2001:db8::1]:8443/api", "2001:db8::1"),
            ("https://[fd00::5]/api", "[fd00::]/8"),
            ("https://192.168.1.42/api", "192.168.1.0/24"),
        ] {
            assert_eq!(with(base, list), exempt, "{base} NO_PROXY={list}");
        }
        for (base, list) in [
            (REMOTE, "notblockstream.com"),
            (REMOTE, "example.org"),
            (REMOTE, "blockstream.com.evil"),
            ("https://10.1.2.3/api", "10.1.2.4"),
            ("https://10.1.2.3/api", "11.0.0.0/8"),
            ("https://10.1.2.3/api", "10.0.0.0/40"),
            ("https://[2001:db8::1]:8443/api", "192.0.2.7"),
            ("https://192.0.2.7/api", ""),
        ] {
            assert!(
                matches!(with(base, list), Choice::Proxy { .. }),
                "{base} NO_PROXY={list}"
            );
        }
        // The lower-case name too; the first one set is the list.
        assert_eq!(
            choose_with(REMOTE, &[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]).unwrap(),
            Choice::Exempt {
                variable: "no_proxy"
            }
        );
        assert!(matches!(
            choose_with(
                REMOTE,
                &[
                    ("HTTPS_PROXY", "http://p:1"),
                    ("NO_PROXY", "example.org"),
                    ("no_proxy", "*")
                ]
            )
            .unwrap(),
            Choice::Proxy { .. }
        ));
        // An exempt host needs no usable proxy value.
        assert_eq!(
            choose_with(
                REMOTE,
                &[("HTTPS_PROXY", "socks5://p:1"), ("NO_PROXY", "*")]
            )
            .unwrap(),
            exempt
        );
    }

    #[test]
    fn cgi_programs_read_no_proxy_variable() {
        let choice = choose_with(
            REMOTE,
            &[("REQUEST_METHOD", "GET"), ("HTTPS_PROXY", "http://p:1")],
        )
        .unwrap();
        assert_eq!(choice, Choice::Cgi);
    }

    #[test]
    fn an_unusable_proxy_is_an_error_naming_the_variable_not_its_value() {
        for (value, why) in [
            ("socks5://user:hunter2@p:1080", "socks5"),
            ("ftp://user:hunter2@p:21", "not http or https"),
            ("http://user:hunter2@[zz::1]:1", "not a proxy URL"),
            ("http://user:hunter2@:1", "not a proxy URL"),
        ] {
            let e = choose_with(REMOTE, &[("HTTPS_PROXY", value)]).unwrap_err();
            let msg = format!("{e} {e:?}");
            assert!(e.is_config(), "{value}: {msg}");
            assert!(
                msg.contains("HTTPS_PROXY") && msg.contains(why),
                "{value}: {msg}"
            );
            assert!(!msg.contains("hunter2"), "{value}: {msg}");
        }
        // A variable that does not apply is not read.
        assert_eq!(
            choose_with(REMOTE, &[("HTTP_PROXY", "socks5://p:1")]).unwrap(),
            Choice::Direct
        );
    }

    #[test]
    fn every_choice_builds_a_client() {
        let choices = [
            Choice::Direct,
            Choice::Loopback,
            Choice::Cgi,
            Choice::Exempt {
                variable: "NO_PROXY",
            },
            Choice::Refused {
                proxy: Url::parse("http://u:pw@proxy.corp:3128").unwrap(),
                variable: "HTTP_PROXY",
            },
            proxy("http://u:pw@127.0.0.1:3128", "HTTP_PROXY"),
            proxy("https://proxy.corp:3128", "HTTPS_PROXY"),
        ];
        for choice in choices {
            apply(reqwest::Client::builder(), &choice)
                .unwrap()
                .build()
                .unwrap_or_else(|e| panic!("{choice:?}: {e}"));
        }
    }

    #[test]
    fn debug_hides_the_proxy_password() {
        let choices = [
            proxy("http://user:hunter2@127.0.0.1:3128", "HTTP_PROXY"),
            Choice::Refused {
                proxy: Url::parse("http://user:hunter2@proxy.corp:3128").unwrap(),
                variable: "HTTP_PROXY",
            },
        ];
        for choice in choices {
            let shown = format!("{choice:?} {choice:#?}");
            assert!(
                !shown.contains("hunter2") && shown.contains("user:***@"),
                "{shown}"
            );
        }
    }

    #[test]
    fn cidr_masks_are_exact() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(ip_matches("0.0.0.0/0", ip("203.0.113.9")));
        assert!(ip_matches("::/0", ip("2001:db8::1")));
        assert!(ip_matches("203.0.113.8/29", ip("203.0.113.15")));
        assert!(!ip_matches("203.0.113.8/29", ip("203.0.113.16")));
        assert!(ip_matches("2001:db8::/32", ip("2001:db8:ffff::1")));
        assert!(!ip_matches("2001:db8::/33", ip("2001:db8:ffff::1")));
        assert!(!ip_matches("10.0.0.0/x", ip("10.0.0.1")));
        assert!(!ip_matches("::ffff:10.0.0.1", ip("10.0.0.1")));
    }
}
