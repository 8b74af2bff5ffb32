//! Categories: `client.categories()` (amp-api.md §3.4).

use crate::api::segment;
use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{Category, CategoryEdit, Lenient, NewCategory};

/// The issuer's categories of registered users, from [`AmpClient::categories`].
///
/// Membership answers (`add_registered_user`, `add_asset`, …) are
/// [`Lenient`]: amp-rs reads the category, the Blockstream AMP CLI reads the
/// add-asset answer as the asset's requirements, and nothing official says
/// which (amp-api.md §3.4, UNCERTAIN).
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// use amp_client::model::NewCategory;
/// let categories = client.categories();
/// let eu = categories.add(&NewCategory::new("EU residents", "Resident in the EU")).await?;
/// categories.add_registered_user(eu.id, 12).await?;
/// categories.add_asset(eu.id, "4e6c5fca-…").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Categories<'a> {
    client: &'a AmpClient,
}

impl AmpClient {
    /// The categories handler.
    pub fn categories(&self) -> Categories<'_> {
        Categories { client: self }
    }
}

impl Categories<'_> {
    /// Every category (`GET /categories/`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for c in client.categories().list().await? {
    ///     println!("{} {} ({} users)", c.id, c.name, c.registered_users.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Category>> {
        self.client.get("categories/").await
    }

    /// One category (`GET /categories/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let category = client.categories().get(3).await?;
    /// println!("{}", category.name);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: i64) -> Result<Category> {
        let path = format!("categories/{id}");
        self.client.get(&path).await
    }

    /// Creates a category (`POST /categories/add` with `{"name", "description"}`);
    /// AMP answers 201 with the category.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::NewCategory;
    /// let c = client.categories().add(&NewCategory::new("Accredited", "May hold bonds")).await?;
    /// println!("created {}", c.id);
    /// # Ok(()) }
    /// ```
    pub async fn add(&self, category: &NewCategory) -> Result<Category> {
        self.client.post("categories/add", category).await
    }

    /// Changes a category (`PUT /categories/{id}/edit`); only the fields that
    /// are `Some` are sent.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::CategoryEdit;
    /// let edit = CategoryEdit { name: Some("Accredited investors".into()), ..Default::default() };
    /// client.categories().edit(3, &edit).await?;
    /// # Ok(()) }
    /// ```
    pub async fn edit(&self, id: i64, edit: &CategoryEdit) -> Result<Category> {
        let path = format!("categories/{id}/edit");
        self.client.put(&path, edit).await
    }

    /// Deletes a category (`DELETE /categories/{id}/delete`; 204).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.categories().delete(3).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: i64) -> Result<()> {
        let path = format!("categories/{id}/delete");
        self.client.delete_ignored(&path).await
    }

    /// Puts a registered user into the category
    /// (`PUT /categories/{id}/registered_users/{userId}/add`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let answer = client.categories().add_registered_user(3, 12).await?;
    /// if let Some(c) = answer.typed() {
    ///     assert!(c.registered_users.contains(&12));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn add_registered_user(&self, id: i64, user_id: i64) -> Result<Lenient<Category>> {
        self.put(format!("categories/{id}/registered_users/{user_id}/add"))
            .await
    }

    /// Takes a registered user out of the category
    /// (`PUT /categories/{id}/registered_users/{userId}/remove`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.categories().remove_registered_user(3, 12).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_registered_user(&self, id: i64, user_id: i64) -> Result<Lenient<Category>> {
        self.put(format!("categories/{id}/registered_users/{user_id}/remove"))
            .await
    }

    /// Makes the category a requirement of an asset
    /// (`PUT /categories/{id}/assets/{assetUuid}/add`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.categories().add_asset(3, "4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_asset(&self, id: i64, asset_uuid: &str) -> Result<Lenient<Category>> {
        let uuid = segment(asset_uuid)?;
        self.put(format!("categories/{id}/assets/{uuid}/add")).await
    }

    /// Removes the category from an asset's requirements
    /// (`PUT /categories/{id}/assets/{assetUuid}/remove`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.categories().remove_asset(3, "4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_asset(&self, id: i64, asset_uuid: &str) -> Result<Lenient<Category>> {
        let uuid = segment(asset_uuid)?;
        self.put(format!("categories/{id}/assets/{uuid}/remove"))
            .await
    }

    /// A `PUT` without a body: the membership routes.
    async fn put(&self, path: String) -> Result<Lenient<Category>> {
        self.client.put_empty(&path).await
    }
}
