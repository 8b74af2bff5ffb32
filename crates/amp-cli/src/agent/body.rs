//! A request's body: read whole under the cap and the time bound, or
//! drained when the request is refused.

use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// How much of a refused request's body is read and thrown away, and for
/// how long: a server that closes a connection with unread data in it makes
/// the kernel reset it, and a caller still writing its body (Python's
/// `http.client` sends it whole, without `Expect: 100-continue`) would get
/// that reset instead of the 413, 503 or 401 that says why.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads and discards `body`, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
pub(super) async fn drain(mut body: Body) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, Bytes::len);
            if seen > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}

/// Why a request's body was not taken.
pub(super) enum Unread {
    TooLarge,
    TooSlow,
    Broken(String),
}

/// The whole body, if it is at most `max` bytes and arrives within
/// `within`; past the cap the rest is drained, so the caller reads the 413.
pub(super) async fn read_body(
    mut body: Body,
    max: usize,
    within: Duration,
) -> Result<Bytes, Unread> {
    let read = async {
        let mut whole: Option<Bytes> = None;
        let mut joined = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Unread::Broken(e.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let so_far = whole.as_ref().map_or(joined.len(), Bytes::len);
            if so_far + data.len() > max {
                drain(body).await;
                return Err(Unread::TooLarge);
            }
            // The usual case, one frame, is kept as it came (no copy).
            match whole.take() {
                None if joined.is_empty() => whole = Some(data),
                None => joined.extend_from_slice(&data),
                Some(first) => {
                    joined.extend_from_slice(&first);
                    joined.extend_from_slice(&data);
                }
            }
        }
        Ok(whole.unwrap_or_else(|| Bytes::from(joined)))
    };
    tokio::time::timeout(within, read)
        .await
        .unwrap_or(Err(Unread::TooSlow))
}
