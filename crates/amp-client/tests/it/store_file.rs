//! The file token store against a real local AMP server (the sandbox): one
//! login shared by clients and processes, survival of restarts, kills and
//! corrupt files, and renewal decisions taken from the file's token.
//!
//! Some tests start child processes by running this test binary again with
//! `child_entry` as the only test and `AMP_STORE_TEST_CHILD` naming what to
//! do; without that variable `child_entry` returns at once, and it is
//! ignored unless asked for by name.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, FileStore, StoreSpec, TokenData, TokenStore};
use amp_sandbox::Sandbox;
use chrono::Utc;
use secrecy::ExposeSecret;

const CHILD_VAR: &str = "AMP_STORE_TEST_CHILD";
const START_AT_VAR: &str = "AMP_STORE_TEST_START_AT_MS";
const OBTAIN: &str = "/user/obtain_token";
const REFRESH: &str = "/user/refresh-token";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amp-store-file-{name}-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(sandbox: &Sandbox, path: &Path) -> Config {
    Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .token_store(StoreSpec::File(path.to_path_buf()))
        .build()
        .unwrap()
}

fn client(sandbox: &Sandbox, path: &Path) -> AmpClient {
    AmpClient::new(config(sandbox, path)).unwrap()
}

/// `token` bound to the sandbox's account, as the manager writes it.
fn ours(sandbox: &Sandbox, token: TokenData) -> TokenData {
    token.for_account(amp_client::account_name(
        &sandbox.base_url(),
        sandbox.username(),
    ))
}

fn logins(sandbox: &Sandbox) -> u64 {
    sandbox.count("POST", OBTAIN)
}

fn refreshes(sandbox: &Sandbox) -> u64 {
    sandbox.count("GET", REFRESH) + sandbox.count("POST", REFRESH)
}

/// What the file holds, read by a fresh store.
async fn stored(path: &Path) -> Option<TokenData> {
    FileStore::new(path).load().await.unwrap()
}

fn corrupt_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".corrupt-"))
        .collect()
}

/// Starts this test binary again as a child doing `role`.
fn spawn_child(role: &str, envs: &[(&str, String)]) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "store_file::child_entry",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_VAR, role)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The environment a child client reads its configuration from.
fn client_env(sandbox: &Sandbox, path: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("AMP_API_BASE_URL", sandbox.base_url()),
        ("AMP_USERNAME", sandbox.username().to_string()),
        ("AMP_PASSWORD", sandbox.password().to_string()),
        ("AMP_TOKEN_STORE", format!("file:{}", path.display())),
    ]
}

async fn wait_output(child: std::process::Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

/// The entry point of child processes; a no-op in a normal test run.
#[test]
#[ignore = "not a test: the entry point of the child processes this module's tests start"]
fn child_entry() {
    let Ok(role) = std::env::var(CHILD_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        match role.as_str() {
            // Wait for the common start time, then get a token through the
            // file store named by AMP_TOKEN_STORE.
            "login" => {
                let client = AmpClient::from_env().unwrap();
                if let Ok(at) = std::env::var(START_AT_VAR) {
                    let at: i64 = at.parse().unwrap();
                    let wait = at - Utc::now().timestamp_millis();
                    if wait > 0 {
                        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                    }
                }
                let token = client.token_manager().token().await.unwrap();
                println!("\nFINGERPRINT={}", token.data().fingerprint());
            }
            // Write new tokens to the file as fast as possible, until killed.
            "writer" => {
                let path = std::env::var("AMP_STORE_TEST_PATH").unwrap();
                let store = FileStore::new(path);
                let now = Utc::now();
                for i in 0u64.. {
                    let t = TokenData::new(writer_token(i), now, now + chrono::Duration::hours(24));
                    store.save(&t).await.unwrap();
                }
            }
            other => panic!("unknown child role {other}"),
        }
    });
}

