//! Unit tests of the file store: the stored form, set-aside files, modes
//! and owners, the renewal lock, compare-and-delete.

use super::form::rfc3339;
use super::*;
use secrecy::ExposeSecret;

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

// -----------------------------------------------------------------------
// Files this user does not own, or that others may read (issue 13).
// -----------------------------------------------------------------------

#[cfg(unix)]
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// The uid of nobody on most systems: a user that is not us.
#[cfg(unix)]
const OTHER_UID: u32 = 65534;

/// Gives `p` to [`OTHER_UID`]. Only root may do that: the tests that call
/// it are ignored unless asked for (CI runs them as root).
#[cfg(unix)]
fn give_away(p: &Path) {
    std::os::unix::fs::chown(p, Some(OTHER_UID), Some(OTHER_UID)).expect("chown needs root");
}

fn good_form() -> Vec<u8> {
    format!(
        r#"{{"version":2,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2099-03-02T10:00:00Z"}}"#
    )
    .into_bytes()
}

fn exposed_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".exposed-"))
        .collect();
    v.sort();
    v
}

/// Issue 19: a token file of ours that group or others may read was
/// refused, and every process logged in anew until someone ran `chmod`.
/// Its token may have been read: it is set aside (0600), never returned,
/// and the next save writes a private file.
#[cfg(unix)]
#[test]
fn files_open_to_group_or_others_are_set_aside_never_used() {
    let dir = temp_dir("loose");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601] {
        let path = dir.join(format!("token-{mode:o}.json"));
        write_private(&path, &good_form());
        set_mode(&path, mode);
        let store = FileStore::new(&path);
        assert_eq!(rt.block_on(store.load()).unwrap(), None, "{mode:o}");
        assert!(!path.exists(), "{mode:o}: set aside");
        let aside: Vec<_> = exposed_files(&dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("token-{mode:o}.json.exposed-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{mode:o}: {aside:?}");
        assert_eq!(fs::read(&aside[0]).unwrap(), good_form(), "{mode:o}");
        assert_eq!(mode_of(&aside[0]), 0o600, "{mode:o}: the copy is private");
        // The next save writes a private file, which is then used.
        let fresh = token(24);
        rt.block_on(store.save(&fresh)).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(rt.block_on(store.load()).unwrap(), Some(fresh));
    }
    // Saving over such a file (without loading it first) replaces it with
    // a private one: its token is gone with it.
    let path = dir.join("saved-over.json");
    write_private(&path, &good_form());
    set_mode(&path, 0o644);
    let fresh = TokenData::new(
        "fresh-token",
        Utc::now(),
        Utc::now() + chrono::Duration::hours(1),
    );
    let store = FileStore::new(&path);
    rt.block_on(store.save(&fresh)).unwrap();
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(rt.block_on(store.load()).unwrap(), Some(fresh));
    assert!(aside_files(&dir).is_empty(), "nothing read as corrupt");
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_lock_file_open_to_others_is_refused_at_once() {
    let dir = temp_dir("loose-lock");
    fs::create_dir_all(&dir).unwrap();
    let store = FileStore::new(dir.join("token.json"));
    fs::write(store.lock_path(), b"").unwrap();
    set_mode(store.lock_path(), 0o666);
    // Someone holds it (here: another open file of this process), which
    // stalled every renewal for the lock timeout (60 s by default).
    let holder = File::open(store.lock_path()).unwrap();
    holder.lock().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), store.lock()).await })
        .expect("refused at once, not after the lock timeout")
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("token.json.lock") && msg.contains("0666"),
        "{msg}"
    );
    drop(holder);
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
#[ignore = "needs root (chowns a file to another user): run as root with --ignored, as .ci/run does"]
fn files_of_another_user_are_refused() {
    let dir = temp_dir("foreign");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    // Open to others or not, another user's file is refused and untouched:
    // neither read, nor set aside, nor replaced, nor discarded.
    for mode in [0o600, 0o644] {
        let path = dir.join(format!("token-{mode:o}.json"));
        write_private(&path, &good_form());
        set_mode(&path, mode);
        give_away(&path);
        let store = FileStore::new(&path);
        let rejected = TokenData::new(T, Utc::now(), Utc::now() + chrono::Duration::hours(1));
        for (what, result) in [
            ("load", rt.block_on(store.load()).map(|_| ())),
            ("save", rt.block_on(store.save(&token(24)))),
            ("discard", rt.block_on(store.discard(&rejected))),
        ] {
            let msg = result.expect_err(what).to_string();
            assert!(msg.contains(&path.display().to_string()), "{what}: {msg}");
            assert!(msg.contains(&format!("uid {OTHER_UID}")), "{what}: {msg}");
            assert!(!msg.contains(T), "{msg}");
        }
        assert_eq!(fs::read(&path).unwrap(), good_form());
        assert_eq!(mode_of(&path), mode);
    }
    assert!(aside_files(&dir).is_empty());
    assert!(exposed_files(&dir).is_empty());

    // The same for the renewal lock, even with mode 0600.
    let lock_store = FileStore::new(dir.join("other.json"));
    write_private(lock_store.lock_path(), b"");
    give_away(lock_store.lock_path());
    let msg = rt.block_on(lock_store.lock()).unwrap_err().to_string();
    assert!(
        msg.contains("other.json.lock") && msg.contains(&format!("uid {OTHER_UID}")),
        "{msg}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn set_aside_and_temporary_files_are_0600() {
    let dir = temp_dir("aside-mode");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    // Owner-only modes pass the check; whatever they were, the file set
    // aside (it may hold a live token) ends 0600.
    for mode in [0o700, 0o400, 0o200] {
        let path = dir.join(format!("token-{mode:o}.json"));
        write_private(&path, b"{\"version\":2,\"token\":\"cut");
        set_mode(&path, mode);
        assert!(matches!(
            rt.block_on(FileStore::new(&path).load()),
            Ok(None)
        ));
        let aside = aside_files(&dir);
        let aside: Vec<_> = aside
            .iter()
            .filter(|p| {
                p.to_string_lossy()
                    .contains(&format!("token-{mode:o}.json.corrupt-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{mode:o}");
        assert_eq!(mode_of(aside[0]), 0o600, "{mode:o}");
    }
    // The temporary file a save writes (and a killed writer leaves).
    let tmp = dir.join(".token.json.tmp-1-00");
    write_synced(&tmp, b"{}").unwrap();
    assert_eq!(mode_of(&tmp), 0o600);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn clear_removes_set_aside_and_temporary_files() {
    let dir = temp_dir("clear-leftovers");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rt = rt();
    rt.block_on(store.save(&token(24))).unwrap();
    let ours = [
        dir.join("token.json.corrupt-1700000000000"),
        dir.join("token.json.corrupt-1700000000001"),
        dir.join("token.json.exposed-1700000000002"),
        dir.join(".token.json.tmp-42-0123456789abcdef"),
        dir.join(".token.json.discard-42-0123456789abcdef"),
    ];
    let theirs = [
        dir.join("other.json.corrupt-1"),
        dir.join("other.json.exposed-1"),
        dir.join(".other.json.tmp-1-00"),
        dir.join("token.json.bak"),
    ];
    for p in ours.iter().chain(&theirs) {
        write_private(p, &good_form());
    }
    drop(rt.block_on(store.lock()).unwrap());
    rt.block_on(store.clear()).unwrap();
    assert!(!path.exists());
    for p in &ours {
        assert!(!p.exists(), "{} holds a token: removed", p.display());
    }
    for p in &theirs {
        assert!(p.exists(), "{} is not ours: kept", p.display());
    }
    assert!(store.lock_path().exists(), "the lock file stays");
    // Clearing again, or where nothing is, is fine.
    rt.block_on(store.clear()).unwrap();
    rt.block_on(FileStore::new(dir.join("none/token.json")).clear())
        .unwrap();
    fs::remove_dir_all(&dir).unwrap();
}

// -----------------------------------------------------------------------
// Discarding a rejected token in one step (issue 19).
// -----------------------------------------------------------------------

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".discard-"))
        .collect()
}

#[test]
fn a_discard_removes_the_rejected_token_and_nothing_else() {
    let dir = temp_dir("discard");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rt = rt();
    let rejected = token(24);
    let newer = TokenData::new("newer", rejected.obtained_at, rejected.expires_at);
    rt.block_on(async {
        // Nothing stored: nothing to do.
        store.discard(&rejected).await.unwrap();
        store.save(&newer).await.unwrap();
        store.discard(&rejected).await.unwrap();
        assert_eq!(
            store.load().await.unwrap(),
            Some(newer.clone()),
            "another token stays"
        );
        store.save(&rejected).await.unwrap();
        store.discard(&rejected).await.unwrap();
        assert_eq!(
            store.load().await.unwrap(),
            None,
            "the rejected token is gone"
        );
    });
    assert!(leftovers(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

/// The delete takes the file away by a rename and checks that it took the
/// file that was read: one written meanwhile (by a writer that did not
/// take the lock) is put back, and one newer still is left in place.
#[test]
fn a_file_replaced_between_the_read_and_the_delete_is_put_back() {
    let dir = temp_dir("discard-race");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rt = rt();
    let rejected = token(24);
    let newer = TokenData::new("newer", rejected.obtained_at, rejected.expires_at);
    rt.block_on(store.save(&rejected)).unwrap();
    let read = fs::metadata(&path).unwrap();
    rt.block_on(store.save(&newer)).unwrap();
    assert!(!store.remove_if_same(&read).unwrap(), "not the file read");
    assert_eq!(rt.block_on(store.load()).unwrap(), Some(newer.clone()));
    assert!(leftovers(&dir).is_empty());
    // The file read is removed.
    let read = fs::metadata(&path).unwrap();
    assert!(store.remove_if_same(&read).unwrap());
    assert!(!path.exists());
    assert!(leftovers(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

fn multi_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The token manager discards while its own renewal may hold the lock (and
/// that renewal may be waiting for the discard): a discard never waits for
/// a lock its own store holds.
#[test]
fn a_discard_does_not_wait_for_a_lock_its_store_holds() {
    let dir = temp_dir("discard-own-lock");
    let path = dir.join("token.json");
    let store = FileStore::new(&path).lock_timeout(Duration::from_secs(60));
    let rejected = token(24);
    multi_thread_rt().block_on(async {
        store.save(&rejected).await.unwrap();
        let guard = store.clone().lock().await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), store.discard(&rejected))
            .await
            .expect("done at once, not after the lock timeout")
            .unwrap();
        assert_eq!(store.load().await.unwrap(), None);
        guard.release().await;
    });
    fs::remove_dir_all(&dir).unwrap();
}

/// Another holder (here another open file of this process, as another
/// process would be) is waited for while it holds the lock, and at most
/// the lock timeout: the discard then runs without it.
#[test]
fn a_discard_waits_for_another_holder_but_not_for_ever() {
    let dir = temp_dir("discard-other-lock");
    let path = dir.join("token.json");
    let rejected = token(24);
    let wait = Duration::from_millis(300);
    let store = FileStore::new(&path).lock_timeout(wait);
    multi_thread_rt().block_on(async {
        store.save(&rejected).await.unwrap();
        let holder = FileStore::new(&path).lock().await.unwrap();
        let started = tokio::time::Instant::now();
        store.discard(&rejected).await.unwrap();
        assert!(started.elapsed() >= wait, "waited for the holder");
        assert_eq!(store.load().await.unwrap(), None);
        holder.release().await;
    });
    fs::remove_dir_all(&dir).unwrap();
}
