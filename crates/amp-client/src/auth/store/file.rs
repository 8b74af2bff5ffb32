//! [`FileStore`]: the token in a JSON file, shared by the processes of one
//! machine and kept between runs.
//!
//! The file holds
//! `{"version":2,"token":"…","obtained_at":"<RFC 3339 UTC>","expires_at":"<RFC 3339 UTC>","account":"<user> at <API root>"}`
//! (see `form.rs`);
//! readers ignore fields they do not know, so later versions of this crate
//! may add some. The same form is the value of the Redis store.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use zeroize::Zeroizing;

use super::{BoxFuture, RenewalGuard, TokenStore};
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

mod form;
mod private_fs;

pub(crate) use form::{decode, encode};

use private_fs::{
    create_private_dirs, remove_stale_temps, restrict_to_owner, same_file, sync_dir, write_synced,
};

/// A stored form larger than this is not ours: it is set aside unread.
const MAX_FORM_BYTES: u64 = 64 * 1024;

/// How long [`FileStore::lock`] waits for another holder by default.
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Keeps the token in a JSON file, so that it survives restarts and is shared
/// by every process (and every client) that uses the same path.
///
/// * **Writes** go to a temporary file in the same folder, which is fsynced
///   and then renamed over the old file (and the folder fsynced): a reader —
///   even after a crash or a `kill -9` mid-write — finds the old token or the
///   new one, never half of one. The file gets mode 0600, folders the store
///   creates get 0700 (on unix).
/// * **Renewal lock**: [`lock`](TokenStore::lock) takes an exclusive advisory
///   lock (`flock` on unix) on the sidecar file `<path>.lock`, never on the
///   data file (the rename replaces that). The token manager re-reads the
///   file once it holds the lock, so N processes that start together log in
///   once between them. The lock is released when the renewal ends, and by
///   the operating system if the process dies. The sidecar file is left in
///   place (removing it would let two processes lock two different files).
/// * **Unusable files** — unreadable, truncated, not JSON, of another version,
///   with an empty token or dates that do not parse — are renamed to
///   `<path>.corrupt-<unix millis>` with a warning naming the path and the
///   reason (never the contents), and read as "no token": the manager then
///   obtains a fresh one. Loading never panics and never fails a call for that.
/// * **Expired tokens** are returned as they are: the file is well formed, and
///   the manager never uses an expired token (it logs in instead, and the new
///   token replaces the old one in the file).
/// * **Files we cannot trust** (on unix): a token file or lock file that is not
///   owned by the effective user, or whose mode gives group or others any
///   access, is refused with an error naming the path and the owner or mode
///   (never the contents): not adopted, not set aside, not overwritten, not
///   locked. On a shared machine another user could otherwise plant their
///   token (our calls would act on their account) or hold the lock to stall
///   every renewal. The token manager then works from memory, with a warning.
/// * **Leftovers**: files set aside and temporary files of dead writers hold
///   tokens too: they get mode 0600, and [`clear`](TokenStore::clear)
///   removes them with the token file (the lock file stays).
///
/// Keep the file in a folder only you can write, such as your cache folder
/// (`~/.cache/amp/`; the `amp` command's default), never in a shared one such
/// as `/tmp`, where anyone may create or replace files next to it.
///
/// ```
/// use amp_client::{FileStore, TokenData, TokenStore};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cache = std::env::temp_dir().join(format!("amp-doc-{}", std::process::id()));
/// // `cache`: a folder only this user can write, e.g. ~/.cache.
/// let dir = cache.join("amp");
/// let store = FileStore::new(dir.join("token.json"));
/// let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let now = chrono::Utc::now();
///     let token = TokenData::new("0123456789abcdef", now, now + chrono::Duration::hours(24));
///     store.save(&token).await?;
///     assert_eq!(store.load().await?, Some(token));
///     store.clear().await?;
///     assert_eq!(store.load().await?, None);
///     Ok::<_, amp_client::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&cache)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    lock_timeout: Duration,
}

