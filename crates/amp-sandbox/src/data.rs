//! The in-memory AMP data: assets, registered users, categories, managers.
//!
//! JSON shapes follow amp-api.md §3.7. The store keeps both sides of every
//! relation (user ↔ category, asset ↔ category) in step, so a client sees the
//! same picture from either side.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

/// Why a store operation failed; the routes turn it into a DRF answer.
#[derive(Debug, PartialEq)]
pub(crate) enum StoreError {
    /// An id in the path names nothing: 404.
    NotFound,
    /// A body field is unacceptable: 400 `{field: [message]}`.
    Field(&'static str, String),
}

/// The issuer account behind the sandbox credentials; `creator` of everything.
const ISSUER_ID: u64 = 1;

/// An asset as the API shows it, plus what the sandbox keeps beside it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Asset {
    pub(crate) name: String,
    pub(crate) asset_uuid: String,
    pub(crate) issuer: u64,
    pub(crate) asset_id: String,
    pub(crate) reissuance_token_id: Option<String>,
    pub(crate) requirements: Vec<u64>,
    pub(crate) ticker: Option<String>,
    pub(crate) precision: u8,
    pub(crate) domain: Option<String>,
    pub(crate) pubkey: Option<String>,
    pub(crate) is_registered: bool,
    pub(crate) is_authorized: bool,
    pub(crate) is_locked: bool,
    pub(crate) issuer_authorization_endpoint: Option<String>,
    pub(crate) transfer_restricted: bool,
    #[serde(skip)]
    memo: String,
    #[serde(skip)]
    issued: u64,
    #[serde(skip)]
    assignments: Vec<Assignment>,
    #[serde(skip)]
    activities: Vec<Value>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Assignment {
    id: u64,
    registered_user: u64,
    amount: u64,
    receiving_address: Option<String>,
    distribution_uuid: Option<String>,
    ready_for_distribution: bool,
    vesting_datetime: Option<String>,
    vesting_timestamp: Option<i64>,
    has_vested: bool,
    is_distributed: bool,
    creator: u64,
    #[serde(rename = "GAID")]
    gaid: Option<String>,
    #[serde(skip)]
    txid: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct User {
    pub(crate) id: u64,
    #[serde(rename = "GAID")]
    pub(crate) gaid: Option<String>,
    pub(crate) is_company: bool,
    pub(crate) name: String,
    pub(crate) categories: Vec<u64>,
    pub(crate) creator: u64,
    /// Every GAID of the user; `gaid` is the default one.
    #[serde(skip)]
    pub(crate) gaids: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Category {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) registered_users: Vec<u64>,
    pub(crate) assets: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Manager {
    pub(crate) id: u64,
    pub(crate) username: String,
    pub(crate) is_locked: bool,
    pub(crate) assets: Vec<String>,
}

/// Serializes a model; these types cannot fail to serialize, `Null` is a formality.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The whole data set of one sandbox.
pub(crate) struct Store {
    assets: Vec<Asset>,
    users: BTreeMap<u64, User>,
    categories: BTreeMap<u64, Category>,
    managers: BTreeMap<u64, Manager>,
    next_user: u64,
    next_category: u64,
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

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
        // FNV-1a: enough to spread similar GAIDs apart.
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
fn hex64(label: &str) -> String {
    Mix::from_text(label).pick(b"0123456789abcdef", 64)
}

/// A fake Liquid testnet confidential address for a GAID, stable per GAID.
pub(crate) fn address_for(gaid: &str) -> String {
    format!("vjT{}", Mix::from_text(gaid).pick(BASE58, 77))
}

/// Sample GAIDs of the sample users.
pub(crate) const GAID_ALICE: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";
/// The GAID of the sample company.
pub(crate) const GAID_CORP: &str = "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf";

/// Uuids of the sample assets.
pub(crate) const ASSET_BOND: &str = "4f5bd6a2-8c1e-4b1a-9d3e-7a2c5e9f1b01";
const ASSET_SHARE: &str = "9b0c2e71-3d4f-4a6b-8e5d-1c7f3a2b4d02";
const ASSET_NOTE: &str = "c3e8f1a4-5b6d-4e7f-a8b9-0d1e2f3a4c03";

#[allow(clippy::too_many_arguments)]
fn sample_asset(
    uuid: &str,
    name: &str,
    ticker: &str,
    precision: u8,
    issued: u64,
    restricted: bool,
    registered: bool,
    requirements: Vec<u64>,
) -> Asset {
    Asset {
        name: name.to_owned(),
        asset_uuid: uuid.to_owned(),
        issuer: ISSUER_ID,
        asset_id: hex64(&format!("asset_id {uuid}")),
        reissuance_token_id: restricted.then(|| hex64(&format!("token {uuid}"))),
        requirements,
        ticker: Some(ticker.to_owned()),
        precision,
        domain: Some(format!("{}.sandbox.example", ticker.to_ascii_lowercase())),
        pubkey: Some(format!("02{}", hex64(&format!("pubkey {uuid}")))),
        is_registered: registered,
        is_authorized: registered,
        is_locked: false,
        issuer_authorization_endpoint: restricted
            .then(|| "https://issuer.sandbox.example/authorize".to_owned()),
        transfer_restricted: restricted,
        memo: String::new(),
        issued,
        assignments: Vec::new(),
        activities: vec![json!({
            "type": "issuance",
            "datetime": "2024-03-01T10:00:00Z",
            "description": format!("Issued {issued} {ticker}"),
            "txid": hex64(&format!("issuance {uuid}")),
            "vout": 0,
            "blockheight": 1_200_000,
            "asset_blinder": hex64(&format!("asset_blinder {uuid}")),
            "amount_blinder": hex64(&format!("amount_blinder {uuid}")),
            "registered user": null,
            "amount": issued,
        })],
    }
}

fn sample_assignment(id: u64, user: u64, amount: u64, gaid: &str, distributed: bool) -> Assignment {
    let txid = distributed.then(|| hex64(&format!("distribution {id}")));
    Assignment {
        id,
        registered_user: user,
        amount,
        receiving_address: Some(address_for(gaid)),
        distribution_uuid: distributed.then(|| format!("d15c0000-0000-4000-8000-{:012}", id)),
        ready_for_distribution: distributed,
        vesting_datetime: None,
        vesting_timestamp: None,
        has_vested: true,
        is_distributed: distributed,
        creator: ISSUER_ID,
        gaid: Some(gaid.to_owned()),
        txid,
    }
}

impl Store {
    /// The data a new sandbox starts with: a few assets, users, categories and a
    /// manager, or nothing at all.
    pub(crate) fn new(sample: bool) -> Self {
        let mut store = Store {
            assets: Vec::new(),
            users: BTreeMap::new(),
            categories: BTreeMap::new(),
            managers: BTreeMap::new(),
            next_user: 1,
            next_category: 1,
        };
        if sample {
            store.fill_sample();
        }
        store
    }

    fn fill_sample(&mut self) {
        let mut bond = sample_asset(
            ASSET_BOND,
            "Sandbox Bond",
            "SBND",
            0,
            1_000_000,
            true,
            true,
            vec![1],
        );
        bond.assignments = vec![
            sample_assignment(1, 1, 1_000, GAID_ALICE, true),
            sample_assignment(2, 2, 250, GAID_CORP, false),
        ];
        bond.activities.push(json!({
            "type": "distribution",
            "datetime": "2024-03-02T09:30:00Z",
            "description": "Distributed 1000 SBND to Alice Example",
            "txid": hex64("distribution 1"),
            "vout": 1,
            "blockheight": 1_200_144,
            "asset_blinder": hex64("asset_blinder distribution 1"),
            "amount_blinder": hex64("amount_blinder distribution 1"),
            "registered user": 1,
            "amount": 1_000,
        }));
        let mut share = sample_asset(
            ASSET_SHARE,
            "Sandbox Share",
            "SSHR",
            2,
            50_000_000,
            false,
            false,
            vec![],
        );
        share.assignments = vec![sample_assignment(3, 2, 10_000, GAID_CORP, true)];
        let note = sample_asset(
            ASSET_NOTE,
            "Sandbox Note",
            "SNTE",
            8,
            2_100_000_000,
            false,
            true,
            vec![],
        );
        self.assets = vec![bond, share, note];

        let users = [
            (1, "Alice Example", Some(GAID_ALICE), false, vec![1, 2]),
            (2, "Example Corp Ltd", Some(GAID_CORP), true, vec![2]),
            (3, "Bob Without-Gaid", None, false, vec![]),
        ];
        for (id, name, gaid, is_company, categories) in users {
            self.users.insert(
                id,
                User {
                    id,
                    gaid: gaid.map(str::to_owned),
                    is_company,
                    name: name.to_owned(),
                    categories,
                    creator: ISSUER_ID,
                    gaids: gaid.map(str::to_owned).into_iter().collect(),
                },
            );
        }
        self.next_user = 4;

        let categories = [
            (
                1,
                "Accredited investors",
                "May hold transfer-restricted assets",
                vec![1],
                vec![ASSET_BOND.to_owned()],
            ),
            (2, "EU residents", "Resident in the EU", vec![1, 2], vec![]),
        ];
        for (id, name, description, registered_users, assets) in categories {
            self.categories.insert(
                id,
                Category {
                    id,
                    name: name.to_owned(),
                    description: Some(description.to_owned()),
                    registered_users,
                    assets,
                },
            );
        }
        self.next_category = 3;

        self.managers.insert(
            1,
            Manager {
                id: 1,
                username: "sandbox-manager".to_owned(),
                is_locked: false,
                assets: vec![ASSET_BOND.to_owned()],
            },
        );
    }

    // ---- assets -------------------------------------------------------------

    pub(crate) fn assets(&self) -> Value {
        to_json(&self.assets)
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

    pub(crate) fn asset_json(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid).map(to_json)
    }

    pub(crate) fn set_locked(&mut self, uuid: &str, locked: bool) -> Result<Value, StoreError> {
        let asset = self.asset_mut(uuid)?;
        asset.is_locked = locked;
        Ok(to_json(asset))
    }

    pub(crate) fn memo(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid).map(|a| Value::String(a.memo.clone()))
    }

    pub(crate) fn set_memo(&mut self, uuid: &str, memo: String) -> Result<Value, StoreError> {
        let asset = self.asset_mut(uuid)?;
        asset.memo = memo;
        Ok(Value::String(asset.memo.clone()))
    }

    pub(crate) fn asset_summary(&self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        let assigned: u64 = asset.assignments.iter().map(|a| a.amount).sum();
        let distributed: u64 = asset
            .assignments
            .iter()
            .filter(|a| a.is_distributed)
            .map(|a| a.amount)
            .sum();
        let mut holders: Vec<u64> = asset
            .assignments
            .iter()
            .map(|a| a.registered_user)
            .collect();
        holders.sort_unstable();
        holders.dedup();
        let mut active: Vec<u64> = asset
            .assignments
            .iter()
            .filter(|a| a.is_distributed)
            .map(|a| a.registered_user)
            .collect();
        active.sort_unstable();
        active.dedup();
        Ok(json!({
            "asset_id": asset.asset_id,
            "reissuance_token_id": asset.reissuance_token_id,
            "issued": asset.issued,
            "reissued": 0,
            "assigned": assigned,
            "distributed": distributed,
            "burned": 0,
            "blacklisted": 0,
            "registered_users": holders.len(),
            "active_registered_users": active.len(),
            "active_green_subaccounts": active.len(),
            "reissuance_tokens": u8::from(asset.reissuance_token_id.is_some()),
        }))
    }

    /// Holders by distributed assignments, one entry per user and GAID.
    fn holdings(&self, asset: &Asset) -> Vec<Value> {
        let mut by_holder: BTreeMap<(u64, Option<String>), u64> = BTreeMap::new();
        for a in asset.assignments.iter().filter(|a| a.is_distributed) {
            *by_holder
                .entry((a.registered_user, a.gaid.clone()))
                .or_insert(0) += a.amount;
        }
        by_holder
            .into_iter()
            .map(|((user, gaid), amount)| {
                json!({
                    "owner": self.users.get(&user).map(|u| u.name.clone()),
                    "amount": amount,
                    "GAID": gaid,
                })
            })
            .collect()
    }

    pub(crate) fn ownerships(&self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        Ok(Value::Array(self.holdings(asset)))
    }

    /// An object, as the official script reads it (amp-api.md §3.1); the entries
    /// of `confirmed_balance` have the Ownership shape (a guess).
    pub(crate) fn balance(&self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        Ok(json!({
            "confirmed_balance": self.holdings(asset),
            "lost_outputs": [],
            "reissuance_lost_outputs": [],
        }))
    }

    pub(crate) fn lost_outputs(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid)?;
        Ok(json!({ "lost_outputs": [], "reissuance_lost_outputs": [] }))
    }

    pub(crate) fn activities(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid).map(|a| Value::Array(a.activities.clone()))
    }

    pub(crate) fn assignments(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid).map(|a| to_json(&a.assignments))
    }

