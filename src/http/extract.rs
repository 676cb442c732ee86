//! Request parameters as Appwrite reads them (spec §2.1): the body for POST/PUT/PATCH/DELETE,
//! the query string for GET; JSON or form-encoded; PHP-style arrays (`queries[]`, `queries[0]`).
//! `params.rs` then checks them against the route's declaration.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::secret::Secret;

/// A request as it came, for the routes that parse it themselves (GraphQL documents, batches
/// and `application/graphql` bodies are not param sets).
#[derive(Default)]
pub struct RawRequest {
    pub body: Bytes,
    /// The query string, undecoded.
    pub query: String,
    /// `Content-Type`, lower-cased.
    pub content_type: String,
    /// `X-SDK-GraphQL: true`: the SDKs wrap the GraphQL request in a `query` param.
    pub sdk_graphql: bool,
    /// The session the request carries, so GraphQL can resolve the caller again after a
    /// mutation changed it.
    pub session: Option<(String, Secret)>,
}

/// Sizes only: the body carries passwords.
impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRequest")
            .field("body_bytes", &self.body.len())
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// The parsed parameters of one request. JSON `null` counts as absent.
#[derive(Default, Clone)]
pub struct RawParams {
    map: Map<String, Value>,
}

/// Names only: params carry passwords.
impl std::fmt::Debug for RawParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
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

impl RawParams {
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
        RawParams { map }
    }

    /// Params from a JSON object, for tests.
    pub fn from_json(v: Value) -> Self {
        RawParams {
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
            let p = RawParams::from_request(&Method::GET, false, q, b"");
            assert_eq!(
                p.get("queries"),
                Some(&serde_json::json!(["a", "b"])),
                "{q}"
            );
        }
    }

    #[test]
    fn get_ignores_the_body_and_post_ignores_the_query() {
        let p = RawParams::from_request(&Method::GET, true, "a=1", b"{\"b\":2}");
        assert!(p.get("a").is_some() && p.get("b").is_none());
        let p = RawParams::from_request(&Method::POST, true, "a=1", b"{\"b\":\"2\"}");
        assert!(p.get("a").is_none() && p.get("b").is_some());
        let p = RawParams::from_request(&Method::POST, true, "", b"[]");
        assert!(p.get("b").is_none());
        let p = RawParams::from_request(&Method::POST, false, "", b"email=a%40b.co&name=x");
        assert_eq!(p.get("email"), Some(&Value::String("a@b.co".into())));
    }

    #[test]
    fn null_counts_as_absent() {
        let p = RawParams::from_json(serde_json::json!({"a": null}));
        assert!(p.get("a").is_none());
    }
}