impl FileStore {
    /// A store kept in the file at `path`. Nothing is read or created before
    /// the first use; missing folders are created on the first save.
    pub fn new(path: impl Into<PathBuf>) -> FileStore {
        let path = path.into();
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        FileStore {
            path,
            lock_path: PathBuf::from(lock_path),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// How long [`lock`](TokenStore::lock) waits while another process holds
    /// the renewal lock before giving up with an error (60 s by default). The
    /// token manager then renews without the lock rather than not at all.
    pub fn lock_timeout(mut self, timeout: Duration) -> FileStore {
        self.lock_timeout = timeout;
        self
    }

    /// The file holding the token.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sidecar file the renewal lock is taken on: `<path>.lock`.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    fn error(&self, reason: impl Into<String>) -> Error {
        Error::Store {
            store: self.describe(),
            reason: reason.into(),
        }
    }

    /// Runs blocking file I/O off the async runtime's threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| self.error(format!("the file task ended unexpectedly: {e}")))?
    }
}

impl TokenStore for FileStore {
    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<TokenData>>> {
        let store = self.clone();
        Box::pin(async move {
            let s = store.clone();
            self.blocking(move || s.load_blocking()).await
        })
    }

    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let bytes = encode(token);
            let s = self.clone();
            self.blocking(move || s.save_blocking(&bytes)).await
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let s = self.clone();
            self.blocking(move || s.clear_blocking()).await
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<RenewalGuard>> {
        Box::pin(async move {
            let s = self.clone();
            // Blocks until the lock is won, on a blocking thread. If we stop
            // waiting (timeout), the thread still finishes; the file it
            // returns is then dropped unseen, which releases the lock.
            let task = tokio::task::spawn_blocking(move || s.lock_blocking());
            let file = match tokio::time::timeout(self.lock_timeout, task).await {
                Err(_) => {
                    return Err(self.error(format!(
                        "the renewal lock {} is still held by another user after {:?}",
                        self.lock_path.display(),
                        self.lock_timeout
                    )))
                }
                Ok(Err(e)) => {
                    return Err(self.error(format!("the lock task ended unexpectedly: {e}")))
                }
                Ok(Ok(file)) => file?,
            };
            tracing::trace!(lock = %self.lock_path.display(), "renewal lock taken");
            Ok(RenewalGuard::new(move || {
                Box::pin(async move {
                    // Closing the file releases the lock; unlock first anyway,
                    // so a clone of the descriptor (a forked child) cannot keep it.
                    let _ = file.unlock();
                    drop(file);
                })
            }))
        })
    }
}

