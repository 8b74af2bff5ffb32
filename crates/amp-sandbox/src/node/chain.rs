//! The simulated Liquid chain and the issuer's wallet on it: blocks,
//! transactions with their outputs (address, asset, amount, blinders), the
//! mempool, and which addresses are the wallet's.
//!
//! It is a model, not a blockchain: no scripts, no signatures, no
//! commitments. What it keeps is what the wallet RPCs and AMP's checks read:
//! which outputs exist, who they pay, what they hold, whether they are spent,
//! and in which block a transaction was mined.

use std::collections::BTreeMap;

use crate::data::hex64;

pub(crate) use super::wallet::Wallet;

/// The chain's first block (the AMP side's heights start here too).
pub(crate) const GENESIS_HEIGHT: u64 = 1_200_000;
/// 2024-03-01T10:00:00Z, the time of [`GENESIS_HEIGHT`]; blocks are a minute apart.
pub(crate) const GENESIS_TIME: i64 = 1_709_287_200;
/// The policy asset (L-BTC) of Liquid testnet, which pays the fees.
pub(crate) const POLICY_ASSET: &str =
    "144c654344aa716d6f3abcc1ca90e5641e4e2a7f633bc09fe3baf64585819a49";
/// The label Elements gives the policy asset in amount maps.
pub(crate) const POLICY_LABEL: &str = "bitcoin";
/// L-BTC the wallet starts with: 1 coin.
pub(crate) const STARTING_LBTC: u64 = 100_000_000;
/// 64 zeros: the blinder of an explicit (unblinded) output.
pub(crate) const ZERO_BLINDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// What an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutKind {
    /// Pays an address.
    Pay,
    /// The explicit fee output (no address).
    Fee,
    /// An `OP_RETURN` output: the amount is destroyed (`destroyamount`).
    Burn,
}

/// One output of a transaction.
#[derive(Clone, Debug)]
pub(crate) struct Output {
    /// `None` for fee and burn outputs.
    pub(crate) address: Option<String>,
    pub(crate) asset: String,
    pub(crate) amount: u64,
    pub(crate) asset_blinder: String,
    pub(crate) amount_blinder: String,
    pub(crate) kind: OutKind,
    /// The transaction that spends it (mempool or mined).
    pub(crate) spent_by: Option<String>,
}

/// An issuance or reissuance carried by one input.
#[derive(Clone, Debug)]
pub(crate) struct Issuance {
    pub(crate) vin: u32,
    pub(crate) asset: String,
    /// The reissuance token (initial issuances of reissuable assets).
    pub(crate) token: Option<String>,
    pub(crate) asset_amount: u64,
    pub(crate) token_amount: u64,
    pub(crate) is_reissuance: bool,
    pub(crate) entropy: String,
    pub(crate) asset_blinds: String,
    pub(crate) token_blinds: String,
}

/// A transaction of the chain (mined or in the mempool).
#[derive(Clone, Debug)]
pub(crate) struct ChainTx {
    pub(crate) txid: String,
    /// The outpoints spent, in input order.
    pub(crate) inputs: Vec<(String, u32)>,
    pub(crate) issuance: Option<Issuance>,
    pub(crate) outputs: Vec<Output>,
    /// The height of its block; `None` while in the mempool.
    pub(crate) height: Option<u64>,
    /// Its position in its block.
    pub(crate) block_index: usize,
    /// When the wallet saw it (unix seconds).
    pub(crate) time: i64,
    /// `sendmany`'s or `destroyamount`'s comment.
    pub(crate) comment: Option<String>,
    /// Whether it spends the wallet's outputs (the wallet sent it).
    pub(crate) from_wallet: bool,
}

/// A block: its height, hash, time and transactions.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub(crate) height: u64,
    pub(crate) hash: String,
    pub(crate) time: i64,
}

/// Why the wallet could not send.
#[derive(Debug, PartialEq)]
pub(crate) enum SendError {
    /// Not enough of some asset (or of L-BTC for the fee).
    InsufficientFunds,
}

/// One payment of a transaction the wallet builds.
#[derive(Clone, Debug)]
pub(crate) struct Payment {
    /// `None`: destroy the amount (an `OP_RETURN` output).
    pub(crate) address: Option<String>,
    pub(crate) asset: String,
    pub(crate) amount: u64,
}

/// What a reissuance adds to a transaction the wallet builds: the issuance,
/// the inputs it must spend (the token output), and the new units it mints
/// (outputs without inputs behind them).
pub(crate) struct Minting {
    pub(crate) issuance: Issuance,
    pub(crate) forced_inputs: Vec<(String, u32)>,
    pub(crate) minted: Vec<Payment>,
}

