//! The in-memory AMP data: assets and what hangs off them (assignments,
//! distributions, a simulated chain of outputs and transactions), registered
//! users, categories and managers.
//!
//! JSON shapes follow amp-api.md §3.7, and amp-rs's `src/model.rs` where
//! amp-api.md gives none. The store keeps both sides of every relation
//! (user ↔ category, asset ↔ category, manager → asset) in step, so a client
//! sees the same picture from either side, and derives every number (summary,
//! balances, ownerships) from the same outputs, so they always agree.
//!
//! Request bodies are validated field by field in `routes`; the store checks
//! the business rules (locks, amounts, references) and answers with a
//! [`StoreError`].

mod assets;
mod assignments;
mod categories;
mod distributions;
mod holdings;
mod ledger;
mod managers;
mod model;
mod onchain;
mod sample;
mod supply;
mod users;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use crate::node::chain::Chain;

pub(crate) use assets::Issue;
pub(crate) use assignments::NewAssignment;
pub(crate) use ledger::{Page, ACTIVITY_COLUMNS, TX_COLUMNS};
use model::{Asset, Category, Manager, User};
pub(crate) use onchain::{parse_change, parse_details, Report};
pub(crate) use supply::{ReissueReport, MAX_UNITS};

/// Why a store operation failed; the routes turn it into a DRF answer.
#[derive(Debug, PartialEq)]
pub(crate) enum StoreError {
    /// An id in the path names nothing: 404 `{"detail": "Not found."}`.
    NotFound,
    /// A body field is unacceptable: 400 `{field: [message]}`.
    Field(&'static str, String),
    /// A business rule refuses the request: 400 `{"Error": message}`.
    Rule(String),
    /// A 400 with this body (nested field errors).
    Body(Value),
}

/// A business-rule refusal.
fn rule(message: impl Into<String>) -> StoreError {
    StoreError::Rule(message.into())
}

/// The issuer account behind the sandbox credentials; `creator` of everything.
const ISSUER_ID: u64 = 1;

/// Serializes a model; these types cannot fail to serialize, `Null` is a formality.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// ISO 8601 in UTC, as DRF renders datetimes.
pub(crate) fn iso(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The wall clock in unix seconds: what vesting timestamps are compared with.
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The whole data set of one sandbox.
pub(crate) struct Store {
    assets: Vec<Asset>,
    users: BTreeMap<u64, User>,
    categories: BTreeMap<u64, Category>,
    managers: BTreeMap<u64, Manager>,
    manager_passwords: BTreeMap<u64, String>,
    next_user: u64,
    next_category: u64,
    next_manager: u64,
    next_assignment: u64,
    /// Feeds the derived ids (uuids, txids, blinders) so each is new.
    serial: u64,
    /// The simulated chain and the issuer's wallet on it (the node's).
    pub(crate) chain: Chain,
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// bech32's alphabet, for the stand-in addresses.
pub(crate) const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Checks the shape of a GAID: `GA` then 20 to 40 base58 characters. The real
/// service also checks it against Green's backend; the sandbox cannot.
pub(crate) fn check_gaid(gaid: &str) -> Result<(), String> {
    let Some(rest) = gaid.strip_prefix("GA") else {
        return Err("Invalid GAID: it must start with \"GA\".".to_owned());
    };
    if !(20..=40).contains(&rest.len()) {
        return Err("Invalid GAID: wrong length.".to_owned());
    }
    if !rest.bytes().all(|b| BASE58.contains(&b)) {
        return Err("Invalid GAID: not a base58 string.".to_owned());
    }
    Ok(())
}

/// A deterministic stream of pseudo-random numbers (splitmix64), so derived
/// values (addresses, ids) are the same on every run.
struct Mix(u64);

impl Mix {
    fn from_text(text: &str) -> Self {
        // FNV-1a: enough to spread similar labels apart.
        let seed = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Mix(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| {
                let index = usize::try_from(self.next() % alphabet.len() as u64).unwrap_or(0);
                char::from(alphabet[index])
            })
            .collect()
    }
}

/// 64 hex characters derived from a label: asset ids, txids, blinders.
pub(crate) fn hex64(label: &str) -> String {
    Mix::from_text(label).pick(b"0123456789abcdef", 64)
}

/// A version-4-shaped uuid derived from a label.
fn uuid_from(label: &str) -> String {
    let h = hex64(label);
    let variant = ["8", "9", "a", "b"][usize::from(h.as_bytes()[16] % 4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A fake Liquid testnet confidential address for a GAID, stable per GAID.
pub(crate) fn address_for(gaid: &str) -> String {
    format!("vjT{}", Mix::from_text(gaid).pick(BASE58, 77))
}

/// The unconfidential form of `address`: what Elements writes as the address
/// of an output in `gettransaction`, `listtransactions` and `listsinceblock`
/// (the output script's address, without the blinding key, which the script
/// does not carry), and `getaddressinfo`'s `unconfidential`. In the sandbox
/// a stand-in of the same network, stable per address: Liquid testnet's
/// confidential bech32 (`tlq1…`) and base58 (`vjT…`) forms become `tex1q…`
/// and `8…`; any other address is taken as unconfidential already.
pub(crate) fn unconfidential(address: &str) -> String {
    let mut mix = Mix::from_text(&format!("unconfidential {address}"));
    if address.starts_with("tlq1") {
        format!("tex1q{}", mix.pick(BECH32, 38))
    } else if address.starts_with("vjT") {
        format!("8{}", mix.pick(BASE58, 33))
    } else {
        address.to_owned()
    }
}

/// Adds `item` once, or removes it; adding twice or removing an absent item is a no-op.
fn toggle<T: PartialEq>(list: &mut Vec<T>, item: T, add: bool) {
    if add {
        if !list.contains(&item) {
            list.push(item);
        }
    } else {
        list.retain(|x| *x != item);
    }
}

/// Parses an integer id from a path; anything else names nothing.
fn parse_id(id: &str) -> Result<u64, StoreError> {
    id.parse().map_err(|_| StoreError::NotFound)
}

impl Store {
    /// The data a new sandbox starts with: a few assets, users, categories and a
    /// manager, or nothing at all.
    pub(crate) fn new(sample: bool, seed: u64) -> Self {
        let mut store = Store {
            assets: Vec::new(),
            users: BTreeMap::new(),
            categories: BTreeMap::new(),
            managers: BTreeMap::new(),
            manager_passwords: BTreeMap::new(),
            next_user: 1,
            next_category: 1,
            next_manager: 1,
            next_assignment: 1,
            serial: 0,
            chain: Chain::new(seed),
        };
        if sample {
            // The sample is fixed and a unit test proves it builds; a failure
            // here would leave it partial, never take the server down.
            if let Err(err) = store.fill_sample() {
                tracing::warn!(?err, "the sandbox's sample data is incomplete");
            }
        }
        store
    }

    fn fresh_uuid(&mut self, label: &str) -> String {
        self.serial += 1;
        uuid_from(&format!("{label} {}", self.serial))
    }

    /// The time of the block at `height`, as AMP writes datetimes.
    fn block_datetime(height: u64) -> String {
        iso(Chain::time_at(height)).unwrap_or_default()
    }

    fn asset(&self, uuid: &str) -> Result<&Asset, StoreError> {
        self.assets
            .iter()
            .find(|a| a.asset_uuid == uuid)
            .ok_or(StoreError::NotFound)
    }

    fn asset_mut(&mut self, uuid: &str) -> Result<&mut Asset, StoreError> {
        self.assets
            .iter_mut()
            .find(|a| a.asset_uuid == uuid)
            .ok_or(StoreError::NotFound)
    }

    /// The asset, for a change: a locked asset refuses every change but unlock.
    fn unlocked_mut(&mut self, uuid: &str) -> Result<&mut Asset, StoreError> {
        let asset = self.asset_mut(uuid)?;
        if asset.is_locked {
            return Err(rule("The asset is locked."));
        }
        Ok(asset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gaid_shapes() {
        assert!(check_gaid(sample::GAID_ALICE).is_ok());
        assert!(check_gaid(sample::GAID_CORP).is_ok());
        assert!(check_gaid("GB2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").is_err());
        assert!(check_gaid("GA0MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").is_err());
        assert!(check_gaid("GAshort").is_err());
        assert_eq!(
            address_for(sample::GAID_ALICE),
            address_for(sample::GAID_ALICE)
        );
        assert_ne!(
            address_for(sample::GAID_ALICE),
            address_for(sample::GAID_CORP)
        );
    }

    #[test]
    fn uuids_are_uuid_shaped_and_fresh() {
        let mut store = Store::new(false, 0);
        let a = store.fresh_uuid("asset");
        let b = store.fresh_uuid("asset");
        assert_ne!(a, b);
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]));
    }

    #[test]
    fn blocks_are_a_minute_apart() {
        use crate::node::chain::GENESIS_HEIGHT;
        assert_eq!(
            Store::block_datetime(GENESIS_HEIGHT + 1),
            "2024-03-01T10:01:00Z"
        );
    }

    #[test]
    fn empty_store_is_empty() {
        let store = Store::new(false, 0);
        assert_eq!(store.assets(), json!([]));
        assert_eq!(store.users(), json!([]));
        assert_eq!(store.categories(), json!([]));
        assert_eq!(store.managers(), json!([]));
    }
}
