//! JSON given on the command line: `--data` and the JSON-valued flags
//! (`--details`, `--change-data`, …). A value is the JSON itself, `@FILE`
//! to read it from a file, or `-` for stdin (once per command).
//!
//! [`Sources::typed`] reads it into the library's typed request, so a body
//! that the library could not send as it was meant is a usage error (exit
//! 2) naming the field: a missing or mistyped field (with its path, e.g.
//! `tx_data.txid`) and also an unknown one, which serde would otherwise drop
//! without a word (a typo like `precison` would silently issue with the
//! default precision).

use std::io::Read;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::failure::{CliResult, Failure};

/// Reads the JSON values of one command, and makes sure stdin is read once.
#[derive(Debug, Default)]
pub struct Sources {
    /// Which flag took stdin, if one did.
    stdin_taken_by: Option<String>,
}

impl Sources {
    /// The text `raw` stands for: itself, the file `@FILE`, or stdin for `-`.
    pub fn text(&mut self, flag: &str, raw: &str) -> CliResult<String> {
        if raw == "-" {
            if let Some(first) = &self.stdin_taken_by {
                return Err(Failure::usage(format!(
                    "{flag}: stdin (-) is already read for {first}; give one of them as JSON or @FILE"
                )));
            }
            self.stdin_taken_by = Some(flag.to_string());
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::usage(format!("{flag} -: cannot read stdin: {e}")))?;
            return Ok(text);
        }
        if let Some(path) = raw.strip_prefix('@') {
            return std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("{flag} @{path}: cannot read the file: {e}")));
        }
        Ok(raw.to_string())
    }

    /// `raw` as any JSON value.
    pub fn json(&mut self, flag: &str, raw: &str) -> CliResult<Value> {
        let text = self.text(flag, raw)?;
        parse_json(flag, &text)
    }

    /// `raw` as a `T` (`what` names it in errors, e.g. "issue request"),
    /// refusing fields `T` does not have.
    pub fn typed<T: DeserializeOwned + Serialize>(
        &mut self,
        flag: &str,
        raw: &str,
        what: &str,
    ) -> CliResult<T> {
        let text = self.text(flag, raw)?;
        typed_from_text(flag, &text, what)
    }
}

/// Any JSON value, or a usage error naming the flag.
fn parse_json(flag: &str, text: &str) -> CliResult<Value> {
    serde_json::from_str(text).map_err(|e| Failure::usage(format!("{flag}: not valid JSON: {e}")))
}

/// The JSON `text` as a `T`; see [`Sources::typed`].
pub fn typed_from_text<T: DeserializeOwned + Serialize>(
    flag: &str,
    text: &str,
    what: &str,
) -> CliResult<T> {
    let input = parse_json(flag, text)?;
    let invalid = |reason: String| Failure::usage(format!("{flag}: not a valid {what}: {reason}"));
    let typed: T = serde_path_to_error::deserialize(input.clone()).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            invalid(e.into_inner().to_string())
        } else {
            invalid(format!("{path}: {}", e.into_inner()))
        }
    })?;
    // Every key the typed request kept comes back when it is written out
    // again; a key that does not was dropped, so the caller meant something
    // the library would not send. (A key read through a serde alias would
    // come back under its main name and be reported; no request type the
    // commands read has an alias.)
    let kept = serde_json::to_value(&typed)
        .map_err(|e| Failure::runtime(format!("{flag}: cannot write the {what} back: {e}")))?;
    let mut unknown = Vec::new();
    dropped_keys(&input, &kept, "", &mut unknown);
    if let Some(first) = unknown.first() {
        let more = match unknown.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(invalid(format!(
            "unknown field `{first}`{more}; the library's {what} has no such field \
             (`amp api` sends any body as it is)"
        )));
    }
    Ok(typed)
}

