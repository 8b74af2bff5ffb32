//! Amounts as Elements RPC writes and reads them: BTC-style decimals of 8
//! places over integer base units ("satoshis"), whatever the asset.
//!
//! Reading follows Elements Core's `AmountFromValue` / `ParseFixedPoint`
//! (`src/rpc/util.cpp`, `src/util/strencodings.cpp`): a JSON number or
//! string, an optional exponent (`3e-05`, as Python's `json` writes small
//! floats), at most 8 decimals once the exponent is applied, never negative.
//! Writing follows `ValueFromAmount`: a JSON number with exactly 8 decimals
//! (`0.00001000`), which `serde_json` cannot print by itself; see
//! [`amount`] and [`write_json`].

use serde_json::Value;

use super::rpc::RpcError;

/// Base units per coin.
pub(crate) const COIN: u64 = 100_000_000;
/// Elements' `MAX_MONEY` (21 million coins), the range `sendmany` checks.
pub(crate) const MAX_MONEY: u64 = 21_000_000 * COIN;

/// A marker no JSON text of ours holds: a string value starting with it is an
/// amount, written back as a bare number by [`write_json`].
const MARK: &str = "\u{1}amount:";
/// The marker as `serde_json` escapes it inside a string.
const MARK_ESCAPED: &str = "\"\\u0001amount:";

/// `units` as Elements writes an amount: `-0.00001000`, `12.50000000`.
pub(crate) fn format_units(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let coin = u128::from(COIN);
    format!("{sign}{}.{:08}", abs / coin, abs % coin)
}

/// An amount for an answer: a placeholder that [`write_json`] turns into a
/// number with 8 decimals.
pub(crate) fn amount(units: i128) -> Value {
    Value::String(format!("{MARK}{}", format_units(units)))
}

/// A positive amount for an answer.
pub(crate) fn amount_u(units: u64) -> Value {
    amount(i128::from(units))
}

/// Serializes an answer, writing amounts as numbers with 8 decimals.
pub(crate) fn write_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(MARK_ESCAPED) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK_ESCAPED.len()..];
        // The number ends at the closing quote; amounts hold no quote.
        let end = after.find('"').unwrap_or(after.len());
        out.push_str(&after[..end]);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Reads an amount of an RPC parameter as Elements does. `check_range`
/// refuses more than [`MAX_MONEY`] (`sendmany`, `destroyamount`; not
/// `reissueasset`, which passes `false`).
pub(crate) fn parse_amount(value: &Value, check_range: bool) -> Result<u64, RpcError> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err(RpcError::type_error("Amount is not a number or string")),
    };
    let units = parse_fixed_point(&text).ok_or_else(|| RpcError::type_error("Invalid amount"))?;
    if units < 0 {
        return Err(RpcError::type_error("Amount out of range"));
    }
    let units = u64::try_from(units).map_err(|_| RpcError::type_error("Amount out of range"))?;
    if check_range && units > MAX_MONEY {
        return Err(RpcError::type_error("Amount out of range"));
    }
    Ok(units)
}

/// `ParseFixedPoint(text, 8)`: the value times 10^8, exactly, or `None`
/// (more than 8 decimals, more than 18 digits, not a number).
pub(crate) fn parse_fixed_point(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut mantissa: i128 = 0;
    let mut digits = 0u32;
    let mut point = 0i64;
    let start = i;
    // Integer part: "0" or a digit string not starting with 0 (as Core).
    if bytes.get(i) == Some(&b'0') {
        i += 1;
    } else {
        while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            mantissa = mantissa * 10 + i128::from(d - b'0');
            if mantissa > 0 {
                digits += 1;
            }
            i += 1;
        }
    }
    if i == start {
        return None;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            mantissa = mantissa * 10 + i128::from(d - b'0');
            if mantissa > 0 {
                digits += 1;
            }
            point += 1;
            i += 1;
        }
        if i == frac_start {
            return None;
        }
    }
    let mut exponent: i64 = 0;
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_start = i;
        while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            exponent = exponent * 10 + i64::from(d - b'0');
            if exponent > 10_000 {
                return None;
            }
            i += 1;
        }
        if i == exp_start {
            return None;
        }
        if exp_negative {
            exponent = -exponent;
        }
    }
    if i != bytes.len() || digits > 18 {
        return None;
    }
    // value = mantissa * 10^(exponent - point); we want value * 10^8.
    let shift = exponent - point + 8;
    let mut value = mantissa;
    if shift >= 0 {
        for _ in 0..shift {
            value = value.checked_mul(10)?;
            if value >= 1_000_000_000_000_000_000 {
                return None;
            }
        }
    } else {
        for _ in 0..(-shift) {
            if value % 10 != 0 {
                return None;
            }
            value /= 10;
        }
    }
    if value >= 1_000_000_000_000_000_000 {
        return None;
    }
    let value = i64::try_from(value).ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_as_elements_does() {
        assert_eq!(parse_fixed_point("0.00001"), Some(1_000));
        assert_eq!(parse_fixed_point("3e-05"), Some(3_000));
        assert_eq!(parse_fixed_point("3E-5"), Some(3_000));
        assert_eq!(parse_fixed_point("1.5e+2"), Some(15_000_000_000));
        assert_eq!(parse_fixed_point("12"), Some(1_200_000_000));
        assert_eq!(parse_fixed_point("0.00000001"), Some(1));
        assert_eq!(parse_fixed_point("-0.5"), Some(-50_000_000));
        assert_eq!(parse_fixed_point("0.000000001"), None, "9 decimals");
        assert_eq!(parse_fixed_point("1e-9"), None);
        assert_eq!(parse_fixed_point("01"), None);
        assert_eq!(parse_fixed_point(""), None);
        assert_eq!(parse_fixed_point("1."), None);
        assert_eq!(parse_fixed_point(".5"), None);
        assert_eq!(parse_fixed_point("1e"), None);
        assert_eq!(parse_fixed_point("abc"), None);
        assert_eq!(parse_fixed_point("1e100000"), None);
        assert_eq!(parse_fixed_point("10000000000"), None, "over 10^18 units");
        assert_eq!(parse_amount(&json!(0.0003), true), Ok(30_000));
        assert_eq!(parse_amount(&json!("21000000"), true), Ok(MAX_MONEY));
        assert!(parse_amount(&json!("21000000.00000001"), true).is_err());
        assert_eq!(
            parse_amount(&json!("21000000.00000001"), false),
            Ok(MAX_MONEY + 1)
        );
        assert_eq!(
            parse_amount(&json!(-1), true).unwrap_err().message,
            "Amount out of range"
        );
        assert_eq!(
            parse_amount(&json!(true), true).unwrap_err().message,
            "Amount is not a number or string"
        );
    }

    #[test]
    fn writes_as_elements_does() {
        assert_eq!(format_units(1_000), "0.00001000");
        assert_eq!(format_units(-1_250_000_000), "-12.50000000");
        assert_eq!(format_units(0), "0.00000000");
        let answer = json!({"a": amount(1_000), "list": [amount(-5)], "s": "x\"y"});
        assert_eq!(
            write_json(&answer),
            r#"{"a":0.00001000,"list":[-0.00000005],"s":"x\"y"}"#
        );
        let parsed: Value = serde_json::from_str(&write_json(&answer)).unwrap();
        assert_eq!(parsed["a"].as_f64(), Some(0.00001));
    }
}
