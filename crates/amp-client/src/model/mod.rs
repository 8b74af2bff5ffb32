//! The JSON shapes of AMP resources (amp-api.md §3.7).
//!
//! Every type tolerates unknown fields, and fields that AMP marks nullable or
//! that older API versions lack are `Option` or default, so an answer from a
//! newer or older server still parses. Amounts AMP counts are integers in
//! the asset's base units (`i64`), never floats. The one exception is
//! amounts AMP writes for the Elements node (the `amount` of the reissue and
//! burn request answers, the values of a distribution's
//! `map_address_amount`): the node counts in whole coins, so they may be
//! fractional, and they are kept as the JSON number AMP sent
//! ([`serde_json::Number`]), never converted.
//!
//! Where amp-api.md gives no shape (distributions, reissue, burn, txs,
//! update-blinders, reissuances), the types follow amp-rs's field names and
//! say so.
//!
//! Where amp-api.md marks an answer's shape as UNCERTAIN, the type accepts
//! every form the sources disagree on: [`Lenient`] for answers that may be
//! a resource or something else, [`Memo`] and [`UserGaid`] for a bare string
//! or an object, [`AssetBalance`] for an object or a list, and
//! [`RegisteredUsers::summary`](crate::api::RegisteredUsers::summary) for
//! one summary or a list of them.

mod asset;
mod assignment;
mod category;
mod distribution;
mod gaid;
mod history;
mod issuance;
mod manager;
mod registered_user;
mod supply;
mod user;
mod utxo;

pub use asset::{Asset, AssetBalance, AssetSummary, BalanceEntry, LostOutputs, Memo, Ownership};
pub(crate) use assignment::AssignmentsBody;
pub use assignment::{Assignment, NewAssignment};
pub use category::{Category, CategoryEdit, NewCategory};
pub use distribution::{
    Distribution, DistributionAssignment, DistributionResponse, DistributionTransaction,
    TxConfirmation, TxData,
};
pub use gaid::{GaidAddress, GaidBalance, GaidValidation};
pub use history::{
    ActivitiesQuery, Activity, AssetTransaction, AssetTransactionInput, AssetTransactionOutput,
    TxsQuery,
};
pub use issuance::{IssuanceResponse, IssueRequest, UpdateBlinders};
pub use manager::{Manager, NewManager};
pub use registered_user::{NewRegisteredUser, RegisteredUser, RegisteredUserSummary, UserGaid};
pub use supply::{
    BurnRequestResponse, Reissuance, ReissuanceOutput, ReissueConfirm, ReissueRequestResponse,
    ReissueResponse,
};
pub(crate) use user::PasswordChange;
pub use user::PasswordChanged;
pub use utxo::{Outpoint, Utxo};

/// The secret string type of password bodies and answers, re-exported so
/// callers need not depend on `secrecy` themselves.
pub use secrecy::SecretString;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /info`: the API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The API version, e.g. `0.1.13`.
    pub version: String,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
}

/// An answer whose shape no primary source documents: the resource `T` when
/// the body parses as one, else the JSON as sent (`Null` for an empty body).
///
/// Used where amp-api.md says UNCERTAIN, e.g. asset lock (amp-rs expects the
/// asset, nothing official says so) or a category's add-asset (amp-rs expects
/// the category, the CLI reads "asset requirements"). A call whose answer is
/// `Raw` still succeeded: the status was 2xx.
///
/// ```
/// use amp_client::model::{Asset, Lenient};
/// let answer: Lenient<Asset> = serde_json::from_str(r#"{"detail": "locked"}"#)?;
/// assert!(answer.typed().is_none());
/// assert_eq!(answer.raw().and_then(|v| v["detail"].as_str()), Some("locked"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Lenient<T> {
    /// The body parsed as `T`.
    Typed(T),
    /// Any other body, as sent.
    Raw(Value),
}

impl<T> Lenient<T> {
    /// The typed answer, if the body was one.
    pub fn typed(&self) -> Option<&T> {
        match self {
            Lenient::Typed(t) => Some(t),
            Lenient::Raw(_) => None,
        }
    }

    /// The typed answer, if the body was one, by value.
    pub fn into_typed(self) -> Option<T> {
        match self {
            Lenient::Typed(t) => Some(t),
            Lenient::Raw(_) => None,
        }
    }

    /// The body as sent, if it was not a `T`.
    pub fn raw(&self) -> Option<&Value> {
        match self {
            Lenient::Typed(_) => None,
            Lenient::Raw(v) => Some(v),
        }
    }
}

/// One `T` or a list of them, read as a list. For answers that amp-rs models
/// as one object but that may really be a list (amp-api.md §3.3, summary).
///
/// The list is tried first: serde reads a struct from a JSON array too (its
/// fields in order), so `[]` would otherwise read as one `T` of defaults.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> OneOrMany<T> {
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}
