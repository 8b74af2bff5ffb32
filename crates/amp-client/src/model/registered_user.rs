//! Registered users (named "investors" before 0.1.7) and their GAIDs
//! (amp-api.md §3.3, §3.7).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Assignment, Distribution};

/// A person or company the issuer registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredUser {
    /// The id AMP assigned.
    pub id: i64,
    /// The default GAID, if any (JSON key `GAID`).
    #[serde(rename = "GAID", default)]
    pub gaid: Option<String>,
    /// A company rather than a person.
    #[serde(default)]
    pub is_company: bool,
    /// The name.
    pub name: String,
    /// Ids of the categories the user belongs to.
    #[serde(default)]
    pub categories: Vec<i64>,
    /// Who created it.
    #[serde(default)]
    pub creator: Option<i64>,
}

/// The body of [`RegisteredUsers::add`](crate::api::RegisteredUsers::add):
/// `{"name": str, "GAID": str|null, "is_company": bool}`; `GAID` is sent
/// as `null` when `None`.
///
/// ```
/// use amp_client::model::NewRegisteredUser;
/// let user = NewRegisteredUser::new("Alice").gaid("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz");
/// assert_eq!(
///     serde_json::to_value(&user)?,
///     serde_json::json!({"name": "Alice", "GAID": "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz", "is_company": false}),
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewRegisteredUser {
    /// The name.
    pub name: String,
    /// The GAID, if known (JSON key `GAID`).
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// A company rather than a person.
    pub is_company: bool,
}

impl NewRegisteredUser {
    /// A person with this name and no GAID.
    pub fn new(name: impl Into<String>) -> Self {
        NewRegisteredUser {
            name: name.into(),
            gaid: None,
            is_company: false,
        }
    }

    /// With this GAID.
    pub fn gaid(mut self, gaid: impl Into<String>) -> Self {
        self.gaid = Some(gaid.into());
        self
    }

    /// A company (`true`) or a person (`false`).
    pub fn company(mut self, is_company: bool) -> Self {
        self.is_company = is_company;
        self
    }
}

/// One entry of [`RegisteredUsers::gaids`](crate::api::RegisteredUsers::gaids).
///
/// amp-rs reads the answer as a list of GAID strings; nothing official shows
/// it (amp-api.md §3.3, UNCERTAIN). So an entry may be a bare string or an
/// object with a `GAID` (or `gaid`) key; any other keys of an object are kept
/// in `extra`.
///
/// ```
/// use amp_client::model::UserGaid;
/// let list: Vec<UserGaid> = serde_json::from_str(
///     r#"["GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz", {"GAID": "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf", "is_default": true}]"#,
/// )?;
/// assert_eq!(list[0].gaid, "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz");
/// assert_eq!(list[1].extra["is_default"], true);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "GaidWire")]
pub struct UserGaid {
    /// The GAID.
    #[serde(rename = "GAID")]
    pub gaid: String,
    /// Every other key, when the entry was an object.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GaidWire {
    Plain(String),
    Object(GaidObject),
}

#[derive(Deserialize)]
struct GaidObject {
    #[serde(rename = "GAID", alias = "gaid")]
    gaid: String,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<GaidWire> for UserGaid {
    fn from(wire: GaidWire) -> UserGaid {
        match wire {
            GaidWire::Plain(gaid) => UserGaid {
                gaid,
                extra: Map::new(),
            },
            GaidWire::Object(o) => UserGaid {
                gaid: o.gaid,
                extra: o.extra,
            },
        }
    }
}

/// `GET /registered_users/{id}/summary`, for one asset (amp-rs's shape,
/// amp-api.md §3.7, UNCERTAIN). Every field is optional or defaults, so a
/// different summary still parses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegisteredUserSummary {
    /// The asset's AMP id.
    #[serde(default)]
    pub asset_uuid: Option<String>,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The user's assignments of the asset.
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    /// Their total amount.
    #[serde(default)]
    pub assignments_sum: i64,
    /// The distributions to the user.
    #[serde(default)]
    pub distributions: Vec<Distribution>,
    /// Their total amount.
    #[serde(default)]
    pub distributions_sum: i64,
    /// What the user holds.
    #[serde(default)]
    pub balance: i64,
}
