//! Assignments: amounts of an asset promised to registered users, sent by a
//! distribution (amp-api.md §3.2, §3.7).

use serde::{Deserialize, Serialize};

/// An assignment of an amount of an asset to a registered user (amp-api.md §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The assignment's id.
    pub id: i64,
    /// The registered user's id.
    #[serde(default)]
    pub registered_user: Option<i64>,
    /// Amount (in base units).
    #[serde(default)]
    pub amount: i64,
    /// Where it is to be sent.
    #[serde(default)]
    pub receiving_address: Option<String>,
    /// The distribution that sent it.
    #[serde(default)]
    pub distribution_uuid: Option<String>,
    /// Ready to be distributed.
    #[serde(default)]
    pub ready_for_distribution: bool,
    /// When it vests, as AMP writes it.
    #[serde(default)]
    pub vesting_datetime: Option<String>,
    /// When it vests, in seconds since the epoch.
    #[serde(default)]
    pub vesting_timestamp: Option<i64>,
    /// Vested.
    #[serde(default)]
    pub has_vested: bool,
    /// Distributed (since 0.1.0).
    #[serde(default)]
    pub is_distributed: bool,
    /// Who created it.
    #[serde(default)]
    pub creator: Option<i64>,
    /// The GAID it goes to (0.1.13).
    #[serde(rename = "GAID", default)]
    pub gaid: Option<String>,
    /// The registered user under its pre-0.1.7 name.
    #[serde(default)]
    pub investor: Option<i64>,
}

/// One assignment to create, the body of
/// [`Assignments::create`](crate::api::Assignments::create):
/// `{"registered_user", "amount", "vesting_timestamp"?, "ready_for_distribution"}`.
///
/// Since 0.1.7 AMP takes one assignment per call; the client wraps it as
/// `{"assignments": [it]}`. `vesting_timestamp` is left out when `None` (as
/// amp-rs does) rather than sent as `null`. `ready_for_distribution` is
/// `false` unless set, as in amp-rs; the Blockstream AMP CLI sets it.
///
/// ```
/// use amp_client::model::NewAssignment;
/// let a = NewAssignment::new(12, 1_000).ready_for_distribution(true);
/// assert_eq!(
///     serde_json::to_value(&a)?,
///     serde_json::json!({"registered_user": 12, "amount": 1000, "ready_for_distribution": true}),
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewAssignment {
    /// The registered user's id.
    pub registered_user: i64,
    /// Amount (in base units).
    pub amount: i64,
    /// When it vests, in seconds since the epoch; `None` vests at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vesting_timestamp: Option<i64>,
    /// Ready to be distributed.
    #[serde(default)]
    pub ready_for_distribution: bool,
}

impl NewAssignment {
    /// `amount` for user `registered_user`, vesting at once, not yet ready.
    pub fn new(registered_user: i64, amount: i64) -> Self {
        NewAssignment {
            registered_user,
            amount,
            ..NewAssignment::default()
        }
    }

    /// Vests at this time (seconds since the epoch).
    pub fn vesting_timestamp(mut self, timestamp: i64) -> Self {
        self.vesting_timestamp = Some(timestamp);
        self
    }

    /// Ready (or not) to be distributed.
    pub fn ready_for_distribution(mut self, ready: bool) -> Self {
        self.ready_for_distribution = ready;
        self
    }
}

/// The body AMP reads: a list that must hold exactly one assignment.
#[derive(Serialize)]
pub(crate) struct AssignmentsBody<'a> {
    pub(crate) assignments: [&'a NewAssignment; 1],
}
