//! The sample data a sandbox starts with, made through the store's own
//! operations so that it obeys the same rules as anything a client makes.

use super::assets::Issue;
use super::assignments::NewAssignment;
use super::{address_for, hex64, Store, StoreError};

/// The GAID of the sample user Alice.
pub(crate) const GAID_ALICE: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";
/// The GAID of the sample company.
pub(crate) const GAID_CORP: &str = "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf";

/// Uuids of the sample assets.
pub(crate) const ASSET_BOND: &str = "4f5bd6a2-8c1e-4b1a-9d3e-7a2c5e9f1b01";
const ASSET_SHARE: &str = "9b0c2e71-3d4f-4a6b-8e5d-1c7f3a2b4d02";
pub(crate) const ASSET_NOTE: &str = "c3e8f1a4-5b6d-4e7f-a8b9-0d1e2f3a4c03";

use crate::{
    SAMPLE_MANAGER_PASSWORD as MANAGER_PASSWORD, SAMPLE_MANAGER_USERNAME as MANAGER_USERNAME,
};

fn sample_issue(name: &str, ticker: &str, precision: u8, amount: u64, reissuable: bool) -> Issue {
    Issue {
        name: name.to_owned(),
        amount,
        destination_address: address_for(&format!("treasury {ticker}")),
        domain: format!("{}.sandbox.example", ticker.to_ascii_lowercase()),
        ticker: ticker.to_owned(),
        pubkey: format!("02{}", hex64(&format!("pubkey {ticker}"))),
        precision,
        is_confidential: true,
        is_reissuable: reissuable,
        reissuance_amount: u64::from(reissuable),
        reissuance_address: None,
        transfer_restricted: reissuable,
    }
}

impl Store {
    /// Three assets (a transfer-restricted reissuable bond, a share, a note),
    /// three users (two with GAIDs), two categories, one unlocked manager,
    /// three assignments of which two are distributed.
    pub(crate) fn fill_sample(&mut self) -> Result<(), StoreError> {
        self.issue_as(
            ASSET_BOND.to_owned(),
            &sample_issue("Sandbox Bond", "SBND", 0, 1_000_000, true),
        );
        self.issue_as(
            ASSET_SHARE.to_owned(),
            &sample_issue("Sandbox Share", "SSHR", 2, 50_000_000, false),
        );
        self.issue_as(
            ASSET_NOTE.to_owned(),
            &sample_issue("Sandbox Note", "SNTE", 8, 2_100_000_000, false),
        );
        for uuid in [ASSET_BOND, ASSET_NOTE] {
            self.register(uuid)?;
            self.register_authorized(uuid)?;
        }
        self.asset_mut(ASSET_BOND)?.issuer_authorization_endpoint =
            Some("https://issuer.sandbox.example/authorize".to_owned());

        self.add_user("Alice Example".into(), Some(GAID_ALICE.into()), false)?;
        self.add_user("Example Corp Ltd".into(), Some(GAID_CORP.into()), true)?;
        self.add_user("Bob Without-Gaid".into(), None, false)?;

        self.add_category(
            "Accredited investors".into(),
            Some("May hold transfer-restricted assets".into()),
        );
        self.add_category("EU residents".into(), Some("Resident in the EU".into()));
        for (category, user) in [("1", "1"), ("2", "1"), ("2", "2")] {
            self.link_user(category, user, true)?;
        }
        self.link_asset("1", ASSET_BOND, true)?;

        let assign = |registered_user, amount, ready_for_distribution| NewAssignment {
            registered_user,
            amount,
            vesting_timestamp: None,
            ready_for_distribution,
        };
        self.create_assignment(ASSET_BOND, &assign(1, 1_000, true))?;
        self.create_assignment(ASSET_BOND, &assign(2, 250, false))?;
        self.create_assignment(ASSET_SHARE, &assign(2, 10_000, true))?;
        for uuid in [ASSET_BOND, ASSET_SHARE] {
            let created = self.create_distribution(uuid, "")?;
            let id = created["distribution_uuid"].as_str().unwrap_or_default();
            let report = self.wallet_distribute(&created)?;
            self.confirm_distribution(uuid, id, &report)?;
        }

        self.create_manager(MANAGER_USERNAME.into(), MANAGER_PASSWORD.into(), "")?;
        self.lock_manager("1", false)?;
        self.manager_asset("1", ASSET_BOND, true)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_data_obeys_the_rules() {
        let mut store = Store::new(false, 0);
        assert_eq!(store.fill_sample(), Ok(()));
        let bond = store.asset_summary(ASSET_BOND).unwrap();
        assert_eq!(bond["issued"], 1_000_000);
        assert_eq!(bond["assigned"], 1_250);
        assert_eq!(bond["distributed"], 1_000);
        assert_eq!(bond["active_registered_users"], 1);
        assert_eq!(
            store.manager_login(MANAGER_USERNAME, MANAGER_PASSWORD),
            Some(1)
        );
    }
}