    pub(crate) fn assignment(&self, uuid: &str, id: &str) -> Result<Value, StoreError> {
        let id: u64 = id.parse().map_err(|_| StoreError::NotFound)?;
        self.asset(uuid)?
            .assignments
            .iter()
            .find(|a| a.id == id)
            .map(to_json)
            .ok_or(StoreError::NotFound)
    }

    // ---- registered users -----------------------------------------------------

    pub(crate) fn users(&self) -> Value {
        to_json(&self.users.values().collect::<Vec<_>>())
    }

    fn user(&self, id: &str) -> Result<&User, StoreError> {
        id.parse::<u64>()
            .ok()
            .and_then(|id| self.users.get(&id))
            .ok_or(StoreError::NotFound)
    }

    fn user_mut(&mut self, id: &str) -> Result<&mut User, StoreError> {
        id.parse::<u64>()
            .ok()
            .and_then(|id| self.users.get_mut(&id))
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn user_json(&self, id: &str) -> Result<Value, StoreError> {
        self.user(id).map(to_json)
    }

    fn gaid_owner(&self, gaid: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.gaids.iter().any(|g| g == gaid))
    }

    fn check_new_gaid(&self, gaid: &str) -> Result<(), StoreError> {
        check_gaid(gaid).map_err(|_| StoreError::Field("GAID", "Invalid GAID.".to_owned()))?;
        if self.gaid_owner(gaid).is_some() {
            return Err(StoreError::Field(
                "GAID",
                "This GAID is already registered.".to_owned(),
            ));
        }
        Ok(())
    }

