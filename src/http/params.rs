//! Validates a request's params against its route's declaration, in declaration order (the
//! first failure wins, as in Appwrite), with Appwrite's messages; handlers then read typed
//! values from [`Args`] and never see an undeclared or unchecked param.

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::passwords::check_plain_length;
use crate::domain::project::Project;
use crate::domain::queries::MAX_QUERIES;
use crate::domain::validate;
use crate::error::{Error, Result};
use crate::http::extract::RawParams;
use crate::http::route::{DefaultValue, Kind, Param, Route, Source};

/// The validated params of a request, by declared name.
#[derive(Default)]
pub struct Args {
    values: HashMap<&'static str, Value>,
}

/// Names only: params carry passwords.
impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

fn undeclared(name: &str) -> Error {
    Error::internal(anyhow::anyhow!("handler read undeclared param `{name}`"))
}

impl Args {
    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    /// A required string param (ids, emails, texts, passwords).
    pub fn str(&self, name: &str) -> Result<&str> {
        self.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| undeclared(name))
    }

    /// An optional string param; `None` when absent.
    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// A `CustomId` param: `None` when the client asked for a generated id (`unique()`).
    pub fn custom_id(&self, name: &str) -> Result<Option<String>> {
        let raw = self.str(name)?;
        Ok((raw != "unique()").then(|| raw.to_owned()))
    }

    /// An integer param (with its default applied).
    pub fn int(&self, name: &str) -> Result<i64> {
        self.get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| undeclared(name))
    }

    /// A boolean param (with its default applied).
    pub fn bool(&self, name: &str) -> Result<bool> {
        self.get(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| undeclared(name))
    }

    /// A list of strings; empty when absent.
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => vec![],
        }
    }

    /// A JSON object param.
    pub fn object(&self, name: &str) -> Result<Value> {
        self.get(name).cloned().ok_or_else(|| undeclared(name))
    }
}

/// PHP `json_encode` length: non-ASCII characters count as `\uXXXX` escapes.
fn php_json_len(v: &Value) -> usize {
    v.to_string()
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 6 * c.len_utf16() })
        .sum()
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

/// Checks one present value; the error is Appwrite's validator description.
fn check(kind: Kind, v: &Value, project: &Project) -> Result<Value, String> {
    let as_str = || {
        v.as_str()
            .ok_or_else(|| "Value must be a valid string".to_owned())
    };
    match kind {
        Kind::CustomId => {
            let s = as_str()?;
            validate::custom_id(s).map_err(str::to_owned)?;
            Ok(Value::String(s.to_owned()))
        }
        Kind::Uid => Ok(Value::String(
            validate::uid(as_str()?).map_err(str::to_owned)?,
        )),
        Kind::Email => Ok(Value::String(
            validate::email(as_str()?).map_err(str::to_owned)?,
        )),
        Kind::Phone => Ok(Value::String(
            validate::phone(as_str()?).map_err(str::to_owned)?,
        )),
        Kind::Text { min, max } => Ok(Value::String(validate::text(as_str()?, min, max)?)),
        Kind::NewPassword => {
            let s = as_str()?;
            project.password_policy.check(s)?;
            Ok(Value::String(s.to_owned()))
        }
        Kind::Password => {
            let s = as_str()?;
            check_plain_length(s)?;
            Ok(Value::String(s.to_owned()))
        }
        Kind::Integer { min, max } => {
            let describe = || {
                format!(
                    "Value must be a valid range between {} and {}",
                    thousands(min),
                    thousands(max)
                )
            };
            let n = match v {
                // Python SDKs send some integers (`accessTokenExpiry`) as floats.
                Value::Number(n) => n
                    .as_i64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                            .map(|f| f as i64)
                    })
                    .ok_or_else(describe)?,
                Value::String(s) => s.trim().parse::<i64>().map_err(|_| describe())?,
                _ => return Err(describe()),
            };
            if (min..=max).contains(&n) {
                Ok(Value::from(n))
            } else {
                Err(describe())
            }
        }
        Kind::StrictBoolean => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err("Value must be a valid boolean".to_owned()),
        },
        Kind::Boolean => {
            let b = match v {
                Value::Bool(b) => Some(*b),
                Value::Number(n) => match n.as_i64() {
                    Some(1) => Some(true),
                    Some(0) => Some(false),
                    _ => None,
                },
                Value::String(s) => match s.to_ascii_lowercase().as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => None,
                },
                _ => None,
            };
            b.map(Value::Bool)
                .ok_or_else(|| "Value must be a valid boolean".to_owned())
        }
        Kind::Queries => {
            let invalid = || {
                format!(
                    "Value must be a valid array no longer than {MAX_QUERIES} items and String value must be a valid string"
                )
            };
            match v {
                Value::String(s) => Ok(Value::Array(vec![Value::String(s.clone())])),
                Value::Array(items)
                    if items.len() <= MAX_QUERIES && items.iter().all(Value::is_string) =>
                {
                    Ok(v.clone())
                }
                _ => Err(invalid()),
            }
        }
        Kind::OneOf(names) => {
            let s = as_str()?;
            names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(s))
                .map(|n| Value::String((*n).to_owned()))
                .ok_or_else(|| format!("Value must be one of ({})", names.join(", ")))
        }
        Kind::Strings { max_items, max_len } => {
            let describe = || {
                format!(
                    "Value must be a valid array no longer than {max_items} items and Value must be a valid string and at least 1 chars and no longer than {max_len} chars"
                )
            };
            let fits = |x: &Value| {
                x.as_str()
                    .is_some_and(|s| !s.is_empty() && s.chars().count() <= max_len)
            };
            match v {
                Value::String(_) if fits(v) => Ok(Value::Array(vec![v.clone()])),
                Value::Array(items) if items.len() <= max_items && items.iter().all(fits) => {
                    Ok(v.clone())
                }
                _ => Err(describe()),
            }
        }
        Kind::Provider => {
            let s = as_str()?;
            if crate::domain::oauth2::is_accepted(s) {
                Ok(Value::String(s.to_owned()))
            } else {
                Err(format!(
                    "Value must be one of ({})",
                    crate::domain::oauth2::PROVIDER_NAMES.join(", ")
                ))
            }
        }
        Kind::Redirect => {
            let s = as_str()?;
            check_redirect(s, project)?;
            Ok(Value::String(s.to_owned()))
        }
        Kind::Object { max_bytes } => {
            let describe =
                || format!("Value must be a valid object and no longer than {max_bytes} bytes");
            let object = match v {
                Value::Object(m) => Value::Object(m.clone()),
                // PHP decodes `{}` as an empty array, so SDKs may send `[]` for "nothing".
                Value::Array(a) if a.is_empty() => Value::Object(Default::default()),
                _ => return Err(describe()),
            };
            if php_json_len(&object) > max_bytes {
                return Err(describe());
            }
            Ok(object)
        }
    }
}

