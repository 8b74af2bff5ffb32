//! The verbs of [`AmpClient`]: `get`, `get_with_query`, `post`, `put`,
//! `delete` and their variants, each one line over the one typed request
//! path, [`AmpClient::call`]; and the query string a `Serialize` value
//! makes.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::build;
use crate::client::AmpClient;
use crate::error::{Error, Result};

impl AmpClient {
    /// `GET path`, decoded into `T`.
    ///
    /// The verbs (`get`, `get_with_query`, `post`, `post_empty`, `put`,
    /// `put_empty`, `delete`, and `post_ignored`, `delete_ignored` for
    /// answers nobody reads) call any endpoint with the managed token: a
    /// valid token is taken (renewed if due), failures are retried with
    /// backoff, and a refused token is replaced and the call replayed once.
    /// `path` is relative to the API root: `"assets/"`,
    /// `"/registered_users/12"`. An answer outside 2xx is an [`Error`]
    /// ([`Error::status`] tells which); answers 204 or with an empty body
    /// decode as JSON `null`, so `()` and `Option<_>` work for them. For the
    /// answer as it came, whatever its status, see [`send`](Self::send).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let assets: Vec<amp_client::model::Asset> = client.get("assets/").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::GET, path, NO_BODY).await
    }

    /// `GET path?query`, decoded into `T`: `query`, if any, is serialized
    /// as a query string (a struct's fields, `None` fields left out when
    /// they are marked `skip_serializing_if`; values percent-encoded). A
    /// query that serializes to nothing adds nothing to the path.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::{ActivitiesQuery, Activity};
    /// let query = ActivitiesQuery { count: Some(20), ..Default::default() };
    /// let path = "assets/4e6c5fca-…/activities";
    /// let page: Vec<Activity> = client.get_with_query(path, Some(&query)).await?;
    /// // The same as client.get("assets/4e6c5fca-…/activities?count=20").
    /// # Ok(()) }
    /// ```
    pub async fn get_with_query<T, Q>(&self, path: &str, query: Option<&Q>) -> Result<T>
    where
        T: DeserializeOwned,
        Q: Serialize + ?Sized,
    {
        let path = path_with_query(path, query)?;
        self.call(Method::GET, &path, NO_BODY).await
    }

    /// `POST path` with `body` as JSON, decoded into `T`.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let body = serde_json::json!({"name": "Alice", "is_company": false});
    /// let user: amp_client::model::RegisteredUser = client.post("registered_users/add", &body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &(impl Serialize + ?Sized),
    ) -> Result<T> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `POST path` without a body, decoded into `T`.
    pub async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::POST, path, NO_BODY).await
    }

    /// `PUT path` with `body` as JSON, decoded into `T`.
    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &(impl Serialize + ?Sized),
    ) -> Result<T> {
        self.call(Method::PUT, path, Some(body)).await
    }

    /// `PUT path` without a body (AMP's lock, unlock, add and remove calls),
    /// decoded into `T`.
    pub async fn put_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::PUT, path, NO_BODY).await
    }

    /// `DELETE path`, decoded into `T` (`()` for AMP's empty 204 answers).
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::DELETE, path, NO_BODY).await
    }

    /// `POST path` with `body` as JSON, for a call whose answer is not
    /// needed: any 2xx answer, whatever its body, is `Ok(())`.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let addresses = ["vjU2i2EM…"];
    /// client.post_ignored("assets/4e6c5fca-…/treasury-addresses/add", &addresses).await?;
    /// # Ok(()) }
    /// ```
    pub async fn post_ignored(&self, path: &str, body: &(impl Serialize + ?Sized)) -> Result<()> {
        self.call_ignoring_body(Method::POST, path, Some(body))
            .await
    }

    /// `DELETE path`, for a call whose answer is not needed: any 2xx
    /// answer, whatever its body, is `Ok(())`.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.delete_ignored("categories/7/delete").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_ignored(&self, path: &str) -> Result<()> {
        self.call_ignoring_body(Method::DELETE, path, NO_BODY).await
    }

    /// Any call whose answer is read and dropped: any 2xx is `Ok(())`.
    pub(crate) async fn call_ignoring_body<B>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<()>
    where
        B: Serialize + ?Sized,
    {
        let _: serde::de::IgnoredAny = self.call(method, path, body).await?;
        Ok(())
    }

    /// The one typed request path: an authenticated call decoded into `T`.
    ///
    /// Takes a valid token (renewing it if needed), sends with retries, and
    /// when the server answers 401 (or a 403 with one of DRF's
    /// authentication messages) drops that token if it is still current,
    /// obtains another, and replays the call once. Answers 204 or with an
    /// empty body decode as JSON `null`, so `()` and `Option<_>` work for them.
    pub(crate) async fn call<T, B>(&self, method: Method, path: &str, body: Option<&B>) -> Result<T>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        self.call_request(build(method, path, body)?).await
    }

    /// `POST path` with `body`, whose answer holds a secret (the password
    /// changes hand back the new password and a token): read like a login's
    /// answer, into a buffer that is wiped when dropped.
    pub(crate) async fn post_sensitive<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &(impl Serialize + ?Sized),
    ) -> Result<T> {
        self.call_request(build(Method::POST, path, Some(body))?.sensitive())
            .await
    }
}

/// No body, typed: lets the verb helpers pass `None` without a turbofish.
const NO_BODY: Option<&()> = None;

/// `path?query` for `query` serialized as a query string, or `path` alone
/// when there is no query or it serializes to nothing. A `path` that has a
/// query already gets the new pairs after `&`.
fn path_with_query<'p, Q: Serialize + ?Sized>(
    path: &'p str,
    query: Option<&Q>,
) -> Result<std::borrow::Cow<'p, str>> {
    let Some(query) = query else {
        return Ok(path.into());
    };
    let query = serde_urlencoded::to_string(query).map_err(|e| {
        Error::json(
            format!("GET /{}", path.trim_start_matches('/')),
            format!("the query cannot be serialized: {e}"),
        )
    })?;
    if query.is_empty() {
        return Ok(path.into());
    }
    let joint = if path.contains('?') { '&' } else { '?' };
    Ok(format!("{path}{joint}{query}").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActivitiesQuery;

    #[test]
    fn a_query_is_added_to_the_path_in_field_order_and_percent_encoded() {
        let query = ActivitiesQuery {
            start: Some(10),
            height_stop: Some(200),
            sortcolumn: Some("block height&x=1".into()),
            ..Default::default()
        };
        assert_eq!(
            path_with_query("assets/u/txs", Some(&query)).unwrap(),
            "assets/u/txs?start=10&height_stop=200&sortcolumn=block+height%26x%3D1"
        );
        assert_eq!(
            path_with_query("a/?x=1", Some(&[("y", "2")])).unwrap(),
            "a/?x=1&y=2"
        );
        let nothing = ActivitiesQuery::default();
        assert_eq!(path_with_query("a/", Some(&nothing)).unwrap(), "a/");
        assert_eq!(path_with_query::<()>("a/", None).unwrap(), "a/");
        // A value that is no query at all is the caller's mistake, named.
        let e = path_with_query("a/", Some(&vec![vec![1]])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("GET /a/: the query cannot be serialized"),
            "{e}"
        );
    }
}
