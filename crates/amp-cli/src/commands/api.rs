//! `amp api METHOD PATH [--data JSON|@FILE|-]`: any endpoint, the JSON
//! answer on stdout. The escape hatch: the body is sent as it is, not read
//! into a typed request.

use amp_client::{Method, Response, StatusCode};
use serde_json::Value;

use super::Ctx;
use crate::body::Sources;
use crate::cli::ApiArgs;
use crate::failure::{CliResult, Failure};
use crate::output;

/// Sends one authenticated request and prints its answer as pretty JSON.
pub async fn run(ctx: &Ctx, args: ApiArgs) -> CliResult {
    let method = parse_method(&args.method)?;
    let body = args.data.as_deref().map(parse_body).transpose()?;
    ctx.need_credentials(true).await?;
    let operation = format!("{method} /{}", args.path.trim_start_matches('/'));
    let body = body
        .map(|b| wiped_json(&b))
        .transpose()
        .map_err(|e| Failure::runtime(format!("{operation}: {e}")))?;
    let sent = ctx.client.send(method, &args.path, body).await;
    let answer = ctx.check(sent.and_then(Response::error_for_status))?;
    output::print_json(&json_of(&answer, &operation)?)
}

/// `value` as JSON in a buffer of exactly its size (so that it never grows
/// and leaves no copy behind), wiped when the last reference to it is
/// dropped: a body may hold a password (`user/change-password`).
fn wiped_json(value: &Value) -> serde_json::Result<amp_client::Bytes> {
    /// Counts what is written, and keeps nothing.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value)?;
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(count.0));
    serde_json::to_writer(&mut *buf, value)?;
    Ok(amp_client::Bytes::from_owner(buf))
}

/// The answer as JSON: `null` for a 204 or an empty body. A body that is
/// not JSON fails as the library's typed calls do (syntax errors name a
/// place, never quote the body).
fn json_of(answer: &Response, operation: &str) -> CliResult<Value> {
    let body = answer.body();
    if answer.status() == StatusCode::NO_CONTENT || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        Failure::runtime(format!(
            "{operation}: malformed answer: unexpected JSON: {e} (failed after 1 attempt)"
        ))
    })
}

/// `get` and `GET` are the same method; anything that is not an HTTP token is refused.
fn parse_method(raw: &str) -> CliResult<Method> {
    let upper = raw.to_ascii_uppercase();
    match Method::from_bytes(upper.as_bytes()) {
        Ok(method) if !upper.is_empty() => Ok(method),
        _ => Err(Failure::usage(format!(
            "METHOD: {raw:?} is not an HTTP method (GET, POST, PUT, PATCH, DELETE …)"
        ))),
    }
}

/// The `--data` argument as JSON: itself, `@FILE`, or `-` for stdin.
fn parse_body(raw: &str) -> CliResult<Value> {
    Sources::default().json("--data", raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_insensitive_and_checked() {
        assert_eq!(parse_method("get").unwrap(), Method::GET);
        assert_eq!(parse_method("DELETE").unwrap(), Method::DELETE);
        assert!(parse_method("GE T").is_err());
        assert!(parse_method("").is_err());
    }

    #[test]
    fn data_must_be_json() {
        assert_eq!(parse_body(r#"{"a": 1}"#).unwrap()["a"], 1);
        let e = parse_body("{").unwrap_err();
        assert!(e.to_string().starts_with("--data"), "{e}");
    }
}
