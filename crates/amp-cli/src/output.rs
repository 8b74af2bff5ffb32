//! Printing: aligned tables and `key  value` lines for people, JSON for
//! machines. Shared by every resource command, so a new resource is a list of
//! [`Column`]s and a call.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::failure::{CliResult, Failure};

/// One column of a resource table: its header and the JSON field it shows.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header, e.g. `NAME`.
    pub header: &'static str,
    /// The field of the resource's JSON form, e.g. `name`.
    pub field: &'static str,
}

/// A column showing `field` under `header`.
pub const fn col(header: &'static str, field: &'static str) -> Column {
    Column { header, field }
}

/// Prints a list: a table of `columns`, or with `json` the whole JSON array.
pub fn list<T: Serialize>(items: &[T], columns: &[Column], json: bool) -> CliResult {
    if json {
        return print_json(&items);
    }
    let mut table = Table::new(columns.iter().map(|c| c.header));
    for item in items {
        let value = to_value(item)?;
        table.row(columns.iter().map(|c| cell(&value[c.field])));
    }
    write_stdout(&table.render())
}

/// Prints one resource: `field  value` lines, or with `json` its JSON object.
pub fn one<T: Serialize>(item: &T, json: bool) -> CliResult {
    if json {
        return print_json(item);
    }
    let value = to_value(item)?;
    let mut table = Table::bare();
    match &value {
        Value::Object(map) => {
            for (key, v) in map {
                table.row([key.clone(), cell(v)]);
            }
        }
        other => table.row([cell(other)]),
    }
    write_stdout(&table.render())
}

/// Prints `value` as pretty JSON and a newline.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::runtime(format!("cannot print the answer as JSON: {e}")))?;
    write_stdout(&format!("{text}\n"))
}

/// Writes `text` to stdout and flushes it. A failed write is an error rather
/// than a panic; a closed pipe (`amp … | head`) ends the command quietly.
pub fn write_stdout(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Failure::quiet(),
            _ => Failure::runtime(format!("writing to stdout: {e}")),
        })
}

/// The JSON form of `item`, to pick columns from.
fn to_value<T: Serialize + ?Sized>(item: &T) -> CliResult<Value> {
    serde_json::to_value(item).map_err(|e| Failure::runtime(format!("cannot show the answer: {e}")))
}

/// How a JSON value reads in a table cell: `-` for nothing, `yes`/`no`,
/// lists joined by commas, objects as compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::Bool(true) => "yes".to_string(),
        Value::Bool(false) => "no".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "-".to_string(),
        Value::String(s) => s.replace(['\n', '\t'], " "),
        Value::Array(items) if items.is_empty() => "-".to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(_) => value.to_string(),
    }
}

/// A table whose columns are padded to their widest cell.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The rows, the header (if any) first.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Table {
        let mut table = Table::default();
        table.row(headers);
        table
    }

    /// A table without a header row (for `key  value` lines).
    pub fn bare() -> Table {
        Table::default()
    }

    /// Adds a row.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as text, one line per row, columns two spaces apart, no
    /// trailing spaces.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `23h 59m 58s`, `4m`, `24h`: hours, minutes and seconds, zero units left
/// out (`0s` for zero). Token lives are counted in hours, so there are no days.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let parts = [(s / 3600, "h"), (s / 60 % 60, "m"), (s % 60, "s")];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".to_string()
    } else {
        text.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_never_trail_spaces() {
        let mut t = Table::new(["UUID", "NAME", "TICKER"]);
        t.row(["a", "Gold coin", "-"]);
        t.row(["bbbbbb", "X", "XT"]);
        assert_eq!(
            t.render(),
            "UUID    NAME       TICKER\n\
             a       Gold coin  -\n\
             bbbbbb  X          XT\n"
        );
    }

    #[test]
    fn cells_read_well() {
        assert_eq!(cell(&json!(null)), "-");
        assert_eq!(cell(&json!(true)), "yes");
        assert_eq!(cell(&json!(8)), "8");
        assert_eq!(cell(&json!([1, 2])), "1,2");
        assert_eq!(cell(&json!([])), "-");
        assert_eq!(cell(&json!("a\nb")), "a b");
        assert_eq!(cell(&json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::ZERO), "0s");
        assert_eq!(human_duration(Duration::from_secs(59)), "59s");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(
            human_duration(Duration::from_secs(86_400 + 61)),
            "24h 1m 1s"
        );
        assert_eq!(
            human_duration(Duration::from_millis(4 * 60_000 + 999)),
            "4m"
        );
    }
}
