//! Printing: aligned tables and `key  value` lines for people, JSON for
//! machines. Shared by every resource command, so a new resource is a list of
//! [`Column`]s and a call.
//!
//! Whatever the server sent is text we did not write: a name, a message, a
//! JSON answer may hold terminal escape sequences (clear the screen, retitle
//! the window, fake a line of output). Nothing reaches the terminal without
//! them escaped: cells and keys on one line ([`escape_controls_line`]), JSON
//! in its own `\uXXXX` notation ([`json_safe`]), and everything written to
//! stdout ([`write_stdout`]) or logged ([`log_writer`]) once more as a last guard.

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use amp_client::model::Lenient;
use amp_client::text::{escape_controls, escape_controls_line, is_terminal_control};
use serde::Serialize;
use serde_json::Value;

use crate::failure::{CliResult, Failure};

/// One column of a resource table: its header and the JSON field it shows.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header, e.g. `NAME`.
    pub header: &'static str,
    /// The field of the resource's JSON form, e.g. `name`; a path through
    /// nested objects and lists, e.g. `transactions.txid` (see [`lookup`]);
    /// empty for the item itself (a list of strings).
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
        table.row(columns.iter().map(|c| cell(&lookup(&value, c.field))));
    }
    write_stdout(&table.render())
}

/// The value at `path` in `value`: dot-separated keys, a list on the way
/// mapped over (`transactions.txid` is the txid of each transaction, as a
/// list); `Null` where a key is missing; `value` itself for an empty path.
pub fn lookup(value: &Value, path: &str) -> Value {
    if path.is_empty() {
        return value.clone();
    }
    let (key, rest) = path.split_once('.').unwrap_or((path, ""));
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|i| lookup(i, path)).collect()),
        Value::Object(map) => map.get(key).map_or(Value::Null, |v| lookup(v, rest)),
        _ => Value::Null,
    }
}

/// Prints the outcome of a call whose answer the library drops (a 204
/// delete, a confirmation): `message` for people; with `json`, `null`, the
/// JSON of what the library decoded, so `--json` always prints one JSON document.
pub fn done(message: &str, json: bool) -> CliResult {
    if json {
        return print_json(&Value::Null);
    }
    write_stdout(&format!("{message}\n"))
}

/// Prints an answer whose shape is not documented ([`Lenient`]): the
/// resource as [`one`] does; any other body as it came, and `message` for
/// people when the body was empty.
pub fn lenient<T: Serialize>(answer: &Lenient<T>, message: &str, json: bool) -> CliResult {
    match answer {
        Lenient::Typed(item) => one(item, json),
        Lenient::Raw(Value::Null) => done(message, json),
        Lenient::Raw(other) => one(other, json),
    }
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
                table.row([escape_controls_line(key).into_owned(), cell(v)]);
            }
        }
        other => table.row([cell(other)]),
    }
    write_stdout(&table.render())
}

/// Prints `value` as pretty JSON and a newline, every character that could
/// drive a terminal escaped in JSON's notation (see [`json_safe`]).
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::runtime(format!("cannot print the answer as JSON: {e}")))?;
    write_stdout(&format!("{}\n", json_safe(&text)))
}

/// JSON text with DEL, the C1 controls and bidirectional overrides written
/// as `\uXXXX`. serde_json already escapes the C0 controls (ESC, BEL, …) in
/// strings, but writes those as they are; outside strings JSON text holds
/// only ASCII punctuation and blanks, so each of them is inside a string and
/// the escaped text is valid JSON with the same value.
pub fn json_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_terminal_control(c) {
            // All of them are below U+FFFF: one `\uXXXX` each.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes `text` to stdout and flushes it, control characters escaped
/// (newlines and tabs kept). A failed write is an error rather
/// than a panic; a closed pipe (`amp … | head`) ends the command quietly.
pub fn write_stdout(text: &str) -> CliResult {
    let text = escape_controls(text);
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
/// lists joined by commas, objects as compact JSON. One line: newlines and
/// tabs become spaces, other control characters are escaped (`\u{1b}`).
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::Bool(true) => "yes".to_string(),
        Value::Bool(false) => "no".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "-".to_string(),
        Value::String(s) => escape_controls_line(&s.replace(['\n', '\t'], " ")).into_owned(),
        Value::Array(items) if items.is_empty() => "-".to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(_) => escape_controls_line(&value.to_string()).into_owned(),
    }
}

