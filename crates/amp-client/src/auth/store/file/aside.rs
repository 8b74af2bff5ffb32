//! Setting a token file aside: one that cannot be used (corrupt, or open
//! to others) is renamed beside the path, made owner-only, and a new token
//! is obtained; a file replaced since it was read is left alone.

use std::fs;
use std::io;
use std::path::PathBuf;

use chrono::Utc;

use super::private_fs::{restrict_to_owner, same_file};
use super::FileStore;
use crate::error::Result;

/// Why a file is set aside, which names the copy.
#[derive(Clone, Copy)]
pub(super) enum Aside {
    /// Unusable: `<path>.corrupt-<unix millis>`.
    Corrupt,
    /// Open to others: `<path>.exposed-<unix millis>`.
    Exposed,
}

impl Aside {
    fn suffix(self) -> &'static str {
        match self {
            Aside::Corrupt => "corrupt",
            Aside::Exposed => "exposed",
        }
    }
}

impl FileStore {
    /// Renames an unusable file to `<path>.corrupt-<unix millis>` (or
    /// `.exposed-` for one open to others), unless it was replaced since it
    /// was read (`read` is the metadata of the file that was read), so a
    /// good token written meanwhile is never set aside.
    pub(super) fn set_aside(
        &self,
        read: Option<&fs::Metadata>,
        kind: Aside,
        reason: &str,
    ) -> Result<()> {
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
        aside.push(format!(".{}-{millis}", kind.suffix()));
        let aside = PathBuf::from(aside);
        match fs::rename(&self.path, &aside) {
            Ok(()) => {
                // It may hold a live token: owner-only, whatever it was.
                restrict_to_owner(&aside);
                match kind {
                    Aside::Corrupt => tracing::warn!(
                        path = %self.path.display(),
                        moved_to = %aside.display(),
                        reason,
                        "the token file is unusable; set it aside, a new token will be obtained"
                    ),
                    Aside::Exposed => tracing::warn!(
                        path = %self.path.display(),
                        moved_to = %aside.display(),
                        reason,
                        "the token file was open to others; set it aside (now 0600), \
                         a new token will be obtained and written to a private file"
                    ),
                }
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
}
