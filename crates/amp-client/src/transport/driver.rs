//! The retry driver: a request attempted until it succeeds, fails for good,
//! or its attempts (or the client's retry budget) run out. The steps it
//! takes are elsewhere: the 429 pause (`pause.rs`), one attempt
//! (`attempt.rs`), the error of an answer (`status_error.rs`) and the
//! decision to retry (`crate::retry`); the error a request ends with is
//! made in one place, [`give_up`].

use reqwest::header::HeaderValue;
use reqwest::StatusCode;

use super::{Answer, Auth, Op, Request, Transport};
use crate::error::{Error, Result};
use crate::retry::{self, Decision, Failure, RetryBudget, Stop};

/// An attempt that did not succeed.
pub(super) struct Failed {
    /// How, as far as retrying is concerned.
    pub failure: Failure,
    /// The error it stands for.
    pub error: Error,
    /// The answer, kept only for a caller who wants it whatever its status
    /// ([`Request::any_status`]).
    pub answer: Option<Answer>,
}

/// Why the retries ended.
#[derive(Clone, Copy)]
enum End {
    /// Another attempt was due, but the retry budget could not pay for it.
    Budget,
    /// No other attempt was due.
    Stop(Stop),
}

impl Transport {
    /// Sends `req` with `auth` until it succeeds, fails for good or the
    /// attempts run out. Any status outside 2xx is an error (the one
    /// conversion is in `status_error.rs`); a caller of `any_status` gets
    /// the answer the retries ended on instead, carrying that error.
    pub async fn send(&self, req: &Request<'_>, auth: Auth<'_>) -> Result<Answer> {
        let operation = Op::new(req);
        // Built once per request: a path or token that cannot be sent fails
        // at once instead of being retried.
        let mut first_url = Some(self.url(req.path)?);
        let authorization = authorization_of(auth)?;
        let mut attempt: u32 = 1;
        let mut spent: u32 = 0;
        loop {
            self.refuse_withdrawn(auth, attempt, &operation)?;
            // A pause longer than we would ever sleep fails the call at once,
            // before an attempt or a retry is spent on it.
            self.wait_out_pause(&operation).await?;
            req.span.record("attempts", attempt);
            let url = match first_url.take() {
                Some(url) => url,
                None => self.url(req.path)?,
            };
            let failed = match self
                .attempt(req, url, authorization.as_ref(), &operation)
                .await
            {
                Ok(raw) if raw.status.is_success() => {
                    self.budget.on_success(spent);
                    return Ok(Answer {
                        status: raw.status,
                        headers: raw.headers,
                        body: raw.body,
                        refused_token: false,
                        error: None,
                        attempts: attempt,
                    });
                }
                Ok(raw) => self.failed_answer(&operation, raw, auth, req.any_status),
                Err((failure, error)) => Failed {
                    failure,
                    error,
                    answer: None,
                },
            };
            let decision = retry::decide(
                self.config.retry(),
                attempt,
                req.idempotency,
                failed.failure,
                fastrand::f64(),
            );
            let end = match decision {
                Decision::Retry(delay) if self.budget.try_spend(failed.failure) => {
                    spent += RetryBudget::cost_of(failed.failure);
                    self.counters.retries.bump();
                    tracing::debug!(%operation, attempt, delay_ms = delay.as_millis() as u64, error = %failed.error, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                Decision::Retry(_) => {
                    tracing::warn!(%operation, attempt, "retry budget spent; not retrying");
                    End::Budget
                }
                Decision::Stop(stop) => End::Stop(stop),
            };
            return give_up(&operation, attempt, end, failed);
        }
    }

    /// A token cleared, replaced or refused elsewhere while this call
    /// waited to retry is not put on the wire again: the call ends as if
    /// the server had refused it (an API call then heals with the new
    /// token, a refresh falls back to a login).
    fn refuse_withdrawn(&self, auth: Auth<'_>, attempt: u32, operation: &Op<'_>) -> Result<()> {
        match auth {
            Auth::Token(token) if attempt > 1 && self.secrets.is_retired(token) => {
                Err(Error::token_rejected(
                    operation.get(),
                    StatusCode::UNAUTHORIZED,
                    "the token was withdrawn while the call waited to retry",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The `Authorization` header of a request with a token.
fn authorization_of(auth: Auth<'_>) -> Result<Option<HeaderValue>> {
    match auth {
        Auth::Token(t) => t.authorization().map(Some).ok_or_else(|| {
            Error::invalid_input("token", "it holds characters that cannot go in a header")
        }),
        Auth::None | Auth::Login(_) => Ok(None),
    }
}

/// How a request that failed ends, after `attempt` attempts: the one place
/// its final error is made. A single attempt that was not retryable ends
/// with its own error; otherwise the error says how many attempts were
/// made, and whether the retry budget stopped them. A caller of
/// `any_status` gets the answer the retries ended on, carrying that error.
fn give_up(operation: &Op<'_>, attempt: u32, end: End, failed: Failed) -> Result<Answer> {
    let last = match end {
        End::Stop(Stop::RetryAfterTooLong(wait)) => {
            tracing::debug!(%operation, attempt, wait_s = wait.as_secs(), "Retry-After beyond the maximum delay; giving up");
            let status = match failed.failure {
                Failure::Status { status, .. } => status,
                _ => StatusCode::TOO_MANY_REQUESTS,
            };
            Error::rate_limited(operation.get(), status, Some(wait))
        }
        _ => failed.error,
    };
    let error = match end {
        End::Budget => Error::retries(operation.get(), attempt, true, last),
        End::Stop(Stop::Exhausted) => Error::retries(operation.get(), attempt, false, last),
        _ if attempt == 1 => last,
        End::Stop(_) => Error::retries(operation.get(), attempt, false, last),
    };
    match failed.answer {
        Some(mut answer) => {
            answer.error = Some(error);
            answer.attempts = attempt;
            Ok(answer)
        }
        None => Err(error),
    }
}