fn writer_token(i: u64) -> String {
    format!("writer-{i:016}-{}", "f".repeat(40))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_one_file_log_in_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("two-clients");
    let path = dir.join("token.json");
    let a = client(&sandbox, &path);
    let b = client(&sandbox, &path);
    let (ta, tb) = tokio::join!(a.token_manager().token(), b.token_manager().token());
    let (ta, tb) = (ta.unwrap(), tb.unwrap());
    assert!(ta.data().same_token(tb.data()));
    assert_eq!(logins(&sandbox), 1);
    // Both use it for calls.
    a.assets().list().await.unwrap();
    b.assets().list().await.unwrap();
    assert_eq!(logins(&sandbox), 1);
    assert_eq!(stored(&path).await.unwrap(), *ta.data());
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_client_reuses_the_stored_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("restart");
    let path = dir.join("token.json");
    let first = client(&sandbox, &path);
    first.assets().list().await.unwrap();
    let token = first.token_manager().snapshot().unwrap();
    drop(first);
    assert_eq!(logins(&sandbox), 1);

    // A new client, as after a restart: no new login.
    let second = client(&sandbox, &path);
    second.assets().list().await.unwrap();
    assert_eq!(logins(&sandbox), 1);
    assert!(second
        .token_manager()
        .snapshot()
        .unwrap()
        .same_token(&token));
    // And a new process too.
    let out = wait_output(spawn_child("login", &client_env(&sandbox, &path))).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("FINGERPRINT={}", token.fingerprint())),
        "{stdout}"
    );
    assert_eq!(logins(&sandbox), 1);
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_started_together_log_in_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("eight");
    let path = dir.join("sub/token.json");
    // Every child waits for the same instant, so they really compete.
    let start_at = Utc::now().timestamp_millis() + 1500;
    let mut env = client_env(&sandbox, &path);
    env.push((START_AT_VAR, start_at.to_string()));
    let children: Vec<_> = (0..8).map(|_| spawn_child("login", &env)).collect();
    let mut fingerprints = Vec::new();
    for child in children {
        let out = wait_output(child).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fp = stdout
            .lines()
            .find_map(|l| l.split("FINGERPRINT=").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no fingerprint in {stdout}"))
            .to_string();
        fingerprints.push(fp);
    }
    assert_eq!(logins(&sandbox), 1, "exactly one login among 8 processes");
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "{fingerprints:?}");
    assert_eq!(stored(&path).await.unwrap().fingerprint(), fingerprints[0]);
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_mid_write_never_leaves_a_broken_file() {
    let dir = temp_dir("kill");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let now = Utc::now();
    let initial = TokenData::new(
        format!("initial-{}", "0".repeat(40)),
        now,
        now + chrono::Duration::hours(24),
    );
    store.save(&initial).await.unwrap();
    let check = |t: Option<TokenData>| {
        let t = t.expect("the file must always hold a token");
        let s = t.token().expose_secret();
        assert!(
            t == initial || (s.starts_with("writer-") && s.len() == writer_token(0).len()),
            "an unexpected token: {t:?}"
        );
    };
    let mut reads = 0u32;
    for _ in 0..12 {
        let mut child = spawn_child(
            "writer",
            &[("AMP_STORE_TEST_PATH", path.display().to_string())],
        );
        // Read while it writes, then kill it at a random moment.
        let until = tokio::time::Instant::now() + Duration::from_millis(fastrand::u64(30..150));
        while tokio::time::Instant::now() < until {
            check(store.load().await.unwrap());
            reads += 1;
        }
        child.kill().unwrap(); // SIGKILL on unix
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(!status.success());
        check(store.load().await.unwrap());
    }
    assert!(reads > 0);
    let last = store.load().await.unwrap().unwrap();
    assert!(
        last.token().expose_secret().starts_with("writer-"),
        "the writers wrote"
    );
    assert!(corrupt_files(&dir).is_empty(), "nothing was ever set aside");
    let torn = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .count();
    eprintln!("{reads} reads; {torn} writes torn by the kills");
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_token_inside_the_window_is_refreshed_with_itself() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("window");
    let path = dir.join("token.json");
    let raw = sandbox.issue_token();
    let now = Utc::now();
    // 3 minutes left: inside the 5-minute refresh window, well before the hard point.
    let old = ours(
        &sandbox,
        TokenData::new(
            raw.clone(),
            now - chrono::Duration::minutes(24 * 60 - 3),
            now + chrono::Duration::minutes(3),
        ),
    );
    FileStore::new(&path).save(&old).await.unwrap();

    let client = client(&sandbox, &path);
    let token = client.token_manager().token().await.unwrap();
    assert_eq!(refreshes(&sandbox), 1, "refreshed once");
    assert_eq!(logins(&sandbox), 0, "not obtained");
    let stats = sandbox.stats();
    let records = stats.records_for(REFRESH);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].authorization.as_deref(),
        Some(format!("token {raw}").as_str()),
        "the refresh carries the file's token"
    );
    assert!(!token.data().same_token(&old));
    assert!(token.data().expires_at > old.expires_at);
    assert_eq!(stored(&path).await.unwrap(), *token.data());
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_file_token_is_not_refreshed_but_obtained() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("expired");
    let path = dir.join("token.json");
    let now = Utc::now();
    let old = ours(
        &sandbox,
        TokenData::new(
            sandbox.issue_token(),
            now - chrono::Duration::hours(25),
            now - chrono::Duration::minutes(1),
        ),
    );
    FileStore::new(&path).save(&old).await.unwrap();

    let client = client(&sandbox, &path);
    // Status shows what the file holds without renewing it.
    let info = client.token_manager().load_from_store().await.unwrap();
    assert_eq!(info.state, amp_client::TokenState::Expired);
    assert_eq!(logins(&sandbox), 0);
    let token = client.token_manager().token().await.unwrap();
    assert_eq!(refreshes(&sandbox), 0);
    assert_eq!(logins(&sandbox), 1);
    assert!(!token.data().same_token(&old));
    assert_eq!(stored(&path).await.unwrap(), *token.data());
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_corrupt_file_is_survived_with_one_fresh_login() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("corrupt");
    let good = |f: &dyn Fn(String) -> String| {
        let now = Utc::now();
        f(format!(
            r#"{{"version":2,"token":"{}","obtained_at":"{}","expires_at":"{}"}}"#,
            sandbox.issue_token(),
            now.to_rfc3339(),
            (now + chrono::Duration::hours(24)).to_rfc3339()
        ))
        .into_bytes()
    };
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("empty file", Vec::new()),
        ("truncated JSON", good(&|s| s[..s.len() - 20].to_string())),
        ("not JSON", b"this is not json".to_vec()),
        (
            "version 1 (no account)",
            good(&|s| s.replace(r#""version":2"#, r#""version":1"#)),
        ),
        (
            "empty token",
            good(&|s| {
                let start = s.find(r#""token":""#).unwrap() + 9;
                let end = start + s[start..].find('"').unwrap();
                format!("{}{}", &s[..start], &s[end..])
            }),
        ),
        (
            "bad date",
            good(&|s| s.replace("\"obtained_at\":\"", "\"obtained_at\":\"x")),
        ),
        ("binary garbage", vec![0x00, 0xff, 0x9c, 0x7b, 0x01, 0xfe]),
    ];
    for (i, (what, bytes)) in forms.into_iter().enumerate() {
        let path = dir.join(format!("token-{i}.json"));
        fs::write(&path, &bytes).unwrap();
        // Owner-only, as the store writes it: a file open to others is
        // refused rather than set aside (`a_planted_token_file_is_never_adopted`).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let before = logins(&sandbox);
        let client = client(&sandbox, &path);
        let assets = client.assets().list().await;
        assert!(assets.is_ok(), "{what}: {assets:?}");
        assert_eq!(logins(&sandbox), before + 1, "{what}: one fresh login");
        let now_stored = stored(&path)
            .await
            .unwrap_or_else(|| panic!("{what}: nothing stored"));
        assert!(client
            .token_manager()
            .snapshot()
            .unwrap()
            .same_token(&now_stored));
        let aside: Vec<_> = corrupt_files(&dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("token-{i}.json.corrupt-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{what}: set aside once");
        assert_eq!(
            fs::read(&aside[0]).unwrap(),
            bytes,
            "{what}: kept as it was"
        );
        // A restarted client uses the new token.
        let again = client_with_store(&sandbox, &path);
        again.assets().list().await.unwrap();
        assert_eq!(logins(&sandbox), before + 1, "{what}: reused after restart");
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// A client given its store directly rather than through the config.
fn client_with_store(sandbox: &Sandbox, path: &Path) -> AmpClient {
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap();
    AmpClient::builder(config)
        .store(Arc::new(FileStore::new(path)))
        .build()
        .unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_file_has_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("mode");
    let path = dir.join("new/token.json");
    client(&sandbox, &path).assets().list().await.unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.join("new")), 0o700);
    fs::remove_dir_all(&dir).unwrap();
}

/// Another user's token planted where ours is kept, in a file of another
/// owner (open to others or not): the client never adopts it, logs in
/// itself, works from memory, and leaves the planted file as it was: not
/// read, not set aside, not overwritten.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (chowns a file to another user): run as root with --ignored, as .ci/run does"]
async fn a_planted_token_file_of_another_user_is_refused_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("planted");
    // The attacker's token: valid, bound to our account, and the sandbox
    // would accept it.
    let theirs = sandbox.issue_token();
    let now = Utc::now();
    let planted = ours(
        &sandbox,
        TokenData::new(theirs.clone(), now, now + chrono::Duration::hours(24)),
    );
    for mode in [0o600, 0o644] {
        let path = dir.join(format!("token-{mode:o}.json"));
        FileStore::new(&path).save(&planted).await.unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        // Needs root: the test is ignored unless asked for.
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).expect("chown needs root");
        let before_bytes = fs::read(&path).unwrap();
        let before = logins(&sandbox);
        let client = client(&sandbox, &path);
        client.assets().list().await.unwrap();
        assert_eq!(
            logins(&sandbox),
            before + 1,
            "{mode:o}: logged in, not adopted"
        );
        let used = client.token_manager().snapshot().unwrap();
        assert!(
            !used.same_token(&planted),
            "{mode:o}: the planted token is not used"
        );
        assert_eq!(
            fs::read(&path).unwrap(),
            before_bytes,
            "{mode:o}: not overwritten"
        );
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            mode,
            "{mode:o}: untouched"
        );
        assert!(corrupt_files(&dir).is_empty(), "{mode:o}: not set aside");
        assert!(exposed_files(&dir).is_empty(), "{mode:o}: not set aside");
        let e = FileStore::new(&path).load().await.unwrap_err().to_string();
        assert!(e.contains("refusing the token file"), "{mode:o}: {e}");
        assert!(e.contains("uid 65534"), "{mode:o}: {e}");
        assert!(!e.contains(&theirs), "{mode:o}: {e}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

fn exposed_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".exposed-"))
        .collect()
}

