//! One attempt on the wire: the request sent with its headers and body, and
//! the whole answer read within the per-attempt timeout and the body limit.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;

use super::body::{self, BodyError};
use super::url::{classify, too_large};
use super::{Op, Raw, Request, Transport};
use crate::error::Error;
use crate::retry::Failure;

impl Transport {
    /// One attempt: a complete answer (any status), or how it failed. The
    /// attempt's timeout covers sending and reading the whole answer.
    pub(super) async fn attempt(
        &self,
        req: &Request<'_>,
        url: Url,
        authorization: Option<&HeaderValue>,
        operation: &Op<'_>,
    ) -> Result<Raw, (Failure, Error)> {
        let timeout = self.config.request_timeout();
        // tokio's timeout rather than reqwest's: its timer lives in this
        // future, where reqwest boxes one per request and wraps the body in
        // another.
        let exchange = self.exchange(req, url, authorization, operation, timeout);
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err((
                    Failure::MaybeSent { timeout: true },
                    Error::timeout(operation.get(), timeout),
                ))
            })
    }

    /// Sends and reads the answer, with no timeout of its own (`timeout` is
    /// the caller's, named in a connect timeout's error).
    async fn exchange(
        &self,
        req: &Request<'_>,
        url: Url,
        authorization: Option<&HeaderValue>,
        operation: &Op<'_>,
        timeout: Duration,
    ) -> Result<Raw, (Failure, Error)> {
        let mut builder = self.http.request(req.method.clone(), url);
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value.clone());
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        self.counters.requests.bump();
        tracing::trace!(%operation, "sending");
        let mut response = builder
            .send()
            .await
            .map_err(|e| classify(e, operation.get(), timeout, false))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let limit = self.config.max_body_bytes();
        let body = body::read(response, req.sensitive, limit)
            .await
            .map_err(|e| match e {
                BodyError::Read(e) => classify(e, operation.get(), timeout, true),
                BodyError::TooLarge => too_large(operation.get(), limit),
            })?;
        tracing::trace!(%operation, status = status.as_u16(), wiped = req.sensitive, "answered");
        Ok(Raw {
            status,
            headers,
            body,
        })
    }
}