/// The longest redirect URL accepted (browsers and mail clients handle this much; the link
/// we email adds about 400 characters).
pub const MAX_REDIRECT_CHARS: usize = 2048;

/// Appwrite's `Redirect` validator: an absolute URL of a registered platform, with the
/// loopback spellings `localhost` allows (appwrite 1.9.6 src/Appwrite/Network/Validator/Redirect.php).
pub(crate) fn check_redirect(s: &str, project: &Project) -> Result<(), String> {
    if s.chars().count() > MAX_REDIRECT_CHARS {
        return Err("Invalid URI.".to_owned());
    }
    let parsed = url::Url::parse(s).map_err(|_| "Invalid URI.".to_owned())?;
    // The URL parser normalises `127.1`, `2130706433` and `[0:0::1]` to the loopback
    // addresses; Appwrite compares the host as written, so only the exact spellings pass.
    let written = s
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    let written = written
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let loopback_respelled = match parsed.host() {
        Some(url::Host::Ipv4(a)) if a.is_loopback() => !written.starts_with(&a.to_string()),
        Some(url::Host::Ipv6(a)) if a.is_loopback() => !written.starts_with("[::1]"),
        _ => false,
    };
    if !loopback_respelled && crate::http::cors::origin_allowed(s, Some(project)) {
        return Ok(());
    }
    match parsed.host_str() {
        Some(host) if crate::http::cors::WEB_SCHEMES.contains(&parsed.scheme()) => Err(format!(
            "Invalid URI. Register your new client ({host}) as a new Web platform on your project console dashboard"
        )),
        _ => Err("Invalid URI.".to_owned()),
    }
}

fn default_of(p: &Param) -> Value {
    match p.default {
        DefaultValue::None => Value::Null,
        DefaultValue::Int(n) => Value::from(n),
        DefaultValue::Bool(b) => Value::Bool(b),
        DefaultValue::Text(s) => Value::String(s.to_owned()),
    }
}

