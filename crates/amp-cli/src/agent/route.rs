//! Where a request goes, from its path alone: AMP's API under `/api/`, the
//! agent's status, or refused (the auth endpoints in any spelling, dot
//! segments and escaped slashes, anything else).

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Route<'a> {
    /// `GET /agent/status`.
    Status,
    /// `/api/<rest>`: forwarded as `rest`.
    Api(&'a str),
    /// The login, refresh or a password change: the agent's own business.
    Blocked,
    /// A path segment that is `.` or `..` (plain or escaped), an escaped
    /// slash, or one holding a control character or a space (escaped):
    /// refused rather than let the URL parser, or AMP, resolve it somewhere.
    BadPath,
    /// Anything else.
    NotFound,
}

/// The endpoints that are never forwarded, as path segments (lowercase,
/// `-` read as `_`): the agent's client logs in and refreshes by itself,
/// and a password change through the proxy would change the password the
/// agent logs in with behind its back.
const BLOCKED_SEGMENTS: [&str; 3] = ["obtain_token", "refresh_token", "change_password"];

pub(super) fn route(path: &str) -> Route<'_> {
    if path == "/agent/status" {
        return Route::Status;
    }
    let Some(rest) = path.strip_prefix("/api/") else {
        return Route::NotFound;
    };
    let mut blocked = false;
    for segment in rest.split('/') {
        let Some(decoded) = percent_decoded(segment) else {
            return Route::BadPath;
        };
        // No AMP path holds a control character or a space: refused, as a
        // server may read `refresh-token%0A` as `refresh-token` (a regex
        // `$` matches before a trailing newline).
        let odd = |c: char| c.is_control() || c.is_whitespace();
        if decoded == "."
            || decoded == ".."
            || decoded.contains(['/', '\\'])
            || decoded.contains(odd)
        {
            return Route::BadPath;
        }
        blocked |= BLOCKED_SEGMENTS.iter().any(|b| names(&decoded, b));
    }
    if blocked {
        Route::Blocked
    } else {
        Route::Api(rest)
    }
}

/// Whether `segment` names `name`, read loosely: any case, `-` for `_`,
/// and anything after it that is not a letter or a digit (a server may
/// take `refresh-token.json` or `refresh-token;x` for the endpoint: DRF's
/// format suffixes, path parameters). Without a copy: every forwarded
/// request passes here for each segment.
fn names(segment: &str, name: &str) -> bool {
    let loose = |b: u8| match b.to_ascii_lowercase() {
        b'-' => b'_',
        other => other,
    };
    let (segment, name) = (segment.as_bytes(), name.as_bytes());
    segment.len() >= name.len()
        && segment.iter().zip(name).all(|(a, b)| loose(*a) == *b)
        && segment
            .get(name.len())
            .is_none_or(|next| !next.is_ascii_alphanumeric())
}

/// `segment` with its `%XX` escapes decoded (lossy for non-UTF-8 bytes,
/// which are no dot or slash either way); `None` for a broken escape.
fn percent_decoded(segment: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !segment.contains('%') {
        return Some(std::borrow::Cow::Borrowed(segment));
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(std::borrow::Cow::Owned(
        String::from_utf8_lossy(&out).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_paths_are_forwarded_and_never_the_auth_endpoints() {
        assert_eq!(route("/api/assets/"), Route::Api("assets/"));
        assert_eq!(route("/api/"), Route::Api(""));
        assert_eq!(
            route("/api/registered_users/12"),
            Route::Api("registered_users/12")
        );
        assert_eq!(route("/agent/status"), Route::Status);
        // Names that merely begin like a blocked one go through.
        assert_eq!(
            route("/api/user/refresh_tokens2"),
            Route::Api("user/refresh_tokens2")
        );
        for outside in [
            "/",
            "/api",
            "/apix/assets",
            "/agent",
            "/agent/status/",
            "/_sandbox/stats",
        ] {
            assert_eq!(route(outside), Route::NotFound, "{outside}");
        }
        for blocked in [
            "/api/user/obtain_token",
            "/api/user/obtain_token/",
            "/api/user/OBTAIN_TOKEN",
            "/api/user/obtain-token",
            "/api/user/%6Fbtain_token",
            "/api/user/refresh-token",
            "/api/user/refresh_token/",
            "/api/user/change-password",
            "/api/user/change_password",
            "/api/managers/4/change-password",
            "/api/user/refresh-token.json",
            "/api/user/refresh-token;x",
            "/api/user/Obtain-Token.api/",
            "/api/managers/4/change_password_",
        ] {
            assert_eq!(route(blocked), Route::Blocked, "{blocked}");
        }
        for bad in [
            "/api/assets/../user/obtain_token",
            "/api/assets/%2e%2e/user/obtain_token",
            "/api/assets/%2E./x",
            "/api/./assets",
            "/api/user%2fobtain_token",
            "/api/a%5cb",
            "/api/a%zz",
            "/api/a%4",
            "/api/user/refresh-token%0A",
            "/api/managers/4/change-password%0a",
            "/api/user/obtain_token%20",
            "/api/assets/a%09b",
        ] {
            assert_eq!(route(bad), Route::BadPath, "{bad}");
        }
    }
}
