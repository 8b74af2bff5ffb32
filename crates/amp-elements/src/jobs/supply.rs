//! Reissue (`reissueasset`, then `reissue-confirm`) and burn
//! (`destroyamount`, then `burn-confirm`).

use std::path::Path;

use amp_client::model::{ReissuanceOutput, ReissueConfirm, TxConfirmation};
use serde_json::Value;

use super::distribute::same_job;
use super::{checks, Outcome, Treasury};
use crate::error::{Error, Result};
use crate::journal::{JobKind, Journal, Record};
use crate::node::units;

impl Treasury {
    /// Reissues `amount` base units of `asset_uuid` and confirms it to AMP,
    /// never twice (see [`Treasury`] for the steps).
    ///
    /// A fresh job asks AMP first (`reissue-request`), and keeps the answer
    /// in the `journal`; a job the journal holds unfinished is taken up
    /// where it stopped (the same `amount` must be asked).
    ///
    /// ```no_run
    /// # async fn demo(treasury: amp_elements::Treasury) -> amp_elements::Result<()> {
    /// let journal = std::path::Path::new("/var/lib/amp/jobs/reissue-4e6c.json");
    /// let done = treasury.reissue("4e6c5fca-…", 500_000, journal).await?;
    /// println!("reissued in {}:{:?}", done.txid, done.vin);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`distribute`](Self::distribute).
    pub async fn reissue(&self, asset_uuid: &str, amount: i64, journal: &Path) -> Result<Outcome> {
        self.supply(JobKind::Reissue, asset_uuid, amount, journal)
            .await
    }

    /// Burns `amount` base units of `asset_uuid` from the treasury and
    /// confirms it to AMP, never twice (as [`reissue`](Self::reissue), with
    /// `burn-request`).
    ///
    /// ```no_run
    /// # async fn demo(treasury: amp_elements::Treasury) -> amp_elements::Result<()> {
    /// let journal = std::path::Path::new("/var/lib/amp/jobs/burn-4e6c.json");
    /// treasury.burn("4e6c5fca-…", 1_000, journal).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`distribute`](Self::distribute).
    pub async fn burn(&self, asset_uuid: &str, amount: i64, journal: &Path) -> Result<Outcome> {
        self.supply(JobKind::Burn, asset_uuid, amount, journal)
            .await
    }

