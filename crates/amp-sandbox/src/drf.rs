//! Answers and request-body validation in the style of Django REST Framework,
//! which the real AMP API appears to be built on (amp-api.md §0).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// An answer of the API. Handlers return `Result<Reply, Reply>` so that `?`
/// can carry an error answer out of a validation step.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    /// `None` answers with an empty body (204).
    pub(crate) body: Option<Value>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

/// What every route handler returns.
pub(crate) type Handled = Result<Reply, Reply>;

impl Reply {
    pub(crate) fn new(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub(crate) fn ok(body: Value) -> Self {
        Reply::new(StatusCode::OK, body)
    }

    pub(crate) fn created(body: Value) -> Self {
        Reply::new(StatusCode::CREATED, body)
    }

    pub(crate) fn no_content() -> Self {
        Reply::empty(StatusCode::NO_CONTENT)
    }

    /// An answer with an empty body.
    pub(crate) fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Reply::new(status, detail_body(detail.into()))
    }

    pub(crate) fn not_found() -> Self {
        Reply::detail(StatusCode::NOT_FOUND, "Not found.")
    }

    pub(crate) fn field_error(field: &str, message: impl Into<String>) -> Self {
        Reply::new(StatusCode::BAD_REQUEST, json!({ field: [message.into()] }))
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => json_response(self.status, &body),
            None => self.status.into_response(),
        };
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// `{"detail": "..."}`, DRF's body for most non-validation errors.
pub(crate) fn detail_body(detail: impl Into<String>) -> Value {
    json!({ "detail": detail.into() })
}

/// A compact JSON answer, as DRF renders it.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// Parses a request body as JSON. DRF reads an empty body as an empty form, so
/// an empty body yields `{}` and the field validation reports what is missing.
/// The content type is not checked: the sandbox is lenient there.
pub(crate) fn parse_json(body: &Bytes) -> Result<Value, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body)
        .map_err(|err| Reply::detail(StatusCode::BAD_REQUEST, format!("JSON parse error - {err}")))
}

/// The Python type name DRF puts into "Expected a dictionary" errors.
pub(crate) fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// DRF's answer to a body that is JSON but not an object.
pub(crate) fn not_a_dict(value: &Value) -> Reply {
    Reply::new(
        StatusCode::BAD_REQUEST,
        json!({ "non_field_errors": [format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type(value)
        )] }),
    )
}

/// Parses a body that must be a JSON object.
pub(crate) fn parse_object(body: &Bytes) -> Result<Map<String, Value>, Reply> {
    match parse_json(body)? {
        Value::Object(map) => Ok(map),
        other => Err(not_a_dict(&other)),
    }
}

/// How a string field is validated, after DRF's `CharField` options.
#[derive(Clone, Copy)]
pub(crate) struct Char {
    pub(crate) required: bool,
    pub(crate) allow_null: bool,
    pub(crate) allow_blank: bool,
    /// DRF trims surrounding whitespace unless told not to (passwords).
    pub(crate) trim: bool,
}

impl Char {
    pub(crate) const REQUIRED: Char = Char {
        required: true,
        allow_null: false,
        allow_blank: false,
        trim: true,
    };
    pub(crate) const OPTIONAL: Char = Char {
        required: false,
        allow_null: false,
        allow_blank: false,
        trim: true,
    };
    pub(crate) const NULLABLE: Char = Char {
        required: false,
        allow_null: true,
        allow_blank: true,
        trim: true,
    };
}

/// How an integer field is validated, after DRF's `IntegerField` options.
#[derive(Clone, Copy)]
pub(crate) struct Int {
    pub(crate) required: bool,
    pub(crate) allow_null: bool,
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

impl Int {
    pub(crate) const REQUIRED: Int = Int {
        required: true,
        allow_null: false,
        min: None,
        max: None,
    };
    pub(crate) const OPTIONAL: Int = Int {
        required: false,
        ..Int::REQUIRED
    };
    pub(crate) const NULLABLE: Int = Int {
        required: false,
        allow_null: true,
        ..Int::REQUIRED
    };

