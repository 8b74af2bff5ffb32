//! What the tests of the `amp` binary share: a private HOME, an explicit
//! environment, and the outcome of one run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use amp_sandbox::Sandbox;
use serde_json::Value;

pub const AMP: &str = env!("CARGO_BIN_EXE_amp");

/// A private folder, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "amp-cli-test-{}-{name}-{}",
            std::process::id(),
            nonce()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// What one run of `amp` left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }

    /// Asserts exit status `code`, nothing on stdout, and stderr ending in
    /// an `error: ` line (after any log lines) holding each of `words`.
    #[track_caller]
    pub fn fails(self, code: i32, words: &[&str]) -> Run {
        assert_eq!(self.code, code, "{self:?}");
        assert!(self.stdout.is_empty(), "{self:?}");
        let error = self
            .stderr
            .split("\nerror: ")
            .last()
            .filter(|_| self.stderr.starts_with("error: ") || self.stderr.contains("\nerror: "))
            .unwrap_or_else(|| panic!("no error line: {self:?}"));
        for word in words {
            assert!(error.contains(word), "{word:?} not in the error: {self:?}");
        }
        self
    }
}

/// The environment a test gives `amp`: HOME is private, the rest explicit.
#[derive(Clone)]
pub struct Env {
    home: PathBuf,
    vars: Vec<(String, String)>,
}

impl Env {
    pub fn new(home: &TempDir) -> Env {
        Env {
            home: home.path().to_path_buf(),
            vars: Vec::new(),
        }
    }

    /// The sandbox's URL and credentials, a memory store and quick retries.
    pub fn sandbox(home: &TempDir, sandbox: &Sandbox) -> Env {
        Env::new(home)
            .set("AMP_API_BASE_URL", &sandbox.base_url())
            .set("AMP_USERNAME", sandbox.username())
            .set("AMP_PASSWORD", sandbox.password())
            .set("AMP_TOKEN_STORE", "memory")
            .set("API_RETRY_BASE_DELAY_MS", "10")
    }

    pub fn set(mut self, name: &str, value: &str) -> Env {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    pub fn unset(mut self, name: &str) -> Env {
        self.vars.retain(|(k, _)| k != name);
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(AMP);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `amp args…` to the end, off the async runtime so the sandbox keeps serving.
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let output: Output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        Run::from(output)
    }

    /// Runs `amp args…` with `input` on its stdin (a pipe, not a terminal).
    pub async fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let input = input.to_string();
        let output = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = cmd.spawn()?;
            // A command that stops reading early closes the pipe: not an error here.
            let _ = child
                .stdin
                .take()
                .expect("stdin is piped")
                .write_all(input.as_bytes());
            child.wait_with_output()
        })
        .await
        .unwrap()
        .unwrap();
        Run::from(output)
    }

    /// `amp --json args…`, which must succeed, as JSON.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).await.ok().json()
    }

    /// `amp args…`, which must succeed: its stdout.
    pub async fn text(&self, args: &[&str]) -> String {
        self.run(args).await.ok().stdout
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

/// A sandbox without the sample data.
pub async fn empty_sandbox() -> Sandbox {
    Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap()
}

/// A GAID the sandbox accepts, different for each `n` below 33.
pub fn gaid(n: usize) -> String {
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    format!("GA9Test{}abcdefghijkmnopqrs", char::from(alphabet[n % 33]))
}

/// A txid made of one repeated hex digit.
pub fn txid(digit: char) -> String {
    std::iter::repeat_n(digit, 64).collect()
}

/// The value of `key` in `key  value` lines, if there is such a line.
pub fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once("  ")?;
        (k == key).then(|| v.trim().to_string())
    })
}

/// The rows of a table (the header first), each split into its cells. Cells
/// hold no spaces in the tests that use this.
pub fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

pub fn sorted_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}
