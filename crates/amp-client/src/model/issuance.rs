//! Issuing an asset, and mending the blinders AMP lacks (amp-api.md §3.1).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The body of [`Assets::issue`](crate::api::Assets::issue)
/// (`POST /assets/issue`, amp-api.md §3.1).
///
/// Six fields are required (`name`, `amount`, `destination_address`,
/// `domain`, `ticker`, `pubkey`); the six optional ones are left out of the
/// body when `None`, so AMP applies its own defaults. The client refuses,
/// before sending, a request whose required text fields are empty, whose
/// amount is not positive or whose precision is above 8 (Liquid's limit).
///
/// ```
/// use amp_client::model::IssueRequest;
/// let request = IssueRequest {
///     name: "Example Bond".into(),
///     amount: 1_000_000,
///     destination_address: "vjTvpDMk…".into(),
///     domain: "example.com".into(),
///     ticker: "EXB".into(),
///     pubkey: "02b4ab…".into(),
///     precision: Some(2),
///     is_reissuable: Some(true),
///     ..IssueRequest::default()
/// };
/// let body = serde_json::to_value(&request)?;
/// assert_eq!(body["precision"], 2);
/// assert!(body.get("reissuance_address").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IssueRequest {
    /// The asset's name.
    pub name: String,
    /// Amount to issue (in base units).
    pub amount: i64,
    /// The treasury address that receives the issuance.
    pub destination_address: String,
    /// The issuer's domain (for the asset registry).
    pub domain: String,
    /// The ticker.
    pub ticker: String,
    /// The issuer's public key (hex).
    pub pubkey: String,
    /// Decimal places, 0 to 8 (0.1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// Confidential issuance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_confidential: Option<bool>,
    /// May be reissued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_reissuable: Option<bool>,
    /// Reissuance tokens to create (in base units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reissuance_amount: Option<i64>,
    /// The treasury address that receives the reissuance tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reissuance_address: Option<String>,
    /// Transfers need the issuer's authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_restricted: Option<bool>,
}

impl IssueRequest {
    /// Refuses what AMP would refuse anyway, naming the field.
    pub(crate) fn check(&self) -> Result<()> {
        let required = [
            ("name", &self.name),
            ("destination_address", &self.destination_address),
            ("domain", &self.domain),
            ("ticker", &self.ticker),
            ("pubkey", &self.pubkey),
        ];
        for (field, value) in required {
            if value.trim().is_empty() {
                return Err(invalid(field, "is required and empty".to_string()));
            }
        }
        if self.amount <= 0 {
            return Err(invalid(
                "amount",
                format!("must be positive, is {}", self.amount),
            ));
        }
        if let Some(p) = self.precision.filter(|p| *p > 8) {
            return Err(invalid("precision", format!("must be 0 to 8, is {p}")));
        }
        Ok(())
    }
}

fn invalid(field: &str, reason: String) -> Error {
    Error::invalid_input(format!("issue request: {field}"), reason)
}

/// The answer of [`Assets::issue`](crate::api::Assets::issue) (201): the
/// request's fields echoed, plus what the issuance created (amp-rs's
/// `IssuanceResponse`, amp-api.md §3.1). Only `asset_uuid` is required, so
/// an answer with fewer fields still parses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IssuanceResponse {
    /// The new asset's AMP id.
    pub asset_uuid: String,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The reissuance token id, for reissuable assets.
    #[serde(default)]
    pub reissuance_token_id: Option<String>,
    /// The issuance transaction.
    #[serde(default)]
    pub txid: Option<String>,
    /// The issuance's input index.
    #[serde(default)]
    pub vin: Option<u32>,
    /// The output holding the asset.
    #[serde(default)]
    pub asset_vout: Option<u32>,
    /// The output holding the reissuance tokens.
    #[serde(default)]
    pub reissuance_vout: Option<u32>,
    /// Where transfers are authorized.
    #[serde(default)]
    pub issuer_authorization_endpoint: Option<String>,
    /// Transfers need authorization.
    #[serde(default)]
    pub transfer_restricted: bool,
    /// The issuance's asset blinder (hex).
    #[serde(default)]
    pub issuance_assetblinder: Option<String>,
    /// The issuance's token blinder (hex).
    #[serde(default)]
    pub issuance_tokenblinder: Option<String>,
    /// Echoed: the name.
    #[serde(default)]
    pub name: Option<String>,
    /// Echoed: the amount issued (in base units).
    #[serde(default)]
    pub amount: i64,
    /// Echoed: the treasury address.
    #[serde(default)]
    pub destination_address: Option<String>,
    /// Echoed: the domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Echoed: the ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// Echoed: the public key.
    #[serde(default)]
    pub pubkey: Option<String>,
    /// Echoed: confidential issuance.
    #[serde(default)]
    pub is_confidential: bool,
    /// Echoed: may be reissued.
    #[serde(default)]
    pub is_reissuable: bool,
    /// Echoed: reissuance tokens created (in base units).
    #[serde(default)]
    pub reissuance_amount: i64,
    /// Echoed: the reissuance tokens' address.
    #[serde(default)]
    pub reissuance_address: Option<String>,
}

/// The body of [`Assets::update_blinders`](crate::api::Assets::update_blinders):
/// the blinders of one output AMP could not unblind (0.1.10–0.1.12).
///
/// amp-api.md gives no shape; the fields are amp-rs's `UpdateBlindersRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateBlinders {
    /// Transaction id (hex).
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// The asset blinder (hex).
    pub asset_blinder: String,
    /// The amount blinder (hex).
    pub amount_blinder: String,
}