/// Validates the declared params of `route` from the request and its path.
pub fn validate(
    route: &Route,
    raw: &RawParams,
    path: &[(&'static str, String)],
    project: &Project,
) -> Result<Args> {
    let mut values = HashMap::new();
    for p in route.params {
        let given = match p.source {
            Source::Path => path
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| Value::String(v.clone())),
            Source::Request => raw.get(p.name).cloned(),
        };
        let value = match given {
            None if p.required => return Err(Error::missing_param(p.name)),
            None => default_of(p),
            Some(Value::String(s)) if p.empty_ok && s.is_empty() => Value::String(s),
            Some(v) => check(p.kind, &v, project).map_err(|d| Error::invalid_param(p.name, &d))?,
        };
        values.insert(p.name, value);
    }
    Ok(Args { values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::ProjectSettings;
    use crate::http::route::p;
    use serde_json::json;

    fn project() -> Project {
        Project::new(ProjectSettings::default_project())
    }

    fn run(params: &'static [Param], body: Value) -> Result<Args> {
        let route = crate::http::routes::WILDCARD.params(params);
        validate(&route, &RawParams::from_json(body), &[], &project())
    }

    #[test]
    fn missing_and_null_required_params_are_not_optional() {
        static P: &[Param] = &[p::text("a", 1, 10)];
        for body in [json!({}), json!({"a": null})] {
            assert_eq!(
                run(P, body).unwrap_err().message(),
                "Param \"a\" is not optional."
            );
        }
    }

    #[test]
    fn params_are_checked_in_declaration_order_with_appwrite_messages() {
        static P: &[Param] = &[p::custom_id("userId"), p::email("email")];
        let e = run(P, json!({"userId": "_x", "email": "bad"})).unwrap_err();
        assert!(
            e.message().starts_with("Invalid `userId` param:"),
            "{}",
            e.message()
        );
        let e = run(P, json!({"userId": "unique()", "email": 42})).unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid `email` param: Value must be a valid string"
        );
        let a = run(P, json!({"userId": "unique()", "email": " A@B.co "})).unwrap();
        assert_eq!(a.custom_id("userId").unwrap(), None);
        assert_eq!(a.str("email").unwrap(), "a@b.co");
    }

    #[test]
    fn integers_accept_numeric_strings_and_describe_bounds_like_php() {
        static P: &[Param] = &[p::integer("duration", 1, 3600).or_int(900)];
        assert_eq!(run(P, json!({})).unwrap().int("duration").unwrap(), 900);
        assert_eq!(
            run(P, json!({"duration": "60"}))
                .unwrap()
                .int("duration")
                .unwrap(),
            60
        );
        for bad in [
            json!({"duration": 0}),
            json!({"duration": 3601}),
            json!({"duration": "x"}),
        ] {
            assert_eq!(
                run(P, bad).unwrap_err().message(),
                "Invalid `duration` param: Value must be a valid range between 1 and 3,600"
            );
        }
    }

    #[test]
    fn loose_booleans_accept_python_capitalisation() {
        static P: &[Param] = &[p::boolean("total").or_bool(true)];
        assert!(run(P, json!({})).unwrap().bool("total").unwrap());
        assert!(
            !run(P, json!({"total": "False"}))
                .unwrap()
                .bool("total")
                .unwrap()
        );
        assert!(!run(P, json!({"total": 0})).unwrap().bool("total").unwrap());
        assert!(run(P, json!({"total": "maybe"})).is_err());
    }

    #[test]
    fn strict_booleans_take_json_booleans_only() {
        static P: &[Param] = &[p::strict_boolean("phrase").or_bool(false)];
        assert!(!run(P, json!({})).unwrap().bool("phrase").unwrap());
        assert!(
            run(P, json!({"phrase": true}))
                .unwrap()
                .bool("phrase")
                .unwrap()
        );
        for bad in [json!({"phrase": "true"}), json!({"phrase": 1})] {
            assert_eq!(
                run(P, bad).unwrap_err().message(),
                "Invalid `phrase` param: Value must be a valid boolean"
            );
        }
    }

    #[test]
    fn redirects_must_be_registered_absolute_and_short() {
        static P: &[Param] = &[p::redirect("url")];
        assert!(run(P, json!({"url": "http://localhost/x?y=1"})).is_ok());
        let long = format!("http://localhost/{}", "a".repeat(MAX_REDIRECT_CHARS));
        assert_eq!(
            run(P, json!({"url": long})).unwrap_err().message(),
            "Invalid `url` param: Invalid URI."
        );
        assert!(run(P, json!({"url": "http://127.1/"})).is_err());
    }

    #[test]
    fn objects_are_bounded_as_php_encodes_them() {
        static P: &[Param] = &[p::object("prefs", 20)];
        assert_eq!(php_json_len(&json!({"a": "é"})), 14);
        assert_eq!(php_json_len(&json!({"a": "😀"})), 20);
        assert!(run(P, json!({"prefs": {"a": "😀"}})).is_ok());
        assert!(run(P, json!({"prefs": {"a": "😀 "}})).is_err());
        assert_eq!(
            run(P, json!({"prefs": []}))
                .unwrap()
                .object("prefs")
                .unwrap(),
            json!({})
        );
        assert!(run(P, json!({"prefs": "{}"})).is_err());
    }

    #[test]
    fn a_handler_reading_an_undeclared_param_gets_a_server_error_not_a_panic() {
        let a = run(&[], json!({"x": "y"})).unwrap();
        assert_eq!(
            a.str("x").unwrap_err().ty,
            crate::error::ErrorType::GeneralServerError
        );
    }
}
