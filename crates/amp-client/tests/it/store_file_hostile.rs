//! An adversarial review of the security edges of issue 19 (after 36a6e46):
//! each test tries one attack against real local servers, files and
//! processes. A test that failed on the code it was written against is a
//! finding; the others pin what held.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amp_client::{FileStore, Method, TokenData, TokenStore};
use chrono::Utc;
use common::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amp-review-edges-{name}-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn token(raw: &str) -> TokenData {
    let now = Utc::now();
    TokenData::new(raw, now, now + chrono::Duration::hours(24))
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg("-m")
        .arg("600")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------
// A named pipe (FIFO) in place of the token file.
// ---------------------------------------------------------------------------

/// A FIFO at the token path (put there by mistake, or by anyone who can
/// write the folder): opening it for reading blocks until a writer comes,
/// on a blocking thread no timeout can take back. The store operation's
/// timeout lets the call go on, but the thread stays in `open(2)` and the
/// runtime waits for it at shutdown: the process never exits (issue 19's
/// stuck lock thread, by another door). The file must be read without
/// blocking, and a token path that is not a regular file set aside.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_in_place_of_the_token_file_never_blocks_a_load() {
    let dir = temp_dir("fifo");
    let file = dir.join("token.json");
    mkfifo(&file);
    let store = FileStore::new(&file);
    let loaded = tokio::time::timeout(Duration::from_secs(10), store.load()).await;
    if loaded.is_err() {
        // Let the stuck thread go (a writer opening the pipe ends its
        // `open`, closing it ends its read), so the test's runtime can end.
        let _ = fs::OpenOptions::new().write(true).open(&file);
    }
    let loaded = loaded.expect("loading a token file that is a FIFO blocked");
    assert_eq!(loaded.unwrap(), None, "a FIFO holds no token");
    // Set aside: the next save writes a regular file in its place.
    store.save(&token(T1)).await.unwrap();
    assert!(fs::symlink_metadata(&file).unwrap().is_file());
    assert_eq!(
        FileStore::new(&file)
            .load()
            .await
            .unwrap()
            .map(|t| t.fingerprint()),
        Some(token(T1).fingerprint())
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The same FIFO under a whole client: the call is answered, and the
/// client's runtime ends (a runtime that cannot end is the process that
/// never exits).
#[cfg(unix)]
#[test]
fn a_client_whose_token_file_is_a_fifo_answers_and_its_runtime_ends() {
    let dir = temp_dir("fifo-client");
    let file = dir.join("token.json");
    mkfifo(&file);
    let (ended_tx, ended_rx) = std::sync::mpsc::channel();
    let file_for_thread = file.clone();
    let runner = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answered = rt.block_on(async {
            let server = MockServer::start().await;
            mount_obtain(&server, T1).await;
            mount_assets_for(&server, T1).await;
            let config = amp_client::Config::builder()
                .base_url(api(&server))
                .credentials(USER, PASSWORD)
                .retry(fast_retry(1))
                .request_timeout(Duration::from_secs(2))
                .token_store(amp_client::StoreSpec::File(file_for_thread))
                .build()
                .unwrap();
            let client = amp_client::AmpClient::new(config).unwrap();
            client.assets().list().await.map(|a| a.len())
        });
        drop(rt);
        let _ = ended_tx.send(answered.map_err(|e| e.to_string()));
    });
    let ended = ended_rx.recv_timeout(Duration::from_secs(30));
    if ended.is_err() {
        // Free the stuck thread(s) so that the test process can end.
        for _ in 0..4 {
            let _ = fs::OpenOptions::new().write(true).open(&file);
        }
    }
    let _ = runner.join();
    let answered = ended.expect("the client's runtime never ended: a thread is stuck on the FIFO");
    assert_eq!(answered, Ok(0));
    let _ = fs::remove_dir_all(&dir);
}

/// The renewal lock file as a FIFO: opened read-write, which never blocks,
/// and locked or refused at once.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_in_place_of_the_lock_file_never_blocks_the_lock() {
    let dir = temp_dir("fifo-lock");
    let file = dir.join("token.json");
    let store = FileStore::new(&file).lock_timeout(Duration::from_millis(200));
    mkfifo(store.lock_path());
    let locked = tokio::time::timeout(Duration::from_secs(10), store.lock()).await;
    assert!(locked.is_ok(), "taking the lock on a FIFO blocked");
    let _ = fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// Redirects within the origin but out of the API root.
// ---------------------------------------------------------------------------

