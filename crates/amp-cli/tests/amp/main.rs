//! The real `amp` binary, run as a process against a sandbox started by the
//! test: exit codes, `--json` shapes, errors that name their variable, the
//! token commands with a file store, no secret in any output, and the demo.
//!
//! Every child starts from an empty environment (`env_clear`) with only PATH,
//! a private HOME and what the test sets, so the developer's own AMP_*
//! variables and token cache cannot leak in.

//!
//! The typed commands (every endpoint of the library) are in `issuer_flow.rs` (a
//! whole issuer flow) and `groups.rs` (each group of commands); a token file
//! shared between runs (a token bound to its account, a held lock, a token
//! file open to others) in `token_store.rs`; `amp token print` with a
//! stored token valid, in its refresh window or expired in
//! `token_print.rs`; what the binary lets out in `secrets.rs`; `amp
//! completions` in `completions.rs`; the helpers all of them share are in
//! `support.rs`.

#[cfg(unix)]
mod agent;
mod completions;
#[cfg(unix)]
mod crash;
mod groups;
mod issuer_flow;
mod onchain;
mod secrets;
mod support;
mod token_print;
mod token_store;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use amp_sandbox::{Fault, Sandbox};
use serde_json::Value;

use support::{sorted_keys, Env, TempDir};

