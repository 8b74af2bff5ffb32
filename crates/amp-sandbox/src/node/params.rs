//! RPC parameters as Elements Core reads them: positional (a JSON array) or
//! named (an object, mapped to positions by the method's parameter names),
//! `null` meaning omitted, and the RPC error codes Core answers for a missing,
//! mistyped or unknown parameter.

use serde_json::{Map, Value};

use super::rpc::RpcError;

/// The parameters of one call, in positional order.
pub(crate) struct Params {
    values: Vec<Value>,
}

/// The JSON type names UniValue uses in its messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn wrong_type(value: &Value, expected: &str) -> RpcError {
    RpcError::type_error(format!(
        "JSON value of type {} is not of expected type {expected}",
        type_name(value)
    ))
}

impl Params {
    /// Reads `params` (absent or `null`: none) for a method with these
    /// parameter names. Too many positional parameters, or an unknown name,
    /// is refused as Core refuses them.
    pub(crate) fn new(
        method: &str,
        names: &[&str],
        params: Option<&Value>,
    ) -> Result<Self, RpcError> {
        let values = match params {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(Value::Object(map)) => named(names, map)?,
            Some(_) => {
                return Err(RpcError::invalid_request(
                    "Params must be an array or object",
                ));
            }
        };
        if values.len() > names.len() {
            return Err(RpcError::misc(format!(
                "{method} takes at most {} parameters ({} given); see help {method}",
                names.len(),
                values.len()
            )));
        }
        Ok(Params { values })
    }

    /// The parameter at `index`, `None` when omitted or `null`.
    pub(crate) fn get(&self, index: usize) -> Option<&Value> {
        self.values.get(index).filter(|v| !v.is_null())
    }

    /// A required parameter.
    pub(crate) fn required(&self, index: usize, method: &str) -> Result<&Value, RpcError> {
        self.get(index).ok_or_else(|| {
            RpcError::misc(format!(
                "{method}: missing required parameter {}; see help {method}",
                index + 1
            ))
        })
    }

    pub(crate) fn str_at(&self, index: usize) -> Result<Option<&str>, RpcError> {
        match self.get(index) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(other, "string")),
        }
    }

    pub(crate) fn required_str(&self, index: usize, method: &str) -> Result<&str, RpcError> {
        match self.required(index, method)? {
            Value::String(s) => Ok(s),
            other => Err(wrong_type(other, "string")),
        }
    }

    pub(crate) fn bool_at(&self, index: usize, default: bool) -> Result<bool, RpcError> {
        match self.get(index) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(wrong_type(other, "bool")),
        }
    }

    /// An integer (`getInt<int>`): a JSON number without a fraction.
    pub(crate) fn int_at(&self, index: usize, default: i64) -> Result<i64, RpcError> {
        match self.get(index) {
            None => Ok(default),
            Some(value) => int_value(value),
        }
    }

    pub(crate) fn object_at(&self, index: usize) -> Result<Option<&Map<String, Value>>, RpcError> {
        match self.get(index) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(wrong_type(other, "object")),
        }
    }

    pub(crate) fn array_at(&self, index: usize) -> Result<Option<&Vec<Value>>, RpcError> {
        match self.get(index) {
            None => Ok(None),
            Some(Value::Array(list)) => Ok(Some(list)),
            Some(other) => Err(wrong_type(other, "array")),
        }
    }
}

/// An integer value as UniValue's `getInt` reads it.
pub(crate) fn int_value(value: &Value) -> Result<i64, RpcError> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| RpcError::type_error("JSON integer out of range")),
        other => Err(wrong_type(other, "number")),
    }
}

/// Named parameters, put in positional order; unknown names are refused
/// (`RPC_INVALID_PARAMETER`, "Unknown named parameter").
fn named(names: &[&str], map: &Map<String, Value>) -> Result<Vec<Value>, RpcError> {
    if let Some(unknown) = map.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(RpcError::invalid_parameter(format!(
            "Unknown named parameter {unknown}"
        )));
    }
    let last = names.iter().rposition(|n| map.contains_key(*n));
    Ok(match last {
        None => Vec::new(),
        Some(last) => names[..=last]
            .iter()
            .map(|n| map.get(*n).cloned().unwrap_or(Value::Null))
            .collect(),
    })
}

/// A txid parameter (`ParseHashV`): 64 hex characters, lower-cased.
pub(crate) fn hash(value: &Value, name: &str) -> Result<String, RpcError> {
    let Value::String(text) = value else {
        return Err(wrong_type(value, "string"));
    };
    if text.len() != 64 {
        return Err(RpcError::invalid_parameter(format!(
            "{name} must be of length 64 (not {}, for '{text}')",
            text.len()
        )));
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RpcError::invalid_parameter(format!(
            "{name} must be hexadecimal string (not '{text}')"
        )));
    }
    Ok(text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positional_named_and_refusals() {
        let names = ["a", "b", "c"];
        let p = Params::new("m", &names, Some(&json!(["x", null, 3]))).unwrap();
        assert_eq!(p.str_at(0).unwrap(), Some("x"));
        assert!(p.get(1).is_none());
        assert_eq!(p.int_at(2, 0).unwrap(), 3);
        assert_eq!(p.int_at(5, 9).unwrap(), 9);
        let p = Params::new("m", &names, Some(&json!({"b": true}))).unwrap();
        assert!(p.bool_at(1, false).unwrap());
        assert!(p.get(0).is_none());
        let err = Params::new("m", &names, Some(&json!({"z": 1})))
            .err()
            .unwrap();
        assert_eq!(
            (err.code, err.message.as_str()),
            (-8, "Unknown named parameter z")
        );
        let err = Params::new("m", &names, Some(&json!([1, 2, 3, 4])))
            .err()
            .unwrap();
        assert_eq!(err.code, -1);
        let err = p.str_at(1).err().unwrap();
        assert_eq!(err.code, -3);
        assert_eq!(
            hash(&json!("AB".repeat(32)), "txid").unwrap(),
            "ab".repeat(32)
        );
        assert_eq!(
            hash(&json!("abc"), "txid").err().unwrap().message,
            "txid must be of length 64 (not 3, for 'abc')"
        );
        assert_eq!(
            hash(&json!("zz".repeat(32)), "txid").err().unwrap().code,
            -8
        );
    }
}
