//! `amp api METHOD PATH [--data JSON|@FILE|-]`: any endpoint, the JSON
//! answer on stdout. The escape hatch: the body is sent as it is, not read
//! into a typed request.

use amp_client::Method;
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
    let answer = ctx.check(ctx.client.request(method, &args.path, body).await)?;
    output::print_json(&answer)
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
