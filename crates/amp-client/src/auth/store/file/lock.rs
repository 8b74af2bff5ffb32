//! The renewal lock of a [`FileStore`]: an exclusive advisory lock (`flock`
//! on unix) on the sidecar file `<path>.lock`.
//!
//! It is tried without blocking, with short async pauses between tries,
//! until the wait allowed is over. A blocking `flock` on a blocking thread
//! under a timeout (what this replaced) gave up on the waiting but not on
//! the thread: it stayed in `flock` until the holder let go, a service
//! gained one stuck thread per renewal that timed out, and tokio waited for
//! the thread at shutdown, so `amp` printed its answer at 1.6 s and exited
//! when the holder let go, 25 s later (issue 19).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::private_fs::{check_trusted, Distrust};
use super::FileStore;
use crate::error::Result;
use crate::private_fs::create_private_dirs;

/// The first pause between two tries, doubled after each up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause between two tries: a lock let go is won within about
/// this long.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// The renewal lock, held. Dropping it releases the lock.
pub(super) struct Held {
    file: File,
    /// The store's count of locks held here, less one when dropped.
    count: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Closing the file releases the lock; unlock first anyway, so a
        // clone of the descriptor (a forked child) cannot keep it.
        let _ = self.file.unlock();
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

impl FileStore {
    /// The renewal lock, waiting at most `wait` while another holder has it;
    /// an error naming the lock file once that is over.
    pub(super) async fn lock_within(&self, wait: Duration) -> Result<Held> {
        match self.acquire(wait, false).await? {
            Some(held) => Ok(held),
            // `acquire` yields only when asked to.
            None => Err(self.error("the renewal lock was not taken")),
        }
    }

    /// The renewal lock for a discard, waiting at most `wait`; `None` when a
    /// lock of this store is held here already (this process's renewal: the
    /// discard must not wait for it), or when it cannot be had (the discard
    /// then runs without it).
    pub(super) async fn lock_unless_held_here(&self, wait: Duration) -> Option<Held> {
        match self.acquire(wait, true).await {
            Ok(held) => held,
            Err(e) => {
                tracing::debug!(error = %e, "discarding the rejected token without the renewal lock");
                None
            }
        }
    }

    /// Tries the lock until it is won or `wait` is over. With
    /// `unless_held_here`, gives up (`None`) as soon as a lock of this store
    /// is held in this process.
    async fn acquire(&self, wait: Duration, unless_held_here: bool) -> Result<Option<Held>> {
        let held_here = || unless_held_here && self.held.load(Ordering::Acquire) > 0;
        if held_here() {
            return Ok(None);
        }
        let s = self.clone();
        let file = self.blocking(move || s.open_lock_file()).await?;
        // `None`: a wait too long to represent, i.e. no limit.
        let deadline = Instant::now().checked_add(wait);
        let mut pause = FIRST_PAUSE;
        loop {
            if held_here() {
                return Ok(None);
            }
            match file.try_lock() {
                Ok(()) => {
                    self.held.fetch_add(1, Ordering::AcqRel);
                    tracing::trace!(lock = %self.lock_path.display(), "renewal lock taken");
                    return Ok(Some(Held {
                        file,
                        count: Arc::clone(&self.held),
                    }));
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(self.error(format!("locking {}: {e}", self.lock_path.display())));
                }
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Err(self.error(format!(
                    "the renewal lock {} is still held by another process after {:?}",
                    self.lock_path.display(),
                    wait
                )));
            }
            // A little jitter, so that waiters do not knock in step.
            let jitter = Duration::from_millis(fastrand::u64(0..=pause.as_millis() as u64 / 4));
            let nap = left.map_or(pause + jitter, |left| (pause + jitter).min(left));
            tokio::time::sleep(nap).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// Opens (creating it if needed, mode 0600) the lock file, and checks
    /// that it can be trusted: a lock file someone else owns, or may open,
    /// is one they can hold to stall every renewal, so it is refused before
    /// any wait.
    fn open_lock_file(&self) -> Result<File> {
        self.check_folder()?;
        if let Some(dir) = self
            .lock_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            create_private_dirs(dir)
                .map_err(|e| self.error(format!("creating the folder {}: {e}", dir.display())))?;
            // Again once it exists (see `save_blocking`).
            self.check_folder()?;
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
                    self.check_lock_file(&meta)?;
                }
                return Err(self.error(format!("opening {}: {e}", self.lock_path.display())));
            }
        };
        let meta = file
            .metadata()
            .map_err(|e| self.error(format!("checking {}: {e}", self.lock_path.display())))?;
        self.check_lock_file(&meta)?;
        Ok(file)
    }

    /// Refuses a lock file that is not ours, or that others may open.
    fn check_lock_file(&self, meta: &fs::Metadata) -> Result<()> {
        match check_trusted("renewal lock file", &self.lock_path, meta) {
            Ok(()) => Ok(()),
            Err(Distrust::NotOurs(why)) => Err(self.error(why)),
            Err(Distrust::OpenToOthers(why)) => Err(self.error(format!(
                "refusing {why}: anyone who can open it can hold it and stall every renewal; \
                 `chmod 600` it or remove it"
            ))),
        }
    }
}