/// The chain and the wallet.
pub(crate) struct Chain {
    pub(crate) blocks: Vec<Block>,
    pub(crate) txs: BTreeMap<String, ChainTx>,
    /// The wallet's transactions, in the order it saw them.
    pub(crate) wallet_txs: Vec<String>,
    pub(crate) mempool: Vec<String>,
    pub(crate) wallet: Wallet,
    serial: u64,
    rng: fastrand::Rng,
}

/// The fee of a transaction with `outputs` outputs, in L-BTC base units:
/// about what Liquid's 0.1 sat/vB asks of confidential outputs.
pub(crate) fn fee_for(outputs: usize) -> u64 {
    100 + 40 * u64::try_from(outputs).unwrap_or(u64::MAX / 80)
}

impl Chain {
    /// A chain whose genesis block pays the wallet [`STARTING_LBTC`].
    pub(crate) fn new(seed: u64) -> Self {
        let mut chain = Chain {
            blocks: Vec::new(),
            txs: BTreeMap::new(),
            wallet_txs: Vec::new(),
            mempool: Vec::new(),
            wallet: Wallet::default(),
            serial: 0,
            rng: fastrand::Rng::with_seed(seed),
        };
        let address = chain.wallet.new_address(Some(String::new()));
        let txid = hex64("genesis funding");
        let output = chain.new_output(&txid, 0, Some(address), POLICY_ASSET, STARTING_LBTC);
        chain.add_tx(ChainTx {
            txid: txid.clone(),
            inputs: Vec::new(),
            issuance: None,
            outputs: vec![output],
            height: None,
            block_index: 0,
            time: GENESIS_TIME,
            comment: None,
            from_wallet: false,
        });
        chain.mempool.clear();
        chain.blocks.push(Block {
            height: GENESIS_HEIGHT,
            hash: hex64(&format!("block {GENESIS_HEIGHT}")),
            time: GENESIS_TIME,
        });
        if let Some(tx) = chain.txs.get_mut(&txid) {
            tx.height = Some(GENESIS_HEIGHT);
        }
        chain
    }

    pub(crate) fn tip(&self) -> &Block {
        // `new` always makes the genesis block, and blocks are never removed.
        self.blocks.last().unwrap_or_else(|| unreachable_block())
    }

    pub(crate) fn height(&self) -> u64 {
        self.tip().height
    }

    /// The time of the block at `height` (a minute apart from genesis).
    pub(crate) fn time_at(height: u64) -> i64 {
        GENESIS_TIME + i64::try_from(height.saturating_sub(GENESIS_HEIGHT)).unwrap_or(0) * 60
    }

    pub(crate) fn block_at(&self, height: u64) -> Option<&Block> {
        let index = usize::try_from(height.checked_sub(GENESIS_HEIGHT)?).ok()?;
        self.blocks.get(index)
    }

    /// Confirmations of a transaction: 0 in the mempool.
    pub(crate) fn confirmations(&self, tx: &ChainTx) -> u64 {
        tx.height.map_or(0, |h| self.height().saturating_sub(h) + 1)
    }

    /// A fresh txid.
    pub(crate) fn fresh_txid(&mut self, label: &str) -> String {
        self.serial += 1;
        hex64(&format!("{label} tx {}", self.serial))
    }

    /// An output with blinders derived from its outpoint; fee and burn
    /// outputs are explicit (zero blinders), as Elements leaves them.
    pub(crate) fn new_output(
        &self,
        txid: &str,
        vout: u32,
        address: Option<String>,
        asset: &str,
        amount: u64,
    ) -> Output {
        let kind = if address.is_some() {
            OutKind::Pay
        } else {
            OutKind::Burn
        };
        let blinder = |what: &str| {
            if kind == OutKind::Pay {
                hex64(&format!("{what} {txid}:{vout}"))
            } else {
                ZERO_BLINDER.to_owned()
            }
        };
        Output {
            address,
            asset: asset.to_owned(),
            amount,
            asset_blinder: blinder("asset_blinder"),
            amount_blinder: blinder("amount_blinder"),
            kind,
            spent_by: None,
        }
    }

    /// Adds a transaction to the mempool, spending its inputs; the wallet
    /// keeps it when it pays or spends the wallet.
    pub(crate) fn add_tx(&mut self, mut tx: ChainTx) {
        for (txid, vout) in &tx.inputs {
            let spent = self.txs.get_mut(txid).and_then(|t| {
                t.outputs
                    .get_mut(usize::try_from(*vout).unwrap_or(usize::MAX))
            });
            if let Some(out) = spent {
                out.spent_by = Some(tx.txid.clone());
            }
        }
        let pays_wallet = tx
            .outputs
            .iter()
            .any(|o| o.address.as_deref().is_some_and(|a| self.wallet.is_mine(a)));
        if tx.from_wallet || pays_wallet {
            self.wallet_txs.push(tx.txid.clone());
        }
        tx.height = None;
        self.mempool.push(tx.txid.clone());
        self.txs.insert(tx.txid.clone(), tx);
    }

