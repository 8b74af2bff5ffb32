//! `amp token print` as a script uses it (`curl -H "Authorization: token
//! $(amp token print)"`): the real binary with a token file, against a
//! sandbox. A valid stored token is printed as it is, with nothing sent; one
//! in its refresh window is refreshed first (once, no login), so the next
//! run does not print a token about to expire; an expired one costs one
//! login. In every case the token is on stdout only, never on stderr.
//!
//! A token in its refresh window or expired cannot come from a previous run
//! (the client dates a token it obtains now, for 24 hours), so those files
//! are written with the library's own file store ([`FileStore`]), holding a
//! token the sandbox issued and would accept: only its dates are made up.

use std::path::Path;

use amp_client::{FileStore, TokenData, TokenStore};
use amp_sandbox::Sandbox;
use chrono::{Duration, Utc};
use serde_json::Value;

use crate::support::{Env, Run, TempDir};

const OBTAIN: &str = "/user/obtain_token";
const REFRESH: &str = "/user/refresh-token";

/// A token the sandbox accepts, stored in `file` by the file store as
/// obtained at `expires_in - 24 h` and expiring in `expires_in` (negative:
/// expired), bound to the sandbox's account; the token.
async fn store_token(sandbox: &Sandbox, file: &Path, expires_in: Duration) -> String {
    let token = sandbox.issue_token();
    let expires_at = Utc::now() + expires_in;
    let data =
        TokenData::new(token.clone(), expires_at - Duration::hours(24), expires_at).for_account(
            amp_client::account_name(&sandbox.base_url(), sandbox.username()),
        );
    FileStore::new(file).save(&data).await.unwrap();
    token
}

/// The token the file at `path` holds.
fn stored_token(path: &Path) -> String {
    let form: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    form["token"].as_str().unwrap().to_string()
}

/// `amp token print`'s token: one line on stdout, alone; no token (of
/// `others` either) on stderr.
#[track_caller]
fn printed(run: Run, others: &[&str]) -> String {
    let run = run.ok();
    let token = run
        .stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("one line on stdout: {run:?}"))
        .to_string();
    assert_eq!(token.len(), 40, "only the token on stdout: {run:?}");
    assert!(!token.contains('\n'), "{run:?}");
    for secret in others.iter().copied().chain([token.as_str()]) {
        assert!(!run.stderr.contains(secret), "a token on stderr: {run:?}");
    }
    token
}

/// The routes `sandbox` received, in order.
fn routes(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .stats()
        .requests
        .into_iter()
        .map(|r| r.route)
        .collect()
}

fn file_env(home: &TempDir, sandbox: &Sandbox, file: &Path) -> Env {
    Env::sandbox(home, sandbox).set("AMP_TOKEN_STORE", &format!("file:{}", file.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_stored_token_is_printed_with_nothing_sent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("print-valid");
    let file = home.path().join("token.json");
    let env = file_env(&home, &sandbox, &file);
    // A previous run logged in and left its token in the file.
    env.run(&["token", "login"]).await.ok();
    let stored = stored_token(&file);
    let before = sandbox.stats().total();
    assert_eq!(before, 1, "{:?}", routes(&sandbox));

    let token = printed(
        env.run(&["token", "print"]).await,
        &[&stored, sandbox.password()],
    );
    assert_eq!(token, stored);
    assert_eq!(sandbox.stats().total(), before, "{:?}", routes(&sandbox));
    // Printed as often as asked, still with nothing sent.
    let again = printed(env.run(&["token", "print"]).await, &[]);
    assert_eq!(again, stored);
    assert_eq!(sandbox.stats().total(), before, "{:?}", routes(&sandbox));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_its_refresh_window_is_refreshed_once_then_printed() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("print-expiring");
    let file = home.path().join("token.json");
    // 3 minutes left: inside the 5-minute refresh window, still usable.
    let old = store_token(&sandbox, &file, Duration::minutes(3)).await;
    let env = file_env(&home, &sandbox, &file);
    assert_eq!(
        env.json(&["token", "status"]).await["state"],
        "expiring",
        "the seeded token is in its refresh window"
    );

    let token = printed(
        env.run(&["token", "print"]).await,
        &[&old, sandbox.password()],
    );
    assert_ne!(token, old, "the renewed token is printed");
    assert_eq!(routes(&sandbox), [REFRESH], "one refresh, no login");
    assert_eq!(
        sandbox.stats().requests[0].authorization.as_deref(),
        Some(format!("token {old}").as_str()),
        "the refresh was made with the stored token"
    );
    assert!(sandbox.is_token_valid(&token));
    // Stored for the next run, which prints it with nothing sent.
    assert_eq!(stored_token(&file), token);
    assert_eq!(printed(env.run(&["token", "print"]).await, &[&old]), token);
    assert_eq!(sandbox.stats().total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_stored_token_costs_one_login_and_is_never_sent() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("print-expired");
    let file = home.path().join("token.json");
    // Expired by its dates (the sandbox would still take it: the client
    // must not try).
    let old = store_token(&sandbox, &file, -Duration::minutes(1)).await;
    let env = file_env(&home, &sandbox, &file);

    let token = printed(
        env.run(&["token", "print"]).await,
        &[&old, sandbox.password()],
    );
    assert_ne!(token, old);
    assert_eq!(routes(&sandbox), [OBTAIN], "one login, nothing else");
    assert!(
        sandbox.stats().requests[0].authorization.is_none(),
        "the expired token was not sent"
    );
    assert!(sandbox.is_token_valid(&token));
    assert_eq!(stored_token(&file), token);
}
