//! update-blinders: the issuance outputs AMP could not unblind get their
//! blinders from the node's wallet, one `update-blinders` call each. Nothing
//! is sent on chain, so no journal: running it again sends AMP the same
//! blinders, or nothing once AMP has them all.

use std::collections::BTreeSet;

use amp_client::model::UpdateBlinders;
use serde_json::Value;

use super::{Event, Treasury};
use crate::error::{Error, Result};

/// The blinders of all zeros: AMP does not know the output's blinders.
const ZERO_BLINDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What update-blinders did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindersOutcome {
    /// The issuance transaction.
    pub txid: String,
    /// The outputs whose blinders AMP was given (empty: AMP had them all).
    pub updated: Vec<u32>,
}

impl Treasury {
    /// Gives AMP the blinders of the asset's issuance outputs it lacks,
    /// as the official script's `update-blinders`: the first transaction of
    /// `GET assets/{uuid}/txs` (the issuance), its outputs whose asset
    /// blinder is all zeros, their blinders from the node's
    /// `gettransaction` details.
    ///
    /// ```no_run
    /// # async fn demo(treasury: amp_elements::Treasury) -> amp_elements::Result<()> {
    /// let done = treasury.update_blinders("4e6c5fca-…").await?;
    /// println!("{} outputs updated", done.updated.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The node or AMP failing; [`Error::Check`] when AMP lists no
    /// transaction, or the wallet does not know an output AMP lacks.
    pub async fn update_blinders(&self, asset_uuid: &str) -> Result<BlindersOutcome> {
        super::checks::node(&self.node).await?;
        let assets = self.client.assets();
        let txs = assets.txs(asset_uuid, None).await?;
        let issuance = txs
            .iter()
            .find(|t| t.is_issuance)
            .or(txs.first())
            .ok_or_else(|| Error::check("issuance", "AMP lists no transaction of the asset"))?;
        let missing: BTreeSet<u32> = issuance
            .outputs
            .iter()
            .filter(|o| o.asset_blinder.as_deref() == Some(ZERO_BLINDER))
            .filter_map(|o| o.vout)
            .collect();
        let txid = issuance.txid.clone();
        if missing.is_empty() {
            return Ok(BlindersOutcome {
                txid,
                updated: Vec::new(),
            });
        }
        let details = self.node.transaction(&txid).await?.details;
        let mut updates = Vec::new();
        for d in details.as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(vout) = d
                .get("vout")
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
            else {
                continue;
            };
            if !missing.contains(&vout) || updates.iter().any(|u: &UpdateBlinders| u.vout == vout) {
                continue;
            }
            let field = |key: &str| d.get(key).and_then(Value::as_str).map(str::to_string);
            let (Some(asset_blinder), Some(amount_blinder)) =
                (field("assetblinder"), field("amountblinder"))
            else {
                continue;
            };
            updates.push(UpdateBlinders {
                txid: txid.clone(),
                vout,
                asset_blinder,
                amount_blinder,
            });
        }
        let known: BTreeSet<u32> = updates.iter().map(|u| u.vout).collect();
        if let Some(vout) = missing.difference(&known).next() {
            return Err(Error::check(
                "blinders in the wallet",
                format!(
                    "the node's wallet has no blinders of output {txid}:{vout} (is this the \
                     wallet that issued the asset?); nothing was sent to AMP"
                ),
            ));
        }
        let mut updated = Vec::new();
        for update in &updates {
            assets.update_blinders(asset_uuid, update).await?;
            updated.push(update.vout);
            self.say(Event::BlindersUpdated {
                txid: txid.clone(),
                vout: update.vout,
            });
        }
        Ok(BlindersOutcome { txid, updated })
    }
}