/// A token file of ours open to others (0644, 0666) was refused,
/// and the client "worked from memory until it answers", which it never
/// did: every process logged in anew until someone ran `chmod`. Now the
/// file is set aside (its token may have been read: never used, even
/// though it is valid and our account's), the client logs in once, and a
/// fresh private file serves the next client without a login.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_open_to_others_heals_with_one_login() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("heals");
    let mode_of = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for mode in [0o644, 0o666] {
        let path = dir.join(format!("token-{mode:o}.json"));
        let now = Utc::now();
        let exposed = ours(
            &sandbox,
            TokenData::new(
                sandbox.issue_token(),
                now,
                now + chrono::Duration::hours(24),
            ),
        );
        FileStore::new(&path).save(&exposed).await.unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let exposed_bytes = fs::read(&path).unwrap();
        let before = logins(&sandbox);

        let first = client(&sandbox, &path);
        first.assets().list().await.unwrap();
        assert_eq!(logins(&sandbox), before + 1, "{mode:o}: one login");
        let used = first.token_manager().snapshot().unwrap();
        assert!(
            !used.same_token(&exposed),
            "{mode:o}: the exposed token is never used"
        );
        // A fresh private file with the new token.
        assert_eq!(mode_of(&path), 0o600, "{mode:o}");
        assert!(stored(&path).await.unwrap().same_token(&used), "{mode:o}");
        // The exposed one set aside, private too.
        let aside: Vec<_> = exposed_files(&dir)
            .into_iter()
            .filter(|p| {
                p.to_string_lossy()
                    .contains(&format!("token-{mode:o}.json."))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{mode:o}: {aside:?}");
        assert_eq!(fs::read(&aside[0]).unwrap(), exposed_bytes, "{mode:o}");
        assert_eq!(mode_of(&aside[0]), 0o600, "{mode:o}");

        // Healed: the next client (a next process) shares the new token.
        let next = client(&sandbox, &path);
        next.assets().list().await.unwrap();
        assert_eq!(logins(&sandbox), before + 1, "{mode:o}: no second login");
        assert!(next.token_manager().snapshot().unwrap().same_token(&used));
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// A token folder anyone may write in (mode 0777, without `/tmp`'s sticky
/// bit): whoever can rename files there can swap ours between two of our
/// steps. The store refuses the folder before any file in it is read,
/// written or locked, with an error naming the folder and its mode; the
/// client logs in and works from memory, and nothing of the token lands in
/// the folder. With the sticky bit (`1777`), or with group-write only, the
/// folder is used.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_folder_anyone_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("open-folder");
    let open = dir.join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let path = open.join("token.json");
    let store = FileStore::new(&path);
    let now = Utc::now();
    let token = ours(
        &sandbox,
        TokenData::new(
            sandbox.issue_token(),
            now,
            now + chrono::Duration::hours(24),
        ),
    );
    for (what, result) in [
        ("load", store.load().await.map(|_| ())),
        ("save", store.save(&token).await),
        ("lock", store.lock().await.map(|_| ())),
        ("discard", store.discard(&token).await),
    ] {
        let e = result.expect_err(what).to_string();
        assert!(e.contains(&open.display().to_string()), "{what}: {e}");
        assert!(e.contains("0777"), "{what}: {e}");
        assert!(!e.contains(token.token().expose_secret()), "{what}: {e}");
    }
    let before = logins(&sandbox);
    client(&sandbox, &path).assets().list().await.unwrap();
    assert_eq!(logins(&sandbox), before + 1, "logged in, from memory");
    assert_eq!(
        fs::read_dir(&open).unwrap().count(),
        0,
        "nothing was written in the folder"
    );

    for mode in [0o1777, 0o770] {
        fs::set_permissions(&open, fs::Permissions::from_mode(mode)).unwrap();
        let client = client(&sandbox, &path);
        client.assets().list().await.unwrap();
        let used = client.token_manager().snapshot().unwrap();
        assert_eq!(stored(&path).await, Some(used), "{mode:o}: stored");
        fs::remove_file(&path).unwrap();
    }

    // A private folder below the open one is no better: the open folder
    // lets anyone rename it away, token and all. Refused, the open folder
    // named, whether the private one exists yet or not.
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let below = open.join("mine").join("token.json");
    for made in [false, true] {
        if made {
            fs::create_dir(open.join("mine")).unwrap();
        }
        let e = FileStore::new(&below)
            .save(&token)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("folder {}: its mode 0777", open.display())),
            "{e}"
        );
        assert!(!below.exists(), "nothing written below the open folder");
    }
    // Nor reached by `..` out of a folder not made yet: where it leads was
    // never checked; refused, and nothing made on the way.
    let around = dir.join("new").join("..").join("open").join("token.json");
    let e = FileStore::new(&around)
        .save(&token)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("goes up (..)"), "{e}");
    assert!(!dir.join("new").exists(), "nothing made on the way");
    fs::remove_dir_all(&dir).unwrap();
}

/// A token folder owned by another user (not root): that user can rename
/// and replace the files in it, whatever its mode. Refused like an open
/// folder; the client works from memory.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (chowns a folder to another user): run as root with --ignored, as .ci/run does"]
async fn a_token_folder_of_another_user_is_refused() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("foreign-folder");
    let theirs = dir.join("theirs");
    fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown needs root");
    let path = theirs.join("token.json");
    let e = FileStore::new(&path).load().await.unwrap_err().to_string();
    assert!(
        e.contains("refusing to keep the token in the folder"),
        "{e}"
    );
    assert!(e.contains("uid 65534"), "{e}");
    let before = logins(&sandbox);
    client(&sandbox, &path).assets().list().await.unwrap();
    assert_eq!(logins(&sandbox), before + 1, "logged in, from memory");
    assert!(!path.exists(), "nothing was written in their folder");
    fs::remove_dir_all(&dir).unwrap();
}
