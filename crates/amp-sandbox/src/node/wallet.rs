//! The issuer's wallet: which addresses are its own (and which of them are
//! change), and its lock. Its outputs are the chain's.

use std::collections::BTreeMap;

use crate::data::{hex64, BECH32};

/// The wallet: its addresses and its lock. Outputs are the chain's; an output
/// is the wallet's when its address is.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wallet {
    /// Address → label: `Some("")` for receiving addresses (`getnewaddress`,
    /// AMP's issuance destinations), `None` for change addresses (which
    /// Elements leaves out of `details` when it sends).
    pub(crate) addresses: BTreeMap<String, Option<String>>,
    /// The passphrase of an encrypted wallet; `None`: not encrypted.
    pub(crate) passphrase: Option<String>,
    /// An encrypted wallet is unlocked until then (tokio clock).
    pub(crate) unlocked_until: Option<tokio::time::Instant>,
    next_key: u64,
}

impl Wallet {
    pub(crate) fn is_mine(&self, address: &str) -> bool {
        self.addresses.contains_key(address)
    }

    /// A change address is the wallet's and has no label.
    pub(crate) fn is_change(&self, address: &str) -> bool {
        matches!(self.addresses.get(address), Some(None))
    }

    /// Whether an encrypted wallet is locked now.
    pub(crate) fn is_locked(&self) -> bool {
        self.passphrase.is_some()
            && self
                .unlocked_until
                .is_none_or(|until| tokio::time::Instant::now() >= until)
    }

    /// A new address of the wallet, in Liquid testnet's confidential bech32
    /// shape (`tlq1qq…`); `label: None` makes a change address.
    pub(crate) fn new_address(&mut self, label: Option<String>) -> String {
        self.next_key += 1;
        let body = hex64(&format!("wallet key {}", self.next_key));
        // bech32's alphabet, drawn from the hex: stable per key.
        let tail: String = body
            .bytes()
            .chain(hex64(&format!("wallet key tail {}", self.next_key)).bytes())
            .take(74)
            .map(|b| char::from(BECH32[usize::from(b) % BECH32.len()]))
            .collect();
        let address = format!("tlq1qq{tail}");
        self.addresses.insert(address.clone(), label);
        address
    }

    /// Makes an address the wallet's (AMP's issuances pay the issuer's
    /// wallet, whatever address the issuer gave).
    pub(crate) fn adopt(&mut self, address: &str) {
        self.addresses
            .entry(address.to_owned())
            .or_insert_with(|| Some(String::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_addresses_and_lock() {
        let mut wallet = Wallet::default();
        let a = wallet.new_address(Some(String::new()));
        let c = wallet.new_address(None);
        assert!(a.starts_with("tlq1qq") && a.len() == 80);
        assert_ne!(a, c);
        assert!(wallet.is_mine(&a) && !wallet.is_change(&a));
        assert!(wallet.is_change(&c));
        assert!(!wallet.is_locked());
        wallet.passphrase = Some("p".into());
        assert!(wallet.is_locked());
        wallet.unlocked_until =
            Some(tokio::time::Instant::now() + std::time::Duration::from_secs(60));
        assert!(!wallet.is_locked());
    }
}
