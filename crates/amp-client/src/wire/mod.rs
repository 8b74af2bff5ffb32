//! Parsers for what the server sends: error bodies and token answers, and
//! the escaping that keeps server text from driving a terminal.
//!
//! They take raw bytes from the network, so they are written to accept
//! anything without panicking (they are fuzzed) and to say what was wrong.

use std::borrow::Cow;
use std::fmt::Write as _;

mod token_answer;
pub use token_answer::parse_token_answer;

use serde_json::Value;

/// The longest server message kept in an error, in bytes (then `…`).
const MAX_MESSAGE: usize = 300;

/// The longest summary of a body that is not JSON, in characters (then `…`).
const MAX_SUMMARY_CHARS: usize = 200;

/// How much of a markup body is looked at: its title or first text is near
/// the top, and a 16 MiB page must not cost a 16 MiB scan.
const MAX_MARKUP_SCAN: usize = 64 * 1024;

/// Turns an error answer into one readable line, leniently.
///
/// * JSON: DRF's `{"detail": "…"}`, `{"Error": "…"}` / `{"error": "…"}` /
///   `{"message": "…"}`, field errors `{"field": ["msg", …], "non_field_errors": […]}`,
///   a JSON string or array; at most 300 bytes, then `…`.
/// * HTML or XML (a body starting with `<`): the page's `<title>`, else its
///   first line of text — never the markup; at most 200 characters, then `…`.
/// * Anything else: its first line, at most 200 characters, then `…`.
///
/// Control characters are escaped ([`escape_controls_line`]), so no server
/// text can move the cursor, retitle the window or fake a line of output
/// when the message is printed or logged. An empty body gives an empty string.
///
/// ```
/// use amp_client::__private::parse_error_body;
/// assert_eq!(parse_error_body(br#"{"detail": "Invalid token."}"#), "Invalid token.");
/// assert_eq!(parse_error_body(br#"{"password": ["This field is required."]}"#),
///            "password: This field is required.");
/// assert_eq!(parse_error_body(b"<html><head><title>502 Bad Gateway</title></head></html>"),
///            "502 Bad Gateway");
/// assert_eq!(parse_error_body(b"\x1b[31mred\nsecond line"), r"\u{1b}[31mred");
/// ```
pub fn parse_error_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match serde_json::from_str::<Value>(text) {
        Ok(value) => summarize(json_message(value, text).trim(), MAX_MESSAGE, usize::MAX),
        Err(_) if text.starts_with('<') => {
            summarize(&markup_summary(text), MAX_MESSAGE, MAX_SUMMARY_CHARS)
        }
        Err(_) => summarize(
            text.lines().next().unwrap_or("").trim(),
            MAX_MESSAGE,
            MAX_SUMMARY_CHARS,
        ),
    }
}