    /// Mines `count` blocks, the first taking the whole mempool; their hashes.
    pub(crate) fn mine(&mut self, count: u64) -> Vec<String> {
        let mut hashes = Vec::new();
        for _ in 0..count {
            let height = self.height() + 1;
            let txids = std::mem::take(&mut self.mempool);
            for (index, txid) in txids.iter().enumerate() {
                if let Some(tx) = self.txs.get_mut(txid) {
                    tx.height = Some(height);
                    tx.block_index = index + 1;
                }
            }
            let hash = hex64(&format!("block {height}"));
            hashes.push(hash.clone());
            self.blocks.push(Block {
                height,
                hash,
                time: Self::time_at(height),
            });
        }
        hashes
    }

    /// The wallet's unspent outputs with at least `min_conf` confirmations:
    /// `(txid, vout, output, confirmations)`. Outputs spent by a transaction
    /// in the mempool are spent.
    pub(crate) fn wallet_utxos(&self, min_conf: u64) -> Vec<(&ChainTx, u32, &Output, u64)> {
        let mut list = Vec::new();
        for txid in &self.wallet_txs {
            let Some(tx) = self.txs.get(txid) else {
                continue;
            };
            let confirmations = self.confirmations(tx);
            if confirmations < min_conf {
                continue;
            }
            for (vout, out) in (0u32..).zip(&tx.outputs) {
                let mine = out
                    .address
                    .as_deref()
                    .is_some_and(|a| self.wallet.is_mine(a));
                if mine && out.spent_by.is_none() {
                    list.push((tx, vout, out, confirmations));
                }
            }
        }
        list
    }

    /// What the wallet may spend: confirmed outputs, and the unconfirmed
    /// change of its own transactions (Elements' `-spendzeroconfchange`).
    fn spendable(&self) -> Vec<(String, u32, String, u64)> {
        self.wallet_utxos(0)
            .into_iter()
            .filter(|(tx, _, _, conf)| *conf > 0 || tx.from_wallet)
            .map(|(tx, vout, out, _)| (tx.txid.clone(), vout, out.asset.clone(), out.amount))
            .collect()
    }

    /// Per asset, what the wallet holds in trusted outputs with at least
    /// `min_conf` confirmations (`getbalance`).
    pub(crate) fn balances(&self, min_conf: u64) -> BTreeMap<String, u64> {
        let mut map = BTreeMap::new();
        map.insert(POLICY_ASSET.to_owned(), 0);
        for (tx, _, out, conf) in self.wallet_utxos(min_conf) {
            if conf > 0 || tx.from_wallet {
                *map.entry(out.asset.clone()).or_insert(0) += out.amount;
            }
        }
        map
    }

    /// Picks outputs of `asset` worth at least `amount`, oldest first.
    fn select(
        available: &[(String, u32, String, u64)],
        asset: &str,
        amount: u64,
    ) -> Option<(Vec<(String, u32)>, u64)> {
        let mut chosen = Vec::new();
        let mut total = 0u64;
        for (txid, vout, a, value) in available {
            if total >= amount && !chosen.is_empty() {
                break;
            }
            if a == asset {
                chosen.push((txid.clone(), *vout));
                total = total.saturating_add(*value);
            }
        }
        (total >= amount && !chosen.is_empty()).then_some((chosen, total))
    }

