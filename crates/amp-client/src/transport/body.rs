//! Reading an answer's body within the configured limit: one bounded read,
//! into a buffer that is wiped when dropped for a sensitive answer, or
//! plain memory otherwise.

use bytes::{Bytes, BytesMut};

use super::wiped::{TooLarge, WipedBody};

/// Why a body could not be read.
pub(super) enum BodyError {
    /// The connection failed while reading.
    Read(reqwest::Error),
    /// The body is larger than the limit (declared so, or found so).
    TooLarge,
}

/// The whole body of `response`, at most `limit` bytes; `sensitive`: it
/// may hold a secret (a token, a password).
pub(super) async fn read(
    mut response: reqwest::Response,
    sensitive: bool,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    if sensitive {
        // Copied into a buffer of ours that leaves no unwiped copy as it
        // grows, and is wiped when the last reference to the body is
        // dropped (hyper's and rustls's own buffers are out of reach:
        // `wiped.rs` says what they copy).
        let mut body = WipedBody::new(declared, limit);
        read_bounded(&mut response, |chunk| body.push(chunk)).await?;
        Ok(body.into_bytes())
    } else if declared.is_some() {
        // A declared length within the limit (checked above): hyper
        // enforces it, so the body can be taken whole, without copying.
        response.bytes().await.map_err(BodyError::Read)
    } else {
        // Chunked: count as it comes, and stop at the limit.
        let mut body = BytesMut::new();
        read_bounded(&mut response, |chunk| {
            if body.len() + chunk.len() > limit {
                return Err(TooLarge);
            }
            body.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        Ok(body.freeze())
    }
}

/// Hands every chunk of the body to `push`, which refuses one that would
/// go past the limit: the one loop that reads a body chunk by chunk.
async fn read_bounded(
    response: &mut reqwest::Response,
    mut push: impl FnMut(&[u8]) -> Result<(), TooLarge>,
) -> Result<(), BodyError> {
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        push(&chunk).map_err(|TooLarge| BodyError::TooLarge)?;
    }
    Ok(())
}
