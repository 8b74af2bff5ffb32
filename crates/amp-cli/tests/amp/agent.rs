//! `amp agent` as its users will use it: the real binary started as a
//! daemon against a sandbox, called by curl and by a Python program
//! (standard library only, `agent_client.py`) through the Unix socket and
//! through loopback TCP with the key; and `amp token print`.
//!
//! The Python and curl parts are skipped, saying so, only where the tool
//! is not installed.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use amp_sandbox::{Fault, Sandbox};
use serde_json::Value;

use crate::support::{Env, TempDir};

const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/amp/agent_client.py");

/// What callers might send out of habit; none of it may reach AMP.
const CALLER_TOKEN: &str = "caller-own-token-0123456789abcdef";
const CALLER_COOKIE: &str = "caller-cookie-fedcba9876543210";

/// Whether `tool` is on the PATH; when not, the test says it skips that part.
fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("SKIPPED: {tool} is not installed; its part of this test did not run");
    }
    found
}

/// A running `amp agent`: where it listens, its log, its process.
struct Agent {
    child: Child,
    /// The lines it printed when ready, as printed (for `eval`).
    ready: String,
    socket: Option<PathBuf>,
    url: Option<String>,
    key_file: Option<PathBuf>,
    log: PathBuf,
}

impl Agent {
    /// Starts `amp agent args…` and waits for the lines that say where it
    /// listens (it prints them once it serves).
    async fn start(env: &Env, args: &[&str], log: PathBuf) -> Agent {
        let stderr = Stdio::from(std::fs::File::create(&log).unwrap());
        Agent::start_with_stderr(env, args, log, stderr).await
    }

    /// `amp agent` on both doors: the socket `socket`, and loopback TCP
    /// with its key written to `key_file`; `more` flags after them.
    async fn start_both(
        env: &Env,
        socket: &Path,
        key_file: &Path,
        more: &[&str],
        log: PathBuf,
    ) -> Agent {
        let mut args = vec![
            "--socket",
            socket.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--key-file",
            key_file.to_str().unwrap(),
        ];
        args.extend_from_slice(more);
        Agent::start(env, &args, log).await
    }