    pub(crate) fn add_user(
        &mut self,
        name: String,
        gaid: Option<String>,
        is_company: bool,
    ) -> Result<Value, StoreError> {
        if let Some(gaid) = &gaid {
            self.check_new_gaid(gaid)?;
        }
        let id = self.next_user;
        self.next_user += 1;
        let user = User {
            id,
            gaids: gaid.iter().cloned().collect(),
            gaid,
            is_company,
            name,
            categories: Vec::new(),
            creator: ISSUER_ID,
        };
        let json = to_json(&user);
        self.users.insert(id, user);
        Ok(json)
    }

    pub(crate) fn edit_user(
        &mut self,
        id: &str,
        name: Option<String>,
        is_company: Option<bool>,
    ) -> Result<Value, StoreError> {
        let user = self.user_mut(id)?;
        if let Some(name) = name {
            user.name = name;
        }
        if let Some(is_company) = is_company {
            user.is_company = is_company;
        }
        Ok(to_json(user))
    }

    pub(crate) fn delete_user(&mut self, id: &str) -> Result<(), StoreError> {
        let id = self.user(id)?.id;
        self.users.remove(&id);
        for category in self.categories.values_mut() {
            category.registered_users.retain(|u| *u != id);
        }
        Ok(())
    }

    /// One summary object (amp-rs's shape, amp-api.md §3.7), for the first asset
    /// the user has assignments in, else the first asset.
    pub(crate) fn user_summary(&self, id: &str) -> Result<Value, StoreError> {
        let user = self.user(id)?;
        let asset = self
            .assets
            .iter()
            .find(|a| a.assignments.iter().any(|x| x.registered_user == user.id))
            .or_else(|| self.assets.first());
        let Some(asset) = asset else {
            return Ok(json!({
                "asset_uuid": "", "asset_id": "", "assignments": [], "assignments_sum": 0,
                "distributions": [], "distributions_sum": 0, "balance": 0,
            }));
        };
        let mine: Vec<&Assignment> = asset
            .assignments
            .iter()
            .filter(|a| a.registered_user == user.id)
            .collect();
        let distributions: Vec<Value> = mine
            .iter()
            .filter(|a| a.is_distributed)
            .map(|a| {
                json!({
                    "distribution_uuid": a.distribution_uuid,
                    "distribution_status": "CONFIRMED",
                    "transactions": [{
                        "txid": a.txid,
                        "transaction_status": "CONFIRMED",
                        "included_blockheight": 1_200_144,
                        "confirmed_datetime": "2024-03-02T09:30:00Z",
                        "assignments": [{"registered_user": user.id, "amount": a.amount, "vout": 1}],
                    }],
                })
            })
            .collect();
        let assigned: u64 = mine.iter().map(|a| a.amount).sum();
        let distributed: u64 = mine
            .iter()
            .filter(|a| a.is_distributed)
            .map(|a| a.amount)
            .sum();
        Ok(json!({
            "asset_uuid": asset.asset_uuid,
            "asset_id": asset.asset_id,
            "assignments": mine,
            "assignments_sum": assigned,
            "distributions": distributions,
            "distributions_sum": distributed,
            "balance": distributed,
        }))
    }