fn redirect_to(location: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

/// The client refuses a path that leaves the API root ("the token must
/// only go to the configured API"), and the account a token is bound to
/// names the root with its path (`user at https://host/api`): two roots on
/// one origin are two accounts. A redirect from under the root to another
/// path of the same origin is followed with the token, and a 307/308 login
/// with the password: an open redirect on the API's host, or a gateway
/// hosting several services by path, receives them.
#[tokio::test]
async fn a_redirect_out_of_the_api_root_carries_no_token() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(redirect_to("/elsewhere/collect", 302))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere/collect"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    let (api_client, _clock) = client(&server, 1);
    let _ = api_client.request(Method::GET, "assets/", None).await;
    let leaked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path().starts_with("/elsewhere") && r.headers.contains_key("authorization")
        })
        .map(|r| r.url.to_string())
        .collect();
    assert_eq!(leaked, Vec::<String>::new(), "the token left the API root");
}

/// The login, redirected with its body (307) out of the root.
#[tokio::test]
async fn a_login_redirected_out_of_the_api_root_keeps_its_password() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(redirect_to("/elsewhere/login", 307))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere/login"))
        .respond_with(token_json(T2))
        .mount(&server)
        .await;
    let (login_client, _clock) = client(&server, 1);
    let _ = login_client.assets().list().await;
    let with_password = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path().starts_with("/elsewhere")
                && String::from_utf8_lossy(&r.body).contains(PASSWORD)
        })
        .count();
    assert_eq!(with_password, 0, "the password left the API root");
}

// ---------------------------------------------------------------------------
// What the server sends back.
// ---------------------------------------------------------------------------

/// A `Set-Cookie` on the login (a session, a tracker, or a cookie meant to
/// ride along to another path): the client keeps no cookie jar, so no
/// later request carries it.
#[tokio::test]
async fn a_cookie_the_server_sets_is_never_sent_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(
            token_json(T1)
                .insert_header("set-cookie", "sessionid=planted; Path=/")
                .insert_header("set-cookie", "csrftoken=planted2; Path=/api"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("set-cookie", "more=planted3")
                .set_body_json(serde_json::json!([])),
        )
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, 1);
    for _ in 0..2 {
        assert!(client.assets().list().await.unwrap().is_empty());
    }
    let with_cookie = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.headers.contains_key("cookie"))
        .count();
    assert_eq!(with_cookie, 0);
}

/// Token answers a hostile server could send: a token that would inject a
/// header, one of another type, an empty one, two `token` keys whose last
/// is bad. None is installed: the login fails, no request carries a
/// broken `Authorization`, and the error quotes no token.
#[tokio::test]
async fn odd_token_answers_install_nothing() {
    let injected = "abcdef0123456789\r\nX-Injected: yes";
    let answers = [
        format!(r#"{{"token":"{}"}}"#, injected.replace("\r\n", "\\r\\n")),
        r#"{"token":1234567890123}"#.to_string(),
        r#"{"token":["a","b"]}"#.to_string(),
        r#"{"token":"   "}"#.to_string(),
        format!(r#"{{"token":"{T1}","token":null}}"#),
        format!(r#"{{"token":"{T1}","expires_in":-5}}"#),
        format!(r#"{{"token":"{T1}","expires_at":"not a date"}}"#),
        format!(r#"{{"token":"{T1}\u0000"}}"#),
    ];
    for answer in answers {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_raw(answer.clone(), "application/json"),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
            .mount(&server)
            .await;
        let (client, _clock) = client(&server, 1);
        let e = client.assets().list().await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(T1), "{answer}: {shown}");
        assert!(!shown.contains("abcdef0123456789"), "{answer}: {shown}");
        let calls = count(&server, "GET", "/api/assets/").await;
        assert_eq!(calls, 0, "{answer}: a call went out with that token");
        let injected_seen = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .any(|r| r.headers.contains_key("x-injected"));
        assert!(!injected_seen, "{answer}");
    }
}

/// A token file that is a symlink to another user's file (planted in a
/// folder others can write): refused on the file it leads to, never read;
/// the next save replaces the link, not the other user's file.
#[cfg(unix)]
#[tokio::test]
#[ignore = "needs root (chowns a file to another user): run as root with --ignored, as .ci/run does"]
async fn a_symlink_to_another_users_token_file_is_refused() {
    use std::os::unix::fs::{chown, symlink};
    let dir = temp_dir("symlink-foreign");
    let theirs = dir.join("theirs.json");
    let planted = FileStore::new(&theirs);
    planted
        .save(&token(T3).for_account("victim at http://127.0.0.1:1/api"))
        .await
        .unwrap();
    chown(&theirs, Some(65534), Some(65534)).expect("chown needs root");
    let before = fs::read(&theirs).unwrap();
    let file = dir.join("token.json");
    symlink(&theirs, &file).unwrap();
    let store = FileStore::new(&file);
    let e = store.load().await.unwrap_err().to_string();
    assert!(e.contains("uid 65534"), "{e}");
    assert!(!e.contains(T3), "{e}");
    store.save(&token(T1)).await.unwrap();
    assert!(
        fs::symlink_metadata(&file).unwrap().is_file(),
        "the link is replaced"
    );
    assert_eq!(
        fs::read(&theirs).unwrap(),
        before,
        "their file is untouched"
    );
    let _ = fs::remove_dir_all(&dir);
}