impl FileStore {
    fn load_blocking(&self) -> Result<Option<TokenData>> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                // Another user's file we may not read is refused, not moved.
                if let Ok(meta) = fs::metadata(&self.path) {
                    self.check_trusted("token file", &self.path, &meta)?;
                }
                // Our own, unreadable (permissions, a folder in its place …): set it aside.
                self.set_aside(None, &format!("cannot be opened: {e}"))?;
                return Ok(None);
            }
        };
        // Checked on the open file, so what is read is what was checked.
        let identity = match file.metadata() {
            Ok(meta) => {
                self.check_trusted("token file", &self.path, &meta)?;
                Some(meta)
            }
            Err(_) => None,
        };
        let mut bytes = Zeroizing::new(Vec::new());
        let read = (&mut file).take(MAX_FORM_BYTES + 1).read_to_end(&mut bytes);
        drop(file);
        let reason = match read {
            Err(e) => format!("cannot be read: {e}"),
            Ok(_) if bytes.len() as u64 > MAX_FORM_BYTES => {
                format!("larger than {MAX_FORM_BYTES} bytes")
            }
            Ok(_) => match decode(&bytes) {
                Ok(token) => return Ok(Some(token)),
                Err(reason) => reason,
            },
        };
        self.set_aside(identity.as_ref(), &reason)?;
        Ok(None)
    }

    /// Renames an unusable file to `<path>.corrupt-<unix millis>`, unless it
    /// was replaced since it was read (`read` is the metadata of the file that
    /// was read), so a good token written meanwhile is never set aside.
    fn set_aside(&self, read: Option<&fs::Metadata>, reason: &str) -> Result<()> {
        if let Some(read) = read {
            match fs::symlink_metadata(&self.path) {
                Ok(now) if same_file(read, &now) => {}
                // Replaced or removed meanwhile: nothing to set aside.
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(_) => {}
            }
        }
        let millis = Utc::now().timestamp_millis();
        let mut aside = self.path.clone().into_os_string();
        aside.push(format!(".corrupt-{millis}"));
        let aside = PathBuf::from(aside);
        match fs::rename(&self.path, &aside) {
            Ok(()) => {
                // It may hold a live token: owner-only, whatever it was.
                restrict_to_owner(&aside);
                tracing::warn!(
                    path = %self.path.display(),
                    moved_to = %aside.display(),
                    reason,
                    "the token file is unusable; set it aside, a new token will be obtained"
                );
                Ok(())
            }
            // Someone else set it aside (or removed it) first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => {
                tracing::warn!(
                    path = %self.path.display(),
                    reason,
                    error = %e,
                    "the token file is unusable and cannot be set aside; a new token will be obtained"
                );
                Err(self.error(format!(
                    "{} is unusable ({reason}) and cannot be renamed to {}: {e}",
                    self.path.display(),
                    aside.display()
                )))
            }
        }
    }

    fn save_blocking(&self, bytes: &[u8]) -> Result<()> {
        // A file we would not read, we do not replace either: the user must
        // see (and fix) a token file others could read or have put there.
        match fs::symlink_metadata(&self.path) {
            Ok(meta) => self.check_trusted("token file", &self.path, &meta)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.error(format!("checking {}: {e}", self.path.display()))),
        }
        let dir = self.dir();
        create_private_dirs(&dir)
            .map_err(|e| self.error(format!("creating the folder {}: {e}", dir.display())))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| self.error(format!("{} does not name a file", self.path.display())))?;
        let tmp = dir.join(format!(
            ".{name}.tmp-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let written = write_synced(&tmp, bytes)
            .map_err(|e| format!("writing {}: {e}", tmp.display()))
            .and_then(|()| {
                fs::rename(&tmp, &self.path).map_err(|e| {
                    format!("renaming {} to {}: {e}", tmp.display(), self.path.display())
                })
            });
        if let Err(reason) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.error(reason));
        }
        // The rename is durable only once the folder is on disk.
        sync_dir(&dir).map_err(|e| self.error(format!("syncing {}: {e}", dir.display())))?;
        remove_stale_temps(&dir, &name);
        Ok(())
    }

    fn lock_blocking(&self) -> Result<File> {
        if let Some(dir) = self
            .lock_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            create_private_dirs(dir)
                .map_err(|e| self.error(format!("creating the folder {}: {e}", dir.display())))?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = match options.open(&self.lock_path) {
            Ok(file) => file,
            Err(e) => {
                if let Ok(meta) = fs::metadata(&self.lock_path) {
                    self.check_trusted("renewal lock file", &self.lock_path, &meta)?;
                }
                return Err(self.error(format!("opening {}: {e}", self.lock_path.display())));
            }
        };
        // A lock file someone else owns, or may open, is one they can hold
        // to stall every renewal: refused before waiting on it.
        let meta = file
            .metadata()
            .map_err(|e| self.error(format!("checking {}: {e}", self.lock_path.display())))?;
        self.check_trusted("renewal lock file", &self.lock_path, &meta)?;
        file.lock()
            .map_err(|e| self.error(format!("locking {}: {e}", self.lock_path.display())))?;
        Ok(file)
    }
}

impl FileStore {
    /// The folder holding the file.
    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Removes the token file, the files set aside (`<name>.corrupt-*`) and
    /// temporary files (`.<name>.tmp-*`): all of them may hold a token.
    fn clear_blocking(&self) -> Result<()> {
        let remove = |path: &Path| match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(format!("removing {}: {e}", path.display()))),
        };
        remove(&self.path)?;
        let Some(name) = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
        else {
            return Ok(());
        };
        let entries = match fs::read_dir(self.dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.error(format!("listing {}: {e}", self.dir().display()))),
        };
        let (aside, temp) = (format!("{name}.corrupt-"), format!(".{name}.tmp-"));
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            // Files only: a folder set aside in place of the file may hold anything.
            let is_file = entry.file_type().is_ok_and(|t| !t.is_dir());
            if is_file && (file_name.starts_with(&aside) || file_name.starts_with(&temp)) {
                remove(&entry.path())?;
            }
        }
        Ok(())
    }

    /// Refuses a file that is not the effective user's, or (a regular file)
    /// whose mode gives group or others any access (see [`private_fs::check_trusted`]).
    fn check_trusted(&self, what: &str, path: &Path, meta: &fs::Metadata) -> Result<()> {
        private_fs::check_trusted(what, path, meta).map_err(|reason| self.error(reason))
    }
}

