//! Unit tests of the file store: the stored form and set-aside files, the
//! renewal lock, errors; `hostile` — modes and owners; `removal` — clear
//! and compare-and-delete.

use super::form::rfc3339;
use super::*;
use chrono::Utc;
use secrecy::ExposeSecret;
use std::fs::File;

const T: &str = "66b9c0ffee0123456789abcdef0123456789af51";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amp-file-store-{name}-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn token(hours: i64) -> TokenData {
    let now = Utc::now();
    TokenData::new(T, now, now + chrono::Duration::hours(hours))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Writes `bytes` to `path` with mode 0600, as the store itself would (a
/// plain `fs::write` gives 0644 under the usual umask, which is refused).
fn write_private(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// A well-formed token file, valid for years.
fn good_form() -> Vec<u8> {
    format!(
        r#"{{"version":2,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2099-03-02T10:00:00Z"}}"#
    )
    .into_bytes()
}

fn aside_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".corrupt-"))
        .collect();
    v.sort();
    v
}

#[test]
fn round_trip() {
    let dir = temp_dir("round-trip");
    let store = FileStore::new(dir.join("a/b/token.json"));
    rt().block_on(async {
        assert_eq!(store.load().await.unwrap(), None);
        let t = token(24);
        store.save(&t).await.unwrap();
        let back = store.load().await.unwrap().unwrap();
        assert_eq!(back.token().expose_secret(), T);
        // RFC 3339 keeps the full precision chrono has.
        assert_eq!(back, t);
        let t2 = TokenData::new("another", t.obtained_at, t.expires_at);
        store.save(&t2).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(t2));
        store.clear().await.unwrap();
        assert_eq!(store.load().await.unwrap(), None);
        store.clear().await.unwrap();
    });
    // No temporary files left behind.
    let left: Vec<_> = fs::read_dir(dir.join("a/b")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn file_is_0600_and_created_folders_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("modes");
    let path = dir.join("x/y/token.json");
    let store = FileStore::new(&path);
    rt().block_on(async {
        store.save(&token(24)).await.unwrap();
        drop(store.lock().await.unwrap());
    });
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.join("x/y/token.json.lock")), 0o600);
    for d in [dir.clone(), dir.join("x"), dir.join("x/y")] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    // A file of ours that was there with looser permissions is replaced by
    // a private one (see `files_open_to_group_or_others_are_set_aside`).
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    rt().block_on(store.save(&token(24))).unwrap();
    assert_eq!(mode(&path), 0o600);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_json_has_exactly_the_documented_fields() {
    let dir = temp_dir("fields");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let t = TokenData::new(T, now, now + chrono::Duration::hours(24));
    rt().block_on(store.save(&t)).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"version":2,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2026-03-02T10:00:00Z"}}"#
        )
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["expires_at", "obtained_at", "token", "version"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_fields_and_other_offsets_are_accepted() {
    let dir = temp_dir("unknown");
    let path = dir.join("token.json");
    fs::create_dir_all(&dir).unwrap();
    write_private(
        &path,
        format!(
            r#"{{"comment":"x","version":2,"token":"{T}","obtained_at":"2026-03-01T11:00:00+01:00","expires_at":"2026-03-02T10:00:00.5Z","extra":{{"a":[1,2]}}}}"#
        )
        .as_bytes(),
    );
    let t = rt()
        .block_on(FileStore::new(&path).load())
        .unwrap()
        .unwrap();
    assert_eq!(t.token().expose_secret(), T);
    assert_eq!(rfc3339(t.obtained_at), "2026-03-01T10:00:00Z");
    assert_eq!(rfc3339(t.expires_at), "2026-03-02T10:00:00.500Z");
    assert!(aside_files(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_expired_token_is_returned_as_it_is() {
    let dir = temp_dir("expired");
    let store = FileStore::new(dir.join("token.json"));
    let now = Utc::now();
    let t = TokenData::new(
        T,
        now - chrono::Duration::hours(30),
        now - chrono::Duration::hours(6),
    );
    rt().block_on(async {
        store.save(&t).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(t));
    });
    assert!(aside_files(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

/// Every corrupt form, with a word of the reason logged for it.
fn corrupt_forms() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = |f: &dyn Fn(String) -> String| {
        f(format!(
            r#"{{"version":2,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2026-03-02T10:00:00Z"}}"#
        ))
        .into_bytes()
    };
    vec![
        ("empty file", Vec::new(), "empty"),
        ("whitespace", b"  \n".to_vec(), "empty"),
        (
            "truncated JSON",
            good(&|s| s[..s.len() / 2].to_string()),
            "truncated",
        ),
        ("not JSON", b"token=abc".to_vec(), "not JSON"),
        ("a JSON array", b"[1,2,3]".to_vec(), "expected JSON object"),
        (
            "version 1 (no account: not trusted)",
            good(&|s| s.replace(r#""version":2"#, r#""version":1"#)),
            "version 1",
        ),
        (
            "version as a string",
            good(&|s| s.replace(r#""version":2"#, r#""version":"2""#)),
            "expected JSON object",
        ),
        (
            "no version",
            good(&|s| s.replace(r#""version":2,"#, "")),
            "no version",
        ),
        (
            "a token no header can carry",
            good(&|s| s.replace(T, r"66b9\u0001c0ffee")),
            "cannot go in a header",
        ),
        (
            "expiring before it was obtained",
            good(&|s| s.replace("2026-03-02T10:00:00Z", "2026-02-01T10:00:00Z")),
            "expires before",
        ),
        ("empty token", good(&|s| s.replace(T, "")), "token is empty"),
        (
            "blank token",
            good(&|s| s.replace(T, "  ")),
            "token is empty",
        ),
        (
            "token not a string",
            good(&|s| s.replace(&format!("\"{T}\""), "42")),
            "expected JSON object",
        ),
        (
            "bad obtained_at",
            good(&|s| s.replace("2026-03-01T10:00:00Z", "yesterday")),
            "obtained_at",
        ),
        (
            "bad expires_at",
            good(&|s| s.replace("2026-03-02T10:00:00Z", "2026-13-45T99:00:00Z")),
            "expires_at",
        ),
        (
            "date without a zone",
            good(&|s| s.replace("2026-03-02T10:00:00Z", "2026-03-02T10:00:00")),
            "expires_at",
        ),
        (
            "binary garbage",
            vec![0xff, 0x00, 0xfe, 0x7b, 0x22, 0x80, 0x81, 0x00, 0x13],
            "not JSON",
        ),
        ("too large", vec![b' '; 70 * 1024], "larger than"),
    ]
}

fn reason(bytes: &[u8], what: &str) -> String {
    match decode(bytes) {
        Ok(_) => panic!("{what}: parsed"),
        Err(r) => r,
    }
}

#[test]
fn decode_reasons_never_quote_the_content() {
    for (what, bytes, why) in corrupt_forms() {
        if what == "too large" {
            // Refused by size before parsing (see the load test).
            continue;
        }
        let reason = reason(&bytes, what);
        assert!(reason.contains(why), "{what}: {reason}");
        assert!(!reason.contains(T), "{what}: {reason}");
    }
    // A token where a number is expected is not quoted either.
    let r = reason(format!(r#"{{"version":"{T}"}}"#).as_bytes(), "version");
    assert!(!r.contains(T), "{r}");
}

#[test]
fn every_corrupt_form_is_set_aside_and_then_overwritten() {
    let dir = temp_dir("corrupt");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    for (i, (what, bytes, _)) in corrupt_forms().into_iter().enumerate() {
        let path = dir.join(format!("token-{i}.json"));
        write_private(&path, &bytes);
        let store = FileStore::new(&path);
        let loaded = rt.block_on(store.load());
        assert!(matches!(loaded, Ok(None)), "{what}: {loaded:?}");
        assert!(!path.exists(), "{what}: not set aside");
        let aside: Vec<_> = aside_files(&dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("token-{i}.json.corrupt-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{what}: {aside:?}");
        assert_eq!(
            fs::read(&aside[0]).unwrap(),
            bytes,
            "{what}: kept as it was"
        );
        // Loading again: nothing there, nothing more set aside.
        assert!(matches!(rt.block_on(store.load()), Ok(None)), "{what}");
        // A later save and load work.
        let t = token(24);
        rt.block_on(store.save(&t)).unwrap();
        assert_eq!(rt.block_on(store.load()).unwrap(), Some(t), "{what}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_folder_in_place_of_the_file_is_set_aside() {
    let dir = temp_dir("folder");
    let path = dir.join("token.json");
    fs::create_dir_all(&path).unwrap();
    let store = FileStore::new(&path);
    let rt = rt();
    assert!(matches!(rt.block_on(store.load()), Ok(None)));
    assert_eq!(aside_files(&dir).len(), 1);
    rt.block_on(store.save(&token(24))).unwrap();
    assert!(rt.block_on(store.load()).unwrap().is_some());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn temporary_files_of_dead_writers_are_removed_once_stale() {
    let dir = temp_dir("stale");
    fs::create_dir_all(&dir).unwrap();
    let stale = dir.join(".token.json.tmp-1-00");
    let fresh = dir.join(".token.json.tmp-2-00");
    let other = dir.join(".other.json.tmp-3-00");
    for p in [&stale, &fresh, &other] {
        fs::write(p, b"{").unwrap();
    }
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    for p in [&stale, &other] {
        File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    rt().block_on(FileStore::new(dir.join("token.json")).save(&token(24)))
        .unwrap();
    assert!(!stale.exists());
    assert!(fresh.exists(), "may belong to a writer at work");
    assert!(other.exists(), "not ours");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_replaced_after_reading_is_not_set_aside() {
    let dir = temp_dir("replaced");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token.json");
    write_private(&path, b"garbage");
    let store = FileStore::new(&path);
    let read = fs::metadata(&path).unwrap();
    // A good token written by someone else between our read and the rename.
    rt().block_on(store.save(&token(24))).unwrap();
    store
        .set_aside(Some(&read), Aside::Corrupt, "test")
        .unwrap();
    assert!(path.exists());
    assert!(aside_files(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_lock_excludes_a_second_holder_until_released() {
    let dir = temp_dir("lock");
    let path = dir.join("token.json");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = FileStore::new(&path);
        let b = FileStore::new(&path).lock_timeout(Duration::from_millis(200));
        let guard = a.lock().await.unwrap();
        let e = b.lock().await.unwrap_err();
        assert!(e.to_string().contains("still held"), "{e}");
        assert!(e.to_string().contains("token.json.lock"), "{e}");
        guard.release().await;
        let b = b.lock_timeout(Duration::from_secs(5));
        let g = b.lock().await.unwrap();
        // Dropping the guard releases it too.
        drop(g);
        tokio::time::sleep(Duration::from_millis(50)).await;
        a.lock().await.unwrap().release().await;
    });
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_path_and_never_the_token() {
    let dir = temp_dir("errors");
    fs::create_dir_all(&dir).unwrap();
    // A file where a folder is needed.
    let blocker = dir.join("not-a-folder");
    fs::write(&blocker, b"x").unwrap();
    let store = FileStore::new(blocker.join("token.json"));
    let e = rt().block_on(store.save(&token(24))).unwrap_err();
    let msg = format!("{e} {e:?}");
    assert!(e.is_store(), "{msg}");
    assert!(msg.contains("not-a-folder"), "{msg}");
    assert!(!msg.contains(T), "{msg}");
    fs::remove_dir_all(&dir).unwrap();
}

mod hostile;
mod removal;
