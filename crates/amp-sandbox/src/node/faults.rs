//! Faults of the simulated node, per RPC method.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::rpc::RpcError;

/// One misbehaviour of the simulated Elements node, for the next call of an
/// RPC method (see [`crate::Sandbox::push_node_fault`]).
///
/// A node that is down altogether (connection refused) is not a fault of one
/// call: see [`crate::Sandbox::set_node_down`].
///
/// # JSON shape (control endpoint)
///
/// | Rust | JSON |
/// |---|---|
/// | `DropConnection` | `{"kind": "drop_connection"}` |
/// | `DropAfterEffect` | `{"kind": "drop_after_effect"}` |
/// | `DelayBefore(d)` | `{"kind": "delay_before", "ms": 1500}` |
/// | `DelayAfter(d)` | `{"kind": "delay_after", "ms": 1500}` |
/// | `DropAndHold` | `{"kind": "drop_and_hold"}` |
/// | `RpcError(e)` | `{"kind": "rpc_error", "code": -6, "message": "Insufficient funds"}` |
/// | `NodeFault::insufficient_funds()` | `{"kind": "insufficient_funds"}` (on input) |
/// | `NodeFault::wallet_locked()` | `{"kind": "wallet_locked"}` (on input) |
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "NodeFaultRepr", into = "NodeFaultRepr")]
pub enum NodeFault {
    /// Tear the connection down before the call does anything: the client
    /// sees no answer, and nothing happened.
    DropConnection,
    /// Do the call (a `sendmany` broadcasts), then tear the connection down
    /// without an answer: the client cannot know the txid.
    DropAfterEffect,
    /// Hold the request this long, then do the call and answer.
    DelayBefore(Duration),
    /// Do the call at once, then hold the answer this long: a client killed
    /// meanwhile has sent a transaction it never heard of.
    DelayAfter(Duration),
    /// Tear the connection down without doing the call, and keep the call:
    /// it is carried out when [`crate::Sandbox::release_held_node_calls`]
    /// says so. A node still working on a send when its client gave up: the
    /// transaction shows in the wallet only later.
    DropAndHold,
    /// Answer this RPC error without doing the call.
    RpcError(RpcError),
}

impl NodeFault {
    /// `-6 Insufficient funds`, without doing the call.
    pub fn insufficient_funds() -> Self {
        NodeFault::RpcError(RpcError::insufficient_funds())
    }

    /// `-13`, the locked wallet's answer, without doing the call.
    pub fn wallet_locked() -> Self {
        NodeFault::RpcError(RpcError::wallet_locked())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum NodeFaultRepr {
    DropConnection,
    DropAfterEffect,
    DelayBefore { ms: u64 },
    DelayAfter { ms: u64 },
    DropAndHold,
    RpcError { code: i64, message: String },
    InsufficientFunds,
    WalletLocked,
}

impl TryFrom<NodeFaultRepr> for NodeFault {
    type Error = String;

    fn try_from(repr: NodeFaultRepr) -> Result<Self, String> {
        Ok(match repr {
            NodeFaultRepr::DropConnection => NodeFault::DropConnection,
            NodeFaultRepr::DropAfterEffect => NodeFault::DropAfterEffect,
            NodeFaultRepr::DelayBefore { ms } => NodeFault::DelayBefore(Duration::from_millis(ms)),
            NodeFaultRepr::DelayAfter { ms } => NodeFault::DelayAfter(Duration::from_millis(ms)),
            NodeFaultRepr::DropAndHold => NodeFault::DropAndHold,
            NodeFaultRepr::RpcError { code, message } => {
                NodeFault::RpcError(RpcError::new(code, message))
            }
            NodeFaultRepr::InsufficientFunds => NodeFault::insufficient_funds(),
            NodeFaultRepr::WalletLocked => NodeFault::wallet_locked(),
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<NodeFault> for NodeFaultRepr {
    fn from(fault: NodeFault) -> Self {
        match fault {
            NodeFault::DropConnection => NodeFaultRepr::DropConnection,
            NodeFault::DropAfterEffect => NodeFaultRepr::DropAfterEffect,
            NodeFault::DelayBefore(d) => NodeFaultRepr::DelayBefore { ms: millis(d) },
            NodeFault::DelayAfter(d) => NodeFaultRepr::DelayAfter { ms: millis(d) },
            NodeFault::DropAndHold => NodeFaultRepr::DropAndHold,
            NodeFault::RpcError(e) => NodeFaultRepr::RpcError {
                code: e.code,
                message: e.message,
            },
        }
    }
}

/// One-shot faults queued per RPC method (`*`: any method).
#[derive(Default)]
pub(crate) struct NodeFaults {
    queues: HashMap<String, VecDeque<NodeFault>>,
}

impl NodeFaults {
    pub(crate) fn push(&mut self, method: &str, fault: NodeFault) {
        self.queues
            .entry(method.trim().to_owned())
            .or_default()
            .push_back(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.queues.clear();
    }

    /// The method's own queue first, then `*`.
    pub(crate) fn next(&mut self, method: &str) -> Option<NodeFault> {
        for key in [method, "*"] {
            if let Some(queue) = self.queues.get_mut(key) {
                if let Some(fault) = queue.pop_front() {
                    if queue.is_empty() {
                        self.queues.remove(key);
                    }
                    return Some(fault);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_queues() {
        for (fault, text) in [
            (NodeFault::DropConnection, r#"{"kind":"drop_connection"}"#),
            (
                NodeFault::DropAfterEffect,
                r#"{"kind":"drop_after_effect"}"#,
            ),
            (
                NodeFault::DelayAfter(Duration::from_millis(5)),
                r#"{"kind":"delay_after","ms":5}"#,
            ),
            (NodeFault::DropAndHold, r#"{"kind":"drop_and_hold"}"#),
            (
                NodeFault::insufficient_funds(),
                r#"{"kind":"rpc_error","code":-6,"message":"Insufficient funds"}"#,
            ),
        ] {
            assert_eq!(serde_json::to_string(&fault).unwrap(), text);
            assert_eq!(serde_json::from_str::<NodeFault>(text).unwrap(), fault);
        }
        let locked: NodeFault = serde_json::from_str(r#"{"kind":"wallet_locked"}"#).unwrap();
        assert_eq!(locked, NodeFault::wallet_locked());
        let mut faults = NodeFaults::default();
        faults.push("*", NodeFault::DropConnection);
        faults.push("sendmany", NodeFault::insufficient_funds());
        assert_eq!(
            faults.next("sendmany"),
            Some(NodeFault::insufficient_funds())
        );
        assert_eq!(
            faults.next("getblockcount"),
            Some(NodeFault::DropConnection)
        );
        assert_eq!(faults.next("sendmany"), None);
    }
}
