//! [`FileStore`]: the token in a JSON file, shared by the processes of one
//! machine and kept between runs.
//!
//! The file holds
//! `{"version":2,"token":"…","obtained_at":"<RFC 3339 UTC>","expires_at":"<RFC 3339 UTC>","account":"<user> at <API root>"}`
//! (see `form.rs`);
//! readers ignore fields they do not know, so later versions of this crate
//! may add some. The same form is the value of the Redis store.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{BoxFuture, RenewalGuard, TokenStore};
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

mod aside;
mod discard;
mod form;
mod lock;
mod private_fs;

pub(crate) use form::{decode, encode};

use crate::private_fs::{
    create_private_dirs, distrust_folder, open_to_read, sync_dir, write_synced,
};
use aside::Aside;
use private_fs::{remove_stale_temps, Distrust};

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
///   While another process holds it, the lock is tried again without
///   blocking, with short async pauses, until [`FileStore::lock_timeout`]:
///   giving up leaves no thread behind waiting for the holder.
/// * **Discarding a rejected token** ([`discard`](TokenStore::discard)) is
///   one step under the renewal lock: re-read, compare, and delete only if
///   the file still holds the rejected token, so a newer token another
///   process stored is never deleted (`discard.rs` says how).
/// * **Unusable files** — unreadable, truncated, not JSON, of another version,
///   with an empty token or dates that do not parse, or not a regular file
///   (a folder, a named pipe: opened without blocking, never read) — are renamed to
///   `<path>.corrupt-<unix millis>` with a warning naming the path and the
///   reason (never the contents), and read as "no token": the manager then
///   obtains a fresh one. Loading never panics and never fails a call for that.
/// * **Expired tokens** are returned as they are: the file is well formed, and
///   the manager never uses an expired token (it logs in instead, and the new
///   token replaces the old one in the file).
/// * **A token file open to others** (on unix: ours, but with a mode that
///   gives group or others any access, such as 0644): its token may have
///   been read by others, so it is never used. It is set aside as
///   `<path>.exposed-<unix millis>` (mode 0600) with one warning naming the
///   path and the mode, and read as "no token": the manager logs in and
///   writes a fresh 0600 file.
/// * **Files of another user** (on unix): a token file or lock file that is
///   not owned by the effective user is refused with an error naming the
///   path and the owner (never the contents): not adopted, not set aside,
///   not overwritten, not locked. On a shared machine another user could
///   otherwise plant their token (our calls would act on their account) or
///   hold the lock to stall every renewal. The token manager then works from
///   memory, with a warning. A lock file of ours open to others is refused
///   too (anyone who can open it can hold it).
/// * **A folder of another user, or open to all** (on unix): a folder owned
///   by a user other than this one or root, or one anyone may write in
///   without the sticky bit (mode `o+w`, not `/tmp`'s `1777`), is refused the
///   same way, and so is every folder below one, before any file in it is
///   read, written or locked: whoever can rename files in it can swap ours
///   (or the folder holding them) between two of our steps. Where a link on
///   the path leads elsewhere, the folders there are checked too. Group-write
///   by a group the user is in is allowed (umask 002 gives it to every folder
///   of a per-user group); by another group, whose members could rename the
///   files, it is refused as well.
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
    /// How many renewal locks this store and its clones hold now: a discard
    /// made while this process's own renewal holds the lock must not wait
    /// for it (the renewal may be waiting for the discard).
    held: Arc<AtomicUsize>,
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
            held: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How long [`lock`](TokenStore::lock) waits while another process holds
    /// the renewal lock before giving up with an error (60 s by default). The
    /// token manager then renews without the lock rather than not at all
    /// (and bounds the wait itself, by half of its own wait limit).
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
        Error::store(self.describe(), reason.into())
    }

    /// Runs blocking file I/O off the async runtime's threads. Each piece of
    /// work is short (no lock is waited for here): a caller that stops
    /// waiting leaves nothing running for long.
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
        Box::pin(async move {
            let s = self.clone();
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

    fn discard<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.discard_async(token))
    }

    fn lock(&self) -> BoxFuture<'_, Result<RenewalGuard>> {
        Box::pin(async move {
            let held = self.lock_within(self.lock_timeout).await?;
            Ok(RenewalGuard::new(move || {
                Box::pin(async move {
                    drop(held);
                })
            }))
        })
    }
}

/// A token read from the file, and the metadata of the file it was read
/// from (to tell later whether the file is still that one).
type Stored = (TokenData, Option<fs::Metadata>);

impl FileStore {
    fn load_blocking(&self) -> Result<Option<TokenData>> {
        Ok(self.read_current()?.map(|(token, _)| token))
    }

