//! The jobs: distribute, reissue and burn (an AMP request, a transaction
//! sent by the issuer's node, AMP's confirm), and update-blinders.
//!
//! See [`Treasury`] for the steps every job takes.

mod blinders;
mod checks;
mod distribute;
mod search;
mod supply;
mod types;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use amp_client::AmpClient;
use chrono::Utc;

use crate::error::{Error, Result};
use crate::journal::{Intent, JobKind, Journal, Record, Sent};
use crate::node::ElementsRpc;

pub use blinders::BlindersOutcome;
pub use checks::SCRIPT_VERSION;
pub use types::{Event, JobOptions, Outcome, Progress, Silent};

/// The issuer's treasury: an AMP client and the Elements node that holds
/// the asset, and the jobs that need both.
///
/// Every job that sends runs the same steps, each written to its
/// [`Journal`](crate::journal::Journal) before the next begins:
///
/// 1. **AMP first.** If AMP already lists the job's transaction as
///    confirmed, the job only closes its journal.
/// 2. **The transaction.** The journal's txid if it has one. If it has an
///    intent but no txid, the wallet is searched since the intent's block
///    (`listsinceblock`): a distribution by its own outputs, a reissuance by
///    `listissuances`, a burn by the amount sent to no address. One match is
///    the transaction, several stop the job
///    ([`Error::Ambiguous`]), none means nothing was sent, and only then,
///    once the intent is older than [`JobOptions::resend_grace`], is it sent
///    again. A fresh job runs the checks, writes the intent (with the node's
///    tip), sends, and writes the txid the moment the node answers.
/// 3. **Confirmations**: `gettransaction` every [`JobOptions::poll_interval`]
///    until it has [`JobOptions::confirmations`], at most [`JobOptions::timeout`].
/// 4. **AMP's confirm**, unless AMP already has it, then read back; the
///    journal is closed (renamed `….done-<txid>.json`).
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_elements::Result<()> {
/// use amp_elements::{ElementsRpc, Treasury};
/// let node = ElementsRpc::builder("http://user:pass@127.0.0.1:7041/").build()?;
/// let treasury = Treasury::new(client, node);
/// let journal = std::path::Path::new("/var/lib/amp/jobs/distribute-4e6c.json");
/// let done = treasury.distribute("4e6c5fca-…", None, None, journal).await?;
/// println!("distribution {:?} confirmed in {}", done.distribution_uuid, done.txid);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Treasury {
    client: AmpClient,
    node: ElementsRpc,
    options: JobOptions,
    progress: Arc<dyn Progress>,
}