    /// Builds, "signs" and broadcasts a transaction of the wallet paying
    /// `payments` (in a shuffled order, as Elements shuffles recipients),
    /// with change per asset to new change addresses and the fee last. A
    /// reissuance's `minting` puts its new units first and spends its forced
    /// inputs before any other. The txid.
    pub(crate) fn send(
        &mut self,
        payments: &[Payment],
        comment: Option<String>,
        minting: Option<Minting>,
    ) -> Result<String, SendError> {
        let available = self.spendable();
        let mut needed: BTreeMap<String, u64> = BTreeMap::new();
        for p in payments {
            let entry = needed.entry(p.asset.clone()).or_insert(0);
            *entry = entry
                .checked_add(p.amount)
                .ok_or(SendError::InsufficientFunds)?;
        }
        let (issuance, mut inputs, minted) = match minting {
            Some(m) => (Some(m.issuance), m.forced_inputs, m.minted),
            None => (None, Vec::new(), Vec::new()),
        };
        // Forced inputs (a reissuance token) come back as change.
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        for (txid, vout) in &inputs {
            if let Some((_, _, asset, value)) =
                available.iter().find(|(t, v, ..)| t == txid && v == vout)
            {
                *totals.entry(asset.clone()).or_insert(0) += value;
            }
        }
        let outputs_guess = payments.len() + minted.len() + needed.len() + totals.len() + 2;
        let fee = fee_for(outputs_guess);
        *needed.entry(POLICY_ASSET.to_owned()).or_insert(0) += fee;
        let rest: Vec<_> = available
            .iter()
            .filter(|(t, v, ..)| !inputs.iter().any(|(it, iv)| it == t && iv == v))
            .cloned()
            .collect();
        for (asset, amount) in &needed {
            let have = totals.get(asset).copied().unwrap_or(0);
            if have >= *amount && have > 0 {
                continue;
            }
            let (chosen, total) =
                Self::select(&rest, asset, amount - have).ok_or(SendError::InsufficientFunds)?;
            inputs.extend(chosen);
            *totals.entry(asset.clone()).or_insert(0) += total;
        }

        let txid = self.fresh_txid("wallet");
        let mut planned: Vec<(Option<String>, String, u64)> = payments
            .iter()
            .map(|p| (p.address.clone(), p.asset.clone(), p.amount))
            .collect();
        for (asset, total) in &totals {
            let spent = needed.get(asset).copied().unwrap_or(0);
            if *total > spent {
                let change = self.wallet.new_address(None);
                planned.push((Some(change), asset.clone(), total - spent));
            }
        }
        self.rng.shuffle(&mut planned);
        let mut outputs = Vec::new();
        for p in &minted {
            let vout = u32::try_from(outputs.len()).unwrap_or(u32::MAX);
            outputs.push(self.new_output(&txid, vout, p.address.clone(), &p.asset, p.amount));
        }
        for (address, asset, amount) in planned {
            let vout = u32::try_from(outputs.len()).unwrap_or(u32::MAX);
            outputs.push(self.new_output(&txid, vout, address, &asset, amount));
        }
        outputs.push(Output {
            address: None,
            asset: POLICY_ASSET.to_owned(),
            amount: fee,
            asset_blinder: ZERO_BLINDER.to_owned(),
            amount_blinder: ZERO_BLINDER.to_owned(),
            kind: OutKind::Fee,
            spent_by: None,
        });
        let time = self.tip().time;
        self.add_tx(ChainTx {
            txid: txid.clone(),
            inputs,
            issuance,
            outputs,
            height: None,
            block_index: 0,
            time,
            comment,
            from_wallet: true,
        });
        Ok(txid)
    }

    /// Asset → (entropy, token) of the issuances the wallet knows.
    pub(crate) fn known_issuances(&self) -> Vec<&Issuance> {
        self.wallet_txs
            .iter()
            .filter_map(|t| self.txs.get(t))
            .filter_map(|t| t.issuance.as_ref())
            .filter(|i| !i.is_reissuance)
            .collect()
    }
}

/// `Chain::tip` cannot miss: a chain is made with its genesis block. This is
/// the formality that keeps it free of `unwrap`.
fn unreachable_block() -> &'static Block {
    static GENESIS: std::sync::OnceLock<Block> = std::sync::OnceLock::new();
    GENESIS.get_or_init(|| Block {
        height: GENESIS_HEIGHT,
        hash: hex64(&format!("block {GENESIS_HEIGHT}")),
        time: GENESIS_TIME,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(address: &str, asset: &str, amount: u64) -> Payment {
        Payment {
            address: Some(address.to_owned()),
            asset: asset.to_owned(),
            amount,
        }
    }

    #[test]
    fn sending_spends_pays_changes_and_confirms() {
        let mut chain = Chain::new(7);
        assert_eq!(chain.height(), GENESIS_HEIGHT);
        assert_eq!(chain.balances(1)[POLICY_ASSET], STARTING_LBTC);
        let txid = chain
            .send(&[pay("vjTsomeone", POLICY_ASSET, 1_000)], None, None)
            .unwrap();
        let tx = &chain.txs[&txid];
        assert_eq!(chain.confirmations(tx), 0);
        let fee = tx.outputs.last().unwrap();
        assert_eq!(fee.kind, OutKind::Fee);
        let change: u64 = tx
            .outputs
            .iter()
            .filter(|o| {
                o.address
                    .as_deref()
                    .is_some_and(|a| chain.wallet.is_change(a))
            })
            .map(|o| o.amount)
            .sum();
        assert_eq!(change + 1_000 + fee.amount, STARTING_LBTC);
        // Own unconfirmed change counts at 0 confirmations, not at 1.
        assert_eq!(chain.balances(0)[POLICY_ASSET], change);
        assert_eq!(chain.balances(1)[POLICY_ASSET], 0);
        chain.mine(2);
        assert_eq!(chain.confirmations(&chain.txs[&txid]), 2);
        assert_eq!(chain.balances(1)[POLICY_ASSET], change);
        assert_eq!(
            chain.send(&[pay("vjTx", POLICY_ASSET, STARTING_LBTC)], None, None),
            Err(SendError::InsufficientFunds)
        );
        assert_eq!(chain.mempool.len(), 0, "nothing sent on refusal");
    }
}