    /// [`Agent::start`] with stderr going to `stderr` (`log` is then only
    /// read if something else writes it).
    async fn start_with_stderr(env: &Env, args: &[&str], log: PathBuf, stderr: Stdio) -> Agent {
        let mut all = vec!["agent"];
        all.extend_from_slice(args);
        let mut cmd = env.command(&all);
        cmd.stdout(Stdio::piped()).stderr(stderr);
        let expect_tcp = args.contains(&"--listen");
        let expect_socket = args.contains(&"--socket") || !expect_tcp;
        let log_path = log.clone();
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut agent = Agent {
                child,
                ready: String::new(),
                socket: None,
                url: None,
                key_file: None,
                log: log_path,
            };
            let wanted = usize::from(expect_socket) + 2 * usize::from(expect_tcp);
            for _ in 0..wanted {
                let Some(Ok(line)) = lines.next() else {
                    let status = agent.child.wait().unwrap();
                    panic!("the agent stopped ({status}): {}", agent.log_text());
                };
                agent.ready.push_str(&line);
                agent.ready.push('\n');
                let (name, value) = line.split_once('=').unwrap();
                // A value a shell would read otherwise comes single-quoted.
                let unquoted = value
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .map(|v| v.replace(r"'\''", "'"));
                let value = unquoted.as_deref().unwrap_or(value);
                match name {
                    "AMP_AGENT_SOCKET" => agent.socket = Some(value.into()),
                    "AMP_AGENT_URL" => agent.url = Some(value.into()),
                    "AMP_AGENT_KEY_FILE" => agent.key_file = Some(value.into()),
                    other => panic!("unexpected line {other}={value}"),
                }
            }
            agent
        })
        .await
        .unwrap()
    }

    fn socket(&self) -> &Path {
        self.socket.as_deref().expect("the agent serves a socket")
    }

    fn url(&self) -> &str {
        self.url.as_deref().expect("the agent serves TCP")
    }

    fn key(&self) -> String {
        std::fs::read_to_string(self.key_file.as_ref().unwrap()).unwrap()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An HTTP client over the agent's socket.
    fn http(&self) -> amp_client::reqwest::Client {
        amp_client::reqwest::Client::builder()
            .unix_socket(self.socket())
            .build()
            .unwrap()
    }

    /// `method path` through the socket: status and body as JSON (null if none).
    async fn call(&self, method: &str, path: &str, body: Option<String>) -> (u16, Value) {
        let method = amp_client::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http().request(method, format!("http://amp{path}"));
        if let Some(body) = body {
            req = req.body(body);
        }
        let answer = req.send().await.unwrap();
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn status(&self) -> Value {
        let (code, status) = self.call("GET", "/agent/status", None).await;
        assert_eq!(code, 200, "{status}");
        status
    }

    /// Polls the status (the agent is another process) until `test` holds.
    async fn wait_until(&self, what: &str, test: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..6000 {
            let status = self.status().await;
            if test(&status) {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the agent never showed {what}");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success());
    }

    /// SIGTERM, and the exit status.
    async fn terminate(mut self) -> (ExitStatus, String) {
        self.signal("-TERM");
        let mut child = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap());
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        (status, self.log_text())
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the Python client with `args`; its JSON output.
async fn python(args: &[String]) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg(PYTHON_CLIENT)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs curl (no proxy, no config file) with `args`; its stdout.
async fn curl(args: &[String]) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-q", "-sS", "--noproxy", "*"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(x: &str) -> String {
    x.to_string()
}

/// Every result of the Python client's callers is `[200, true]` (a 200 with a JSON list).
#[track_caller]
fn all_listed(results: &Value, n: usize) {
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), n);
    for r in results {
        assert_eq!(r, &serde_json::json!([200, true]), "{results:?}");
    }
}

/// The one token the sandbox saw on API calls; every call carried it, none
/// a caller's own header.
#[track_caller]
fn only_the_agents_tokens_reached_amp(sandbox: &Sandbox) -> Vec<String> {
    let mut tokens = Vec::new();
    for r in &sandbox.stats().requests {
        assert!(r.cookie.is_none(), "a cookie reached AMP: {r:?}");
        if r.route == "/user/obtain_token" {
            assert!(r.authorization.is_none(), "{r:?}");
            continue;
        }
        let auth = r
            .authorization
            .as_deref()
            .unwrap_or_else(|| panic!("{r:?}"));
        let token = auth.strip_prefix("token ").unwrap();
        assert_eq!(token.len(), 40, "{r:?}");
        if !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_string());
        }
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_curl_through_the_socket_and_tcp_one_login_nothing_of_theirs_reaches_amp() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent");
    let store = home.path().join("token.json");
    let store_spec = format!("file:{}", store.display());
    let env = Env::sandbox(&home, &sandbox).set("AMP_TOKEN_STORE", &store_spec);
    let run = home.path().join("run");
    let socket = run.join("agent.sock");
    let key_file = run.join("agent.key");
    let agent =
        Agent::start_both(&env, &socket, &key_file, &[], home.path().join("agent.log")).await;

    // The file system decides who may call: the socket 0600 in a 0700 folder.
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(&run).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let key = agent.key();
    assert_eq!(key.len(), 64, "{key}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(agent.url().starts_with("http://127.0.0.1:"));

    if have("python3") {
        // 100 callers at once, half through the socket, half through TCP
        // with the key, each sending its own Authorization and Cookie.
        let out = python(&[
            s("calls"),
            s("--socket"),
            socket.display().to_string(),
            s("--url"),
            s(agent.url()),
            s("--key-file"),
            key_file.display().to_string(),
            s("--n"),
            s("100"),
        ])
        .await;
        all_listed(&out["results"], 100);
        assert_eq!(sandbox.count("GET", "/assets"), 100);

        // TCP without the key, or with another, is refused; AMP sees nothing.
        let before = sandbox.stats().total();
        let refused = python(&[
            s("refused"),
            s("--url"),
            s(agent.url()),
            s("--key-file"),
            key_file.display().to_string(),
        ])
        .await;
        assert_eq!(refused["no_key"], 401, "{refused}");
        assert_eq!(refused["wrong_key"], 401, "{refused}");
        assert_eq!(refused["status_no_key"], 401, "{refused}");
        assert_eq!(sandbox.stats().total(), before);
    }

    if have("curl") {
        let socket_arg = socket.display().to_string();
        let listed = curl(&[
            s("--unix-socket"),
            socket_arg.clone(),
            s("-H"),
            format!("Authorization: token {CALLER_TOKEN}"),
            s("-H"),
            format!("Cookie: sessionid={CALLER_COOKIE}"),
            s("http://amp/api/assets/"),
        ])
        .await;
        let listed: Value = serde_json::from_str(&listed).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 3);
        let with_key = curl(&[
            s("-H"),
            format!("X-AMP-Agent-Key: {key}"),
            s("-H"),
            format!("Authorization: token {CALLER_TOKEN}"),
            format!("{}/api/assets/", agent.url()),
        ])
        .await;
        assert_eq!(serde_json::from_str::<Value>(&with_key).unwrap(), listed);
        // A POST with a body, answered as AMP answers it.
        let created = curl(&[
            s("--unix-socket"),
            socket_arg.clone(),
            s("-X"),
            s("POST"),
            s("--data"),
            s(r#"{"name": "Via curl", "description": "through the agent"}"#),
            s("http://amp/api/categories/add"),
        ])
        .await;
        let created: Value = serde_json::from_str(&created).unwrap();
        assert_eq!(created["name"], "Via curl");
        // AMP's error status and body come back unchanged.
        let missing = curl(&[
            s("--unix-socket"),
            socket_arg.clone(),
            s("-w"),
            s("\n%{http_code}"),
            s("http://amp/api/assets/no-such-asset"),
        ])
        .await;
        let (body, code) = missing.rsplit_once('\n').unwrap();
        assert_eq!(code, "404", "{missing}");
        assert!(body.contains("detail"), "{missing}");
        assert!(!body.contains("amp agent"), "AMP's own answer: {missing}");
        let no_key = curl(&[
            s("-o"),
            s("/dev/null"),
            s("-w"),
            s("%{http_code}"),
            format!("{}/api/assets/", agent.url()),
        ])
        .await;
        assert_eq!(no_key, "401");
    }

    // One login for all of them.
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    let tokens = only_the_agents_tokens_reached_amp(&sandbox);
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let token = &tokens[0];

    // The status: the token as `amp token status` shows it, the counters.
    let status = agent.status().await;
    assert_eq!(status["token"]["state"], "valid", "{status}");
    assert_eq!(status["client"]["obtains"], 1, "{status}");
    let from_cli = env.json(&["token", "status"]).await;
    assert_eq!(status["token"]["fingerprint"], from_cli["fingerprint"]);
    assert_eq!(status["token"]["expires_at"], from_cli["expires_at"]);
    assert!(
        status["agent"]["forwarded"].as_u64().unwrap() >= 100,
        "{status}"
    );
    assert!(
        status["agent"]["refused_key"].as_u64().unwrap() >= 1,
        "{status}"
    );

    // `amp token print`: the same token, raw, on stdout only; nothing sent.
    let before = sandbox.stats().total();
    let printed = env.run(&["token", "print"]).await.ok();
    assert_eq!(printed.stdout, format!("{token}\n"));
    assert!(!printed.stderr.contains(token.as_str()), "{printed:?}");
    assert_eq!(sandbox.stats().total(), before);

    // SIGTERM: exit 0, the socket and the key file gone.
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
    assert!(!socket.exists(), "the socket is removed on exit");
    assert!(!key_file.exists(), "the key file is removed on exit");

    // One log line per request, saying what was asked and how it ended.
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("amp::agent: request"))
        .collect();
    assert!(lines.len() >= 104, "{log}");
    assert!(
        lines.iter().any(|l| l.contains("method=GET")
            && l.contains("path=/api/assets/")
            && l.contains("status=200")
            && l.contains("attempts=1")
            && l.contains("elapsed_ms=")),
        "{log}"
    );

    // No secret anywhere: not in the sandbox's records, not in the log.
    let records = serde_json::to_string(&sandbox.stats()).unwrap();
    for secret in [
        key.as_str(),
        CALLER_TOKEN,
        CALLER_COOKIE,
        sandbox.password(),
    ] {
        assert!(
            !records.contains(secret),
            "{secret} in the sandbox's records"
        );
        assert!(!log.contains(secret), "{secret} in the agent's log");
    }
    assert!(
        !log.contains(token.as_str()),
        "the token in the agent's log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_heals_without_a_failed_call() {
    if !have("python3") {
        return;
    }
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-revoked");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;
    let calls = |n: &str| {
        vec![
            s("calls"),
            s("--socket"),
            socket.display().to_string(),
            s("--n"),
            s(n),
        ]
    };
    all_listed(&python(&calls("10")).await["results"], 10);
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);

    sandbox.revoke_all_tokens();
    // 50 callers at once with a token AMP no longer takes: every one answered 200.
    all_listed(&python(&calls("50")).await["results"], 50);
    assert!(
        sandbox.stats().requests.iter().any(|r| r.status == 401),
        "the revoked token was refused"
    );
    assert_eq!(
        sandbox.count("POST", "/user/obtain_token"),
        2,
        "one new login"
    );
    let status = agent.status().await;
    assert!(
        status["client"]["reauths"].as_u64().unwrap() >= 1,
        "{status}"
    );
    assert_eq!(status["agent"]["failed"], 0, "{status}");
    assert_eq!(only_the_agents_tokens_reached_amp(&sandbox).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_every_caller_and_amp_sees_no_extra_request() {
    if !have("python3") {
        return;
    }
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-429");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;
    // The pause is long enough for 30 callers to reach the agent and for
    // the check below, however loaded the machine; the test waits it out once.
    sandbox.push_fault("/categories", Fault::RateLimitSeconds(4));
    let out = python(&[
        s("pause"),
        s("--socket"),
        socket.display().to_string(),
        s("--n"),
        s("30"),
        s("--sandbox-stats"),
        format!("{}/stats", sandbox.control_url()),
    ])
    .await;
    assert_eq!(out["first"], 200, "the 429 was waited out: {out}");
    all_listed(&out["results"], 30);
    assert_eq!(
        out["assets_seen_during_pause"], 0,
        "no caller reached AMP during the pause: {out}"
    );
    // Exactly the calls asked for, and the one 429 with its retry.
    assert_eq!(sandbox.count("GET", "/categories"), 2);
    assert_eq!(sandbox.count("GET", "/assets"), 30);
    assert_eq!(
        sandbox
            .stats()
            .requests
            .iter()
            .filter(|r| r.status == 429)
            .count(),
        1
    );
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_refused_paths_and_the_agents_own_answers() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-caps");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &[
            "--socket",
            socket.to_str().unwrap(),
            "--max-body-bytes",
            "1000",
            "--max-in-flight",
            "1",
        ],
        home.path().join("agent.log"),
    )
    .await;
    let logins = sandbox.count("POST", "/user/obtain_token");
    assert_eq!(logins, 1, "the agent logs in at start");
    let before = sandbox.stats().total();

    // The login, refresh and password endpoints are the agent's business.
    for (method, path) in [
        ("POST", "/api/user/obtain_token"),
        ("POST", "/api/user/obtain_token/"),
        ("GET", "/api/user/refresh-token"),
        ("POST", "/api/user/refresh-token"),
        ("POST", "/api/user/change-password"),
        ("POST", "/api/managers/1/change-password"),
    ] {
        let (code, body) = agent
            .call(
                method,
                path,
                Some(r#"{"username": "x", "password": "y"}"#.into()),
            )
            .await;
        assert_eq!(code, 403, "{method} {path}: {body}");
        assert_eq!(body["source"], "amp agent", "{body}");
    }
    // Outside /api/, or dot segments (that would resolve to a refused endpoint).
    for path in ["/", "/api", "/assets/", "/_sandbox/stats"] {
        let (code, body) = agent.call("GET", path, None).await;
        assert_eq!(code, 404, "{path}: {body}");
    }
    // Sent as they are (an HTTP client would resolve them first).
    for path in [
        "/api/assets/../user/obtain_token",
        "/api/assets/%2e%2e/user/obtain_token",
        "/api/assets/%2E./categories/",
    ] {
        let answer = raw(
            agent.socket(),
            &format!("GET {path} HTTP/1.1\r\nHost: amp\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{path}: {answer}");
    }
    // A body over the cap: 413, declared or not (chunked).
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(2000));
    let (code, body) = agent
        .call("POST", "/api/categories/add", Some(big.clone()))
        .await;
    assert_eq!(code, 413, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("1000 bytes"),
        "{body}"
    );
    let answer = raw_chunked_post(agent.socket(), "/api/categories/add", big).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(sandbox.stats().total(), before, "AMP saw none of these");

    // One request in flight (held by AMP), the cap is 1: the next one is
    // answered 503 at once, saying why.
    sandbox.push_fault("/assets", Fault::Delay(std::time::Duration::from_secs(30)));
    let held = {
        let http = agent.http();
        tokio::spawn(async move { http.get("http://amp/api/assets/").send().await })
    };
    agent
        .wait_until("one request in flight", |s| s["agent"]["in_flight"] == 1)
        .await;
    let answer = agent
        .http()
        .get("http://amp/api/categories/")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 503);
    assert_eq!(answer.headers()["retry-after"], "1");
    let body: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("--max-in-flight"),
        "{body}"
    );
    let status = agent.status().await;
    assert_eq!(status["agent"]["busy"], 1, "{status}");
    assert_eq!(status["agent"]["too_large"], 2, "{status}");
    assert_eq!(status["agent"]["blocked"], 6, "{status}");

    // The held request ends with the agent (the SIGTERM path is
    // `sigterm_finishes_what_is_in_flight_and_exits_0`).
    drop(held);
    drop(agent);
}