/// The message of a JSON error body (`text` is the body, for scalars).
fn json_message(value: Value, text: &str) -> String {
    match value {
        Value::Object(map) => {
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
        Value::String(s) => s,
        other @ Value::Array(_) => flatten(&other),
        Value::Null | Value::Bool(_) | Value::Number(_) => text.to_string(),
    }
}

fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `text` escaped for one line and cut to `max_bytes` and `max_chars` (of the
/// escaped form; an escape is never cut in half), with `…` when cut.
fn summarize(text: &str, max_bytes: usize, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut piece = String::new();
    for c in text.chars() {
        piece.clear();
        push_escaped(&mut piece, c, true);
        let n = piece.chars().count();
        if out.len() + piece.len() > max_bytes || chars + n > max_chars {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        chars += n;
    }
    out
}

// ---------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------

/// Whether `c` could drive a terminal: C0 controls (below U+0020; newline and
/// tab only when `one_line`), DEL, C1 controls (U+0080–U+009F, which some
/// terminals read as ESC sequences: U+009B is CSI), and the bidirectional
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
/// make a terminal show text in another order than it is.
fn needs_escape(c: char, one_line: bool) -> bool {
    match c {
        '\n' | '\t' => one_line,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// Whether [`escape_controls`] escapes `c`: a character that could drive a
/// terminal (C0 controls but newline and tab, DEL, C1 controls, bidirectional
/// overrides). For output that must escape in its own notation, such as JSON.
///
/// ```
/// use amp_client::text::is_terminal_control;
/// assert!(is_terminal_control('\x1b') && is_terminal_control('\u{9b}'));
/// assert!(!is_terminal_control('\n') && !is_terminal_control('é'));
/// ```
pub fn is_terminal_control(c: char) -> bool {
    needs_escape(c, false)
}

fn push_escaped(out: &mut String, c: char, one_line: bool) {
    if !needs_escape(c, one_line) {
        out.push(c);
        return;
    }
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        // `\u{1b}`: Rust's notation, readable and unambiguous.
        other => {
            let _ = write!(out, "{}", other.escape_unicode());
        }
    }
}

fn escape_with(text: &str, one_line: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| needs_escape(c, one_line)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push_escaped(&mut out, c, one_line);
    }
    Cow::Owned(out)
}

/// `text` with every character that could drive a terminal escaped, newline
/// and tab kept: control characters (ESC, BEL, everything below U+0020, DEL),
/// C1 controls (U+0080–U+009F) and bidirectional overrides, as `\u{1b}`
/// (`\r` for a carriage return). For text of several lines from a server,
/// before it goes to a terminal or a log. Text with nothing to escape is
/// returned as it is, without a copy.
///
/// ```
/// use amp_client::text::escape_controls;
/// assert_eq!(escape_controls("name\t\x1b]0;pwned\x07\n"), "name\t\\u{1b}]0;pwned\\u{7}\n");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Like [`escape_controls`], and newline and tab are escaped too (`\n`,
/// `\t`): for text that must stay on one line, such as a table cell or an
/// error message.
///
/// ```
/// use amp_client::text::escape_controls_line;
/// assert_eq!(escape_controls_line("a\nerror: fake"), r"a\nerror: fake");
/// ```
pub fn escape_controls_line(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

// ---------------------------------------------------------------------------
// Markup
// ---------------------------------------------------------------------------

/// Tags that do not end a line of text (the rest, `<p>`, `<h1>`, `<br>`,
/// `<div>` …, do).
const INLINE_TAGS: &[&str] = &[
    "a", "abbr", "b", "cite", "code", "em", "font", "i", "kbd", "q", "s", "samp", "small", "span",
    "strong", "sub", "sup", "tt", "u", "var",
];

/// The title of an HTML page, else its first line of text; entities decoded,
/// blanks collapsed. Empty when the page holds no text.
fn markup_summary(text: &str) -> String {
    let mut end = text.len().min(MAX_MARKUP_SCAN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    // ASCII lowering keeps every byte offset, so offsets found in `lower` cut `text`.
    let lower = text.to_ascii_lowercase();
    if let Some(title) = element_text(text, &lower, "title") {
        let title = collapse_blanks(&decode_entities(title));
        if !title.is_empty() {
            return title;
        }
    }
    page_text(text, &lower)
        .lines()
        .map(collapse_blanks)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

/// The raw text inside the first `<name …>…</name>` (to the end if unclosed).
fn element_text<'t>(text: &'t str, lower: &str, name: &str) -> Option<&'t str> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = lower[from..].find(&open) {
        let after = from + i + open.len();
        // `<title>` or `<title lang=…>`, not `<titlebar>`.
        if lower[after..].starts_with(['>', ' ', '\t', '\n', '\r', '/']) {
            let open_end = after + lower[after..].find('>')? + 1;
            let close = lower[open_end..]
                .find(&format!("</{name}"))
                .map_or(text.len(), |j| open_end + j);
            return Some(&text[open_end..close]);
        }
        from = after;
    }
    None
}

/// The text of a page: comments, `<script>` and `<style>` dropped, tags
/// that break lines turned into newlines, other tags dropped, entities decoded.
fn page_text(text: &str, lower: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < text.len() {
        let Some(lt) = text[i..].find('<').map(|j| i + j) else {
            out.push_str(&decode_entities(&text[i..]));
            break;
        };
        out.push_str(&decode_entities(&text[i..lt]));
        let tag = &lower[lt + 1..];
        i = if tag.starts_with("!--") {
            tag.find("-->").map_or(text.len(), |j| lt + 1 + j + 3)
        } else if let Some(skip) = ["script", "style"].iter().find(|t| tag.starts_with(**t)) {
            // Up to the end of the closing tag (`</script>`), or of the page.
            tag.find(&format!("</{skip}"))
                .and_then(|j| tag[j..].find('>').map(|k| lt + 1 + j + k + 1))
                .unwrap_or(text.len())
        } else {
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if !INLINE_TAGS.contains(&name.as_str()) {
                out.push('\n');
            }
            tag.find('>').map_or(text.len(), |j| lt + 1 + j + 1)
        };
    }
    out
}

/// Blanks (spaces, tabs, newlines …) collapsed to one space, ends trimmed.
fn collapse_blanks(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric
/// references decoded; anything else kept as it is.
fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // `rest` starts with `&`; a reference is at most `&#x10FFFF;` long,
        // so only that much is searched (a page of `&&&…` stays linear).
        let decoded = rest
            .bytes()
            .skip(1)
            .take(9)
            .position(|b| b == b';')
            .and_then(|semi| entity(&rest[1..1 + semi]).map(|c| (c, semi + 2)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    /// Django's own error pages (`django.views.defaults`, DEBUG off), as sent.
    fn django_page(title: &str, details: &str) -> String {
        format!(
            "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n<body>\n  <h1>{title}</h1><p>{details}</p>\n</body>\n</html>\n"
        )
    }

    const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
        <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";

    #[test]
    fn html_pages_are_summarised_by_their_title() {
        let not_found = django_page(
            "Not Found",
            "The requested resource was not found on this server.",
        );
        assert_eq!(parse_error_body(not_found.as_bytes()), "Not Found");
        let server_error = django_page("Server Error (500)", "");
        assert_eq!(
            parse_error_body(server_error.as_bytes()),
            "Server Error (500)"
        );
        assert_eq!(parse_error_body(NGINX_502.as_bytes()), "502 Bad Gateway");
        // Django's debug page: a title with entities, then kilobytes of style.
        let debug = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\">\n  \
             <TITLE>Page not found at /api/assets/&lt;uuid&gt;/ &amp; more</TITLE>\n  <style>{}</style></head><body>…</body></html>",
            "html * { padding:0; margin:0; }\n".repeat(200)
        );
        assert_eq!(
            parse_error_body(debug.as_bytes()),
            "Page not found at /api/assets/<uuid>/ & more"
        );
    }

    #[test]
    fn html_without_a_title_gives_its_first_line_of_text() {
        let cases: &[(&str, &str)] = &[
            // Django before 3.x: no head at all.
            (
                "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",
                "Not Found",
            ),
            (
                "<html><body><!-- a comment --><script>var x = '<h1>no</h1>';</script>\n\
                 <p>  Service   <b>temporarily</b> down  </p></body></html>",
                "Service temporarily down",
            ),
            (
                "<?xml version=\"1.0\"?><Error><Message>Access denied</Message></Error>",
                "Access denied",
            ),
            (
                "<html><title>  </title><body><p>Gone</p></body></html>",
                "Gone",
            ),
            ("<html><body></body></html>", ""),
            ("<", ""),
            ("<title>unclosed", "unclosed"),
        ];
        for (body, want) in cases {
            assert_eq!(parse_error_body(body.as_bytes()), *want, "{body}");
        }
    }

    #[test]
    fn plain_text_gives_its_first_line_of_at_most_200_characters() {
        assert_eq!(
            parse_error_body(b"upstream timed out\nat line 2\r\nat line 3"),
            "upstream timed out"
        );
        assert_eq!(parse_error_body(b"\r\n  first\r\nsecond"), "first");
        let long = "y".repeat(5000);
        let m = parse_error_body(long.as_bytes());
        assert_eq!(m, format!("{}…", "y".repeat(200)));
        // Never more than 300 bytes either, cut on a character boundary.
        let m = parse_error_body("é".repeat(400).as_bytes());
        assert_eq!(m, format!("{}…", "é".repeat(150)));
        let m = parse_error_body("🦀".repeat(200).as_bytes());
        assert_eq!(m, format!("{}…", "🦀".repeat(75)));
    }

    #[test]
    fn control_characters_are_escaped() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x1b[2J\x1b[31mred\x07", r"\u{1b}[2J\u{1b}[31mred\u{7}"),
            (
                br#"{"detail": "\u001b]0;pwned\u0007 ok"}"#,
                r"\u{1b}]0;pwned\u{7} ok",
            ),
            // C1 controls (CSI as one character) and DEL.
            ("\u{9b}31m x\u{7f}".as_bytes(), r"\u{9b}31m x\u{7f}"),
            // In one line, newline and tab are escaped too.
            (
                br#"{"detail": "two\nlines\tand a tab\r."}"#,
                r"two\nlines\tand a tab\r.",
            ),
            (b"tab\there", r"tab\there"),
            (br#"{"name": ["bad\u0000value"]}"#, r"name: bad\u{0}value"),
            // Right-to-left overrides reorder what a terminal shows.
            ("abc\u{202e}fed".as_bytes(), r"abc\u{202e}fed"),
            // An entity in a title is decoded, then escaped like the rest.
            (b"<title>a&#27;[1mb</title>", r"a\u{1b}[1mb"),
        ];
        for (body, want) in cases {
            assert_eq!(
                parse_error_body(body),
                *want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // An escape is never cut in half at the limit.
        let body = format!("{}\x1b", "z".repeat(198));
        assert_eq!(
            parse_error_body(body.as_bytes()),
            format!("{}…", "z".repeat(198))
        );
    }

    #[test]
    fn huge_and_pathological_pages_stay_cheap() {
        // Each of these was quadratic in one draft or another; the page is
        // scanned in its first 64 KiB only.
        let pages = [
            format!("<{}", "&".repeat(1 << 20)),
            format!("<{}", "<title ".repeat(100_000)),
            format!("<{}", "<script".repeat(100_000)),
            format!("<{}", "<!--".repeat(100_000)),
            format!("<p>{}", "<b>".repeat(300_000)),
        ];
        for page in pages {
            let m = parse_error_body(page.as_bytes());
            assert!(m.len() <= MAX_MESSAGE + 3, "{}", m.len());
        }
    }

    #[test]
    fn escape_controls_keeps_newlines_and_tabs_unless_one_line() {
        assert_eq!(escape_controls("a\tb\nc\x1b"), "a\tb\nc\\u{1b}");
        assert_eq!(escape_controls_line("a\tb\nc\x1b"), "a\\tb\\nc\\u{1b}");
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let one = escape_controls_line(&c.to_string()).into_owned();
            assert!(one.starts_with('\\') && one.len() > 1, "{c:?}: {one}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the body, the message is one line without a control
        /// character, at most 300 bytes and an ellipsis, with no leading blank.
        #[test]
        fn no_body_yields_a_control_character(
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..400),
                "\\PC{0,300}".prop_map(String::into_bytes),
                "[<>a-z/ \\x00-\\x1f\\u{7f}-\\u{9f}&#;]{0,300}".prop_map(String::into_bytes),
                "\\PC{0,40}".prop_map(|s| {
                    let detail = serde_json::to_string(&format!("\x1b{s}\u{9b}\n")).unwrap();
                    format!("{{\"detail\": {detail}}}").into_bytes()
                }),
            ]
        ) {
            let m = parse_error_body(&body);
            prop_assert!(m.len() <= MAX_MESSAGE + 3, "{} bytes", m.len());
            prop_assert!(!m.chars().any(|c| needs_escape(c, true)), "{m:?}");
            prop_assert_eq!(m.trim_start(), m.as_str());
        }
    }
}
