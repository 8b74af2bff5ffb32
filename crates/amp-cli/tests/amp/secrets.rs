//! What the `amp` binary lets out: no secret in trace-level logs of every
//! crate, in errors about the environment (an unreachable Redis store with a
//! password, odd base URLs and proxies), or in what reaches the terminal. Each
//! test runs the real binary against the sandbox.

use crate::support;

use amp_sandbox::Sandbox;
use support::{Env, TempDir};

fn assert_absent(text: &str, secret: &str, what: &str) {
    if let Some(i) = text.find(secret) {
        let from = text[..i]
            .char_indices()
            .rev()
            .nth(120)
            .map_or(0, |(j, _)| j);
        panic!("{what} leaked: …{}…", &text[from..i + secret.len()]);
    }
}

/// The token the file store holds after a run.
fn stored_token(path: &std::path::Path) -> String {
    let form: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("the token file")).unwrap();
    form["token"].as_str().unwrap().to_string()
}

/// With every log of every crate on at trace level (reqwest, hyper, h2,
/// rustls, the client), a login, a call, a refresh and a password change
/// log neither the password, nor the token, nor the new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_of_every_crate_hold_no_secret() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("review-trace");
    let file = home.path().join("token.json");
    let env = Env::sandbox(&home, &sandbox)
        .set("AMP_TOKEN_STORE", &format!("file:{}", file.display()))
        .set("RUST_LOG", "trace");
    let mut stderr = String::new();
    for args in [
        &["api", "GET", "assets/"][..],
        &["token", "refresh"],
        &["api", "GET", "categories/"],
    ] {
        let run = env.run(args).await;
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stderr.contains("TRACE"), "trace logs are on: {run:?}");
        stderr.push_str(&run.stderr);
    }
    let token = stored_token(&file);
    assert_absent(&stderr, sandbox.password(), "the password");
    assert_absent(&stderr, &token, "the token");

    let new_password = "Review-New-Pw-8c1d44e0";
    let run = env
        .clone()
        .set("AMP_NEW_PASSWORD", new_password)
        .run(&["user", "change-password"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_absent(&run.stderr, new_password, "the new password");
    assert_absent(&run.stdout, new_password, "the new password");
    assert_absent(&run.stderr, sandbox.password(), "the old password");
    let token = stored_token(&file);
    assert_absent(&run.stderr, &token, "the token after the change");
    assert_absent(&run.stdout, &token, "the token after the change");
}

/// A Redis URL with a password that cannot be reached: the error and the
/// trace logs name the store without the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_store_never_shows_its_password() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("review-redis");
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "Redis-Pw-5f0e9b77";
    for url in [
        format!("redis://:{secret}@127.0.0.1:{port}/0"),
        format!("redis://amp:{secret}@127.0.0.1:{port}/"),
        format!("rediss://amp:{secret}@127.0.0.1:{port}/"),
    ] {
        let env = Env::sandbox(&home, &sandbox)
            .set("AMP_TOKEN_STORE", &url)
            .set("RUST_LOG", "trace");
        let run = env.run(&["api", "GET", "assets/"]).await;
        assert_absent(&run.stderr, secret, "the Redis password");
        assert_absent(&run.stdout, secret, "the Redis password");
        let run = env.run(&["token", "status"]).await;
        assert_absent(&run.stderr, secret, "the Redis password");
        assert_absent(&run.stdout, secret, "the Redis password");
    }
}

/// Credentials in the base URL, an odd scheme, a proxy with a password
/// that cannot be used: refused, naming the variable, never quoting the
/// secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_environments_are_refused_without_quoting_secrets() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("review-env");
    let secret = "Url-Pw-1a2b3c4d";
    let base = sandbox.base_url();
    let with_user = base.replacen("://", &format!("://issuer:{secret}@"), 1);
    for (name, value) in [
        ("AMP_API_BASE_URL", with_user.clone()),
        ("AMP_API_BASE_URL", format!("file:///{secret}")),
        (
            "AMP_API_BASE_URL",
            format!("ftp://u:{secret}@example.com/api"),
        ),
        (
            "AMP_API_BASE_URL",
            format!("https://example.com/api?key={secret}"),
        ),
        (
            "AMP_API_BASE_URL",
            format!("https://example.com/api#{secret}"),
        ),
        (
            "HTTPS_PROXY",
            format!("socks5://u:{secret}@proxy.example:1080"),
        ),
        ("HTTPS_PROXY", format!("http://u:{secret}@[bad")),
    ] {
        let mut env = Env::sandbox(&home, &sandbox)
            .set(name, &value)
            .set("RUST_LOG", "trace");
        if name == "HTTPS_PROXY" {
            env = env.set("AMP_API_BASE_URL", "https://amp.example.com/api");
        }
        let run = env.run(&["api", "GET", "assets/"]).await;
        assert_ne!(run.code, 0, "{name}={value}: {run:?}");
        assert!(run.stderr.contains(name), "{name}={value}: {run:?}");
        assert_absent(&run.stderr, secret, name);
        assert_absent(&run.stdout, secret, name);
    }
}

/// A Redis "server" that accepts connections and never says a word (a
/// firewall that drops, a stopped process): every store operation is
/// bounded, so `amp` answers and exits; none of its threads waits for the
/// silent server after the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_store_never_holds_the_process() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("review-silent-redis");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = std::sync::Arc::clone(&held);
    let silent = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    for url in [
        format!("redis://127.0.0.1:{port}/"),
        format!("rediss://127.0.0.1:{port}/"),
    ] {
        let env = Env::sandbox(&home, &sandbox)
            .set("AMP_TOKEN_STORE", &url)
            .set("API_REQUEST_TIMEOUT_SECONDS", "2");
        let mut cmd = env.command(&["--json", "api", "GET", "assets/"]);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        let waited = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            tokio::task::spawn_blocking(move || child.wait_with_output()),
        )
        .await;
        if waited.is_err() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
        let output = waited
            .unwrap_or_else(|_| panic!("{url}: amp did not exit"))
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{url}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.trim_start().starts_with('['), "{url}: {stdout}");
    }
    assert!(
        !held.lock().unwrap().is_empty(),
        "amp reached the silent server"
    );
    silent.abort();
}
