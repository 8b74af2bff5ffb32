//! The journal: what a job meant to send and what it sent, written down
//! before and after each step, so that a job run again after a crash
//! finishes what the first run began instead of sending again.
//!
//! One JSON file per job (a distribution, or an asset's reissue or burn),
//! mode 0600, replaced atomically at each step (temporary file, fsync,
//! rename, folder fsync). A lock on `<file>.lock` (held while the job runs,
//! released by the system when the process dies) keeps two processes from
//! running the same job. A finished job's file is renamed
//! `<file stem>.done-<txid>.json`.
//!
//! A file that cannot be read as a journal is never taken for "nothing was
//! sent": it is renamed `<file>.corrupt` and the job refuses to run while
//! that file exists, saying what to check.

mod fs;

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// The journal format's version.
pub const JOURNAL_VERSION: u32 = 1;

/// Which job a journal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A distribution: `sendmany`, then `distributions/{d}/confirm`.
    Distribute,
    /// A reissuance: `reissueasset`, then `reissue-confirm`.
    Reissue,
    /// A burn: `destroyamount`, then `burn-confirm`.
    Burn,
}

impl JobKind {
    /// `distribute`, `reissue` or `burn`: AMP's `command` for the job.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Distribute => "distribute",
            JobKind::Reissue => "reissue",
            JobKind::Burn => "burn",
        }
    }
}

/// One output a distribution pays: address, amount in whole coins (as AMP
/// wrote it), asset id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOutput {
    /// The receiving address.
    pub address: String,
    /// Whole coins, as in AMP's `map_address_amount`.
    pub amount: Number,
    /// The asset id, as in AMP's `map_address_asset`.
    pub asset: String,
}

/// The intent, written just before the transaction is sent: from then on
/// the transaction may exist, and is looked for before anything is sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// The node's tip then: the wallet is searched from this block on
    /// (`listsinceblock`), so a transaction sent after it is found.
    pub tip_height: u64,
    /// The tip's hash.
    pub tip_hash: String,
}

/// The transaction, once known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    /// The transaction id.
    pub txid: String,
    /// A reissuance's input (`reissueasset`'s `vin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<u32>,
    /// When it was written down.
    pub at: DateTime<Utc>,
    /// `node` (the send call's answer) or `wallet` (found in the wallet
    /// after a crash).
    pub from: String,
}

/// A journal's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// [`JOURNAL_VERSION`].
    pub version: u32,
    /// The job.
    pub job: JobKind,
    /// The asset's AMP uuid.
    pub asset_uuid: String,
    /// The Liquid asset id.
    pub asset_id: String,
    /// A distribution's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_uuid: Option<String>,
    /// A reissue's or burn's amount, whole coins as AMP wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Number>,
    /// A distribution's outputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<PlannedOutput>,
    /// AMP's request answer (the file the official script reads), whole.
    pub request: Value,
    /// When the job began.
    pub created_at: DateTime<Utc>,
    /// Written just before sending.
    #[serde(default)]
    pub intent: Option<Intent>,
    /// Written as soon as the txid is known.
    #[serde(default)]
    pub sent: Option<Sent>,
    /// When AMP accepted the confirmation.
    #[serde(default)]
    pub amp_confirmed_at: Option<DateTime<Utc>>,
}

impl Record {
    /// A new record for `job` of `asset_uuid`, nothing sent.
    pub fn new(job: JobKind, asset_uuid: &str, asset_id: &str, request: Value) -> Record {
        Record {
            version: JOURNAL_VERSION,
            job,
            asset_uuid: asset_uuid.to_string(),
            asset_id: asset_id.to_string(),
            distribution_uuid: None,
            amount: None,
            outputs: Vec::new(),
            request,
            created_at: Utc::now(),
            intent: None,
            sent: None,
            amp_confirmed_at: None,
        }
    }

    /// The transaction id, once known.
    pub fn txid(&self) -> Option<&str> {
        self.sent.as_ref().map(|s| s.txid.as_str())
    }
}

