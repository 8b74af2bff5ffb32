//! Distribute: `sendmany` the distribution's outputs, then
//! `distributions/{d}/confirm` with the transaction's details and change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use amp_client::model::{DistributionResponse, TxConfirmation};
use serde_json::{Number, Value};

use super::{checks, search, Outcome, Treasury};
use crate::error::{Error, Result};
use crate::journal::{JobKind, Journal, PlannedOutput, Record};

impl Treasury {
    /// Carries out a distribution of `asset_uuid` and confirms it to AMP,
    /// never sending its transaction twice (see [`Treasury`] for the steps).
    ///
    /// Which distribution: the unfinished one of the `journal` when it has
    /// one; else `request`, the answer of `distributions/create` (the file
    /// the official script reads); else `distribution_uuid`, whose outputs
    /// are read from AMP's assignments (receiving address and amount); else
    /// a new one, created here. A new one is not created while AMP holds an
    /// unconfirmed distribution of the asset that the journal does not know
    /// (a run that died between creating and writing the journal): that one
    /// is named, to be carried out or cancelled.
    ///
    /// ```no_run
    /// # async fn demo(treasury: amp_elements::Treasury) -> amp_elements::Result<()> {
    /// let journal = std::path::Path::new("/var/lib/amp/jobs/distribute-4e6c.json");
    /// let done = treasury.distribute("4e6c5fca-…", Some("9a3c…"), None, journal).await?;
    /// assert!(done.sent_now || done.already_confirmed || done.txid.len() == 64);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A check that failed ([`Error::Check`], nothing sent), the node or AMP
    /// failing, [`Error::NotConfirmed`] (sent; run again to go on waiting),
    /// [`Error::Ambiguous`] (stopped: the message says what to check).
    pub async fn distribute(
        &self,
        asset_uuid: &str,
        distribution_uuid: Option<&str>,
        request: Option<DistributionResponse>,
        journal: &Path,
    ) -> Result<Outcome> {
        let mut journal = Journal::open(journal)?;
        match journal.record() {
            Some(record) => {
                same_job(record, JobKind::Distribute, asset_uuid)?;
                let theirs = record.distribution_uuid.as_deref().unwrap_or_default();
                let asked =
                    distribution_uuid.or(request.as_ref().map(|r| r.distribution_uuid.as_str()));
                if let Some(asked) = asked.filter(|d| *d != theirs) {
                    return Err(Error::Input(format!(
                        "the journal {} holds distribution {theirs} of this asset, not finished; \
                         finish it first (run without a distribution, or with {theirs}), then \
                         distribute {asked}",
                        journal.path().display()
                    )));
                }
            }
            None => {
                let given = distribution_uuid.is_some() || request.is_some();
                let plan = self.plan(asset_uuid, distribution_uuid, request).await?;
                let record = self.record(asset_uuid, plan).await?;
                if given {
                    self.not_sent_elsewhere(&record).await?;
                }
                journal.write(record)?;
            }
        }
        self.drive(journal).await
    }

    /// The distribution to carry out, when the journal has none.
    async fn plan(
        &self,
        asset_uuid: &str,
        distribution_uuid: Option<&str>,
        request: Option<DistributionResponse>,
    ) -> Result<DistributionResponse> {
        if let Some(request) = request {
            if let Some(d) = distribution_uuid.filter(|d| *d != request.distribution_uuid) {
                return Err(Error::Input(format!(
                    "the request is distribution {}, not {d}",
                    request.distribution_uuid
                )));
            }
            return Ok(request);
        }
        let distributions = self.client.distributions(asset_uuid);
        if let Some(d) = distribution_uuid {
            return self.plan_from_assignments(asset_uuid, d).await;
        }
        let waiting: Vec<String> = distributions
            .list()
            .await?
            .into_iter()
            .filter(|d| d.distribution_status.as_deref() != Some("CONFIRMED"))
            .filter_map(|d| d.distribution_uuid)
            .collect();
        if let Some(d) = waiting.first() {
            return Err(Error::check(
                "no distribution waiting",
                format!(
                    "AMP holds distribution {d} of this asset, not confirmed, and this journal \
                     does not know it. Carry it out (give its uuid), or cancel it (amp \
                     distributions cancel {asset_uuid} {d}) and run again"
                ),
            ));
        }
        checks::node(&self.node).await?;
        checks::lost_outputs(&self.client, asset_uuid).await?;
        Ok(distributions.create().await?)
    }