    async fn supply(
        &self,
        kind: JobKind,
        asset_uuid: &str,
        amount: i64,
        path: &Path,
    ) -> Result<Outcome> {
        if amount <= 0 {
            return Err(Error::Input(format!(
                "the amount must be positive, is {amount}"
            )));
        }
        let mut journal = Journal::open(path)?;
        match journal.record() {
            Some(record) => {
                same_job(record, kind, asset_uuid)?;
                let theirs = record.amount.clone().and_then(|a| units(&Value::Number(a)));
                if theirs != Some(amount) {
                    return Err(Error::Input(format!(
                        "the journal {} holds an unfinished {} of {} units of this asset; run it \
                         again with that amount to finish it",
                        journal.path().display(),
                        kind.as_str(),
                        theirs.map_or_else(|| "?".to_string(), |u| u.to_string())
                    )));
                }
            }
            None => {
                let assets = self.client.assets();
                let request = match kind {
                    JobKind::Reissue => {
                        to_value(assets.reissue_request(asset_uuid, amount).await?)?
                    }
                    _ => to_value(assets.burn_request(asset_uuid, amount).await?)?,
                };
                checks::request(kind, &request)?;
                let asset_id = request
                    .get("asset_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| Error::Input("AMP's request has no asset_id".to_string()))?;
                let coins = match request.get("amount") {
                    Some(Value::Number(n)) => n.clone(),
                    _ => return Err(Error::Input("AMP's request has no amount".to_string())),
                };
                let mut record = Record::new(kind, asset_uuid, &asset_id, request);
                record.amount = Some(coins);
                journal.write(record)?;
            }
        }
        self.drive(journal).await
    }

    /// The checks before `reissueasset` / `destroyamount`: the node, the
    /// request, no lost outputs, the outputs to spend in the wallet, and
    /// for a burn the balance.
    pub(super) async fn supply_checks(&self, record: &Record) -> Result<()> {
        checks::node(&self.node).await?;
        checks::request(record.job, &record.request)?;
        checks::lost_outputs(&self.client, &record.asset_uuid).await?;
        let key = if record.job == JobKind::Reissue {
            "reissuance_utxos"
        } else {
            "utxos"
        };
        let wanted = record
            .request
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        checks::utxos_in_wallet(&self.node, &wanted, true).await?;
        if record.job == JobKind::Burn {
            let amount = record.amount.clone().map(Value::Number).unwrap_or_default();
            checks::balance(&self.node, &record.asset_id, &amount).await?;
        }
        Ok(())
    }

    /// `reissueasset` or `destroyamount`.
    pub(super) async fn supply_send(&self, record: &Record) -> Result<(String, Option<u32>)> {
        let amount = record
            .amount
            .clone()
            .ok_or_else(|| Error::Input("the journal has no amount".to_string()))?;
        if record.job == JobKind::Reissue {
            let r = self.node.reissue_asset(&record.asset_id, &amount).await?;
            Ok((r.txid, Some(r.vin)))
        } else {
            let txid = self.node.destroy_amount(&record.asset_id, &amount).await?;
            Ok((txid, None))
        }
    }

    /// Whether AMP lists the transaction: among the reissuances, or the
    /// asset's transactions for a burn.
    pub(super) async fn supply_confirmed(
        &self,
        record: &Record,
        txid: Option<&str>,
    ) -> Result<Option<String>> {
        let Some(txid) = txid else {
            return Ok(None);
        };
        let assets = self.client.assets();
        let listed = if record.job == JobKind::Reissue {
            assets
                .reissuances(&record.asset_uuid)
                .await?
                .iter()
                .any(|r| r.txid.eq_ignore_ascii_case(txid))
        } else {
            assets
                .txs(&record.asset_uuid, None)
                .await?
                .iter()
                .any(|t| t.txid.eq_ignore_ascii_case(txid))
        };
        Ok(listed.then(|| txid.to_string()))
    }

    /// `reissue-confirm` or `burn-confirm`, with the bodies the script sends.
    pub(super) async fn supply_confirm(
        &self,
        record: &Record,
        txid: &str,
        vin: Option<u32>,
    ) -> Result<()> {
        let assets = self.client.assets();
        if record.job == JobKind::Burn {
            let change = self.change(record, txid).await?;
            let confirmation = TxConfirmation::new(txid).change(change);
            return Ok(assets
                .burn_confirm(&record.asset_uuid, &confirmation)
                .await?);
        }
        let details = self.node.transaction(txid).await?.details;
        let listissuances: Vec<Value> = self
            .node
            .list_issuances(None)
            .await?
            .into_iter()
            .filter(|i| {
                i.get("txid")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(txid))
            })
            .collect();
        let vin = match vin {
            Some(vin) => vin,
            None => listissuances
                .iter()
                .find_map(|i| i.get("vin").and_then(Value::as_u64))
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| Error::Ambiguous {
                    reason: format!("the node lists no reissuance input of {txid}"),
                })?,
        };
        let confirmation = ReissueConfirm {
            details,
            listissuances,
            reissuance_output: ReissuanceOutput {
                txid: txid.to_string(),
                vin,
            },
        };
        assets
            .reissue_confirm(&record.asset_uuid, &confirmation)
            .await?;
        Ok(())
    }
}

fn to_value<T: serde::Serialize>(request: T) -> Result<Value> {
    serde_json::to_value(request)
        .map_err(|e| Error::Input(format!("AMP's request cannot be kept: {e}")))
}
