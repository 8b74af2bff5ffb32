//! Answers that hold a secret — the logins' and the
//! password changes' (they hand back the new password and a token) — are
//! read into the wiped buffer, which grows without leaving copies behind,
//! also when the answer has no `Content-Length`. A raw HTTP/1.1 server
//! sends those answers chunked, a few bytes at a time (wiremock always
//! sends a length).

use crate::common;
use crate::common::capture;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use amp_client::model::SecretString;
use amp_client::{AmpClient, Config};
use capture::Capture;
use common::*;
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NEW_PASSWORD: &str = "n3w-Pw-\"quoted\"-and-long";

/// A password-change answer of about 6 KiB (padding included), so that a
/// buffer starting at 1 KiB must grow several times.
fn change_answer(token: &str) -> String {
    format!(
        r#"{{"username":"{USER}","password":{},"token":"{token}","note":"{}"}}"#,
        serde_json::to_string(NEW_PASSWORD).unwrap(),
        "x".repeat(6000)
    )
}

/// `body` as a chunked 200 answer, in chunks of `size` bytes.
fn chunked(body: &str, size: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for chunk in body.as_bytes().chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn with_length(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A raw HTTP/1.1 server on loopback: the login answers `T1`, the two
/// password changes answer chunked (7-byte chunks) with `T2` and `T3`,
/// anything else `[]`. It records the `Authorization` header of every
/// request, by path.
async fn server() -> (String, Arc<Mutex<Vec<(String, Option<String>)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                // Requests one after another on the connection (keep-alive).
                loop {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let header = |name: &str| {
                        head.lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                    };
                    let length: usize = header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    log.lock()
                        .unwrap()
                        .push((path.clone(), header("authorization")));
                    let answer = if path.ends_with("/user/obtain_token") {
                        with_length(&format!(r#"{{"token":"{T1}"}}"#))
                    } else if path.ends_with("/user/change-password") {
                        chunked(&change_answer(T2), 7)
                    } else if path.ends_with("/managers/4/change-password") {
                        chunked(&change_answer(T3), 7)
                    } else {
                        with_length("[]")
                    };
                    if stream.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, seen)
}

fn client(base: &str, max_body_bytes: usize) -> AmpClient {
    let config = Config::builder()
        .base_url(base)
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .request_timeout(Duration::from_secs(5))
        .max_body_bytes(max_body_bytes)
        .build()
        .unwrap();
    AmpClient::new(config).unwrap()
}

/// The `answered` trace event of the request to `path` says whether its
/// answer went into the wiped buffer.
fn wiped(logs: &str, path: &str) -> Option<bool> {
    logs.lines()
        .filter(|l| {
            l.contains(&format!("operation=POST /{path}"))
                || l.contains(&format!("operation=GET /{path}"))
        })
        .filter(|l| l.contains("answered"))
        .find_map(|l| {
            if l.contains("wiped=true") {
                Some(true)
            } else if l.contains("wiped=false") {
                Some(false)
            } else {
                None
            }
        })
}

/// Both password changes are read like a login: into the wiped buffer
/// (the trace event of each answer says which path it took), whole, from a
/// chunked answer that made the buffer grow from 1 KiB to over 6 KiB; the
/// client installs the token its own change handed back, and hands the
/// manager's to the caller. Over the body cap, such an answer is refused.
#[tokio::test]
async fn password_change_answers_are_read_into_the_wiped_buffer() {
    let (base, seen) = server().await;
    let capture = Capture::default();
    let _guard = capture.start("amp_client=trace");
    let ours = client(&base, 1 << 20);
    ours.assets().list().await.unwrap();

    ours.user()
        .change_password(SecretString::from(NEW_PASSWORD))
        .await
        .unwrap();
    let installed = ours.token_manager().snapshot().unwrap();
    assert_eq!(
        installed.token().expose_secret(),
        T2,
        "the token of the change, whole"
    );
    let changed = ours
        .managers()
        .change_password(4, SecretString::from(NEW_PASSWORD))
        .await
        .unwrap();
    assert_eq!(changed.token.as_ref().unwrap().expose_secret(), T3);
    assert_eq!(
        changed.password.as_ref().unwrap().expose_secret(),
        NEW_PASSWORD
    );
    assert_eq!(changed.username.as_deref(), Some(USER));
    // The next call carries the token the user's change handed back.
    ours.assets().list().await.unwrap();
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        last,
        ("/api/assets/".to_string(), Some(format!("token {T2}")))
    );

    let logs = capture.text();
    assert_eq!(wiped(&logs, "user/obtain_token"), Some(true), "{logs}");
    assert_eq!(wiped(&logs, "user/change-password"), Some(true), "{logs}");
    assert_eq!(
        wiped(&logs, "managers/4/change-password"),
        Some(true),
        "{logs}"
    );
    assert_eq!(wiped(&logs, "assets/"), Some(false), "{logs}");
    for secret in [PASSWORD, NEW_PASSWORD, T1, T2, T3] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }

    // The body cap holds for a chunked sensitive answer too, as it grows:
    // an answer over the cap is refused, not retried (the same answer would
    // come again), and nothing of it is installed.
    let capped = client(&base, 4096);
    capped.assets().list().await.unwrap();
    let changes = |seen: &Mutex<Vec<(String, Option<String>)>>| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.ends_with("/user/change-password"))
            .count()
    };
    let before = changes(&seen);
    let e = capped
        .user()
        .change_password(SecretString::from(NEW_PASSWORD))
        .await
        .unwrap_err();
    assert!(
        e.is_body_too_large() && e.to_string().contains("limit of 4096 bytes"),
        "{e}"
    );
    assert_eq!(e.attempts(), Some(1), "{e}");
    let installed = capped.token_manager().snapshot().unwrap();
    assert_eq!(
        installed.token().expose_secret(),
        T1,
        "the login's token stays"
    );
    assert_eq!(changes(&seen), before + 1);
}