/// An open journal: its file, its lock, and its record.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Held while the journal is open; the system releases it if the
    /// process dies.
    _lock: File,
    record: Option<Record>,
}

impl Journal {
    /// Opens the journal at `path` (creating its folder, 0700), locking it
    /// against other processes, and reads its record if there is one.
    ///
    /// ```
    /// # fn main() -> amp_elements::Result<()> {
    /// use amp_elements::journal::{JobKind, Journal, Record};
    /// let path = std::env::temp_dir().join(format!("doc-journal-{}.json", std::process::id()));
    /// let mut journal = Journal::open(&path)?;
    /// assert!(journal.record().is_none());
    /// journal.write(Record::new(JobKind::Burn, "uuid", "asset", serde_json::json!({})))?;
    /// drop(journal);
    /// let journal = Journal::open(&path)?;
    /// assert_eq!(journal.record().map(|r| r.job), Some(JobKind::Burn));
    /// # std::fs::remove_file(&path).ok(); std::fs::remove_file(path.with_extension("json.lock")).ok();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Busy`] if another process holds it; [`Error::Journal`] if
    /// it cannot be read or written, if it, its lock file or a folder on
    /// its path could be changed by another user (owned by one other than
    /// this one or root, or writable by anyone or by a group this user is
    /// not in), if it is corrupt (it is
    /// then set aside as `<path>.corrupt`), or if a corrupt journal of this
    /// job was set aside before and is still there.
    pub fn open(path: &Path) -> Result<Journal> {
        let io = |what: &str, e: std::io::Error| Error::Journal {
            path: path.to_path_buf(),
            reason: format!("cannot {what}: {e}"),
        };
        let folder = fs::parent(path);
        let distrusted = |what: &str, why: String| Error::Journal {
            path: path.to_path_buf(),
            reason: format!(
                "refusing {what}: {why}; nothing was read or sent. Keep journals in a folder \
                 only you (or root) can write"
            ),
        };
        // Checked before anything is made in it, and again once it exists:
        // a folder made by another user between the check and our creation
        // is refused all the same.
        let check_folder = || match fs::distrust_folder(&folder) {
            Ok(None) => Ok(()),
            Ok(Some((f, why))) => Err(distrusted(&format!("the folder {}", f.display()), why)),
            Err(e) => Err(io("check its folder", e)),
        };
        check_folder()?;
        fs::create_private_dirs(&folder).map_err(|e| io("create its folder", e))?;
        check_folder()?;
        let lock_path = sidecar(path, "lock");
        let lock = fs::open_private(&lock_path).map_err(|e| io("open its lock file", e))?;
        let meta = lock.metadata().map_err(|e| io("check its lock file", e))?;
        if let Some(why) = fs::distrust(&meta) {
            return Err(distrusted(
                &format!("the lock file {}", lock_path.display()),
                why,
            ));
        }
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Busy {
                    path: path.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("lock it", e)),
        }
        let corrupt = sidecar(path, "corrupt");
        if corrupt.exists() {
            return Err(Error::Journal {
                path: path.to_path_buf(),
                reason: format!(
                    "an earlier journal of this job could not be read and was set aside as {}; \
                     its transaction may have been sent. {CHECK}, then delete that file and run \
                     the job again",
                    corrupt.display()
                ),
            });
        }
        // A pipe or a device here would hold `read` for ever (a FIFO
        // waits for a writer): only a regular file is read.
        match std::fs::symlink_metadata(path) {
            Ok(meta) if !meta.file_type().is_file() => {
                return Err(Error::Journal {
                    path: path.to_path_buf(),
                    reason: "is not a regular file (a folder, a link, a pipe or a device); \
                             nothing was read or sent. Move it away and run the job again"
                        .to_string(),
                });
            }
            Ok(meta) => {
                if let Some(why) = fs::distrust(&meta) {
                    return Err(distrusted("the journal", why));
                }
            }
            _ => {}
        }
        let record = match std::fs::read(path) {
            Ok(bytes) => Some(parse(&bytes).map_err(|reason| {
                let moved = fs::rename_synced(path, &corrupt);
                Error::Journal {
                    path: path.to_path_buf(),
                    reason: match moved {
                        Ok(()) => format!(
                            "is corrupt ({reason}); set aside as {}. Its transaction may have \
                             been sent: nothing will be sent until you have checked. {CHECK}, \
                             then delete {} and run the job again",
                            corrupt.display(),
                            corrupt.display()
                        ),
                        Err(e) => format!(
                            "is corrupt ({reason}) and cannot be set aside ({e}). Its transaction \
                             may have been sent. {CHECK}, then remove it and run the job again"
                        ),
                    },
                }
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("read it", e)),
        };
        Ok(Journal {
            path: path.to_path_buf(),
            _lock: lock,
            record,
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record, if the job has begun.
    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    /// Replaces the record, atomically and durably (synced before this returns).
    ///
    /// # Errors
    ///
    /// [`Error::Journal`]: the file cannot be written.
    pub fn write(&mut self, record: Record) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(&record).map_err(|e| Error::Journal {
            path: self.path.clone(),
            reason: format!("cannot encode it: {e}"),
        })?;
        bytes.push(b'\n');
        fs::write_atomic(&self.path, &bytes).map_err(|e| Error::Journal {
            path: self.path.clone(),
            reason: format!("cannot write it: {e}"),
        })?;
        self.record = Some(record);
        Ok(())
    }

    /// Forgets a job that sent nothing: the file is removed, so the next
    /// run begins anew.
    ///
    /// # Errors
    ///
    /// [`Error::Journal`]: the record has an intent or a txid (a
    /// transaction may exist: never forgotten), or the file cannot be removed.
    pub fn clear(&mut self) -> Result<()> {
        if self
            .record
            .as_ref()
            .is_some_and(|r| r.intent.is_some() || r.sent.is_some())
        {
            return Err(Error::Journal {
                path: self.path.clone(),
                reason: "holds a transaction or the intent to send one; it is not cleared"
                    .to_string(),
            });
        }
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Journal {
                    path: self.path.clone(),
                    reason: format!("cannot remove it: {e}"),
                })
            }
        }
        self.record = None;
        Ok(())
    }