const STATUS_KEYS: [&str; 6] = [
    "age_seconds",
    "expires_at",
    "expires_in_seconds",
    "fingerprint",
    "obtained_at",
    "state",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_shapes_of_token_status_assets_list_and_info() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("shapes");
    let env = Env::sandbox(&home, &sandbox);

    let status = env.run(&["token", "status", "--json"]).await.ok().json();
    assert_eq!(sorted_keys(&status), STATUS_KEYS);
    assert_eq!(status["state"], "none");
    assert!(status["fingerprint"].is_null() && status["expires_in_seconds"].is_null());

    let assets = env.run(&["--json", "assets", "list"]).await.ok().json();
    let assets = assets.as_array().expect("an array");
    assert_eq!(assets.len(), 3);
    for asset in assets {
        assert!(
            asset["asset_uuid"].is_string() && asset["name"].is_string(),
            "{asset}"
        );
    }

    let info = env.run(&["info", "--json"]).await.ok().json();
    assert!(info["version"].is_string(), "{info}");

    // For people: an aligned table with a header and one line per asset.
    let table = env.run(&["assets", "list"]).await.ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("UUID") && lines[0].contains("NAME"),
        "{table}"
    );
    let name_column = lines[0].find("NAME").unwrap();
    for line in &lines[1..] {
        assert_eq!(line.chars().nth(name_column - 1), Some(' '), "{table}");
        assert_ne!(line.chars().nth(name_column), Some(' '), "{table}");
    }

    let uuid = assets[0]["asset_uuid"].as_str().unwrap();
    let one = env
        .run(&["assets", "get", uuid, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(one, assets[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_prints_the_json_body() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("api");
    let env = Env::sandbox(&home, &sandbox);
    let via_api = env.run(&["api", "GET", "assets/"]).await.ok();
    assert!(
        via_api.stdout.contains("\n  "),
        "pretty: {}",
        via_api.stdout
    );
    let listed = env.run(&["assets", "list", "--json"]).await.ok().json();
    assert_eq!(via_api.json(), listed);
    // Any method, any case, with a body.
    let created = env
        .run(&[
            "api",
            "post",
            "/categories/add",
            "--data",
            r#"{"name": "Accredited", "description": "test"}"#,
        ])
        .await
        .ok()
        .json();
    assert_eq!(created["name"], "Accredited");
    assert_eq!(sandbox.count("POST", "/categories/add"), 1);
    // The body from a file, sent as it is (no typed request in between).
    let file = home.path().join("body.json");
    std::fs::write(&file, r#"{"name": "From a file", "description": ""}"#).unwrap();
    let data = format!("@{}", file.display());
    let created = env
        .run(&["api", "POST", "categories/add", "--data", &data])
        .await
        .ok()
        .json();
    assert_eq!(created["name"], "From a file");
    assert_eq!(sandbox.count("POST", "/categories/add"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_lists_as_a_table_and_as_json() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("resources");
    let env = Env::sandbox(&home, &sandbox);
    for (resource, header) in [
        ("registered-users", "NAME"),
        ("categories", "DESCRIPTION"),
        ("managers", "USERNAME"),
    ] {
        let list = env.run(&[resource, "list", "--json"]).await.ok().json();
        let items = list
            .as_array()
            .unwrap_or_else(|| panic!("{resource}: {list}"));
        assert!(!items.is_empty(), "{resource}");
        let id = items[0]["id"].as_i64().unwrap().to_string();
        let one = env.run(&[resource, "get", &id, "--json"]).await.ok().json();
        assert_eq!(one["id"], items[0]["id"], "{resource}");
        let table = env.run(&[resource, "list"]).await.ok().stdout;
        assert!(
            table.starts_with("ID") && table.contains(header),
            "{resource}: {table}"
        );
        assert_eq!(
            table.lines().count(),
            items.len() + 1,
            "{resource}: {table}"
        );
    }
    let user = env
        .run(&["registered-users", "get", "1", "--json"])
        .await
        .ok()
        .json();
    let gaid = user["GAID"].as_str().expect("user 1 has a GAID");
    let table = env.run(&["registered-users", "list"]).await.ok().stdout;
    assert!(table.contains(gaid), "the GAID column is filled: {table}");
    let valid = env
        .run(&["gaids", "validate", gaid, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(valid["is_valid"], true);
    let balance = env.run(&["gaids", "balance", gaid]).await.ok().stdout;
    assert!(balance.starts_with("ASSET_UUID"), "{balance}");
    // A numeric id is checked by the command line; nothing is sent for it.
    let run = env.run(&["categories", "get", "x"]).await;
    assert_eq!(run.code, 2, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_server_exits_1_with_the_cause_and_the_attempts() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.set_fault_rate("/assets", Fault::Status(503), 1.0);
    let home = TempDir::new("503");
    let env = Env::sandbox(&home, &sandbox).set("API_RETRY_MAX_ATTEMPTS", "2");
    let run = env.run(&["assets", "list"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("error: "), "{run:?}");
    assert!(run.stderr.contains("failed after 2 attempts"), "{run:?}");
    assert!(run.stderr.contains("503"), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_eq!(sandbox.count("GET", "/assets"), 2);

    // An error that is not retried says its one attempt too.
    sandbox.clear_faults();
    let run = env.run(&["api", "GET", "no/such/thing"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("404") && run.stderr.contains("1 attempt"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_exit_2_naming_the_variable_and_nothing_is_sent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("badenv");
    let base = Env::sandbox(&home, &sandbox);
    let cases = [
        ("API_RETRY_MAX_ATTEMPTS", "abc"),
        ("API_RETRY_BASE_DELAY_MS", "-5"),
        ("API_RETRY_MAX_DELAY_MS", "1"),
        ("API_REQUEST_TIMEOUT_SECONDS", "0"),
        ("AMP_API_BASE_URL", "ftp://127.0.0.1/api"),
        ("AMP_TOKEN_STORE", "sqlite:x"),
        ("AMP_ALLOW_INSECURE_HTTP", "maybe"),
        ("AMP_MAX_BODY_BYTES", "lots"),
        // A profile that does not exist, values beyond the bounds.
        ("AMP_ENV", "production"),
        ("API_RETRY_MAX_ATTEMPTS", "50"),
        ("API_RETRY_MAX_DELAY_MS", "86400000"),
        ("API_REQUEST_TIMEOUT_SECONDS", "3600"),
    ];
    for (name, value) in cases {
        for args in [&["assets", "list"][..], &["token", "login"], &["info"]] {
            let run = base.clone().set(name, value).run(args).await;
            assert_eq!(run.code, 2, "{name}={value} {args:?}: {run:?}");
            assert!(run.stderr.contains(name), "{name}={value}: {run:?}");
            assert!(run.stderr.starts_with("error: "), "{name}={value}: {run:?}");
        }
    }
    assert_eq!(
        sandbox.stats().total(),
        0,
        "{:?}",
        sandbox.stats().by_route()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_named_and_nothing_is_sent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("nocreds");
    let full = Env::sandbox(&home, &sandbox);
    let none = full.clone().unset("AMP_USERNAME").unset("AMP_PASSWORD");
    for args in [
        &["assets", "list"][..],
        &["token", "login"],
        &["token", "refresh"],
        &["api", "GET", "assets/"],
    ] {
        let run = none.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("AMP_USERNAME"), "{args:?}: {run:?}");
    }
    let half = full.clone().unset("AMP_PASSWORD");
    let run = half.run(&["assets", "list"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AMP_PASSWORD"), "{run:?}");
    let run = full
        .clone()
        .set("AMP_PASSWORD", "")
        .run(&["assets", "list"])
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AMP_PASSWORD"), "{run:?}");
    assert_eq!(
        sandbox.stats().total(),
        0,
        "{:?}",
        sandbox.stats().by_route()
    );
    // `info` needs no token, so no credentials either.
    none.run(&["info"]).await.ok();
}

/// Any character a terminal could act on, bar the newline: C0 and C1
/// controls, DEL, bidirectional overrides.
fn terminal_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || ('\u{202a}'..='\u{202e}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect()
}

/// Names, descriptions, messages and JSON from the server may hold escape
/// sequences (clear the screen, set the window title, a fake line of
/// output). Tables, JSON, `amp api`, errors and log lines show them escaped;
/// the JSON keeps its value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_never_drives_the_terminal() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("escapes");
    let env = Env::sandbox(&home, &sandbox);
    let hostile = serde_json::json!([{
        "id": 7,
        "name": "\u{1b}[2J\u{1b}]0;owned\u{7}wiped\u{9b}31m\u{7f}",
        "description": "two\nlines\rback\u{202e}desrever",
        "registered_users": [],
        "assets": [],
    }]);
    let serve = || sandbox.push_fault("/categories", Fault::Body(200, hostile.to_string()));

    serve();
    let table = env.run(&["categories", "list"]).await.ok();
    assert_eq!(
        terminal_controls(&table.stdout),
        Vec::<char>::new(),
        "{table:?}"
    );
    assert!(
        table
            .stdout
            .contains(r"\u{1b}[2J\u{1b}]0;owned\u{7}wiped\u{9b}31m\u{7f}"),
        "{table:?}"
    );
    assert!(
        table.stdout.contains(r"two lines\rback\u{202e}desrever"),
        "{table:?}"
    );
    assert_eq!(table.stdout.lines().count(), 2, "{table:?}");

    for args in [
        &["categories", "list", "--json"][..],
        &["api", "GET", "categories/"],
    ] {
        serve();
        let run = env.run(args).await.ok();
        assert_eq!(
            terminal_controls(&run.stdout),
            Vec::<char>::new(),
            "{args:?}: {run:?}"
        );
        assert_eq!(run.json(), hostile, "{args:?}: the value is kept");
    }

    // An error body, and the same text in the debug log of each retry.
    sandbox.set_fault_rate(
        "/categories",
        Fault::Body(
            503,
            "\u{1b}[2J\u{1b}]0;owned\u{7}\r\u{e}gone\nerror: fake".into(),
        ),
        1.0,
    );
    let run = env
        .clone()
        .set("RUST_LOG", "amp_client=debug")
        .set("API_RETRY_MAX_ATTEMPTS", "2")
        .run(&["categories", "list"])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("retrying"), "debug logs on: {run:?}");
    assert!(run.stderr.contains(r"\u{1b}[2J"), "{run:?}");
    assert_eq!(
        terminal_controls(&run.stderr),
        Vec::<char>::new(),
        "{run:?}"
    );
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("error: fake")),
        "{run:?}"
    );
}

/// A raw TCP listener standing in for a proxy (or a server): it records the
/// first bytes of every connection — an HTTP head, or the first record of a
/// TLS handshake — and answers 502.
struct Recorder {
    addr: std::net::SocketAddr,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    async fn start(bind: &str) -> Recorder {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let all = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let all = all.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    // Until the end of an HTTP head, or any TLS bytes; the
                    // timeout only bounds a client that sends too little.
                    loop {
                        let read =
                            tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf));
                        match read.await {
                            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                            _ => break,
                        }
                        if got.windows(4).any(|w| w == b"\r\n\r\n")
                            || got[0] == 0x16
                            || got.len() > 65_536
                        {
                            break;
                        }
                    }
                    all.lock().unwrap().push(got);
                    let _ = socket
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Recorder { addr, seen }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What each connection sent first, as text.
    fn seen(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    fn tls_handshakes(&self) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.first() == Some(&0x16))
            .count()
    }
}

/// With `HTTP_PROXY` set, plain http to loopback (an SSH tunnel,
/// the sandbox) sent the login — the password — in cleartext to the proxy.
/// A proxy on loopback still got it. An API root on loopback is
/// now reached directly whatever `HTTP_PROXY`, `HTTPS_PROXY` or `ALL_PROXY`
/// say, as Go's `net/http` does; each stand-in proxy records any
/// connection. The remote one listens on 0.0.0.0 and is named by that
/// address: not a loopback address, yet Linux connects it to this machine,
/// so nothing leaves the machine if the rule breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_api_root_never_goes_through_a_proxy() {
    let sandbox = Sandbox::start().await.unwrap();
    let remote = Recorder::start("0.0.0.0:0").await;
    let local = Recorder::start("127.0.0.1:0").await;
    let home = TempDir::new("proxy-loopback");
    let proxies = [
        format!("http://0.0.0.0:{}", remote.port()),
        format!("http://127.0.0.1:{}", local.port()),
        format!("http://localhost:{}", local.port()),
    ];
    for variable in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        for proxy in &proxies {
            let before = sandbox.count("POST", "/user/obtain_token");
            let run = Env::sandbox(&home, &sandbox)
                .set(variable, proxy)
                .set("RUST_LOG", "amp_client=debug")
                .run(&["token", "login"])
                .await;
            assert_eq!(run.code, 0, "{variable}={proxy}: {run:?}");
            assert!(
                run.stderr.contains("the API root is on loopback"),
                "{variable}={proxy}: the debug log says why: {run:?}"
            );
            assert_eq!(
                sandbox.count("POST", "/user/obtain_token"),
                before + 1,
                "{variable}={proxy}: the login went directly to the server"
            );
        }
    }
    assert_eq!(
        remote.seen(),
        Vec::<String>::new(),
        "the remote proxy got nothing"
    );
    assert_eq!(
        local.seen(),
        Vec::<String>::new(),
        "the loopback proxy got nothing"
    );

    // An https root on loopback too: the handshake goes to the server.
    let server = Recorder::start("127.0.0.1:0").await;
    let run = Env::new(&home)
        .set(
            "AMP_API_BASE_URL",
            &format!("https://127.0.0.1:{}/api", server.port()),
        )
        .set("AMP_USERNAME", "issuer")
        .set("AMP_PASSWORD", "pw-never-to-the-proxy")
        .set("AMP_TOKEN_STORE", "memory")
        .set("API_RETRY_MAX_ATTEMPTS", "1")
        .set("HTTPS_PROXY", &format!("http://127.0.0.1:{}", local.port()))
        .run(&["token", "login"])
        .await;
    assert_eq!(run.code, 1, "the stand-in server speaks no TLS: {run:?}");
    assert_eq!(server.tls_handshakes(), 1, "{:?}", server.seen());
    assert_eq!(
        local.seen(),
        Vec::<String>::new(),
        "the loopback proxy got nothing"
    );
}

/// Off loopback, plain http (allowed with `AMP_ALLOW_INSECURE_HTTP=1`) keeps
/// the rules of the library: a proxy on loopback (a local debugging proxy) may
/// see it, a remote one never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_off_loopback_goes_only_through_a_loopback_proxy() {
    let home = TempDir::new("proxy-http");
    let local = Recorder::start("127.0.0.1:0").await;
    let remote = Recorder::start("0.0.0.0:0").await;
    // 0.0.0.0: no loopback address, so the rules for other hosts apply;
    // Linux connects it to this machine, where the stand-in server listens.
    let server = Recorder::start("0.0.0.0:0").await;
    let base = format!("http://0.0.0.0:{}/api", server.port());
    let env = Env::new(&home)
        .set("AMP_API_BASE_URL", &base)
        .set("AMP_USERNAME", "issuer")
        .set("AMP_PASSWORD", "pw-plain")
        .set("AMP_TOKEN_STORE", "memory")
        .set("AMP_ALLOW_INSECURE_HTTP", "1")
        .set("API_RETRY_MAX_ATTEMPTS", "1");
    let run = env
        .clone()
        .set("HTTP_PROXY", &format!("http://127.0.0.1:{}", local.port()))
        .run(&["token", "login"])
        .await;
    assert_eq!(run.code, 1, "the stand-in answers 502: {run:?}");
    let login = format!("POST {base}/user/obtain_token");
    assert!(
        local.seen().iter().any(|r| r.starts_with(&login)),
        "{:?}",
        local.seen()
    );
    assert!(server.seen().is_empty(), "{:?}", server.seen());
    let run = env
        .set("HTTP_PROXY", &format!("http://0.0.0.0:{}", remote.port()))
        .set("RUST_LOG", "amp_client=debug")
        .run(&["token", "login"])
        .await;
    assert_eq!(run.code, 1, "the stand-in answers 502: {run:?}");
    assert!(run.stderr.contains("not on loopback"), "{run:?}");
    assert_eq!(
        remote.seen(),
        Vec::<String>::new(),
        "the remote proxy got nothing"
    );
    assert!(
        server
            .seen()
            .iter()
            .any(|r| r.starts_with("POST /api/user/obtain_token")),
        "{:?}",
        server.seen()
    );
}

/// https may use the standard proxy variables (the proxy only relays a TLS
/// tunnel), `NO_PROXY` is respected, and the proxy in use shows at debug
/// level without its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_the_proxy_unless_no_proxy_says_otherwise() {
    let proxy = Recorder::start("127.0.0.1:0").await;
    // 0.0.0.0: no loopback address (a loopback root never takes a proxy),
    // yet Linux connects it to this machine, where the stand-in listens.
    let server = Recorder::start("0.0.0.0:0").await;
    let home = TempDir::new("proxy-https");
    let base = format!("https://0.0.0.0:{}/api", server.port());
    let env = Env::new(&home)
        .set("AMP_API_BASE_URL", &base)
        .set("AMP_USERNAME", "issuer")
        .set("AMP_PASSWORD", "pw-never-to-the-proxy")
        .set("AMP_TOKEN_STORE", "memory")
        .set("API_RETRY_MAX_ATTEMPTS", "1")
        .set("RUST_LOG", "amp_client=debug")
        .set(
            "HTTPS_PROXY",
            &format!("http://proxyuser:proxy-secret@127.0.0.1:{}", proxy.port()),
        );

    let run = env.run(&["token", "login"]).await;
    assert_eq!(run.code, 1, "the stand-in refuses the tunnel: {run:?}");
    let seen = proxy.seen();
    let connect = format!("CONNECT 0.0.0.0:{} HTTP/1.1", server.port());
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with(&connect), "{seen:?}");
    assert!(!seen[0].contains("pw-never-to-the-proxy"), "{seen:?}");
    assert_eq!(server.seen().len(), 0, "nothing went directly");
    // Visible at debug level, the proxy's password hidden.
    assert!(
        run.stderr.contains("requests go through a proxy")
            && run
                .stderr
                .contains(&format!("proxyuser:***@127.0.0.1:{}", proxy.port())),
        "{run:?}"
    );
    assert!(!run.stderr.contains("proxy-secret"), "{run:?}");

    // NO_PROXY: straight to the server (which sees a TLS handshake).
    for list in ["0.0.0.0", "localhost,0.0.0.0/8", "*"] {
        let run = env
            .clone()
            .set("NO_PROXY", list)
            .run(&["token", "login"])
            .await;
        assert_eq!(run.code, 1, "the stand-in server speaks no TLS: {run:?}");
        assert!(
            run.stderr.contains("exempt from the proxy"),
            "{list}: {run:?}"
        );
    }
    assert_eq!(proxy.seen().len(), 1, "no more tunnels");
    assert_eq!(server.tls_handshakes(), 3, "{:?}", server.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_flag_value_names_the_flag() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("flags");
    let env = Env::sandbox(&home, &sandbox);
    let run = env.run(&["--base-url", "not a url", "info"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--base-url"), "{run:?}");
    let run = env.run(&["assets", "list", "--store", "sqlite:x"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--store"), "{run:?}");
    // A password on the command line, where `ps` shows it to every user of
    // the machine: refused before anything runs, pointing at the variable,
    // the password not repeated.
    for args in [
        &[
            "--store",
            "rediss://amp:hunter2@127.0.0.1:1/0",
            "token",
            "status",
        ][..],
        &["token", "status", "--store=redis://:hunter2@127.0.0.1:1/0"],
    ] {
        let run = env.run(args).await;
        let run = run.fails(2, &["--store", "AMP_TOKEN_STORE", "ps"]);
        assert!(!run.stderr.contains("hunter2"), "{run:?}");
    }
    assert_eq!(sandbox.stats().total(), 0, "nothing was sent");
    // The flag wins over its variable.
    let run = env
        .clone()
        .set("AMP_API_BASE_URL", "http://127.0.0.1:1/api")
        .run(&["--base-url", &sandbox.base_url(), "info", "--json"])
        .await
        .ok();
    assert!(run.json()["version"].is_string());
    assert_eq!(sandbox.count("GET", "/info"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("usage");
    let env = Env::sandbox(&home, &sandbox);
    for args in [
        &["frobnicate"][..],
        &[],
        &["api", "GET"],
        &["api", "GET", "assets/", "--data", "{"],
        &["api", "G T", "assets/"],
        &["assets", "get", "../user"],
        &["sandbox", "--port", "http"],
        &["sandbox", "--fault", "/assets=teapot"],
        &["--json=maybe", "info"],
    ] {
        let run = env.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("error") || run.stderr.contains("Usage"),
            "{args:?}: {run:?}"
        );
    }
    assert_eq!(
        sandbox.stats().total(),
        0,
        "{:?}",
        sandbox.stats().by_route()
    );
    env.run(&["--help"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_login_status_refresh_clear_with_a_file_store() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("file");
    let file = home.path().join("tokens").join("amp.json");
    let spec = format!("file:{}", file.display());
    let env = Env::sandbox(&home, &sandbox).unset("AMP_TOKEN_STORE");
    let amp = |args: &[&str]| {
        let mut all = vec!["--store", spec.as_str()];
        all.extend_from_slice(args);
        let env = env.clone();
        let all: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        async move {
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            env.run(&all).await
        }
    };

    let status = amp(&["token", "status", "--json"]).await.ok().json();
    assert_eq!(status["state"], "none");
    // Keep-fresh is for services: a command neither starts it nor logs in
    // behind `token status`.
    let status = env
        .clone()
        .set("AMP_TOKEN_KEEP_FRESH", "1")
        .run(&["--store", &spec, "token", "status", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(status["state"], "none");
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 0);

    let login = amp(&["token", "login", "--json"]).await.ok().json();
    assert_eq!(sorted_keys(&login), STATUS_KEYS);
    assert_eq!(login["state"], "valid");
    assert!(login["expires_in_seconds"].as_u64().unwrap() > 23 * 3600);
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    assert!(file.exists(), "the token file was written");

    // A later process finds the token in the file: no request at all.
    let before = sandbox.stats().total();
    let status = amp(&["token", "status", "--json"]).await.ok().json();
    assert_eq!(status["state"], "valid");
    assert_eq!(status["fingerprint"], login["fingerprint"]);
    assert_eq!(sandbox.stats().total(), before);
    let human = amp(&["token", "status"]).await.ok().stdout;
    assert!(human.contains("valid") && human.contains(login["fingerprint"].as_str().unwrap()));

    // … and uses it, even without credentials.
    let no_creds = env.clone().unset("AMP_USERNAME").unset("AMP_PASSWORD");
    no_creds
        .run(&["--store", &spec, "assets", "list"])
        .await
        .ok();
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);

    let refreshed = amp(&["token", "refresh", "--json"]).await.ok().json();
    assert_eq!(refreshed["state"], "valid");
    assert_ne!(refreshed["fingerprint"], login["fingerprint"]);
    assert_eq!(sandbox.count("GET", "/user/refresh-token"), 1);
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);

    let cleared = amp(&["token", "clear", "--json"]).await.ok().json();
    assert_eq!(cleared["state"], "none");
    let status = amp(&["token", "status", "--json"]).await.ok().json();
    assert_eq!(status["state"], "none");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_store_is_a_file_in_the_cache_folder() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("default-store");
    let env = Env::sandbox(&home, &sandbox).unset("AMP_TOKEN_STORE");
    let login = env.run(&["token", "login", "--json"]).await.ok().json();
    let folder = home.path().join(".cache").join("amp");
    let files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("token-") && n.ends_with(".json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        files[0].len(),
        "token-".len() + 16 + ".json".len(),
        "{files:?}"
    );
    // The next run shares the login.
    let status = env.run(&["token", "status", "--json"]).await.ok().json();
    assert_eq!(status["fingerprint"], login["fingerprint"]);
    env.run(&["assets", "list"]).await.ok();
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    // Another user gets another file.
    let other = Sandbox::builder()
        .credentials("someone-else", "another-password")
        .start()
        .await
        .unwrap();
    Env::sandbox(&home, &other)
        .unset("AMP_TOKEN_STORE")
        .run(&["token", "login"])
        .await
        .ok();
    assert_eq!(
        std::fs::read_dir(&folder)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".json")
            })
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_token_on_stdout_or_stderr_at_trace_level() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("secrets");
    let file = home.path().join("t.json");
    let env = Env::sandbox(&home, &sandbox)
        .set("AMP_TOKEN_STORE", &format!("file:{}", file.display()))
        .set("RUST_LOG", "trace");
    let mut outputs = Vec::new();
    for args in [
        &["token", "login"][..],
        &["token", "status"],
        &["token", "status", "--json"],
        &["assets", "list"],
        &["api", "GET", "assets/"],
        &["token", "refresh"],
        &["info"],
    ] {
        outputs.push(env.run(args).await.ok());
    }
    // A revoked token: the stored one is sent, refused, and replaced.
    sandbox.revoke_all_tokens();
    outputs.push(env.run(&["assets", "list", "--json"]).await.ok());
    assert!(sandbox.stats().requests.iter().any(|r| r.status == 401));
    // A refresh that fails and falls back to a login.
    sandbox.push_fault("/user/refresh-token", Fault::Status(500));
    sandbox.push_fault("/user/refresh-token", Fault::Status(500));
    sandbox.push_fault("/user/refresh-token", Fault::Status(500));
    outputs.push(env.run(&["token", "refresh"]).await.ok());
    // A server error on login, and refused credentials, with another password.
    sandbox.push_fault("/user/obtain_token", Fault::Status(502));
    outputs.push(env.run(&["token", "login"]).await.ok());
    let wrong = "wrong-password-5f1e";
    let wrong_env = env.clone().set("AMP_PASSWORD", wrong);
    // With a valid token stored, a refused login still fails the command.
    let refused = wrong_env.run(&["token", "login"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    outputs.push(refused);
    let refused = wrong_env
        .clone()
        .set("AMP_TOKEN_STORE", "memory")
        .run(&["assets", "list"])
        .await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("refused the credentials"),
        "{refused:?}"
    );
    outputs.push(refused);

    let mut tokens: BTreeSet<String> = sandbox
        .stats()
        .requests
        .iter()
        .filter_map(|r| r.authorization.as_deref())
        .filter_map(|a| a.strip_prefix("token "))
        .map(str::to_string)
        .collect();
    // The last token obtained was never sent: take it from the file.
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    tokens.insert(stored["token"].as_str().unwrap().to_string());
    assert!(tokens.len() >= 3, "tokens were used: {tokens:?}");
    for t in &tokens {
        assert_eq!(t.len(), 40, "{t}");
    }
    let all: String = outputs
        .iter()
        .map(|r| format!("{}\n{}\n", r.stdout, r.stderr))
        .collect();
    assert!(
        all.contains("TRACE") || all.contains("DEBUG"),
        "trace logging is on"
    );
    assert!(
        all.contains("token obtained") || all.contains("obtain"),
        "the login is logged"
    );
    assert!(!all.contains(sandbox.password()), "the password leaked");
    assert!(!all.contains(wrong), "the wrong password leaked");
    for t in &tokens {
        assert!(!all.contains(t.as_str()), "a token leaked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_completes_with_no_failures() {
    let home = TempDir::new("demo");
    let run = Env::new(&home).run(&["demo"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let row = |name: &str| -> String {
        run.stdout
            .lines()
            .map(str::trim)
            .find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(name)).then(|| words.next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("no {name} row: {}", run.stdout))
    };
    assert_eq!(row("failures"), "0", "{}", run.stdout);
    assert_eq!(row("logins"), "3", "{}", run.stdout);
    assert_eq!(row("refreshes"), "1", "{}", run.stdout);
    assert_eq!(row("429s"), "1", "{}", run.stdout);
    assert_eq!(row("401s"), "1", "{}", run.stdout);
    assert!(!run.stdout.contains("UNEXPECTED"), "{}", run.stdout);
    assert!(!run.stdout.contains("sandbox-password"), "{}", run.stdout);
}

#[cfg(unix)]
#[test]
fn the_sandbox_command_prints_what_to_paste_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let home = TempDir::new("sandbox-cmd");
    let mut child = Env::new(&home)
        .command(&["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut vars = Vec::new();
    for expected in ["AMP_API_BASE_URL", "AMP_USERNAME", "AMP_PASSWORD"] {
        let line = lines.next().unwrap().unwrap();
        let (name, value) = line.split_once('=').unwrap();
        assert_eq!(name, expected);
        vars.push((name.to_string(), value.to_string()));
    }
    assert!(vars[0].1.starts_with("http://127.0.0.1:") && vars[0].1.ends_with("/api"));
    // Then how to reach the simulated Elements node: its URL, its cookie.
    let node = lines.next().unwrap().unwrap();
    let url = node
        .strip_prefix("# Elements node (simulated): http://")
        .unwrap();
    assert!(
        url.starts_with("sandbox-rpc:sandbox-rpc-password@127.0.0.1:"),
        "{node}"
    );
    let cookie = lines.next().unwrap().unwrap();
    let cookie = std::path::PathBuf::from(cookie.strip_prefix("# node cookie: ").unwrap());
    let secret = std::fs::read_to_string(&cookie).unwrap();
    assert!(
        secret.starts_with("__cookie__:") && secret.len() == 11 + 64,
        "{secret}"
    );

    // What was printed is enough to use it.
    let mut env = Env::new(&home).set("AMP_TOKEN_STORE", "memory");
    for (k, v) in &vars {
        env = env.set(k, v);
    }
    let out = env.command(&["assets", "list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let assets: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(assets.as_array().unwrap().len(), 3);

    // Ctrl-C (SIGINT) stops it cleanly.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("amp sandbox did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