    /// Reads the token file. One that cannot be used — unreadable, corrupt,
    /// or open to others — is set aside and read as nothing; one of another
    /// user is refused with an error, untouched.
    fn read_current(&self) -> Result<Option<Stored>> {
        self.check_folder()?;
        // Without blocking: a named pipe in its place opens at once, and is
        // set aside below as not a regular file (`open_to_read`).
        let mut file = match open_to_read(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                // Another user's file we may not read is refused, not moved.
                let meta = fs::metadata(&self.path).ok();
                if let Some(meta) = &meta {
                    if let Some(why) = self.distrust(meta)? {
                        self.set_aside(Some(meta), Aside::Exposed, &why)?;
                        return Ok(None);
                    }
                }
                // Our own, unreadable (permissions, a folder in its place …): set it aside.
                self.set_aside(None, Aside::Corrupt, &format!("cannot be opened: {e}"))?;
                return Ok(None);
            }
        };
        // Checked on the open file, so what is read is what was checked.
        let identity = match file.metadata() {
            Ok(meta) => {
                if let Some(why) = self.distrust(&meta)? {
                    drop(file);
                    self.set_aside(Some(&meta), Aside::Exposed, &why)?;
                    return Ok(None);
                }
                if !meta.is_file() {
                    // A pipe, a device, a folder: never a token we wrote.
                    drop(file);
                    self.set_aside(Some(&meta), Aside::Corrupt, "not a regular file")?;
                    return Ok(None);
                }
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
                Ok(token) => return Ok(Some((token, identity))),
                Err(reason) => reason,
            },
        };
        self.set_aside(identity.as_ref(), Aside::Corrupt, &reason)?;
        Ok(None)
    }

    /// Whether the token file whose metadata is `meta` is ours but open to
    /// others (`Some(reason)`: to be set aside), or another user's (an
    /// error: refused, untouched).
    fn distrust(&self, meta: &fs::Metadata) -> Result<Option<String>> {
        match private_fs::check_trusted("token file", &self.path, meta) {
            Ok(()) => Ok(None),
            Err(Distrust::OpenToOthers(why)) => Ok(Some(format!(
                "{why}: its token may have been read by others and is not used"
            ))),
            Err(Distrust::NotOurs(why)) => Err(self.error(why)),
        }
    }

    fn save_blocking(&self, bytes: &[u8]) -> Result<()> {
        // Another user's file we do not replace: the user must see (and
        // fix) a token file someone else put there. One of ours that is
        // open to others is replaced by the private one written here.
        match fs::symlink_metadata(&self.path) {
            Ok(meta) => {
                if let Some(why) = self.distrust(&meta)? {
                    tracing::warn!(
                        path = %self.path.display(),
                        reason = %why,
                        "replacing a token file that was open to others with a private (0600) one"
                    );
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.error(format!("checking {}: {e}", self.path.display()))),
        }
        self.check_folder()?;
        let dir = self.dir();
        create_private_dirs(&dir)
            .map_err(|e| self.error(format!("creating the folder {}: {e}", dir.display())))?;
        // Again once it exists: a folder someone else made between the
        // check and ours is taken as made by `create_private_dirs`.
        self.check_folder()?;
        let name = self.file_name()?;
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
}

impl FileStore {
    /// The folder holding the file.
    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Refuses a folder that another user than this one or root owns, or
    /// that anyone may write in without the sticky bit, and one below such
    /// a folder ([`distrust_folder`]): whoever can rename files there can
    /// swap ours between two of our steps. A planted token or lock file of
    /// theirs is refused by `check_trusted`, but one of ours moved back and
    /// forth is not, and two processes could lock two different lock
    /// files. The token is not read from such a folder, written to it, or
    /// locked in it. Folders that do not exist yet pass (they are created
    /// 0700).
    pub(super) fn check_folder(&self) -> Result<()> {
        let dir = self.dir();
        let why = distrust_folder(&dir)
            .map_err(|e| self.error(format!("checking the folder {}: {e}", dir.display())))?;
        match why {
            None => Ok(()),
            Some((folder, why)) => Err(self.error(format!(
                "refusing to keep the token in the folder {}: {why}; keep it in a folder only \
                 you (or root) can write, such as ~/.cache/amp",
                folder.display()
            ))),
        }
    }

    /// The token file's name, which names the files next to it.
    fn file_name(&self) -> Result<String> {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| self.error(format!("{} does not name a file", self.path.display())))
    }

    /// Removes the token file, the files set aside (`<name>.corrupt-*`,
    /// `<name>.exposed-*`), temporary files (`.<name>.tmp-*`) and files a
    /// discard was cut short in (`.<name>.discard-*`): all of them may hold
    /// a token.
    fn clear_blocking(&self) -> Result<()> {
        let remove = |path: &Path| match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(format!("removing {}: {e}", path.display()))),
        };
        remove(&self.path)?;
        let Ok(name) = self.file_name() else {
            return Ok(());
        };
        let entries = match fs::read_dir(self.dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.error(format!("listing {}: {e}", self.dir().display()))),
        };
        let ours = [
            format!("{name}.corrupt-"),
            format!("{name}.exposed-"),
            format!(".{name}.tmp-"),
            format!(".{name}.discard-"),
        ];
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            // Files only: a folder set aside in place of the file may hold anything.
            let is_file = entry.file_type().is_ok_and(|t| !t.is_dir());
            if is_file && ours.iter().any(|p| file_name.starts_with(p.as_str())) {
                remove(&entry.path())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
