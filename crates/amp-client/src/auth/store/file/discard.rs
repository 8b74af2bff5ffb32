//! Discarding a rejected token from a [`FileStore`] in one step: under the
//! renewal lock, re-read, compare, and delete only the file that was read.
//!
//! The trait's default (load, compare, clear) left a gap between the
//! compare and the clear in which another process could store a newer
//! token, which the clear then deleted. Here the lock keeps renewals of
//! other processes out of that gap, and the delete itself is a rename of
//! the file to a private name followed by a check that what was taken is
//! the file that was read, so even a writer that does not take the lock
//! (a renewal that gave up waiting for it, `set_token`) never loses its
//! token.

use std::fs;
use std::io;
use std::time::Duration;

use super::lock::Held;
use super::private_fs::same_file;
use super::FileStore;
use crate::auth::token::TokenData;
use crate::error::Result;
use crate::private_fs::sync_dir;

/// The longest a discard waits for the renewal lock when another process
/// holds it. Past it the discard runs without the lock (still deleting only
/// the file it read), rather than keep a call that was answered 401
/// waiting. Below the token manager's bound on a store operation (the
/// request timeout, 1 s at the least), so that the manager never gives up
/// on a discard that is only waiting for the lock.
const DISCARD_LOCK_WAIT: Duration = Duration::from_millis(500);

impl FileStore {
    /// [`TokenStore::discard`](super::TokenStore::discard) for a file: see
    /// the module docs.
    pub(super) async fn discard_async(&self, token: &TokenData) -> Result<()> {
        let held: Option<Held> = self
            .lock_unless_held_here(DISCARD_LOCK_WAIT.min(self.lock_timeout))
            .await;
        let s = self.clone();
        let token = token.clone();
        let result = self.blocking(move || s.discard_blocking(&token)).await;
        // Released only once the file is dealt with.
        drop(held);
        result
    }

    /// The compare-and-delete itself, the lock (if any) already held.
    fn discard_blocking(&self, rejected: &TokenData) -> Result<()> {
        let Some((stored, read)) = self.read_current()? else {
            return Ok(());
        };
        if !stored.same_token(rejected) {
            // Another process stored a newer token: it stays.
            return Ok(());
        }
        let Some(read) = read else {
            // Without the identity of what was read, nothing is deleted
            // that might be something else.
            return Err(self.error(format!(
                "cannot tell which file {} is, to discard the rejected token",
                self.path.display()
            )));
        };
        if self.remove_if_same(&read)? {
            tracing::debug!(path = %self.path.display(), "the rejected token was removed from the token file");
        }
        Ok(())
    }

    /// Removes the token file if it is still the file whose metadata is
    /// `read`: takes whatever is in place away by one rename, then deletes
    /// it if it is that file, or puts it back (a newer file, written
    /// meanwhile) unless a newer one still is in place by then. True when
    /// the file read was removed.
    pub(super) fn remove_if_same(&self, read: &fs::Metadata) -> Result<bool> {
        let dir = self.dir();
        let taken = dir.join(format!(
            ".{}.discard-{}-{:016x}",
            self.file_name()?,
            std::process::id(),
            fastrand::u64(..)
        ));
        match fs::rename(&self.path, &taken) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.error(format!("taking {} away: {e}", self.path.display()))),
        }
        let same = fs::symlink_metadata(&taken).is_ok_and(|taken| same_file(read, &taken));
        if !same {
            // Back in place; a hard link never replaces a file that is
            // there already (an even newer one).
            match fs::hard_link(&taken, &self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                // No hard links on this file system: a rename, if the place is still free.
                Err(_) if !self.path.exists() => {
                    let _ = fs::rename(&taken, &self.path);
                }
                Err(_) => {}
            }
        }
        match fs::remove_file(&taken) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.error(format!("removing {}: {e}", taken.display()))),
        }
        sync_dir(&dir).map_err(|e| self.error(format!("syncing {}: {e}", dir.display())))?;
        Ok(same)
    }
}