#[cfg(test)]
mod tests {
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
        // A file that was there with looser permissions is refused, not
        // replaced (see `files_open_to_group_or_others_are_refused`).
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(rt().block_on(store.save(&token(24))).is_err());
        assert_eq!(mode(&path), 0o644);
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
        store.set_aside(Some(&read), "test").unwrap();
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
        assert!(matches!(e, Error::Store { .. }), "{msg}");
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

    /// Gives `p` to [`OTHER_UID`]. Only root may do that: elsewhere this
    /// returns false, and the caller skips what needs it (saying so).
    #[cfg(unix)]
    fn give_away(p: &Path) -> bool {
        match std::os::unix::fs::chown(p, Some(OTHER_UID), Some(OTHER_UID)) {
            Ok(()) => true,
            Err(e) => {
                println!("skipped: cannot chown {} to uid {OTHER_UID} ({e}); run as root to test files of another user", p.display());
                false
            }
        }
    }

    fn good_form() -> Vec<u8> {
        format!(
            r#"{{"version":2,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2099-03-02T10:00:00Z"}}"#
        )
        .into_bytes()
    }

    #[cfg(unix)]
    #[test]
    fn files_open_to_group_or_others_are_refused() {
        let dir = temp_dir("loose");
        fs::create_dir_all(&dir).unwrap();
        let rt = rt();
        for mode in [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601] {
            let path = dir.join(format!("token-{mode:o}.json"));
            write_private(&path, &good_form());
            set_mode(&path, mode);
            let store = FileStore::new(&path);
            for (what, result) in [
                ("load", rt.block_on(store.load()).map(|_| ())),
                ("save", rt.block_on(store.save(&token(24)))),
            ] {
                let e = result.expect_err(&format!("{mode:o}: {what} refused"));
                let msg = format!("{e} {e:?}");
                assert!(matches!(e, Error::Store { .. }), "{msg}");
                assert!(msg.contains(&path.display().to_string()), "{msg}");
                assert!(
                    msg.contains(&format!("{mode:04o}")),
                    "{mode:o} {what}: {msg}"
                );
                assert!(msg.contains("group or others"), "{msg}");
                assert!(!msg.contains(T), "{msg}");
            }
            // Neither adopted, nor set aside, nor overwritten.
            assert_eq!(fs::read(&path).unwrap(), good_form(), "{mode:o}");
            assert_eq!(mode_of(&path), mode);
        }
        assert!(aside_files(&dir).is_empty());
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
    fn files_of_another_user_are_refused() {
        let dir = temp_dir("foreign");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token.json");
        write_private(&path, &good_form());
        if !give_away(&path) {
            fs::remove_dir_all(&dir).unwrap();
            return;
        }
        let rt = rt();
        let store = FileStore::new(&path);
        for (what, result) in [
            ("load", rt.block_on(store.load()).map(|_| ())),
            ("save", rt.block_on(store.save(&token(24)))),
        ] {
            let msg = result.expect_err(what).to_string();
            assert!(msg.contains(&path.display().to_string()), "{what}: {msg}");
            assert!(msg.contains(&format!("uid {OTHER_UID}")), "{what}: {msg}");
            assert!(!msg.contains(T), "{msg}");
        }
        assert_eq!(fs::read(&path).unwrap(), good_form());
        assert!(aside_files(&dir).is_empty());

        // The same for the renewal lock, even with mode 0600.
        let lock_store = FileStore::new(dir.join("other.json"));
        write_private(lock_store.lock_path(), b"");
        assert!(give_away(lock_store.lock_path()));
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
            dir.join(".token.json.tmp-42-0123456789abcdef"),
        ];
        let theirs = [
            dir.join("other.json.corrupt-1"),
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
}