    pub(crate) const fn min(self, min: i64) -> Int {
        Int {
            min: Some(min),
            ..self
        }
    }

    pub(crate) const fn max(self, max: i64) -> Int {
        Int {
            max: Some(max),
            ..self
        }
    }
}

/// Field-by-field validation that collects every error before answering, as DRF does.
#[derive(Default)]
pub(crate) struct Fields {
    errors: BTreeMap<String, Vec<String>>,
}

impl Fields {
    pub(crate) fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// A string field: `None` when absent, null or invalid (the error is recorded).
    /// Numbers are accepted and turned into strings, as `CharField` does.
    pub(crate) fn char(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        rules: Char,
    ) -> Option<String> {
        let text = match object.get(name) {
            None => {
                if rules.required {
                    self.error(name, "This field is required.");
                }
                return None;
            }
            Some(Value::Null) => {
                if !rules.allow_null {
                    self.error(name, "This field may not be null.");
                }
                return None;
            }
            Some(Value::String(s)) if rules.trim => s.trim().to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                self.error(name, "Not a valid string.");
                return None;
            }
        };
        if text.is_empty() && !rules.allow_blank {
            self.error(name, "This field may not be blank.");
            return None;
        }
        Some(text)
    }

    /// A boolean field, with the spellings DRF's `BooleanField` accepts.
    pub(crate) fn boolean(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        required: bool,
    ) -> Option<bool> {
        let value = match object.get(name) {
            None => {
                if required {
                    self.error(name, "This field is required.");
                }
                return None;
            }
            Some(value) => value,
        };
        let parsed = match value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
                "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
                _ => None,
            },
            Value::Null => {
                self.error(name, "This field may not be null.");
                return None;
            }
            _ => None,
        };
        if parsed.is_none() {
            self.error(name, "Must be a valid boolean.");
        }
        parsed
    }

    /// An integer field, as DRF's `IntegerField` reads it: a JSON integer, a
    /// float without a fraction, or a string of digits; `None` when absent,
    /// null or invalid (the error is recorded).
    pub(crate) fn integer(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        rules: Int,
    ) -> Option<i64> {
        let value = match object.get(name) {
            None => {
                if rules.required {
                    self.error(name, "This field is required.");
                }
                return None;
            }
            Some(Value::Null) => {
                if !rules.allow_null {
                    self.error(name, "This field may not be null.");
                }
                return None;
            }
            Some(value) => value,
        };
        let parsed = match value {
            Value::Number(n) => n.as_i64().or_else(|| whole(n.as_f64()?)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(number) = parsed else {
            self.error(name, "A valid integer is required.");
            return None;
        };
        if let Some(min) = rules.min.filter(|min| number < *min) {
            self.error(
                name,
                format!("Ensure this value is greater than or equal to {min}."),
            );
            return None;
        }
        if let Some(max) = rules.max.filter(|max| number > *max) {
            self.error(
                name,
                format!("Ensure this value is less than or equal to {max}."),
            );
            return None;
        }
        Some(number)
    }

    /// The errors so far, as DRF nests them (`{field: [message]}`), if any.
    pub(crate) fn into_errors(self) -> Option<Value> {
        (!self.errors.is_empty()).then(|| json!(self.errors))
    }

    /// `Ok` when no field failed, else the 400 answer listing every failure.
    pub(crate) fn finish(self) -> Result<(), Reply> {
        match self.into_errors() {
            None => Ok(()),
            Some(errors) => Err(Reply::new(StatusCode::BAD_REQUEST, errors)),
        }
    }
}

/// A float that is a whole number in `i64`'s exact range, as an integer.
fn whole(f: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
                                                // The cast is exact: `f` has no fraction and lies within ±2^53.
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && f.abs() <= EXACT).then_some(f as i64)
}

