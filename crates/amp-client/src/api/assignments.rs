//! Assignments: `client.assignments(asset_uuid)` (amp-api.md §3.2).

use crate::api::asset_path;
use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{Assignment, AssignmentsBody, NewAssignment};

/// The assignments of one asset, from [`AmpClient::assignments`]: amounts
/// promised to registered users, sent to them by a distribution.
///
/// The asset's uuid is checked as one path segment by each call, so a bad
/// uuid is an error ([`Error::is_invalid_input`](crate::Error::is_invalid_input)) from the
/// first call, before anything is sent.
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// use amp_client::model::NewAssignment;
/// let assignments = client.assignments("4e6c5fca-…");
/// let created = assignments.create(&NewAssignment::new(12, 1_000).ready_for_distribution(true)).await?;
/// let pending = assignments.list().await?.iter().filter(|a| !a.is_distributed).count();
/// println!("created {}, {pending} to distribute", created[0].id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Assignments<'a> {
    client: &'a AmpClient,
    asset_uuid: &'a str,
}

impl AmpClient {
    /// The assignments handler of the asset `asset_uuid`.
    pub fn assignments<'a>(&'a self, asset_uuid: &'a str) -> Assignments<'a> {
        Assignments {
            client: self,
            asset_uuid,
        }
    }
}

impl Assignments<'_> {
    /// `assets/{uuid}/assignments/{rest}`.
    fn path(&self, rest: &str) -> Result<String> {
        asset_path(self.asset_uuid, &format!("assignments/{rest}"))
    }

    /// Every assignment of the asset (`GET /assets/{uuid}/assignments`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for a in client.assignments("4e6c5fca-…").list().await? {
    ///     println!("{} → user {:?}: {}", a.id, a.registered_user, a.amount);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Assignment>> {
        let path = asset_path(self.asset_uuid, "assignments")?;
        self.client.get(&path).await
    }

    /// Creates an assignment (`POST /assets/{uuid}/assignments/create` with
    /// `{"assignments": [it]}`: one element only, since 0.1.7). AMP answers
    /// with the list of assignments created.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::NewAssignment;
    /// let new = NewAssignment::new(12, 1_000).vesting_timestamp(1_735_689_600);
    /// let created = client.assignments("4e6c5fca-…").create(&new).await?;
    /// println!("{:?}", created.first().map(|a| a.id));
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, assignment: &NewAssignment) -> Result<Vec<Assignment>> {
        let path = self.path("create")?;
        let body = AssignmentsBody {
            assignments: [assignment],
        };
        self.client.post(&path, &body).await
    }

    /// One assignment (`GET /assets/{uuid}/assignments/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let a = client.assignments("4e6c5fca-…").get(7).await?;
    /// println!("{} to user {:?}", a.amount, a.registered_user);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: i64) -> Result<Assignment> {
        let path = self.path(&id.to_string())?;
        self.client.get(&path).await
    }

    /// Locks an assignment, so it is not distributed
    /// (`PUT /assets/{uuid}/assignments/{id}/lock`); AMP answers with it.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assignments("4e6c5fca-…").lock(7).await?;
    /// # Ok(()) }
    /// ```
    pub async fn lock(&self, id: i64) -> Result<Assignment> {
        let path = self.path(&format!("{id}/lock"))?;
        self.client.put_empty(&path).await
    }

    /// Unlocks an assignment (`PUT /assets/{uuid}/assignments/{id}/unlock`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assignments("4e6c5fca-…").unlock(7).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock(&self, id: i64) -> Result<Assignment> {
        let path = self.path(&format!("{id}/unlock"))?;
        self.client.put_empty(&path).await
    }

    /// Deletes an assignment not yet distributed
    /// (`DELETE /assets/{uuid}/assignments/{id}/delete`; AMP answers 204).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assignments("4e6c5fca-…").delete(7).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: i64) -> Result<()> {
        let path = self.path(&format!("{id}/delete"))?;
        self.client.delete_ignored(&path).await
    }
}