/// `POST path` over the socket with `body` sent in chunks (no
/// Content-Length: the cap must hold without one); the raw answer.
async fn raw_chunked_post(socket: &Path, path: &str, body: String) -> String {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: amp\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(500) {
        request.push_str(&format!("{:x}\r\n", chunk.len()));
        request.push_str(std::str::from_utf8(chunk).unwrap());
        request.push_str("\r\n");
    }
    request.push_str("0\r\n\r\n");
    raw(socket, &request).await
}

/// `request`, written as it is to the socket; the raw answer.
async fn raw(socket: &Path, request: &str) -> String {
    use std::io::{Read, Write};
    let socket = socket.to_path_buf();
    let request = request.to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
        // The agent may answer and close before reading it all.
        let _ = stream.write_all(request.as_bytes());
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap()
}

/// The clients for other languages (`clients/`, standard library only):
/// each finds the agent from the variables it prints, over the socket or
/// over TCP with the key, lists, creates, and is refused the login; the
/// agent's one login serves them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_node_clients_call_amp_through_the_agent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-clients");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let key_file = home.path().join("agent.key");
    let agent =
        Agent::start_both(&env, &socket, &key_file, &[], home.path().join("agent.log")).await;
    let (_, listed) = agent.call("GET", "/api/assets/", None).await;
    let clients = concat!(env!("CARGO_MANIFEST_DIR"), "/../../clients");
    // Through the TCP door the clients are run by a link to their folder
    // (a checkout reached through a link, macOS's /tmp): still programs.
    let linked = home.path().join("clients");
    std::os::unix::fs::symlink(clients, &linked).unwrap();
    let folders = [clients.to_string(), linked.display().to_string()];
    let doors = [
        vec![("AMP_AGENT_SOCKET", socket.display().to_string())],
        vec![
            ("AMP_AGENT_URL", agent.url().to_string()),
            ("AMP_AGENT_KEY_FILE", key_file.display().to_string()),
        ],
    ];
    let mut ran = 0;
    for (tool, client) in [("python3", "amp_agent.py"), ("node", "amp_agent.mjs")] {
        if !have(tool) {
            continue;
        }
        for (n, door) in doors.iter().enumerate() {
            let run = |args: Vec<String>| {
                let mut cmd = Command::new(tool);
                cmd.arg(format!("{}/{client}", folders[n]))
                    .args(args)
                    .env_clear()
                    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                    .envs(door.iter().map(|(k, v)| (k, v)));
                async move {
                    tokio::task::spawn_blocking(move || cmd.output().unwrap())
                        .await
                        .unwrap()
                }
            };
            let what = format!("{tool} through door {n}");
            let out = run(vec![s("GET"), s("/api/assets/")]).await;
            assert!(out.status.success(), "{what}: {out:?}");
            let body: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(body, listed, "{what}");
            let name = format!("From {tool} {n}");
            let out = run(vec![
                s("POST"),
                s("/api/categories/add"),
                serde_json::json!({"name": name, "description": "through the agent"}).to_string(),
            ])
            .await;
            assert!(out.status.success(), "{what}: {out:?}");
            let body: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(body["name"], name.as_str(), "{what}");
            // The agent's own business: refused, and the client says so.
            let out = run(vec![s("POST"), s("/api/user/obtain_token"), s("{}")]).await;
            assert_eq!(out.status.code(), Some(1), "{what}: {out:?}");
            let body: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(body["source"], "amp agent", "{what}");
            ran += 1;
        }
    }
    if ran == 0 {
        eprintln!("SKIPPED: neither python3 nor node is installed");
    }
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1, "one login");
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");

    // An agent on IPv6 loopback prints `http://[::1]:PORT`: the brackets
    // are the URL's, not the host's.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let key6 = home.path().join("agent6.key");
    let agent6 = Agent::start(
        &env,
        &["--listen", "[::1]:0", "--key-file", key6.to_str().unwrap()],
        home.path().join("agent6.log"),
    )
    .await;
    assert!(
        agent6.url().starts_with("http://[::1]:"),
        "{}",
        agent6.url()
    );
    for (tool, client) in [("python3", "amp_agent.py"), ("node", "amp_agent.mjs")] {
        if !have(tool) {
            continue;
        }
        let mut cmd = Command::new(tool);
        cmd.arg(format!("{clients}/{client}"))
            .args(["GET", "/api/assets/"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AMP_AGENT_URL", agent6.url())
            .env("AMP_AGENT_KEY_FILE", &key6);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(out.status.success(), "{tool} over IPv6: {out:?}");
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(body, listed, "{tool} over IPv6");
    }
    let (exit, log) = agent6.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_what_is_in_flight_and_exits_0() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-term");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;
    sandbox.push_fault(
        "/assets",
        Fault::Delay(std::time::Duration::from_millis(1500)),
    );
    let held = {
        let http = agent.http();
        tokio::spawn(async move {
            let answer = http.get("http://amp/api/assets/").send().await.unwrap();
            (answer.status().as_u16(), answer.bytes().await.unwrap())
        })
    };
    agent
        .wait_until("the request in flight", |s| s["agent"]["in_flight"] == 1)
        .await;
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
    let (code, body) = held.await.unwrap();
    assert_eq!(code, 200, "the call in flight was finished");
    assert!(serde_json::from_slice::<Value>(&body).unwrap().is_array());
    assert!(!socket.exists());
    assert!(log.contains("stopping"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_socket_is_refused_a_stale_one_replaced_and_tcp_is_loopback_only() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-stale");
    let runtime_dir = home.path().join("xdg");
    std::fs::create_dir(&runtime_dir).unwrap();
    let env = Env::sandbox(&home, &sandbox).set("XDG_RUNTIME_DIR", runtime_dir.to_str().unwrap());

    // The default place: $XDG_RUNTIME_DIR/amp/agent.sock, the folder 0700.
    let first = Agent::start(&env, &[], home.path().join("first.log")).await;
    let socket = runtime_dir.join("amp").join("agent.sock");
    assert_eq!(first.socket(), socket);
    assert_eq!(
        std::fs::metadata(runtime_dir.join("amp"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    // Another agent on the same socket: refused, the first one untouched.
    let second = env.run(&["agent"]).await;
    assert_eq!(second.code, 1, "{second:?}");
    assert!(second.stderr.contains("another agent"), "{second:?}");
    assert_eq!(first.status().await["token"]["state"], "valid");

    // The first one killed outright leaves its socket behind: the next
    // agent replaces it.
    first.signal("-KILL");
    drop(first);
    assert!(socket.exists(), "a stale socket");
    let third = Agent::start(&env, &[], home.path().join("third.log")).await;
    assert_eq!(third.status().await["token"]["state"], "valid");
    drop(third);

    // Only loopback, ever; and something that is not a socket is never replaced.
    let wide = env.run(&["agent", "--listen", "0.0.0.0:0"]).await;
    assert_eq!(wide.code, 2, "{wide:?}");
    assert!(wide.stderr.contains("loopback"), "{wide:?}");
    let file = home.path().join("not-a-socket");
    std::fs::write(&file, "keep me").unwrap();
    let run = env
        .run(&["agent", "--socket", file.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_stop_the_agent_at_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-refused");
    let env = Env::sandbox(&home, &sandbox).set("AMP_PASSWORD", "not-the-password-4e1d");
    let socket = home.path().join("agent.sock");
    let run = env
        .run(&["agent", "--socket", socket.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("refused the credentials"), "{run:?}");
    assert!(!run.stderr.contains("not-the-password-4e1d"), "{run:?}");
    assert!(!socket.exists(), "nothing left behind");
    let no_creds = Env::sandbox(&home, &sandbox).unset("AMP_USERNAME");
    let run = no_creds
        .run(&["agent", "--socket", socket.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AMP_USERNAME"), "{run:?}");
}

/// Waits for the agent to exit, failing (not hanging) if it does not within
/// `limit`: the behaviours below are about the agent not waiting for ever.
async fn exits_within(agent: &mut Agent, limit: std::time::Duration) -> (ExitStatus, String) {
    let mut child = std::mem::replace(&mut agent.child, Command::new("true").spawn().unwrap());
    let pid = child.id();
    let waited = tokio::time::timeout(
        limit,
        tokio::task::spawn_blocking(move || child.wait().unwrap()),
    )
    .await;
    let Ok(status) = waited else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!(
            "the agent did not exit within {limit:?}: {}",
            agent.log_text()
        );
    };
    (status.unwrap(), agent.log_text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_stops_at_once_and_a_sigterm_while_logging_in_stops_too() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-twice");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let mut agent = Agent::start(
        &env,
        &[
            "--socket",
            socket.to_str().unwrap(),
            "--shutdown-timeout",
            "3600",
        ],
        home.path().join("agent.log"),
    )
    .await;
    // A call AMP holds for an hour, which the drain would wait for.
    sandbox.push_fault(
        "/assets",
        Fault::Delay(std::time::Duration::from_secs(3600)),
    );
    let http = agent.http();
    let _held = tokio::spawn(async move { http.get("http://amp/api/assets/").send().await });
    agent
        .wait_until("the request in flight", |s| s["agent"]["in_flight"] == 1)
        .await;
    agent.signal("-TERM");
    // The first stop removes the socket and waits on the held call: the
    // log, not the (gone) status endpoint, says it has begun.
    for _ in 0..6000 {
        if agent.log_text().contains("stopping") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    agent.signal("-TERM");
    let (exit, log) = exits_within(&mut agent, std::time::Duration::from_secs(60)).await;
    assert!(exit.success(), "{exit}: {log}");
    assert!(log.contains("a second stop signal"), "{log}");
    assert!(!socket.exists());

    // A stop while the first login waits on AMP: heard, exit 0, nothing left.
    sandbox.push_fault(
        "/user/obtain_token",
        Fault::Delay(std::time::Duration::from_secs(3600)),
    );
    let home2 = TempDir::new("agent-starting");
    let env2 = Env::sandbox(&home2, &sandbox);
    let socket2 = home2.path().join("agent.sock");
    let log2 = home2.path().join("agent.log");
    let mut cmd = env2.command(&["agent", "--socket", socket2.to_str().unwrap()]);
    cmd.stdout(Stdio::null())
        .stderr(std::fs::File::create(&log2).unwrap());
    let child = cmd.spawn().unwrap();
    let mut starting = Agent {
        child,
        ready: String::new(),
        socket: Some(socket2.clone()),
        url: None,
        key_file: None,
        log: log2,
    };
    // The socket is bound before the first login, which AMP now holds (the
    // sandbox records a request once it is answered: it cannot tell).
    for _ in 0..6000 {
        if socket2.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(socket2.exists(), "{}", starting.log_text());
    starting.signal("-TERM");
    let (exit, log) = exits_within(&mut starting, std::time::Duration::from_secs(60)).await;
    assert!(exit.success(), "{exit}: {log}");
    assert!(log.contains("stopped while starting"), "{log}");
    assert!(!socket2.exists(), "nothing left behind");
}

/// Writes `request` whole to the socket (failing the test if the agent
/// resets the connection first), then reads the answer to its end.
async fn write_all_then_read(socket: &Path, request: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let socket = socket.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
        stream
            .write_all(&request)
            .expect("the agent read the whole request before answering");
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .expect("an answer, not a reset");
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_slow_and_idle_requests_get_an_answer_not_a_reset_or_a_hang() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-slow");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &[
            "--socket",
            socket.to_str().unwrap(),
            "--max-body-bytes",
            "1000",
            "--head-timeout",
            "1",
            "--body-timeout",
            "1",
            "--max-connections",
            "2",
        ],
        home.path().join("agent.log"),
    )
    .await;
    let before = sandbox.stats().total();

    // 8 MiB against a cap of 1000 bytes, declared or chunked, as Python's
    // http.client sends it (whole, no `Expect: 100-continue`): the caller
    // reads the 413, its writes are not cut off by a reset.
    let big = vec![b'x'; 8 * 1024 * 1024];
    let mut declared = format!(
        "POST /api/categories/add HTTP/1.1\r\nHost: amp\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        big.len()
    )
    .into_bytes();
    declared.extend_from_slice(&big);
    let answer = write_all_then_read(agent.socket(), declared).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let mut chunked = b"POST /api/categories/add HTTP/1.1\r\nHost: amp\r\n\
        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .to_vec();
    for chunk in big.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = write_all_then_read(agent.socket(), chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // TRACE would echo the request, token included: not forwarded.
    let answer = raw(
        agent.socket(),
        "TRACE /api/assets/ HTTP/1.1\r\nHost: amp\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");

    // A body that stops half-way: 408 once --body-timeout has passed; its
    // in-flight permit is not held for ever.
    let answer = raw(
        agent.socket(),
        "POST /api/categories/add HTTP/1.1\r\nHost: amp\r\nContent-Length: 100\r\n\r\n{\"name\":",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--body-timeout"), "{answer}");

    // A head that never ends: the connection is closed after --head-timeout,
    // with no answer (nothing was asked).
    let answer = raw(agent.socket(), "GET /api/assets/ HTTP/1.1\r\nHost: amp\r\n").await;
    assert!(!answer.contains("200"), "{answer}");
    assert_eq!(sandbox.stats().total(), before, "AMP saw none of these");

    // Two connections that send nothing fill --max-connections 2: a call
    // waits (in the kernel's queue) until the head timeout closes them,
    // then is served. The idle ones end first.
    // Connected here, before the call: the kernel's queue is first in,
    // first accepted.
    let idle: Vec<_> = (0..2)
        .map(|_| {
            let mut stream = std::os::unix::net::UnixStream::connect(agent.socket()).unwrap();
            tokio::task::spawn_blocking(move || {
                use std::io::Read;
                let _ = stream.read_to_end(&mut Vec::new());
                std::time::Instant::now()
            })
        })
        .collect();
    let (code, _) = agent.call("GET", "/api/categories/", None).await;
    let served = std::time::Instant::now();
    assert_eq!(code, 200);
    for closed in idle {
        assert!(
            closed.await.unwrap() <= served,
            "the call waited for a slot"
        );
    }
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

/// The ready lines are shell assignments, for a script to source: a path
/// with a space, a quote, `$(…)` or a backtick comes out quoted, so the
/// shell sets the variable to the path and runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ready_lines_survive_eval_whatever_the_path() {
    let sandbox = Sandbox::start().await.unwrap();
    // A short name: a socket's path has room for 107 bytes, and the agent
    // binds it first at a longer scratch name beside it.
    let home = TempDir::new("ev");
    let env = Env::sandbox(&home, &sandbox);
    let odd = home.path().join("q'$(touch p)`x` s");
    let socket = odd.join("agent.sock");
    let key_file = odd.join("agent.key");
    let agent =
        Agent::start_both(&env, &socket, &key_file, &[], home.path().join("agent.log")).await;
    assert_eq!(agent.socket(), socket);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"eval "$1"; printf '%s\n%s' "$AMP_AGENT_SOCKET" "$AMP_AGENT_KEY_FILE""#)
        .arg("sh")
        .arg(&agent.ready)
        .current_dir(home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let expected = format!("{}\n{}", socket.display(), key_file.display());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        expected,
        "{}",
        agent.ready
    );
    assert!(!home.path().join("p").exists(), "nothing ran");
    assert_eq!(agent.call("GET", "/api/categories/", None).await.0, 200);
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

/// Any local user can connect to the TCP port; without the key they must
/// not be able to hold the agent's connections. A caller without the key
/// gets one answer per connection (pipelined requests it never reads
/// cannot stall the agent's writes and keep the connection for ever), and
/// the TCP port's connections, however many are held, leave the socket's
/// slots free (only this user can reach the socket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_caller_without_the_key_cannot_hold_the_agents_connections() {
    use std::io::{Read, Write};
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-slots");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start_both(
        &env,
        &socket,
        &home.path().join("agent.key"),
        &[
            "--max-connections",
            "1",
            // Long: no timer frees a slot during the test.
            "--head-timeout",
            "3600",
        ],
        home.path().join("agent.log"),
    )
    .await;
    let addr = agent.url().trim_start_matches("http://").to_string();
    let connect = {
        let addr = addr.clone();
        move || {
            let stream = std::net::TcpStream::connect(&addr).unwrap();
            // A guard against a hang, not a wait: the agent answers at once.
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(60)))
                .unwrap();
            stream
        }
    };

    // A request without the key: one 401 that says `close`, and the agent
    // closes the connection (the read ends, it does not time out).
    let keyless = connect.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = keyless();
        let head = "GET /api/assets/ HTTP/1.1\r\nHost: amp\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).map(|_| answer)
    })
    .await
    .unwrap()
    .expect("the agent closed the connection");
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    // A thousand of them in one write, never read: the connection ends all
    // the same (closed, or reset for the requests left unread), it is not
    // held.
    let keyless = connect.clone();
    let ended = tokio::task::spawn_blocking(move || {
        let mut stream = keyless();
        let heads = "GET /api/assets/ HTTP/1.1\r\nHost: amp\r\n\r\n".repeat(1000);
        let _ = stream.write_all(heads.as_bytes());
        stream.read_to_end(&mut Vec::new())
    })
    .await
    .unwrap();
    if let Err(e) = ended {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    }

    // The one TCP slot held by a connection that sends nothing: the socket
    // is served all the same.
    let mut idle = tokio::task::spawn_blocking(connect).await.unwrap();
    let served = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        agent.call("GET", "/api/categories/", None),
    )
    .await
    .expect("the socket has slots of its own");
    assert_eq!(served.0, 200);
    // And the idle connection was not closed to make room: it still serves
    // a request with the key.
    let key = agent.key();
    let answer = tokio::task::spawn_blocking(move || {
        let request = format!(
            "GET /api/categories/ HTTP/1.1\r\nHost: amp\r\nX-AMP-Agent-Key: {key}\r\n\
             Connection: close\r\n\r\n"
        );
        idle.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        idle.read_to_string(&mut answer).map(|_| answer)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stderr_nobody_reads_does_not_freeze_the_agent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-stderr");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    // A pipe whose reading end the test holds (in the child handle) and
    // never reads: full after 64 KiB, some 300 request lines.
    let agent = Agent::start_with_stderr(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("unused.log"),
        Stdio::piped(),
    )
    .await;
    let http = agent.http();
    let calls = async {
        // 8 callers at a time, 2,000 calls: far more lines than the pipe
        // and the agent's log queue hold.
        let mut set = tokio::task::JoinSet::new();
        for i in 0..2000 {
            if set.len() == 8 {
                assert_eq!(set.join_next().await.unwrap().unwrap(), 200);
            }
            let http = http.clone();
            let path = if i % 2 == 0 { "assets" } else { "categories" };
            set.spawn(async move {
                let answer = http
                    .get(format!("http://amp/api/{path}/"))
                    .send()
                    .await
                    .unwrap();
                let status = answer.status().as_u16();
                answer.bytes().await.unwrap();
                status
            });
        }
        while let Some(status) = set.join_next().await {
            assert_eq!(status.unwrap(), 200);
        }
    };
    // A frozen agent would hang the calls: fail instead.
    tokio::time::timeout(std::time::Duration::from_secs(300), calls)
        .await
        .expect("every call answered while stderr is full");
    let status = agent.status().await;
    assert!(
        status["agent"]["log_lines_dropped"].as_u64().unwrap() > 0,
        "{status}"
    );
    assert_eq!(status["agent"]["forwarded"], 2000, "{status}");
    let mut agent = agent;
    agent.signal("-TERM");
    let (exit, _) = exits_within(&mut agent, std::time::Duration::from_secs(60)).await;
    assert!(exit.success(), "{exit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_off_the_api_root_is_a_502_one_under_it_is_followed() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let amp = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "a".repeat(40)})),
        )
        .mount(&amp)
        .await;
    let redirect = |status: u16, to: String| {
        ResponseTemplate::new(status)
            .insert_header("location", to.as_str())
            .set_body_string("moved")
    };
    let landing = serde_json::json!([{"landed": true}]);
    Mock::given(path("/api/landing/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&landing))
        .mount(&amp)
        .await;
    Mock::given(path("/api/moved/"))
        .respond_with(redirect(301, format!("{}/api/landing/", amp.uri())))
        .mount(&amp)
        .await;
    Mock::given(path("/api/away/"))
        .respond_with(redirect(302, format!("{}/api/landing/", elsewhere.uri())))
        .mount(&amp)
        .await;
    Mock::given(path("/api/up/"))
        .respond_with(redirect(307, format!("{}/admin/", amp.uri())))
        .mount(&amp)
        .await;
    Mock::given(path("/api/nowhere/"))
        .respond_with(ResponseTemplate::new(302))
        .mount(&amp)
        .await;
    Mock::given(path("/api/choices/"))
        .respond_with(redirect(300, format!("{}/api/landing/", amp.uri())))
        .mount(&amp)
        .await;

    let home = TempDir::new("agent-redirect");
    let env = Env::new(&home)
        .set("AMP_API_BASE_URL", &format!("{}/api", amp.uri()))
        .set("AMP_USERNAME", "issuer")
        .set("AMP_PASSWORD", "pw-redirect")
        .set("AMP_TOKEN_STORE", "memory");
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;

    // Under the root: followed by the client; the caller sees where it landed.
    let (code, body) = agent.call("GET", "/api/moved/", None).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, landing);

    // Another origin, another path on AMP's host, no Location, a 300: the
    // client does not follow; the agent says so rather than hand back a
    // 3xx whose Location would lead the caller off the agent (or nowhere).
    for (path, status) in [
        ("/api/away/", "302"),
        ("/api/up/", "307"),
        ("/api/nowhere/", "302"),
        ("/api/choices/", "300"),
    ] {
        let answer = agent
            .http()
            .get(format!("http://amp{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 502, "{path}");
        assert!(answer.headers().get("location").is_none(), "{path}");
        let body: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
        assert_eq!(body["source"], "amp agent", "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(status), "{path}: {detail}");
        assert!(detail.contains("redirect"), "{path}: {detail}");
        assert!(detail.contains(&amp.uri()), "names the API root: {detail}");
    }
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "nothing followed the redirect off the root"
    );
    let status = agent.status().await;
    assert_eq!(status["agent"]["failed"], 4, "{status}");
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

/// The agent's environment against a stand-in AMP at `base` (the API root),
/// with its token in memory, and its socket.
fn agent_env(home: &TempDir, base: &str) -> (Env, PathBuf) {
    let env = Env::new(home)
        .set("AMP_API_BASE_URL", base)
        .set("AMP_USERNAME", "issuer")
        .set("AMP_PASSWORD", "pw-echo")
        .set("AMP_TOKEN_STORE", "memory");
    (env, home.path().join("agent.sock"))
}

// A server that echoes the request (a debugging endpoint, a proxy in front
// of AMP): the token the agent's client added reaches no caller, whatever
// the status; the rest of the body comes back as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_of_the_token_reaches_the_caller_scrubbed() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};
    const TOKEN: &str = "ec40ec40ec40ec40ec40ec40ec40ec40ec40ec40";
    let amp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": TOKEN})))
        .mount(&amp)
        .await;
    let echo = |status: u16| {
        move |r: &Request| {
            let authorization = r.headers["authorization"].to_str().unwrap().to_string();
            ResponseTemplate::new(status).set_body_json(serde_json::json!({
                "authorization": authorization,
                "body": String::from_utf8_lossy(&r.body),
            }))
        }
    };
    Mock::given(path("/api/echo/"))
        .and(method("GET"))
        .respond_with(echo(200))
        .mount(&amp)
        .await;
    Mock::given(path("/api/echo/"))
        .and(method("POST"))
        .respond_with(echo(201))
        .mount(&amp)
        .await;
    Mock::given(path("/api/echo/missing/"))
        .respond_with(echo(404))
        .mount(&amp)
        .await;

    let home = TempDir::new("agent-echo");
    let (env, socket) = agent_env(&home, &format!("{}/api", amp.uri()));
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;
    for (verb, path, body, status) in [
        ("GET", "/api/echo/", None, 200),
        (
            "POST",
            "/api/echo/",
            Some(r#"{"name": "x"}"#.to_string()),
            201,
        ),
        ("GET", "/api/echo/missing/", None, 404),
    ] {
        let (code, answer) = agent.call(verb, path, body).await;
        assert_eq!(code, status, "{verb} {path}: {answer}");
        assert!(!answer.to_string().contains(TOKEN), "{answer}");
        assert_eq!(answer["authorization"], "token [REDACTED]", "{answer}");
    }
    let (code, answer) = agent
        .call("POST", "/api/echo/", Some(r#"{"name": "x"}"#.into()))
        .await;
    assert_eq!(
        (code, &answer["body"]),
        (201, &Value::from(r#"{"name": "x"}"#))
    );
    // AMP did get the token: the answers were cleaned on the way back.
    let sent = amp.received_requests().await.unwrap();
    assert!(sent
        .iter()
        .filter(|r| r.url.path().starts_with("/api/echo/"))
        .all(|r| r.headers["authorization"] == format!("token {TOKEN}").as_str()));
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
    assert!(!log.contains(TOKEN), "{log}");
}

/// A stand-in AMP on loopback, for what wiremock cannot do: hold an answer
/// until the test says so. Logins answer `T1`, then `T2`; `GET
/// /api/refuse/` answers 401 to `T1` and `[]` to any other; `GET
/// /api/held/` tells the test the `Authorization` it carried (`seen`),
/// waits for `go`, then echoes it in a JSON body. Every answer closes its
/// connection (the client opens another).
struct HeldAmp {
    base: String,
    seen: tokio::sync::mpsc::UnboundedReceiver<String>,
    go: std::sync::Arc<tokio::sync::Notify>,
}

const HELD_T1: &str = "1e1d1e1d1e1d1e1d1e1d1e1d1e1d1e1d1e1d1e1d";
const HELD_T2: &str = "2e2d2e2d2e2d2e2d2e2d2e2d2e2d2e2d2e2d2e2d";

async fn held_amp() -> HeldAmp {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    let (seen_tx, seen) = tokio::sync::mpsc::unbounded_channel();
    let go = Arc::new(tokio::sync::Notify::new());
    let logins = Arc::new(AtomicUsize::new(0));
    let held_go = Arc::clone(&go);
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let (seen_tx, go, logins) =
                (seen_tx.clone(), Arc::clone(&held_go), Arc::clone(&logins));
            tokio::spawn(async move {
                // The head, then as much body as it declares (left unread,
                // it would turn the close into a reset).
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let end = loop {
                    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    let n = conn.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                };
                let head = String::from_utf8_lossy(&data[..end]).into_owned();
                let field = |wanted: &str| {
                    head.lines().find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case(wanted)
                            .then(|| value.trim().to_string())
                    })
                };
                let length: usize = field("content-length").map_or(0, |v| v.parse().unwrap());
                while data.len() < end + length {
                    let n = conn.read(&mut buf).await.unwrap();
                    assert!(n > 0, "the body ended early");
                    data.extend_from_slice(&buf[..n]);
                }
                let authorization = field("authorization").unwrap_or_default();
                let request_line = head.lines().next().unwrap_or_default().to_string();
                let (status, body) = if request_line.starts_with("POST /api/user/obtain_token") {
                    let token = match logins.fetch_add(1, Ordering::SeqCst) {
                        0 => HELD_T1,
                        _ => HELD_T2,
                    };
                    ("200 OK", serde_json::json!({ "token": token }))
                } else if request_line.starts_with("GET /api/refuse/") {
                    if authorization == format!("token {HELD_T1}") {
                        (
                            "401 Unauthorized",
                            serde_json::json!({"detail": "Invalid token."}),
                        )
                    } else {
                        ("200 OK", serde_json::json!([]))
                    }
                } else if request_line.starts_with("GET /api/held/") {
                    let notified = go.notified();
                    seen_tx.send(authorization.clone()).unwrap();
                    notified.await;
                    (
                        "200 OK",
                        serde_json::json!({ "authorization": authorization }),
                    )
                } else {
                    ("404 Not Found", serde_json::json!({"detail": "Not found."}))
                };
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                conn.write_all(answer.as_bytes()).await.unwrap();
                let _ = conn.shutdown().await;
            });
        }
    });
    HeldAmp { base, seen, go }
}

// The race the agent must not lose: a caller's request goes out with the
// token T1 and its answer is held; meanwhile another caller's request is
// refused, the agent logs in again (T2) and replays it. The held answer
// then echoes T1, no longer the current token: it reaches its caller
// scrubbed all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_of_a_token_replaced_while_in_flight_reaches_the_caller_scrubbed() {
    let mut amp = held_amp().await;
    let home = TempDir::new("agent-echo-race");
    let (env, socket) = agent_env(&home, &amp.base);
    let agent = std::sync::Arc::new(
        Agent::start(
            &env,
            &["--socket", socket.to_str().unwrap()],
            home.path().join("agent.log"),
        )
        .await,
    );
    let held = tokio::spawn({
        let agent = std::sync::Arc::clone(&agent);
        async move { agent.call("GET", "/api/held/", None).await }
    });
    assert_eq!(amp.seen.recv().await.unwrap(), format!("token {HELD_T1}"));
    // Another caller's request is refused: one login (T2), one replay.
    let (code, answer) = agent.call("GET", "/api/refuse/", None).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(agent.status().await["agent"]["forwarded"], 1);
    amp.go.notify_one();
    let (code, answer) = held.await.unwrap();
    assert_eq!(code, 200, "{answer}");
    assert!(!answer.to_string().contains(HELD_T1), "{answer}");
    assert_eq!(answer["authorization"], "token [REDACTED]", "{answer}");
    let agent = std::sync::Arc::into_inner(agent).unwrap();
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_refresh_and_password_endpoints_are_refused_in_every_spelling() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-spellings");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;
    let before = sandbox.stats().total();
    let body = r#"{"username": "x", "password": "y"}"#;
    // Written as they are: an HTTP client could normalise some of them.
    let paths = [
        "/api/user/Obtain_Token",
        "/api/user/OBTAIN-TOKEN",
        "/api/user/obtain-token/",
        "/api//user/obtain_token",
        "/api/user/%6Fbtain_token",
        "/api/user/obtain%5Ftoken",
        "/api/user%2Fobtain_token",
        "/api/user%2fobtain_token",
        "/api/user/obtain_token?next=/api/assets/",
        "/api/user/Refresh-Token",
        "/api/user/refresh%2Dtoken/",
        "/api/user/Change_Password",
        "/api/managers/1/change%2Dpassword/",
        // A server may read these as the endpoint itself (a regex `$`
        // before a trailing newline, DRF's format suffixes).
        "/api/user/refresh-token%0A",
        "/api/managers/1/change-password%0a/",
        "/api/user/refresh-token.json",
        "/api/user/obtain_token;x",
    ];
    for path in paths {
        for method in ["POST", "GET"] {
            let answer = raw(
                agent.socket(),
                &format!(
                    "{method} {path} HTTP/1.1\r\nHost: amp\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            )
            .await;
            assert!(
                answer.starts_with("HTTP/1.1 403") || answer.starts_with("HTTP/1.1 404"),
                "{method} {path}: {answer}"
            );
            assert!(answer.contains("\"source\":\"amp agent\""), "{answer}");
        }
    }
    assert_eq!(sandbox.stats().total(), before, "AMP saw none of these");
    let status = agent.status().await;
    let refused = status["agent"]["blocked"].as_u64().unwrap()
        + status["agent"]["not_found"].as_u64().unwrap();
    assert_eq!(refused, 2 * paths.len() as u64, "{status}");
    assert_eq!(status["agent"]["forwarded"], 0, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_holds_no_token_key_or_password() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-status-secrets");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    let key_file = home.path().join("agent.key");
    let agent =
        Agent::start_both(&env, &socket, &key_file, &[], home.path().join("agent.log")).await;
    let (code, _) = agent.call("GET", "/api/assets/", None).await;
    assert_eq!(code, 200);
    // The token as AMP saw it on that call.
    let tokens = only_the_agents_tokens_reached_amp(&sandbox);
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let key = agent.key();
    let through_socket = agent.status().await.to_string();
    let through_tcp = amp_client::reqwest::Client::new()
        .get(format!("{}/agent/status", agent.url()))
        .header("X-AMP-Agent-Key", key.trim())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for status in [&through_socket, &through_tcp] {
        let parsed: Value = serde_json::from_str(status).unwrap();
        assert_eq!(parsed["token"]["state"], "valid", "{status}");
        assert!(parsed["token"]["fingerprint"].is_string(), "{status}");
        for (what, secret) in [
            ("the token", tokens[0].as_str()),
            ("the key", key.trim()),
            ("the password", sandbox.password()),
        ] {
            assert!(!secret.is_empty());
            assert!(!status.contains(secret), "{what} in the status: {status}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amp_gone_mid_run_is_a_502_and_amp_too_slow_a_504_from_the_agent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-gone");
    let env = Env::sandbox(&home, &sandbox)
        .set("API_REQUEST_TIMEOUT_SECONDS", "1")
        .set("API_RETRY_MAX_ATTEMPTS", "2");
    let socket = home.path().join("agent.sock");
    let agent = Agent::start(
        &env,
        &["--socket", socket.to_str().unwrap()],
        home.path().join("agent.log"),
    )
    .await;
    let (code, _) = agent.call("GET", "/api/assets/", None).await;
    assert_eq!(code, 200);

    // AMP slower than the client's request timeout, on both attempts.
    for _ in 0..2 {
        sandbox.push_fault("/assets", Fault::Delay(std::time::Duration::from_secs(30)));
    }
    let (code, body) = agent.call("GET", "/api/assets/", None).await;
    assert_eq!(code, 504, "{body}");
    assert_eq!(body["source"], "amp agent", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("amp agent: "),
        "{body}"
    );

    // AMP gone: nothing listens on its port any more.
    sandbox.shutdown().await;
    let (code, body) = agent.call("GET", "/api/assets/", None).await;
    assert_eq!(code, 502, "{body}");
    assert_eq!(body["source"], "amp agent", "{body}");
    let status = agent.status().await;
    assert_eq!(status["agent"]["failed"], 2, "{status}");
    // Still serving, and stops cleanly.
    let (exit, log) = agent.terminate().await;
    assert!(exit.success(), "{exit}: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_or_huge_cap_or_timeout_is_a_usage_error_naming_the_flag() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("agent-zero");
    let env = Env::sandbox(&home, &sandbox);
    let socket = home.path().join("agent.sock");
    // Too large is refused as well: a timeout beyond an `Instant`'s range
    // panicked in every connection's task, a cap beyond tokio's semaphore
    // at start.
    let huge = u64::MAX.to_string();
    for (flag, value) in [
        ("--max-in-flight", "0"),
        ("--max-connections", "0"),
        ("--head-timeout", "0"),
        ("--body-timeout", "0"),
        ("--max-in-flight", huge.as_str()),
        ("--max-connections", huge.as_str()),
        ("--head-timeout", huge.as_str()),
        ("--body-timeout", huge.as_str()),
        ("--shutdown-timeout", huge.as_str()),
        ("--max-body-bytes", huge.as_str()),
    ] {
        let run = env
            .run(&["agent", "--socket", socket.to_str().unwrap(), flag, value])
            .await;
        assert_eq!(run.code, 2, "{flag} {value}: {run:?}");
        assert!(run.stderr.contains(flag), "{flag} {value}: {run:?}");
        assert!(run.stdout.is_empty(), "{flag} {value}: {run:?}");
        assert!(!socket.exists(), "{flag} {value}: nothing left behind");
    }
    assert_eq!(sandbox.stats().total(), 0, "no login was tried");
}
