//! Checks shared by the fuzz targets (a module of each, not a target).

use amp_client::TokenData;

/// `Debug` depends on the token only through its fingerprint: with the
/// fingerprints swapped, it reads exactly as for any other token.
pub fn redacted(t: &TokenData) {
    let other = TokenData::new("x", t.obtained_at, t.expires_at);
    let shown = format!("{t:?}").replace(&t.fingerprint(), &other.fingerprint());
    assert_eq!(
        shown,
        format!("{other:?}"),
        "Debug shows more than the fingerprint"
    );
}
