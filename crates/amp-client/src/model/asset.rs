//! Assets and what hangs off them: summary, memo, ownerships, balance, lost
//! outputs (amp-api.md §3.1, §3.7).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Outpoint;

/// An asset issued on AMP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// The asset's name.
    pub name: String,
    /// AMP's id of the asset.
    pub asset_uuid: String,
    /// The issuer's id.
    #[serde(default)]
    pub issuer: Option<i64>,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The reissuance token id, for reissuable assets.
    #[serde(default)]
    pub reissuance_token_id: Option<String>,
    /// Category ids a holder must belong to.
    #[serde(default)]
    pub requirements: Vec<i64>,
    /// The ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// Decimal places.
    #[serde(default)]
    pub precision: Option<u32>,
    /// The issuer's domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// The issuer's public key.
    #[serde(default)]
    pub pubkey: Option<String>,
    /// Registered in the asset registry.
    #[serde(default)]
    pub is_registered: bool,
    /// Authorized by the issuer.
    #[serde(default)]
    pub is_authorized: bool,
    /// Locked against changes.
    #[serde(default)]
    pub is_locked: bool,
    /// Where transfers are authorized.
    #[serde(default)]
    pub issuer_authorization_endpoint: Option<String>,
    /// Transfers need authorization.
    #[serde(default)]
    pub transfer_restricted: bool,
}

/// `GET /assets/{uuid}/summary`: amounts and holder counts of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetSummary {
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The reissuance token id, for reissuable assets.
    #[serde(default)]
    pub reissuance_token_id: Option<String>,
    /// Amount issued (in base units).
    #[serde(default)]
    pub issued: i64,
    /// Amount reissued.
    #[serde(default)]
    pub reissued: i64,
    /// Amount assigned to registered users.
    #[serde(default)]
    pub assigned: i64,
    /// Amount distributed.
    #[serde(default)]
    pub distributed: i64,
    /// Amount burned.
    #[serde(default)]
    pub burned: i64,
    /// Amount held in blacklisted outputs.
    #[serde(default)]
    pub blacklisted: i64,
    /// Registered users with assignments.
    #[serde(default)]
    pub registered_users: i64,
    /// Registered users holding the asset.
    #[serde(default)]
    pub active_registered_users: i64,
    /// Green subaccounts holding the asset.
    #[serde(default)]
    pub active_green_subaccounts: i64,
    /// Reissuance tokens.
    #[serde(default)]
    pub reissuance_tokens: i64,
}

/// An asset's memo: free text kept by AMP.
///
/// amp-api.md §3.1 documents the answer of `GET /assets/{uuid}/memo` as a bare
/// JSON string and marks the object form as possible (UNCERTAIN), so both
/// `"text"` and `{"memo": "text"}` are read; `null` (a memo never set) reads
/// as the empty memo. It is written back as a bare string.
///
/// ```
/// use amp_client::model::Memo;
/// let bare: Memo = serde_json::from_str(r#""hello""#)?;
/// let object: Memo = serde_json::from_str(r#"{"memo": "hello"}"#)?;
/// assert_eq!(bare, object);
/// assert_eq!(bare.as_str(), "hello");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "MemoWire", into = "String")]
pub struct Memo(pub String);

impl Memo {
    /// The memo's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Memo> for String {
    fn from(memo: Memo) -> String {
        memo.0
    }
}

/// Every form a memo answer may take.
#[derive(Deserialize)]
#[serde(untagged)]
enum MemoWire {
    Text(Option<String>),
    // `Value`, not `Option<String>`: the key must be there (an object without
    // it is not a memo), while its value may be null.
    Object { memo: Value },
}

impl From<MemoWire> for Memo {
    fn from(wire: MemoWire) -> Memo {
        Memo(match wire {
            MemoWire::Text(text) => text.unwrap_or_default(),
            MemoWire::Object { memo } => match memo {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            },
        })
    }
}

/// `GET /assets/{uuid}/ownerships`: who holds how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The holder (a registered user's name); `null` for unknown holders.
    #[serde(default)]
    pub owner: Option<String>,
    /// Amount held (in base units).
    #[serde(default)]
    pub amount: i64,
    /// The GAID holding it.
    #[serde(rename = "GAID", default)]
    pub gaid: Option<String>,
}

/// `GET /assets/{uuid}/lost-outputs` (0.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LostOutputs {
    /// Outputs of the asset AMP lost track of.
    #[serde(default)]
    pub lost_outputs: Vec<Outpoint>,
    /// Outputs of the reissuance token AMP lost track of.
    #[serde(default)]
    pub reissuance_lost_outputs: Vec<Outpoint>,
}

/// `GET /assets/{uuid}/balance`.
///
/// An object, as the official `blockstream-amp-confirm.py` reads it (it needs
/// `lost_outputs`); amp-rs instead types the answer as a list of balance
/// entries (amp-api.md §3.8). Both are read: a list becomes
/// `confirmed_balance`. The entries' shape is not documented, so every key
/// outside the known ones is kept in `extra`.
///
/// ```
/// use amp_client::model::AssetBalance;
/// let b: AssetBalance = serde_json::from_str(
///     r#"{"confirmed_balance": [{"GAID": "GA3x", "amount": 5}], "lost_outputs": [], "new": 1}"#,
/// )?;
/// assert_eq!(b.confirmed_balance[0].amount, 5);
/// assert_eq!(b.extra["new"], 1);
/// let list: AssetBalance = serde_json::from_str(r#"[{"GAID": "GA3x", "amount": 5}]"#)?;
/// assert_eq!(list.confirmed_balance, b.confirmed_balance);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "BalanceWire")]
pub struct AssetBalance {
    /// Confirmed holdings.
    #[serde(default)]
    pub confirmed_balance: Vec<BalanceEntry>,
    /// Outputs of the asset AMP lost track of.
    #[serde(default)]
    pub lost_outputs: Vec<Outpoint>,
    /// Outputs of the reissuance token AMP lost track of.
    #[serde(default)]
    pub reissuance_lost_outputs: Vec<Outpoint>,
    /// Every other key of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BalanceWire {
    Object(BalanceObject),
    List(Vec<BalanceEntry>),
}

#[derive(Deserialize)]
struct BalanceObject {
    #[serde(default)]
    confirmed_balance: Vec<BalanceEntry>,
    #[serde(default)]
    lost_outputs: Vec<Outpoint>,
    #[serde(default)]
    reissuance_lost_outputs: Vec<Outpoint>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<BalanceWire> for AssetBalance {
    fn from(wire: BalanceWire) -> AssetBalance {
        match wire {
            BalanceWire::Object(o) => AssetBalance {
                confirmed_balance: o.confirmed_balance,
                lost_outputs: o.lost_outputs,
                reissuance_lost_outputs: o.reissuance_lost_outputs,
                extra: o.extra,
            },
            BalanceWire::List(confirmed_balance) => AssetBalance {
                confirmed_balance,
                ..AssetBalance::default()
            },
        }
    }
}

/// One holding in an [`AssetBalance`]. Its shape is a guess (the ownership
/// shape); keys beyond these are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BalanceEntry {
    /// The holder, if known.
    #[serde(default)]
    pub owner: Option<String>,
    /// Amount held (in base units).
    #[serde(default)]
    pub amount: i64,
    /// The GAID holding it.
    #[serde(rename = "GAID", default)]
    pub gaid: Option<String>,
    /// Every other key of the entry.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