    /// The outputs of distribution `d` as AMP's assignments tell them:
    /// each receiving address gets the sum of its amounts, in whole coins.
    async fn plan_from_assignments(
        &self,
        asset_uuid: &str,
        d: &str,
    ) -> Result<DistributionResponse> {
        let asset = self.client.assets().get(asset_uuid).await?;
        let asset_id = asset
            .asset_id
            .ok_or_else(|| Error::Input(format!("AMP gives no asset id for {asset_uuid}")))?;
        let mut units: BTreeMap<String, i64> = BTreeMap::new();
        for a in self.client.assignments(asset_uuid).list().await? {
            if a.distribution_uuid.as_deref() != Some(d) {
                continue;
            }
            let address = a
                .receiving_address
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    Error::Input(format!(
                        "assignment {} of distribution {d} has no receiving address; give the \
                     distribution's request file instead",
                        a.id
                    ))
                })?;
            *units.entry(address).or_insert(0) += a.amount;
        }
        if units.is_empty() {
            return Err(Error::check(
                "assignments",
                format!("AMP has no assignment in distribution {d} of this asset"),
            ));
        }
        let mut plan = DistributionResponse {
            distribution_uuid: d.to_string(),
            asset_id: Some(asset_id.clone()),
            command: Some("distribute".to_string()),
            asset_uuid: Some(asset_uuid.to_string()),
            ..DistributionResponse::default()
        };
        for (address, amount) in units {
            let coins = coins(amount)?;
            plan.map_address_asset
                .insert(address.clone(), asset_id.clone());
            plan.map_address_amount.insert(address, coins);
        }
        Ok(plan)
    }

    /// Refuses a distribution that the wallet may have paid already. One
    /// this journal did not create (named by its uuid or its request) may
    /// have been sent by the official script, or by a run whose journal is
    /// gone, and not confirmed: AMP cannot tell (it marks the assignments
    /// distributed only on the confirm). So the whole wallet is searched
    /// for a transaction paying every output of it that AMP has not
    /// recorded for a distribution of the asset (an earlier distribution of
    /// the same amounts to the same addresses is not this one).
    async fn not_sent_elsewhere(&self, record: &Record) -> Result<()> {
        let found = search::find(&self.node, record, None).await?;
        if found.is_empty() {
            return Ok(());
        }
        let asset_uuid = &record.asset_uuid;
        let known: BTreeSet<String> = (self.client.distributions(asset_uuid).list().await?)
            .into_iter()
            .flat_map(|d| d.transactions)
            .filter_map(|t| t.txid.map(|t| t.to_ascii_lowercase()))
            .collect();
        let unknown: Vec<String> = found
            .into_iter()
            .map(|f| f.txid)
            .filter(|t| !known.contains(t))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let d = record.distribution_uuid.as_deref().unwrap_or_default();
        Err(Error::Ambiguous {
            reason: format!(
                "the wallet holds {} paying every output of distribution {d} that AMP has not \
                 recorded: {}. It may be this distribution, sent by another tool or by a run \
                 whose journal is gone, and not confirmed. If it is, confirm it to AMP (amp \
                 distributions confirm {asset_uuid} {d} --txid TXID --details with the node's \
                 gettransaction details); if not, cancel the distribution (amp distributions \
                 cancel {asset_uuid} {d}) and make a new one",
                if unknown.len() == 1 {
                    "a transaction"
                } else {
                    "transactions"
                },
                unknown.join(", ")
            ),
        })
    }

    /// The journal's first record of a distribution.
    async fn record(&self, asset_uuid: &str, plan: DistributionResponse) -> Result<Record> {
        let asset_id = match &plan.asset_id {
            Some(id) => id.clone(),
            None => self
                .client
                .assets()
                .get(asset_uuid)
                .await?
                .asset_id
                .ok_or_else(|| Error::Input(format!("AMP gives no asset id for {asset_uuid}")))?,
        };
        let mut outputs = Vec::new();
        for (address, amount) in &plan.map_address_amount {
            let asset = plan.map_address_asset.get(address).ok_or_else(|| {
                Error::Input(format!("the request gives no asset for address {address}"))
            })?;
            if !asset.eq_ignore_ascii_case(&asset_id) {
                return Err(Error::Input(format!(
                    "the request sends asset {asset} to {address}, not this asset ({asset_id})"
                )));
            }
            outputs.push(PlannedOutput {
                address: address.clone(),
                amount: amount.clone(),
                asset: asset.clone(),
            });
        }
        if outputs.is_empty() {
            return Err(Error::Input("the request has no outputs".to_string()));
        }
        let request = serde_json::to_value(&plan)
            .map_err(|e| Error::Input(format!("the request cannot be kept: {e}")))?;
        let mut record = Record::new(JobKind::Distribute, asset_uuid, &asset_id, request);
        record.distribution_uuid = Some(plan.distribution_uuid);
        record.outputs = outputs;
        Ok(record)
    }

    /// The checks before `sendmany`: the node, the request, no lost
    /// outputs, and AMP's assignments of the distribution present and none
    /// distributed.
    pub(super) async fn distribute_checks(&self, record: &Record) -> Result<()> {
        checks::node(&self.node).await?;
        checks::request(JobKind::Distribute, &record.request)?;
        checks::lost_outputs(&self.client, &record.asset_uuid).await?;
        let d = record.distribution_uuid.as_deref().unwrap_or_default();
        let ours: Vec<_> = self
            .client
            .assignments(&record.asset_uuid)
            .list()
            .await?
            .into_iter()
            .filter(|a| a.distribution_uuid.as_deref() == Some(d))
            .collect();
        if ours.is_empty() {
            return Err(Error::check(
                CANCELLED,
                format!(
                    "AMP lists no assignment of distribution {d}: it was cancelled. The job \
                     forgets it; run again for a new distribution"
                ),
            ));
        }
        if let Some(a) = ours.iter().find(|a| a.is_distributed) {
            return Err(Error::check(
                "assignments",
                format!(
                    "assignment {} of distribution {d} is already distributed: this \
                     distribution was carried out and confirmed",
                    a.id
                ),
            ));
        }
        Ok(())
    }

    /// `sendmany` of the planned outputs.
    pub(super) async fn distribute_send(&self, record: &Record) -> Result<String> {
        let mut amounts = BTreeMap::new();
        let mut assets = BTreeMap::new();
        for o in &record.outputs {
            amounts.insert(o.address.clone(), o.amount.clone());
            assets.insert(o.address.clone(), o.asset.clone());
        }
        self.node.send_many(&amounts, &assets).await
    }

    /// AMP's txid of the distribution, if AMP has it confirmed.
    pub(super) async fn distribution_confirmed(
        &self,
        record: &Record,
        ours: Option<&str>,
    ) -> Result<Option<String>> {
        let d = record.distribution_uuid.as_deref().unwrap_or_default();
        let distributions = self.client.distributions(&record.asset_uuid);
        let distribution = match distributions.get(d).await {
            Ok(distribution) => distribution,
            Err(e) if e.status().map(|s| s.as_u16()) == Some(404) => {
                // Gone from the list too: cancelled, so not confirmed (the
                // checks before a send say so, and forget a plan that sent
                // nothing). Listed: the read itself failed, said as it is.
                let listed = distributions.list().await?.into_iter();
                if listed.filter_map(|x| x.distribution_uuid).any(|x| x == d) {
                    return Err(e.into());
                }
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        if distribution.distribution_status.as_deref() != Some("CONFIRMED") {
            return Ok(None);
        }
        let theirs = distribution
            .transactions
            .iter()
            .find_map(|t| t.txid.clone());
        match (theirs, ours) {
            (Some(theirs), Some(ours)) if !theirs.eq_ignore_ascii_case(ours) => {
                Err(Error::Ambiguous {
                    reason: format!(
                        "AMP has distribution {d} confirmed with transaction {theirs}, but this \
                         job sent {ours}: two transactions may pay it. Check both in the wallet"
                    ),
                })
            }
            (Some(theirs), _) => Ok(Some(theirs)),
            (None, ours) => Ok(Some(ours.unwrap_or_default().to_string())),
        }
    }

    /// `distributions/{d}/confirm` with the details and the change.
    pub(super) async fn distribute_confirm(&self, record: &Record, txid: &str) -> Result<()> {
        let details = self.node.transaction(txid).await?.details;
        let change = self.change(record, txid).await?;
        let confirmation = TxConfirmation::new(txid).details(details).change(change);
        let d = record.distribution_uuid.as_deref().unwrap_or_default();
        self.client
            .distributions(&record.asset_uuid)
            .confirm(d, &confirmation)
            .await?;
        Ok(())
    }

    /// `listunspent` entries of the asset made by `txid`: its change.
    pub(super) async fn change(&self, record: &Record, txid: &str) -> Result<Vec<Value>> {
        Ok(self
            .node
            .list_unspent()
            .await?
            .into_iter()
            .filter(|u| {
                let is = |key: &str, want: &str| {
                    u.get(key)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case(want))
                };
                is("asset", &record.asset_id) && is("txid", txid)
            })
            .collect())
    }
}

/// The check that finds a distribution gone from AMP (cancelled): its
/// plan, never sent, is forgotten.
pub(super) const CANCELLED: &str = "distribution still at AMP";

/// Refuses a journal of another job or asset.
pub(super) fn same_job(record: &Record, kind: JobKind, asset_uuid: &str) -> Result<()> {
    if record.job != kind || record.asset_uuid != asset_uuid {
        return Err(Error::Input(format!(
            "the journal is of a {} of asset {}, not a {} of {asset_uuid}",
            record.job.as_str(),
            record.asset_uuid,
            kind.as_str()
        )));
    }
    Ok(())
}

/// Base units as whole coins (10^8 units), the node's unit.
pub(super) fn coins(units: i64) -> Result<Number> {
    // Exact below 2^53 units, far above Liquid's 21e14 cap.
    #[allow(clippy::cast_precision_loss)]
    let value = units as f64 / 100_000_000.0;
    Number::from_f64(value).ok_or_else(|| Error::Input(format!("{units} is not an amount")))
}
