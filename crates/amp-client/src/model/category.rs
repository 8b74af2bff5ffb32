//! Categories: groups of registered users that assets may require
//! (amp-api.md §3.4, §3.7).

use serde::{Deserialize, Serialize};

/// A category. An asset's `requirements` name the categories a holder must
/// belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// The id AMP assigned.
    pub id: i64,
    /// The name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Ids of its registered users.
    #[serde(default)]
    pub registered_users: Vec<i64>,
    /// Uuids of the assets that require it.
    #[serde(default)]
    pub assets: Vec<String>,
}

/// The body of [`Categories::add`](crate::api::Categories::add):
/// `{"name": str, "description": str}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewCategory {
    /// The name.
    pub name: String,
    /// Free text.
    pub description: String,
}

impl NewCategory {
    /// A category with this name and description.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        NewCategory {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// The body of [`Categories::edit`](crate::api::Categories::edit): only the
/// fields that are `Some` are sent, and so changed.
///
/// ```
/// use amp_client::model::CategoryEdit;
/// let edit = CategoryEdit { description: Some("new text".into()), ..Default::default() };
/// assert_eq!(serde_json::to_value(&edit)?, serde_json::json!({"description": "new text"}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CategoryEdit {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