/// The paths of keys of `input` that `kept` lacks (keys set to `null` are
/// the same as absent, and are not reported).
fn dropped_keys(input: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    match (input, kept) {
        (Value::Object(given), Value::Object(kept)) => {
            for (key, value) in given {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match kept.get(key) {
                    Some(k) => dropped_keys(value, k, &here, out),
                    None if value.is_null() => {}
                    None => out.push(here),
                }
            }
        }
        (Value::Array(given), Value::Array(kept)) => {
            for (i, (value, k)) in given.iter().zip(kept).enumerate() {
                dropped_keys(value, k, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amp_client::model::{IssueRequest, Outpoint, TxConfirmation};

    fn issue(text: &str) -> CliResult<IssueRequest> {
        typed_from_text("--data", text, "issue request")
    }

    const ISSUE: &str = r#"{"name": "N", "amount": 5, "destination_address": "a",
        "domain": "d", "ticker": "T", "pubkey": "02ab"}"#;

    #[test]
    fn a_whole_body_reads_into_the_typed_request() {
        let r = issue(ISSUE).unwrap();
        assert_eq!((r.name.as_str(), r.amount, r.precision), ("N", 5, None));
        let with_null = ISSUE.replace("\"N\",", "\"N\", \"precision\": null,");
        assert_eq!(issue(&with_null).unwrap().precision, None);
    }

    #[test]
    fn errors_name_the_field_and_exit_2() {
        let missing = issue(r#"{"name": "N"}"#).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `amount`"),
            "{missing}"
        );
        assert!(missing
            .to_string()
            .starts_with("--data: not a valid issue request"));
        assert_eq!(missing.kind(), crate::failure::Kind::Usage);
        let typed = issue(&ISSUE.replace("5", "\"five\"")).unwrap_err();
        assert!(
            typed.to_string().contains("amount: invalid type"),
            "{typed}"
        );
        let typo = issue(&ISSUE.replace("\"N\",", "\"N\", \"precison\": 2,")).unwrap_err();
        assert!(
            typo.to_string().contains("unknown field `precison`"),
            "{typo}"
        );
        let syntax = issue("{").unwrap_err();
        assert!(
            syntax.to_string().starts_with("--data: not valid JSON"),
            "{syntax}"
        );
    }

    #[test]
    fn nested_fields_are_named_by_their_path() {
        let c: CliResult<TxConfirmation> =
            typed_from_text("--data", r#"{"tx_data": {"txid": 5}}"#, "confirmation");
        let e = c.unwrap_err().to_string();
        assert!(e.contains("tx_data.txid: invalid type"), "{e}");
        let c: CliResult<TxConfirmation> = typed_from_text(
            "--data",
            r#"{"tx_data": {"txid": "ab", "detials": []}, "change_data": []}"#,
            "confirmation",
        );
        let e = c.unwrap_err().to_string();
        assert!(e.contains("unknown field `tx_data.detials`"), "{e}");
        // The node's own JSON passes through whatever it holds.
        let c: TxConfirmation = typed_from_text(
            "--data",
            r#"{"tx_data": {"txid": "ab", "details": [{"any": {"thing": 1}}]}}"#,
            "confirmation",
        )
        .unwrap();
        assert_eq!(c.tx_data.details.unwrap()[0]["any"]["thing"], 1);
        let list: CliResult<Vec<Outpoint>> =
            typed_from_text("--data", r#"[{"txid": "a", "vout": 1, "vot": 2}]"#, "list");
        let e = list.unwrap_err().to_string();
        assert!(e.contains("unknown field `[0].vot`"), "{e}");
    }

    #[test]
    fn files_and_stdin_are_sources() {
        let dir = std::env::temp_dir().join(format!("amp-body-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("b.json");
        std::fs::write(&file, "[1]").unwrap();
        let mut sources = Sources::default();
        let raw = format!("@{}", file.display());
        assert_eq!(
            sources.json("--details", &raw).unwrap(),
            serde_json::json!([1])
        );
        let gone = sources
            .json("--details", "@/no/such/file.json")
            .unwrap_err();
        assert!(
            gone.to_string().contains("--details @/no/such/file.json"),
            "{gone}"
        );
        assert_eq!(gone.kind(), crate::failure::Kind::Usage);
        std::fs::remove_dir_all(&dir).unwrap();
        // Stdin once: the second `-` is refused before reading.
        let mut sources = Sources {
            stdin_taken_by: Some("--details".into()),
        };
        let twice = sources.text("--change-data", "-").unwrap_err();
        assert!(
            twice.to_string().contains("already read for --details"),
            "{twice}"
        );
    }
}