/// DRF's answer to a body that should be a list.
pub(crate) fn not_a_list(field: Option<&str>, value: &Value) -> Reply {
    let message = format!(
        "Expected a list of items but got type \"{}\".",
        python_type(value)
    );
    Reply::new(
        StatusCode::BAD_REQUEST,
        json!({ field.unwrap_or("non_field_errors"): [message] }),
    )
}

/// A body that may be a bare JSON string or an object holding the string under
/// `field` (amp-api.md §3.3: clients disagree on the form, so both are accepted).
pub(crate) fn string_or_field(
    body: &Bytes,
    field: &str,
    allow_blank: bool,
) -> Result<String, Reply> {
    let object = match parse_json(body)? {
        Value::String(s) => {
            let s = s.trim().to_owned();
            if s.is_empty() && !allow_blank {
                return Err(Reply::field_error(field, "This field may not be blank."));
            }
            return Ok(s);
        }
        Value::Object(object) => object,
        other => return Err(not_a_dict(&other)),
    };
    let mut fields = Fields::default();
    let rules = Char {
        allow_blank,
        ..Char::REQUIRED
    };
    let value = fields.char(&object, field, rules);
    fields.finish()?;
    Ok(value.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(parse_json(&Bytes::new()).ok(), Some(json!({})));
    }

    #[test]
    fn char_field_errors() {
        let object = json!({"a": "", "b": null, "c": [1], "d": 7})
            .as_object()
            .cloned()
            .unwrap();
        let mut fields = Fields::default();
        assert_eq!(fields.char(&object, "a", Char::REQUIRED), None);
        assert_eq!(fields.char(&object, "b", Char::REQUIRED), None);
        assert_eq!(fields.char(&object, "c", Char::REQUIRED), None);
        assert_eq!(fields.char(&object, "d", Char::REQUIRED), Some("7".into()));
        assert_eq!(fields.char(&object, "e", Char::REQUIRED), None);
        let body = fields.finish().err().unwrap().body.unwrap();
        assert_eq!(
            body,
            json!({
                "a": ["This field may not be blank."],
                "b": ["This field may not be null."],
                "c": ["Not a valid string."],
                "e": ["This field is required."],
            })
        );
    }

    #[test]
    fn integer_field_errors() {
        let object =
            json!({"a": 5, "b": 5.0, "c": 5.5, "d": "7", "e": "x", "f": 0, "g": null, "h": 99})
                .as_object()
                .cloned()
                .unwrap();
        let mut fields = Fields::default();
        assert_eq!(fields.integer(&object, "a", Int::REQUIRED), Some(5));
        assert_eq!(fields.integer(&object, "b", Int::REQUIRED), Some(5));
        assert_eq!(fields.integer(&object, "c", Int::REQUIRED), None);
        assert_eq!(fields.integer(&object, "d", Int::REQUIRED), Some(7));
        assert_eq!(fields.integer(&object, "e", Int::REQUIRED), None);
        assert_eq!(fields.integer(&object, "f", Int::REQUIRED.min(1)), None);
        assert_eq!(fields.integer(&object, "g", Int::NULLABLE), None);
        assert_eq!(fields.integer(&object, "h", Int::OPTIONAL.max(10)), None);
        assert_eq!(fields.integer(&object, "z", Int::OPTIONAL), None);
        assert_eq!(
            fields.into_errors(),
            Some(json!({
                "c": ["A valid integer is required."],
                "e": ["A valid integer is required."],
                "f": ["Ensure this value is greater than or equal to 1."],
                "h": ["Ensure this value is less than or equal to 10."],
            }))
        );
    }

    #[test]
    fn bare_string_or_object() {
        let bare = Bytes::from_static(br#""GAabc""#);
        let object = Bytes::from_static(br#"{"GAID": "GAabc"}"#);
        assert_eq!(
            string_or_field(&bare, "GAID", false).ok(),
            Some("GAabc".into())
        );
        assert_eq!(
            string_or_field(&object, "GAID", false).ok(),
            Some("GAabc".into())
        );
        assert!(string_or_field(&Bytes::from_static(b"[1]"), "GAID", false).is_err());
    }
}
