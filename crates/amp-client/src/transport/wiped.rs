//! The buffer a sensitive answer (one holding a token or a password) is
//! read into: every byte of it that this crate holds is wiped when dropped.
//!
//! What it cannot cover, and why: hyper reads the answer off the socket
//! into its own read buffer (a `BytesMut` of the connection, 8 KiB to start)
//! and hands the body over as chunks that are views of that buffer; after
//! they are copied here, that memory is reused for the next answer or freed
//! as it is, unwiped. Over TLS, rustls decrypts each record in place in its
//! receive buffer and copies the plaintext into a queue of its own, which
//! hyper then reads from: two more copies, freed or overwritten unwiped.
//! On the way out, hyper copies the request head (with the `Authorization`
//! header) into its write buffer, reused and freed unwiped too; a body (the
//! login's password) is handed over by reference, and rustls copies each
//! piece into a record that it encrypts in place. None of these buffers is
//! reachable from here: wiping them would need changes in hyper and
//! rustls. What this buffer guarantees is only that the copies this crate
//! makes do not outlive their use.

use zeroize::Zeroizing;

/// Where a body of unknown length starts (without `Content-Length`).
const FIRST_CAPACITY: usize = 1024;

/// The most a declared length reserves at once. A sensitive answer is a
/// token or an error of a few hundred bytes; a server that declares
/// megabytes must send them before they are reserved: the whole capacity
/// is written over when the buffer is wiped, so a reservation taken on its
/// word alone costs that much work per login (and a length beyond memory,
/// with a large `AMP_MAX_BODY_BYTES`, would abort the process).
const DECLARED_CAPACITY: usize = 64 * 1024;

/// A growing body whose every allocation is wiped when dropped.
pub(super) struct WipedBody {
    bytes: Zeroizing<Vec<u8>>,
    limit: usize,
}

/// The body would go past the limit.
#[derive(Debug)]
pub(super) struct TooLarge;

impl WipedBody {
    /// A buffer for a body of `declared` bytes if the answer says so (its
    /// `Content-Length`: sized once up to 64 KiB, grown past that only as
    /// the bytes arrive), or of unknown length, never to hold more than
    /// `limit`.
    pub(super) fn new(declared: Option<u64>, limit: usize) -> WipedBody {
        let capacity = match declared {
            Some(n) => usize::try_from(n).map_or(DECLARED_CAPACITY, |n| n.min(DECLARED_CAPACITY)),
            None => FIRST_CAPACITY,
        };
        WipedBody {
            bytes: Zeroizing::new(Vec::with_capacity(capacity.min(limit))),
            limit,
        }
    }

    /// Appends `chunk`. When there is no room, the bytes move to a new
    /// buffer twice as large (at most the limit) and the old one is wiped as
    /// it is dropped: `Vec`'s own growth would leave the old allocation to
    /// the allocator as it was, a copy of the secret nobody could wipe.
    pub(super) fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        let needed = self.bytes.len().checked_add(chunk.len()).ok_or(TooLarge)?;
        if needed > self.limit {
            return Err(TooLarge);
        }
        if needed > self.bytes.capacity() {
            let capacity = needed
                .max(self.bytes.capacity().saturating_mul(2))
                .min(self.limit);
            let mut bigger = Zeroizing::new(Vec::with_capacity(capacity));
            bigger.extend_from_slice(&self.bytes);
            // The old buffer is wiped (its spare capacity too) as it drops.
            self.bytes = bigger;
        }
        // Within the capacity: no reallocation.
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body, shared without a copy, wiped when the last reference to it
    /// is dropped.
    pub(super) fn into_bytes(self) -> bytes::Bytes {
        bytes::Bytes::from_owner(self.bytes)
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    #[cfg(test)]
    fn as_ptr(&self) -> *const u8 {
        self.bytes.as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A declared length reserves what it says up to 64 KiB; beyond, the
    // bytes must arrive first (the limit still holds them all).
    #[test]
    fn a_declared_length_reserves_at_most_64_kib() {
        assert_eq!(WipedBody::new(Some(120), 1 << 24).capacity(), 120);
        assert_eq!(
            WipedBody::new(Some(16 << 20), 16 << 20).capacity(),
            64 * 1024
        );
        assert_eq!(
            WipedBody::new(Some(u64::MAX), usize::MAX).capacity(),
            64 * 1024
        );
        assert_eq!(WipedBody::new(Some(16 << 20), 100).capacity(), 100);
        let mut body = WipedBody::new(Some(100_000), 1 << 20);
        body.push(&[7; 100_000]).unwrap();
        assert_eq!(body.into_bytes().len(), 100_000);
    }

    /// Every chunk lands, in order, whatever the chunk sizes; the buffer
    /// only ever grows by moving to a new one (`Vec` never reallocates in
    /// place: the pointer changes exactly when this type grows it, and the
    /// capacity is then what it chose).
    #[test]
    fn chunks_land_in_order_and_growth_is_ours() {
        for sizes in [
            vec![1usize; 3000],
            vec![1000, 24, 1, 5000, 17, 40_000],
            vec![1024, 1024, 1024],
            vec![70_000],
            vec![0, 3, 0, 2048],
        ] {
            let total: usize = sizes.iter().sum();
            let mut body = WipedBody::new(None, 1 << 20);
            let mut expected = Vec::new();
            let mut grown = 0;
            for (i, size) in sizes.iter().enumerate() {
                let chunk: Vec<u8> = (0..*size).map(|j| (i * 31 + j) as u8).collect();
                let (before_ptr, before_cap) = (body.as_ptr(), body.capacity());
                body.push(&chunk).unwrap();
                expected.extend_from_slice(&chunk);
                if expected.len() > before_cap {
                    grown += 1;
                    assert!(body.capacity() >= expected.len());
                    assert!(body.capacity() >= (before_cap * 2).min(1 << 20));
                } else {
                    assert_eq!(body.as_ptr(), before_ptr, "{sizes:?}: no move without need");
                    assert_eq!(body.capacity(), before_cap, "{sizes:?}");
                }
            }
            // Doubling: a handful of moves, not one per chunk.
            assert!(
                grown <= 1 + total.max(1).ilog2() as usize,
                "{sizes:?}: {grown}"
            );
            assert_eq!(&body.into_bytes()[..], &expected[..], "{sizes:?}");
        }
    }

    #[test]
    fn a_declared_length_is_sized_once_and_the_limit_holds() {
        let mut body = WipedBody::new(Some(4096), 1 << 20);
        assert_eq!(body.capacity(), 4096);
        let ptr = body.as_ptr();
        for _ in 0..4 {
            body.push(&[7u8; 1024]).unwrap();
        }
        assert_eq!(body.as_ptr(), ptr, "never moved");
        // A length beyond the limit is sized to the limit only.
        assert_eq!(WipedBody::new(Some(u64::MAX), 2048).capacity(), 2048);
        // The limit is exact, and never exceeded by growth.
        let mut body = WipedBody::new(None, 3000);
        body.push(&[1u8; 2999]).unwrap();
        assert!(body.capacity() <= 3000);
        body.push(&[1u8; 1]).unwrap();
        assert!(body.push(&[1u8; 1]).is_err());
        assert_eq!(body.into_bytes().len(), 3000);
    }
}