    pub(crate) fn user_gaids(&self, id: &str) -> Result<Value, StoreError> {
        self.user(id).map(|u| json!(u.gaids))
    }

    /// Adds a GAID; the first GAID of a user becomes the default one.
    pub(crate) fn add_gaid(&mut self, id: &str, gaid: String) -> Result<Value, StoreError> {
        self.user(id)?;
        self.check_new_gaid(&gaid)?;
        let user = self.user_mut(id)?;
        if user.gaid.is_none() {
            user.gaid = Some(gaid.clone());
        }
        user.gaids.push(gaid);
        Ok(to_json(user))
    }

    pub(crate) fn set_default_gaid(&mut self, id: &str, gaid: String) -> Result<Value, StoreError> {
        let user = self.user_mut(id)?;
        if !user.gaids.contains(&gaid) {
            return Err(StoreError::Field(
                "GAID",
                "This GAID does not belong to this registered user.".to_owned(),
            ));
        }
        user.gaid = Some(gaid);
        Ok(to_json(user))
    }

    // ---- categories -----------------------------------------------------------

    pub(crate) fn categories(&self) -> Value {
        to_json(&self.categories.values().collect::<Vec<_>>())
    }

    fn category_id(&self, id: &str) -> Result<u64, StoreError> {
        id.parse::<u64>()
            .ok()
            .filter(|id| self.categories.contains_key(id))
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn category_json(&self, id: &str) -> Result<Value, StoreError> {
        let id = self.category_id(id)?;
        self.categories
            .get(&id)
            .map(to_json)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn add_category(
        &mut self,
        name: String,
        description: Option<String>,
    ) -> Result<Value, StoreError> {
        let id = self.next_category;
        self.next_category += 1;
        let category = Category {
            id,
            name,
            description,
            registered_users: Vec::new(),
            assets: Vec::new(),
        };
        let json = to_json(&category);
        self.categories.insert(id, category);
        Ok(json)
    }

    /// `description`: `None` leaves it, `Some(None)` clears it.
    pub(crate) fn edit_category(
        &mut self,
        id: &str,
        name: Option<String>,
        description: Option<Option<String>>,
    ) -> Result<Value, StoreError> {
        let id = self.category_id(id)?;
        let category = self.categories.get_mut(&id).ok_or(StoreError::NotFound)?;
        if let Some(name) = name {
            category.name = name;
        }
        if let Some(description) = description {
            category.description = description;
        }
        Ok(to_json(category))
    }

    pub(crate) fn delete_category(&mut self, id: &str) -> Result<(), StoreError> {
        let id = self.category_id(id)?;
        self.categories.remove(&id);
        for user in self.users.values_mut() {
            user.categories.retain(|c| *c != id);
        }
        for asset in &mut self.assets {
            asset.requirements.retain(|c| *c != id);
        }
        Ok(())
    }

    /// Puts a user into a category or takes it out, on both sides.
    pub(crate) fn link_user(
        &mut self,
        category: &str,
        user: &str,
        add: bool,
    ) -> Result<Value, StoreError> {
        let category_id = self.category_id(category)?;
        let user = self.user_mut(user)?;
        let user_id = user.id;
        toggle(&mut user.categories, category_id, add);
        let category = self
            .categories
            .get_mut(&category_id)
            .ok_or(StoreError::NotFound)?;
        toggle(&mut category.registered_users, user_id, add);
        Ok(to_json(category))
    }

    /// Makes a category a requirement of an asset or not, on both sides.
    pub(crate) fn link_asset(
        &mut self,
        category: &str,
        uuid: &str,
        add: bool,
    ) -> Result<Value, StoreError> {
        let category_id = self.category_id(category)?;
        let asset = self.asset_mut(uuid)?;
        let uuid = asset.asset_uuid.clone();
        toggle(&mut asset.requirements, category_id, add);
        let category = self
            .categories
            .get_mut(&category_id)
            .ok_or(StoreError::NotFound)?;
        toggle(&mut category.assets, uuid, add);
        Ok(to_json(category))
    }

    // ---- gaids ------------------------------------------------------------------

    pub(crate) fn gaid_user(&self, gaid: &str) -> Result<Value, StoreError> {
        self.gaid_owner(gaid)
            .map(to_json)
            .ok_or(StoreError::NotFound)
    }

    /// What a GAID holds, per asset, from distributed assignments to it.
    pub(crate) fn gaid_balance(&self, gaid: &str) -> Value {
        let entries: Vec<Value> = self
            .assets
            .iter()
            .filter_map(|asset| {
                let balance: u64 = asset
                    .assignments
                    .iter()
                    .filter(|a| a.is_distributed && a.gaid.as_deref() == Some(gaid))
                    .map(|a| a.amount)
                    .sum();
                (balance > 0).then(|| {
                    json!({
                        "asset_uuid": asset.asset_uuid,
                        "asset_id": asset.asset_id,
                        "balance": balance,
                    })
                })
            })
            .collect();
        Value::Array(entries)
    }

    // ---- managers -----------------------------------------------------------------

    pub(crate) fn managers(&self) -> Value {
        to_json(&self.managers.values().collect::<Vec<_>>())
    }

    pub(crate) fn manager_json(&self, id: &str) -> Result<Value, StoreError> {
        id.parse::<u64>()
            .ok()
            .and_then(|id| self.managers.get(&id))
            .map(to_json)
            .ok_or(StoreError::NotFound)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaid_shapes() {
        assert!(check_gaid(GAID_ALICE).is_ok());
        assert!(check_gaid(GAID_CORP).is_ok());
        assert!(check_gaid("GB2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").is_err());
        assert!(check_gaid("GA0MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").is_err());
        assert!(check_gaid("GAshort").is_err());
        assert_eq!(address_for(GAID_ALICE), address_for(GAID_ALICE));
        assert_ne!(address_for(GAID_ALICE), address_for(GAID_CORP));
    }

    #[test]
    fn relations_stay_consistent() {
        let mut store = Store::new(true);
        store.link_user("2", "3", true).unwrap();
        assert!(store.users[&3].categories.contains(&2));
        store.link_asset("2", ASSET_NOTE, true).unwrap();
        assert!(store.asset(ASSET_NOTE).unwrap().requirements.contains(&2));
        store.delete_category("2").unwrap();
        assert!(!store.users[&3].categories.contains(&2));
        assert!(!store.users[&1].categories.contains(&2));
        assert!(store.asset(ASSET_NOTE).unwrap().requirements.is_empty());
        store.delete_user("1").unwrap();
        assert!(store.categories[&1].registered_users.is_empty());
    }

    #[test]
    fn empty_store_is_empty() {
        let store = Store::new(false);
        assert_eq!(store.assets(), json!([]));
        assert_eq!(store.users(), json!([]));
        assert_eq!(store.categories(), json!([]));
        assert_eq!(store.managers(), json!([]));
    }
}