impl std::fmt::Debug for Treasury {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Treasury")
            .field("node", &self.node)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The journal file of a job in `dir`: `<kind>-<asset uuid>.json` (one job
/// of each kind per asset at a time).
///
/// ```
/// use amp_elements::{journal::JobKind, journal_path};
/// let p = journal_path(std::path::Path::new("/j"), JobKind::Burn, "4e6c");
/// assert_eq!(p, std::path::Path::new("/j/burn-4e6c.json"));
/// ```
pub fn journal_path(dir: &Path, kind: JobKind, asset_uuid: &str) -> PathBuf {
    let safe: String = asset_uuid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{}-{safe}.json", kind.as_str()))
}

impl Treasury {
    /// The jobs over `client` (AMP) and `node` (the treasury's wallet), with
    /// the default [`JobOptions`] and no progress reporting.
    pub fn new(client: AmpClient, node: ElementsRpc) -> Treasury {
        Treasury {
            client,
            node,
            options: JobOptions::default(),
            progress: Arc::new(Silent),
        }
    }

    /// With these options.
    pub fn options(mut self, options: JobOptions) -> Treasury {
        self.options = options;
        self
    }

    /// Reporting progress to `progress`.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Treasury {
        self.progress = progress;
        self
    }

    /// The AMP client.
    pub fn client(&self) -> &AmpClient {
        &self.client
    }

    /// The node.
    pub fn node(&self) -> &ElementsRpc {
        &self.node
    }

    fn say(&self, event: Event) {
        self.progress.event(&event);
    }

    /// Steps 1 to 4 for a journal whose record is written (see the module docs).
    async fn drive(&self, mut journal: Journal) -> Result<Outcome> {
        let record = current(&journal)?.clone();
        let phase = match (&record.sent, &record.intent) {
            (Some(_), _) => Some("sent"),
            (None, Some(_)) => Some("intent"),
            _ => None,
        };
        if let Some(phase) = phase {
            self.say(Event::Resumed { phase });
        }
        // 1. AMP first.
        if let Some(txid) = self.amp_confirmed(&record, record.txid()).await? {
            self.say(Event::AlreadyConfirmed { txid: txid.clone() });
            return self.close(journal, &txid, false, true);
        }
        // 2. The transaction.
        let mut sent_now = false;
        if record.sent.is_none() {
            if record.intent.is_some() {
                self.recover(&mut journal).await?;
            }
            if current(&journal)?.sent.is_none() {
                self.send(&mut journal).await?;
                sent_now = true;
            }
        }
        let record = current(&journal)?.clone();
        let sent = record.sent.clone().ok_or_else(|| Error::Ambiguous {
            reason: "the journal has no transaction after sending".to_string(),
        })?;
        // 3. Confirmations.
        self.wait(&sent.txid).await?;
        // 4. AMP's confirm, then read it back. AMP's acceptance is written
        // the moment it answers, and a confirm AMP accepted once is never
        // posted again: a read-back that lags (now, or in a later run) is
        // left to a person, not answered with a second confirm.
        let mut record = record;
        if record.amp_confirmed_at.is_none()
            && self
                .amp_confirmed(&record, Some(&sent.txid))
                .await?
                .is_none()
        {
            self.confirm(&record, &sent).await?;
            record.amp_confirmed_at = Some(Utc::now());
            journal.write(record.clone())?;
        }
        if self
            .amp_confirmed(&record, Some(&sent.txid))
            .await?
            .is_none()
        {
            return Err(Error::Ambiguous {
                reason: format!(
                    "AMP accepted the confirmation of {} but does not list it; check with AMP \
                     (the journal {} records the acceptance: the confirm is not posted again)",
                    sent.txid,
                    journal.path().display()
                ),
            });
        }
        let mut done = record;
        done.amp_confirmed_at.get_or_insert_with(Utc::now);
        journal.write(done)?;
        self.say(Event::AmpConfirmed {
            txid: sent.txid.clone(),
        });
        self.close(journal, &sent.txid, sent_now, false)
    }

    /// Closes the journal and says how the job ended.
    fn close(
        &self,
        journal: Journal,
        txid: &str,
        sent_now: bool,
        already_confirmed: bool,
    ) -> Result<Outcome> {
        let record = current(&journal)?.clone();
        let vin = record.sent.as_ref().and_then(|s| s.vin);
        let path = if record.intent.is_none() && record.sent.is_none() {
            // This run sent nothing and found AMP done: nothing to keep.
            let mut journal = journal;
            journal.clear()?;
            None
        } else {
            journal.finish()?
        };
        Ok(Outcome {
            job: record.job,
            asset_uuid: record.asset_uuid,
            distribution_uuid: record.distribution_uuid,
            txid: txid.to_string(),
            vin,
            sent_now,
            already_confirmed,
            journal: path,
        })
    }

    /// The intent is written and nothing of the job is in the wallet:
    /// looks for the transaction; writes its txid if found.
    async fn recover(&self, journal: &mut Journal) -> Result<()> {
        let record = current(journal)?.clone();
        let Some(intent) = record.intent.clone() else {
            return Ok(());
        };
        let mut found = search::find(&self.node, &record, Some(&intent.tip_hash)).await?;
        if found.is_empty() {
            // A send the node was still carrying out when the run died may
            // land a little later: look again once the intent is old enough.
            let age = (Utc::now() - intent.at).to_std().unwrap_or_default();
            if age < self.options.resend_grace {
                let wait = self.options.resend_grace - age;
                self.say(Event::WaitingForLateSend { wait });
                tokio::time::sleep(wait).await;
                found = search::find(&self.node, &record, Some(&intent.tip_hash)).await?;
            }
        }
        match found.as_slice() {
            [] => {
                // Nothing was sent: the intent goes, and the job sends anew.
                let mut cleared = record;
                cleared.intent = None;
                journal.write(cleared)
            }
            [one] => self.record_sent(journal, record, one, true),
            many => Err(Error::Ambiguous {
                reason: format!(
                    "the journal {} holds the intent of this {} but no txid, and the wallet has {} \
                     transactions that fit it since block {} ({}). Check which one is this job's \
                     (and whether the others were meant), then write its txid in the journal's \
                     \"sent\" or confirm it by hand",
                    journal.path().display(),
                    record.job.as_str(),
                    many.len(),
                    intent.tip_height,
                    many.iter().map(|f| f.txid.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// Runs the checks before sending, writes the intent, sends, and writes
    /// the txid. A send that fails for sure takes the intent back; one that
    /// may have reached the node is looked for in the wallet at once.
    async fn send(&self, journal: &mut Journal) -> Result<()> {
        let record = current(journal)?.clone();
        if let Err(e) = self.checks_before_send(&record).await {
            // Nothing was sent. A reissue or burn starts afresh next time
            // (a new AMP request); a distribution keeps its plan, unless
            // AMP no longer has it (cancelled: the journal would otherwise
            // hold it, and refuse every other distribution, for ever).
            let gone = matches!(&e, Error::Check { check, .. } if *check == distribute::CANCELLED);
            if (record.job != JobKind::Distribute || gone) && record.sent.is_none() {
                journal.clear()?;
            }
            return Err(e);
        }
        let tip = self.node.blockchain_info().await?;
        let mut with_intent = record.clone();
        with_intent.intent = Some(Intent {
            at: Utc::now(),
            tip_height: tip.blocks,
            tip_hash: tip.bestblockhash,
        });
        journal.write(with_intent.clone())?;
        self.say(Event::Sending);
        match self.send_transaction(&with_intent).await {
            Ok((txid, vin)) => {
                let sent = search::Found { txid, vin };
                self.record_sent(journal, with_intent, &sent, false)
            }
            Err(e) if e.may_have_reached_node() => {
                // The node may have sent it, and may still be carrying the
                // send out: the grace before sending again runs from now,
                // when its answer was given up on, not from the intent (a
                // node slower than the call's timeout would have used it up
                // already). Written first, so that it holds even when the
                // search below fails.
                let mut later = with_intent;
                if let Some(intent) = later.intent.as_mut() {
                    intent.at = Utc::now();
                }
                journal.write(later.clone())?;
                let tip_hash = later.intent.as_ref().map(|i| i.tip_hash.as_str());
                let found = search::find(&self.node, &later, tip_hash).await?;
                if let [one] = found.as_slice() {
                    return self.record_sent(journal, later, one, true);
                }
                Err(Error::Ambiguous {
                    reason: format!(
                        "{e}. The transaction is not in the wallet (yet); the journal {} keeps \
                         the intent: run the job again, it searches the wallet before it sends",
                        journal.path().display()
                    ),
                })
            }
            Err(e) => {
                // The node refused it, or was never reached: nothing was sent.
                journal.write(record)?;
                Err(e)
            }
        }
    }

    /// Writes the txid of the job's transaction, answered by the node or
    /// `found` in the wallet, and says so. A journal that cannot be written
    /// names the txid in its error: the transaction exists, and the next
    /// run finds it in the wallet by the intent.
    fn record_sent(
        &self,
        journal: &mut Journal,
        mut record: Record,
        sent: &search::Found,
        found: bool,
    ) -> Result<()> {
        let txid = sent.txid.clone();
        record.sent = Some(Sent {
            txid: txid.clone(),
            vin: sent.vin,
            at: Utc::now(),
            from: if found { "wallet" } else { "node" }.to_string(),
        });
        journal.write(record).map_err(|e| match e {
            Error::Journal { path, reason } => Error::Journal {
                path,
                reason: format!(
                    "{reason}; transaction {txid} was sent, and the next run finds it in the \
                     wallet"
                ),
            },
            e => e,
        })?;
        self.say(Event::Sent { txid, found });
        Ok(())
    }

    /// Waits for the confirmations, reporting each change.
    async fn wait(&self, txid: &str) -> Result<()> {
        let want = self.options.confirmations;
        let started = tokio::time::Instant::now();
        let mut last = None;
        loop {
            let tx = self.node.transaction(txid).await?;
            if tx.confirmations < 0 {
                return Err(Error::Conflicted {
                    txid: txid.to_string(),
                    confirmations: tx.confirmations,
                });
            }
            if last != Some(tx.confirmations) {
                last = Some(tx.confirmations);
                self.say(Event::Confirmations {
                    txid: txid.to_string(),
                    have: tx.confirmations,
                    want,
                });
            }
            if tx.confirmations >= i64::from(want) {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.options.timeout {
                return Err(Error::NotConfirmed {
                    txid: txid.to_string(),
                    confirmations: tx.confirmations,
                    wanted: want,
                    waited,
                });
            }
            let left = self.options.timeout - waited;
            tokio::time::sleep(self.options.poll_interval.min(left)).await;
        }
    }
}

/// The steps that differ by job.
impl Treasury {
    async fn amp_confirmed(&self, record: &Record, txid: Option<&str>) -> Result<Option<String>> {
        match record.job {
            JobKind::Distribute => self.distribution_confirmed(record, txid).await,
            JobKind::Reissue | JobKind::Burn => self.supply_confirmed(record, txid).await,
        }
    }

    async fn checks_before_send(&self, record: &Record) -> Result<()> {
        match record.job {
            JobKind::Distribute => self.distribute_checks(record).await,
            JobKind::Reissue | JobKind::Burn => self.supply_checks(record).await,
        }
    }

    async fn send_transaction(&self, record: &Record) -> Result<(String, Option<u32>)> {
        match record.job {
            JobKind::Distribute => Ok((self.distribute_send(record).await?, None)),
            JobKind::Reissue | JobKind::Burn => self.supply_send(record).await,
        }
    }

    async fn confirm(&self, record: &Record, sent: &Sent) -> Result<()> {
        match record.job {
            JobKind::Distribute => self.distribute_confirm(record, &sent.txid).await,
            JobKind::Reissue | JobKind::Burn => {
                self.supply_confirm(record, &sent.txid, sent.vin).await
            }
        }
    }
}

/// The journal's record; the jobs write one before driving.
fn current(journal: &Journal) -> Result<&Record> {
    journal.record().ok_or_else(|| Error::Journal {
        path: journal.path().to_path_buf(),
        reason: "has no record".to_string(),
    })
}
