//! [`FileStore`]: the token in a JSON file, shared by the processes of one
//! machine and kept between runs.
//!
//! The file holds
//! `{"version":1,"token":"…","obtained_at":"<RFC 3339 UTC>","expires_at":"<RFC 3339 UTC>"}`;
//! readers ignore fields they do not know, so later versions of this crate
//! may add some. The same form is the value of the Redis store.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use super::{BoxFuture, RenewalGuard, TokenStore};
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

/// The version of the stored form this crate writes and reads.
pub(super) const FORM_VERSION: u64 = 1;

/// A stored form larger than this is not ours: it is set aside unread.
const MAX_FORM_BYTES: u64 = 64 * 1024;

/// Temporary files older than this were left by a writer that died mid-write.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

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
///
/// ```
/// use amp_client::{FileStore, TokenData, TokenStore};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("amp-doc-{}", std::process::id()));
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
/// # std::fs::remove_dir_all(&dir)?;
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
            self.blocking(move || match fs::remove_file(&s.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(s.error(format!("removing {}: {e}", s.path.display()))),
            })
            .await
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
                // Unreadable (permissions, a folder in its place …): set it aside.
                self.set_aside(None, &format!("cannot be opened: {e}"))?;
                return Ok(None);
            }
        };
        let identity = file.metadata().ok();
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
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
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
        let file = options
            .open(&self.lock_path)
            .map_err(|e| self.error(format!("opening {}: {e}", self.lock_path.display())))?;
        file.lock()
            .map_err(|e| self.error(format!("locking {}: {e}", self.lock_path.display())))?;
        Ok(file)
    }
}

/// Removes the temporary files of writers killed mid-write (best effort).
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        a.len() == b.len() && a.modified().ok() == b.modified().ok()
    }
}

/// Creates `dir` and its missing ancestors, each with mode 0700 on unix.
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for d in missing.into_iter().rev() {
        if d.as_os_str().is_empty() {
            continue;
        }
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(d) {
            Ok(()) => {}
            // Created by another process meanwhile.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes `bytes` to the new file `path` (mode 0600) and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // The umask may have taken bits away; never let it add any.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Folders cannot be opened for syncing on every platform; the rename is
    // atomic there all the same.
    Ok(())
}

/// The stored form of a token, as written.
#[derive(Serialize)]
struct Form<'a> {
    version: u64,
    token: &'a str,
    obtained_at: String,
    expires_at: String,
}

/// The stored form of `token`, in a buffer wiped when dropped.
pub(super) fn encode(token: &TokenData) -> Zeroizing<Vec<u8>> {
    let form = Form {
        version: FORM_VERSION,
        token: token.token().expose_secret(),
        obtained_at: rfc3339(token.obtained_at),
        expires_at: rfc3339(token.expires_at),
    };
    // Serializing strings and integers into a Vec cannot fail.
    Zeroizing::new(serde_json::to_vec(&form).unwrap_or_default())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The stored form as read: every field optional, so what is missing or wrong
/// is reported by name rather than by serde (whose messages may quote values).
#[derive(Deserialize)]
struct RawForm {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    token: Option<SecretField>,
    #[serde(default)]
    obtained_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

/// A string read straight into a buffer that is wiped when dropped.
struct SecretField(Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(SecretField(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// Parses the stored form. The error says what is wrong, without quoting
/// anything from `bytes`.
pub(super) fn decode(bytes: &[u8]) -> std::result::Result<TokenData, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("empty".to_string());
    }
    let raw: RawForm = serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        let at = format!("line {} column {}", e.line(), e.column());
        match e.classify() {
            Category::Eof => format!("truncated (ends at {at})"),
            Category::Syntax => format!("not JSON (syntax error at {at})"),
            Category::Data => format!("not the expected JSON object (wrong type at {at})"),
            Category::Io => format!("cannot be read ({at})"),
        }
    })?;
    match raw.version {
        Some(FORM_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "version {other}, this program reads version {FORM_VERSION}"
            ))
        }
        None => return Err("no version field".to_string()),
    }
    let token = match raw.token {
        Some(SecretField(t)) if !t.trim().is_empty() => t,
        Some(_) => return Err("the token is empty".to_string()),
        None => return Err("no token field".to_string()),
    };
    let date = |name: &str, value: Option<String>| {
        let value = value.ok_or_else(|| format!("no {name} field"))?;
        DateTime::parse_from_rfc3339(&value)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("{name} is not an RFC 3339 date: {e}"))
    };
    let obtained_at = date("obtained_at", raw.obtained_at)?;
    let expires_at = date("expires_at", raw.expires_at)?;
    // `to_string` allocates exactly the length, so the secret is not copied
    // again when it is boxed.
    Ok(TokenData::new(
        token.as_str().to_string(),
        obtained_at,
        expires_at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // A file that was there with looser permissions is replaced by a 0600 one.
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
                r#"{{"version":1,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2026-03-02T10:00:00Z"}}"#
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
        fs::write(
            &path,
            format!(
                r#"{{"comment":"x","version":1,"token":"{T}","obtained_at":"2026-03-01T11:00:00+01:00","expires_at":"2026-03-02T10:00:00.5Z","extra":{{"a":[1,2]}}}}"#
            ),
        )
        .unwrap();
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
                r#"{{"version":1,"token":"{T}","obtained_at":"2026-03-01T10:00:00Z","expires_at":"2026-03-02T10:00:00Z"}}"#
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
                "version 2",
                good(&|s| s.replace(r#""version":1"#, r#""version":2"#)),
                "version 2",
            ),
            (
                "version as a string",
                good(&|s| s.replace(r#""version":1"#, r#""version":"1""#)),
                "expected JSON object",
            ),
            (
                "no version",
                good(&|s| s.replace(r#""version":1,"#, "")),
                "no version",
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
            fs::write(&path, &bytes).unwrap();
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
        fs::write(&path, b"garbage").unwrap();
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
}