/// Where log lines go: stderr, each line with its control characters
/// escaped (tracing-subscriber escapes ESC and the C1 controls in the values
/// it logs, but not a carriage return or a shift-out), so a log line cannot
/// drive the terminal either. Colours are off for the same reason: their
/// escape sequences would be escaped too.
pub fn log_writer() -> LogWriter {
    LogWriter
}

/// See [`log_writer`].
#[derive(Debug, Clone, Copy)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // tracing-subscriber writes each event whole, in one call.
        let text = String::from_utf8_lossy(buf);
        std::io::stderr()
            .lock()
            .write_all(escape_controls(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How many log lines [`lossy_log_writer`] holds while stderr is not being
/// read (about 200 bytes each): a burst of a thousand requests is logged
/// whole, and a stderr nobody reads costs at most a few hundred KiB.
pub const LOG_QUEUE_LINES: usize = 1024;

/// Log lines [`lossy_log_writer`] dropped because its queue was full.
static LOG_LINES_DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many log lines have been dropped since the process started (the
/// agent's status shows it).
pub fn log_lines_dropped() -> u64 {
    LOG_LINES_DROPPED.load(Ordering::Relaxed)
}

/// Log lines as [`log_writer`] writes them, but never blocking the thread
/// that logs: each line is queued (at most [`LOG_QUEUE_LINES`]) for a
/// thread of its own that writes them to stderr, and a line that finds the
/// queue full is dropped and counted. For the agent: its workers log every
/// request, and a parent that pipes stderr and never reads it would
/// otherwise freeze them all once the pipe's buffer (64 KiB) is full.
///
/// The writer is for `tracing_subscriber`'s `with_writer` (one event, one
/// write); the [`LogGuard`] must be kept until the end, when dropping it
/// writes out what is still queued (within a second).
pub fn lossy_log_writer() -> (LossyLogWriter, LogGuard) {
    lossy_log_writer_to(std::io::stderr, LOG_QUEUE_LINES)
}

/// [`lossy_log_writer`] writing to what `sink` opens, with room for
/// `capacity` lines (the tests' way in).
fn lossy_log_writer_to<W: Write>(
    sink: impl Fn() -> W + Send + 'static,
    capacity: usize,
) -> (LossyLogWriter, LogGuard) {
    let (lines, queue) = std::sync::mpsc::sync_channel::<LogMsg>(capacity);
    let (done_tx, done) = std::sync::mpsc::channel();
    let worker = move || {
        let mut reported = 0;
        while let Ok(LogMsg::Line(line)) = queue.recv() {
            let mut out = sink();
            // A failed write has nowhere to be reported: stderr is the report.
            let _ = out.write_all(&line);
            let dropped = log_lines_dropped();
            if dropped > reported {
                let _ = writeln!(
                    out,
                    "{} log lines dropped: stderr was not read fast enough",
                    dropped - reported
                );
                reported = dropped;
            }
        }
        let _ = sink().flush();
        let _ = done_tx.send(());
    };
    // Without the thread, logging would only count drops: still never blocking.
    let started = std::thread::Builder::new()
        .name("amp-log".into())
        .spawn(worker)
        .is_ok();
    (
        LossyLogWriter {
            lines: lines.clone(),
        },
        LogGuard {
            lines,
            done: started.then_some(done),
        },
    )
}

/// What [`lossy_log_writer`]'s thread receives.
enum LogMsg {
    Line(Vec<u8>),
    Stop,
}

/// See [`lossy_log_writer`].
#[derive(Debug, Clone)]
pub struct LossyLogWriter {
    lines: std::sync::mpsc::SyncSender<LogMsg>,
}

impl Write for LossyLogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let line = escape_controls(&text).into_owned().into_bytes();
        match self.lines.try_send(LogMsg::Line(line)) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                LOG_LINES_DROPPED.fetch_add(1, Ordering::Relaxed);
            }
            // The writing thread has stopped (the process is exiting).
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {}
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps [`lossy_log_writer`]'s lines until the end: dropping it lets the
/// thread write what is queued, waiting at most a second (a stderr nobody
/// reads must not hold up the exit either).
#[derive(Debug)]
pub struct LogGuard {
    lines: std::sync::mpsc::SyncSender<LogMsg>,
    done: Option<std::sync::mpsc::Receiver<()>>,
}

impl LogGuard {
    /// Queues `text` (escaped) behind the log lines, dropped like them if
    /// the queue is full: for the last words of a process whose stderr
    /// may not be read.
    pub fn write_line(&self, text: &str) {
        let mut writer = LossyLogWriter {
            lines: self.lines.clone(),
        };
        let _ = writer.write(format!("{text}\n").as_bytes());
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        let Some(done) = self.done.take() else {
            return;
        };
        // The stop waits behind the queued lines; sent from a thread of its
        // own, since a full queue (a stuck stderr) would block this one.
        let lines = self.lines.clone();
        let sent = std::thread::Builder::new()
            .name("amp-log-stop".into())
            .spawn(move || {
                let _ = lines.send(LogMsg::Stop);
            })
            .is_ok();
        if sent {
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
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
    fn paths_reach_into_objects_and_map_over_lists() {
        let v = json!({"a": {"b": 1}, "t": [{"x": "p"}, {"x": "q"}, {}], "s": "z"});
        assert_eq!(lookup(&v, "a.b"), json!(1));
        assert_eq!(lookup(&v, "t.x"), json!(["p", "q", null]));
        assert_eq!(lookup(&v, "missing.b"), Value::Null);
        assert_eq!(lookup(&v, "s.deeper"), Value::Null);
        assert_eq!(lookup(&json!("whole"), ""), json!("whole"));
        assert_eq!(cell(&lookup(&v, "t.x")), "p,q,-");
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
    fn cells_and_keys_escape_control_characters() {
        assert_eq!(cell(&json!("\u{1b}[2Jgone\u{7}")), r"\u{1b}[2Jgone\u{7}");
        assert_eq!(cell(&json!("a\rb\u{9b}c\u{7f}")), r"a\rb\u{9b}c\u{7f}");
        assert_eq!(cell(&json!(["x\u{1b}", "y"])), r"x\u{1b},y");
        assert_eq!(cell(&json!({"k": "\u{9b}"})), r#"{"k":"\u{9b}"}"#);
        assert_eq!(cell(&json!("right\u{202e}left")), r"right\u{202e}left");
    }

    #[test]
    fn serde_json_escapes_c0_but_not_del_c1_or_bidi() {
        // What serde_json does on its own: C0 controls are escaped …
        assert_eq!(
            serde_json::to_string("\u{1b}\u{7}\n").unwrap(),
            r#""\u001b\u0007\n""#
        );
        // … DEL, C1 controls (U+009B is CSI) and bidi overrides are not.
        let raw = serde_json::to_string("\u{7f}\u{9b}\u{202e}").unwrap();
        assert_eq!(raw, "\"\u{7f}\u{9b}\u{202e}\"");
        // json_safe escapes those in JSON's notation: the value is unchanged.
        let safe = json_safe(&raw);
        assert_eq!(safe, r#""\u007f\u009b\u202e""#);
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "\u{7f}\u{9b}\u{202e}");
        // Keys too, and nothing else is touched.
        let value = json!({"k\u{85}": ["\u{9f}", 1, {"é": "\u{1b}"}]});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let safe = json_safe(&text);
        assert!(!safe.chars().any(is_terminal_control), "{safe}");
        assert_eq!(serde_json::from_str::<Value>(&safe).unwrap(), value);
        assert!(matches!(json_safe("{\"a\": \"é\"}"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_lossy_log_writer_never_blocks_and_counts_what_it_drops() {
        use std::sync::{Arc, Mutex};
        /// A stderr that takes nothing while the test holds `gate`.
        struct Stuck {
            gate: Arc<Mutex<()>>,
            out: Arc<Mutex<Vec<u8>>>,
        }
        impl Write for Stuck {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let _open = self.gate.lock().unwrap();
                self.out.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new(Mutex::new(()));
        let out = Arc::new(Mutex::new(Vec::new()));
        let held = gate.lock().unwrap();
        let sink = {
            let (gate, out) = (Arc::clone(&gate), Arc::clone(&out));
            move || Stuck {
                gate: Arc::clone(&gate),
                out: Arc::clone(&out),
            }
        };
        let (mut writer, guard) = lossy_log_writer_to(sink, 4);
        let before = log_lines_dropped();
        // Returns at once although nothing can be written.
        for i in 0..20 {
            writer
                .write_all(format!("line {i} \u{1b}[2J\n").as_bytes())
                .unwrap();
        }
        // 4 queued, and perhaps 1 taken by the thread, stuck writing it.
        let dropped = log_lines_dropped() - before;
        assert!((15..=16).contains(&dropped), "{dropped}");
        drop(held);
        // The guard writes out what was queued before it returns.
        drop(guard);
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("line 0 \\u{1b}[2J\n"), "{text}");
        assert!(text.contains("line 3 "), "{text}");
        assert!(text.contains(" log lines dropped: "), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
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
