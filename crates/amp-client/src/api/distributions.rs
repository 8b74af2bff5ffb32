//! Distributions: `client.distributions(asset_uuid)` (amp-api.md §3.1; the
//! shapes are amp-rs's, the routes also the Blockstream AMP CLI's and the
//! official `blockstream-amp-confirm.py`'s).

use crate::api::{asset_path, segment};
use crate::client::AmpClient;
use crate::error::{Error, Result};
use crate::model::{Distribution, DistributionResponse, TxConfirmation};

/// The distributions of one asset, from [`AmpClient::distributions`]: the
/// transactions that send assigned amounts to registered users.
///
/// A distribution takes three steps: [`create`](Self::create) asks AMP what
/// to send (the assignments ready for distribution), the treasury's Elements
/// node sends it, and [`confirm`](Self::confirm) tells AMP the transaction.
/// [`cancel`](Self::cancel) drops a distribution not yet confirmed.
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// use amp_client::model::TxConfirmation;
/// let distributions = client.distributions("4e6c5fca-…");
/// let plan = distributions.create().await?;
/// // … the node pays plan.map_address_amount, then:
/// let confirmation = TxConfirmation::new("a1b2…").details(serde_json::json!([]));
/// distributions.confirm(&plan.distribution_uuid, &confirmation).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Distributions<'a> {
    client: &'a AmpClient,
    asset_uuid: &'a str,
}

impl AmpClient {
    /// The distributions handler of the asset `asset_uuid`.
    pub fn distributions<'a>(&'a self, asset_uuid: &'a str) -> Distributions<'a> {
        Distributions {
            client: self,
            asset_uuid,
        }
    }
}

impl Distributions<'_> {
    /// `assets/{uuid}/distributions/{id}/{rest}` (no trailing part for an
    /// empty `rest`), both ids checked as one path segment. The id `create`
    /// is refused too: `GET …/distributions/create` is not a read but
    /// [`create`](Self::create), which makes a distribution.
    fn path(&self, distribution_uuid: &str, rest: &str) -> Result<String> {
        let id = segment(distribution_uuid)?;
        if id == "create" {
            return Err(Error::invalid_input(
                "distribution uuid",
                "\"create\" names the route that makes a distribution, not one",
            ));
        }
        let under = if rest.is_empty() {
            format!("distributions/{id}")
        } else {
            format!("distributions/{id}/{rest}")
        };
        asset_path(self.asset_uuid, &under)
    }

    /// Every distribution of the asset (`GET /assets/{uuid}/distributions`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for d in client.distributions("4e6c5fca-…").list().await? {
    ///     println!("{:?} {:?}", d.distribution_uuid, d.distribution_status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Distribution>> {
        let path = asset_path(self.asset_uuid, "distributions")?;
        self.client.get(&path).await
    }

    /// One distribution (`GET /assets/{uuid}/distributions/{distributionUuid}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let d = client.distributions("4e6c5fca-…").get("9a3c…").await?;
    /// println!("{} transactions", d.transactions.len());
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, distribution_uuid: &str) -> Result<Distribution> {
        let path = self.path(distribution_uuid, "")?;
        self.client.get(&path).await
    }

    /// Creates a distribution of the assignments ready for it
    /// (`GET /assets/{uuid}/distributions/create/`, no body).
    ///
    /// Both clients that call it use `GET`. The Blockstream AMP CLI sends no
    /// body, on the path with a trailing slash ("intentionally", its comment
    /// says); amp-rs sends a list of `{user_uuid, amount, address}` in a
    /// `GET` body, which the CLI shows AMP does not need: AMP distributes the
    /// assignments marked ready. The answer is the file the official script
    /// carries out (see [`DistributionResponse`]).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let plan = client.distributions("4e6c5fca-…").create().await?;
    /// // The file `blockstream-amp-confirm.py distribute -f` reads.
    /// std::fs::write("distribution.json", serde_json::to_vec_pretty(&plan)?)?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self) -> Result<DistributionResponse> {
        let path = asset_path(self.asset_uuid, "distributions/create/")?;
        self.client.get(&path).await
    }

    /// Confirms a distribution the node sent
    /// (`POST /assets/{uuid}/distributions/{distributionUuid}/confirm`, with
    /// `{"tx_data": {"details", "txid"}, "change_data"}` as the official
    /// script sends it; AMP answers 200, which the script only checks).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::TxConfirmation;
    /// let confirmation = TxConfirmation::new("a1b2…").details(serde_json::json!([]));
    /// client.distributions("4e6c5fca-…").confirm("9a3c…", &confirmation).await?;
    /// # Ok(()) }
    /// ```
    pub async fn confirm(
        &self,
        distribution_uuid: &str,
        confirmation: &TxConfirmation,
    ) -> Result<()> {
        let path = self.path(distribution_uuid, "confirm")?;
        self.client.post_ignored(&path, confirmation).await
    }

    /// Cancels a distribution not yet confirmed
    /// (`DELETE /assets/{uuid}/distributions/{distributionUuid}/cancel`, as
    /// the CLI and amp-rs call it).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.distributions("4e6c5fca-…").cancel("9a3c…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel(&self, distribution_uuid: &str) -> Result<()> {
        let path = self.path(distribution_uuid, "cancel")?;
        self.client.delete_ignored(&path).await
    }
}