    /// Ends the job: the file is renamed `<stem>.done-<txid>.json` (kept as
    /// a record), so the next run of the same command begins a new job.
    /// Answers the new name (`None` when there was no file).
    ///
    /// # Errors
    ///
    /// [`Error::Journal`]: the file cannot be renamed.
    pub fn finish(self) -> Result<Option<PathBuf>> {
        let Some(record) = &self.record else {
            return Ok(None);
        };
        let tag = record
            .txid()
            .map_or_else(|| record.created_at.timestamp().to_string(), str::to_string);
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let done = fs::parent(&self.path).join(format!("{stem}.done-{tag}.json"));
        fs::rename_synced(&self.path, &done).map_err(|e| Error::Journal {
            path: self.path.clone(),
            reason: format!("cannot rename it {}: {e}", done.display()),
        })?;
        Ok(Some(done))
    }
}

/// What to check before deleting a corrupt journal.
const CHECK: &str = "Check the node's wallet (listsinceblock, listissuances) for a transaction \
of this job, and AMP for its confirmation (amp distributions get, amp assets reissuances, \
amp assets txs)";

/// `<path>.<what>`.
fn sidecar(path: &Path, what: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(what);
    PathBuf::from(name)
}

/// A record from a file's bytes, or why not.
fn parse(bytes: &[u8]) -> std::result::Result<Record, String> {
    let record: Record = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if record.version != JOURNAL_VERSION {
        return Err(format!(
            "version {} (this program reads version {JOURNAL_VERSION})",
            record.version
        ));
    }
    Ok(record)
}

#[cfg(test)]
mod tests;
