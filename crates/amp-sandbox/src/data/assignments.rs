//! Assignments of an asset to registered users.

use serde_json::{json, Value};

use super::model::{Asset, Assignment};
use super::{address_for, iso, now_unix, parse_id, rule, Store, StoreError, ISSUER_ID};

/// One validated element of `{"assignments": [...]}`.
#[derive(Clone, Debug)]
pub(crate) struct NewAssignment {
    pub(crate) registered_user: u64,
    pub(crate) amount: u64,
    pub(crate) vesting_timestamp: Option<i64>,
    pub(crate) ready_for_distribution: bool,
}

impl Asset {
    pub(crate) fn assignment_mut(&mut self, id: &str) -> Result<&mut Assignment, StoreError> {
        let id = parse_id(id)?;
        self.state
            .assignments
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(StoreError::NotFound)
    }
}

impl Store {
    pub(crate) fn assignments(&self, uuid: &str) -> Result<Value, StoreError> {
        let now = now_unix();
        let list = self.asset(uuid)?.state.assignments.iter();
        Ok(Value::Array(list.map(|a| a.json(now)).collect()))
    }

    pub(crate) fn assignment(&self, uuid: &str, id: &str) -> Result<Value, StoreError> {
        let id = parse_id(id)?;
        self.asset(uuid)?
            .state
            .assignments
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.json(now_unix()))
            .ok_or(StoreError::NotFound)
    }

    /// Creates one assignment; the answer is a list of it, as the API answers
    /// a create. The user must exist, and the amount must fit in what is not
    /// assigned yet. The user's default GAID (if any) is the receiving one.
    pub(crate) fn create_assignment(
        &mut self,
        uuid: &str,
        new: &NewAssignment,
    ) -> Result<Value, StoreError> {
        self.unlocked_mut(uuid)?;
        let Some(user) = self.users.get(&new.registered_user) else {
            return Err(StoreError::Body(json!({ "assignments": [{
                "registered_user": [format!(
                    "Invalid pk \"{}\" - object does not exist.",
                    new.registered_user
                )],
            }] })));
        };
        let gaid = user.gaid.clone();
        let id = self.next_assignment;
        let asset = self.unlocked_mut(uuid)?;
        let available = asset.unassigned();
        if new.amount > available {
            return Err(rule(format!(
                "The amount {} is more than what is left to assign ({available}).",
                new.amount
            )));
        }
        let assignment = Assignment {
            id,
            registered_user: new.registered_user,
            amount: new.amount,
            receiving_address: gaid.as_deref().map(address_for),
            distribution_uuid: None,
            ready_for_distribution: new.ready_for_distribution,
            vesting_datetime: new.vesting_timestamp.and_then(iso),
            vesting_timestamp: new.vesting_timestamp,
            is_distributed: false,
            creator: ISSUER_ID,
            gaid,
            investor: new.registered_user,
            is_locked: false,
        };
        let json = assignment.json(now_unix());
        asset.state.assignments.push(assignment);
        self.next_assignment += 1;
        Ok(Value::Array(vec![json]))
    }

    pub(crate) fn lock_assignment(
        &mut self,
        uuid: &str,
        id: &str,
        locked: bool,
    ) -> Result<Value, StoreError> {
        let assignment = self.unlocked_mut(uuid)?.assignment_mut(id)?;
        assignment.is_locked = locked;
        Ok(assignment.json(now_unix()))
    }

    /// Deletes an assignment that is neither locked, nor distributed, nor
    /// waiting in a distribution.
    pub(crate) fn delete_assignment(&mut self, uuid: &str, id: &str) -> Result<(), StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        let assignment = asset.assignment_mut(id)?;
        if assignment.is_locked {
            return Err(rule("The assignment is locked."));
        }
        if assignment.is_distributed {
            return Err(rule("The assignment is distributed and cannot be deleted."));
        }
        if let Some(distribution) = &assignment.distribution_uuid {
            return Err(rule(format!(
                "The assignment is part of distribution {distribution}; cancel it first."
            )));
        }
        let id = assignment.id;
        asset.state.assignments.retain(|a| a.id != id);
        Ok(())
    }
}
