//! Request parameters as Appwrite reads them (spec §2.1): the body for POST/PUT/PATCH/DELETE,
//! the query string for GET; JSON or form-encoded; PHP-style arrays (`queries[]`, `queries[0]`).

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The parsed parameters of one request. JSON `null` counts as absent.
#[derive(Debug, Default, Clone)]
pub struct Params {
    map: Map<String, Value>,
}

/// Adds `key=value` from a query string or form body, folding PHP array keys into arrays.
fn push_pair(map: &mut Map<String, Value>, key: &str, value: &str) {
    let (base, is_array) = match key.find('[') {
        Some(i) if key.ends_with(']') => (&key[..i], true),
        _ => (key, false),
    };
    let v = Value::String(value.to_owned());
    match map.get_mut(base) {
        Some(Value::Array(items)) => items.push(v),
        Some(existing) => {
            // A plain key given twice becomes an array, like a repeated `queries=`.
            let first = existing.take();
            *existing = Value::Array(vec![first, v]);
        }
        None => {
            map.insert(
                base.to_owned(),
                if is_array { Value::Array(vec![v]) } else { v },
            );
        }
    }
}

/// Parses a URL-encoded query string or form body.
pub fn parse_urlencoded(raw: &[u8]) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        push_pair(&mut map, &k, &v);
    }
    map
}

impl Params {
    /// Reads the params of a request: the query string for GET/HEAD, else the body by type.
    pub fn from_request(method: &http::Method, is_json: bool, query: &str, body: &[u8]) -> Self {
        let map = if method == http::Method::GET || method == http::Method::HEAD {
            parse_urlencoded(query.as_bytes())
        } else if is_json {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => m,
                // Invalid or non-object JSON (the PHP SDK's `[]`) is an empty param set.
                _ => Map::new(),
            }
        } else {
            parse_urlencoded(body)
        };
        Params { map }
    }

    /// Params from a JSON object, for tests.
    pub fn from_json(v: Value) -> Self {
        Params {
            map: match v {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        }
    }

    /// The raw value, with `null` treated as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A string param; non-strings are invalid, absence of a required one is "not optional".
    pub fn string(&self, name: &str, required: bool) -> Result<Option<String>> {
        match self.get(name) {
            None if required => Err(Error::missing_param(name)),
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::invalid_param(name, "Value must be a valid string")),
        }
    }

    /// A required string checked by `check`, whose error is the validator description.
    pub fn required<T, E: AsRef<str>>(
        &self,
        name: &str,
        check: impl FnOnce(&str) -> std::result::Result<T, E>,
    ) -> Result<T> {
        let s = self.string(name, true)?.unwrap_or_default();
        check(&s).map_err(|d| Error::invalid_param(name, d.as_ref()))
    }

    /// An optional string checked by `check` when present (even when empty).
    pub fn optional<T, E: AsRef<str>>(
        &self,
        name: &str,
        check: impl FnOnce(&str) -> std::result::Result<T, E>,
    ) -> Result<Option<T>> {
        match self.string(name, false)? {
            None => Ok(None),
            Some(s) => check(&s)
                .map(Some)
                .map_err(|d| Error::invalid_param(name, d.as_ref())),
        }
    }

    /// An array of strings (`queries`); a single string counts as one item.
    pub fn string_list(&self, name: &str, max_items: usize) -> Result<Vec<String>> {
        let invalid = || {
            Error::invalid_param(
                name,
                &format!(
                    "Value must be a valid array no longer than {max_items} items and String value must be a valid string"
                ),
            )
        };
        match self.get(name) {
            None => Ok(vec![]),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) if items.len() <= max_items => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(invalid))
                .collect(),
            Some(_) => Err(invalid()),
        }
    }

    /// A "loose" boolean: JSON booleans, `true/false/1/0` in any case, and 1/0.
    pub fn loose_bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(true),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(false),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(Error::invalid_param(name, "Value must be a valid boolean")),
            },
            Some(_) => Err(Error::invalid_param(name, "Value must be a valid boolean")),
        }
    }

    /// An integer in `min..=max`; numeric strings are accepted.
    pub fn int_in_range(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64> {
        let describe = || {
            Error::invalid_param(
                name,
                &format!(
                    "Value must be a valid range between {} and {}",
                    thousands(min),
                    thousands(max)
                ),
            )
        };
        let n = match self.get(name) {
            None => return Ok(default),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(describe)?,
            Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| describe())?,
            Some(_) => return Err(describe()),
        };
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(describe())
        }
    }
}

/// PHP `number_format`: `3600` → `3,600`.
fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn both_php_array_spellings_and_repeated_keys_become_arrays() {
        for q in [
            "queries[]=a&queries[]=b",
            "queries[0]=a&queries[1]=b",
            "queries=a&queries=b",
        ] {
            let p = Params::from_request(&Method::GET, false, q, b"");
            assert_eq!(
                p.string_list("queries", 100).unwrap(),
                vec!["a", "b"],
                "{q}"
            );
        }
    }

    #[test]
    fn get_ignores_the_body_and_post_ignores_the_query() {
        let p = Params::from_request(&Method::GET, true, "a=1", b"{\"b\":2}");
        assert!(p.get("a").is_some() && p.get("b").is_none());
        let p = Params::from_request(&Method::POST, true, "a=1", b"{\"b\":\"2\"}");
        assert!(p.get("a").is_none() && p.get("b").is_some());
        let p = Params::from_request(&Method::POST, true, "", b"[]");
        assert!(p.get("b").is_none());
        let p = Params::from_request(&Method::POST, false, "", b"email=a%40b.co&name=x");
        assert_eq!(p.string("email", true).unwrap().unwrap(), "a@b.co");
    }

    #[test]
    fn missing_and_null_required_params_are_not_optional() {
        let p = Params::from_json(serde_json::json!({"a": null}));
        assert_eq!(
            p.string("a", true).unwrap_err().message(),
            "Param \"a\" is not optional."
        );
    }

    #[test]
    fn loose_booleans_accept_python_capitalisation() {
        let p = Params::from_request(&Method::GET, false, "total=False", b"");
        assert!(!p.loose_bool("total", true).unwrap());
        let p = Params::from_request(&Method::GET, false, "total=maybe", b"");
        assert!(p.loose_bool("total", true).is_err());
    }

    #[test]
    fn ranges_accept_numeric_strings_and_describe_bounds_like_php() {
        let p = Params::from_json(serde_json::json!({"duration": "60"}));
        assert_eq!(p.int_in_range("duration", 900, 0, 3600).unwrap(), 60);
        let p = Params::from_json(serde_json::json!({"duration": 3601}));
        assert_eq!(
            p.int_in_range("duration", 900, 0, 3600)
                .unwrap_err()
                .message(),
            "Invalid `duration` param: Value must be a valid range between 0 and 3,600"
        );
    }
}
