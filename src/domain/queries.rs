//! `queries[]` of list routes (spec §2.12): JSON query objects, and the pre-1.5 string
//! syntax (`limit(25)`, `equal("provider", ["github"])`) for old SDKs. Every queryable
//! attribute has a declared type; values are checked against it and converted to the type the
//! store binds, so both backends compare the same way.

use serde_json::Value;

use crate::error::{Error, ErrorType};
use crate::store::{Cursor, Filter, FilterOp, FilterValue, ListQuery};

/// At most this many queries per request (Appwrite `APP_LIMIT_ARRAY_PARAMS_SIZE`).
pub const MAX_QUERIES: usize = 100;
/// At most this many characters per query string.
pub const MAX_QUERY_LEN: usize = 4096;
/// Largest `limit` and `offset` accepted (Appwrite `APP_LIMIT_COUNT`).
pub const MAX_LIMIT: i64 = 5000;
/// At most this many values in one filter (utopia-php/database `Filter` default).
pub const MAX_VALUES: usize = 5000;

/// The type of a queryable attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Integer,
    Boolean,
    /// Appwrite datetimes on the wire, epoch milliseconds in the store.
    Datetime,
    /// An array of labels (letters and digits): `equal` only, meaning "has one of these".
    Labels,
}

/// An attribute a list route may filter and order on.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttrType,
}

const fn attr(name: &'static str, ty: AttrType) -> Attribute {
    Attribute { name, ty }
}

/// `account.listIdentities` (appwrite 1.9.6 `Queries\Identities`, plus the base `$`
/// attributes).
pub const IDENTITY_ATTRIBUTES: &[Attribute] = &[
    attr("$id", AttrType::String),
    attr("$createdAt", AttrType::Datetime),
    attr("$updatedAt", AttrType::Datetime),
    attr("userId", AttrType::String),
    attr("provider", AttrType::String),
    attr("providerUid", AttrType::String),
    attr("providerEmail", AttrType::String),
    attr("providerAccessTokenExpiry", AttrType::Datetime),
];

/// `users.list` (appwrite 1.9.6 `Queries\Users`, plus the base `$` attributes).
pub const USER_ATTRIBUTES: &[Attribute] = &[
    attr("$id", AttrType::String),
    attr("$createdAt", AttrType::Datetime),
    attr("$updatedAt", AttrType::Datetime),
    attr("name", AttrType::String),
    attr("email", AttrType::String),
    attr("phone", AttrType::String),
    attr("status", AttrType::Boolean),
    attr("passwordUpdate", AttrType::Datetime),
    attr("registration", AttrType::Datetime),
    attr("emailVerification", AttrType::Boolean),
    attr("phoneVerification", AttrType::Boolean),
    attr("accessedAt", AttrType::Datetime),
    attr("labels", AttrType::Labels),
    // 2.x (`password-pwned`): null when never looked up.
    attr("passwordPwned", AttrType::Boolean),
];

/// `account.listPasskeys` (2.5: the Passkey model's fields).
pub const PASSKEY_ATTRIBUTES: &[Attribute] = &[
    attr("$id", AttrType::String),
    attr("$createdAt", AttrType::Datetime),
    attr("$updatedAt", AttrType::Datetime),
    attr("name", AttrType::String),
    attr("accessedAt", AttrType::Datetime),
];

/// `account.listConsents` (2.x: the fields of the `Oauth2Consent` model a list may name).
pub const CONSENT_ATTRIBUTES: &[Attribute] = &[
    attr("$id", AttrType::String),
    attr("$createdAt", AttrType::Datetime),
    attr("$updatedAt", AttrType::Datetime),
    attr("appId", AttrType::String),
    attr("cimdUrl", AttrType::String),
    attr("expire", AttrType::Datetime),
];

/// `users.listMemberships` (appwrite 1.9.6 `Queries\Memberships`): checked, though the list
/// is always empty here.
pub const MEMBERSHIP_ATTRIBUTES: &[Attribute] = &[
    attr("$id", AttrType::String),
    attr("$createdAt", AttrType::Datetime),
    attr("$updatedAt", AttrType::Datetime),
    attr("userId", AttrType::String),
    attr("teamId", AttrType::String),
    attr("invited", AttrType::Datetime),
    attr("joined", AttrType::Datetime),
    attr("confirm", AttrType::Boolean),
    attr("roles", AttrType::Labels),
];

/// `users.listTargets` (appwrite 1.9.6 `Queries\Targets`, plus the base `$` attributes).
pub const TARGET_ATTRIBUTES: &[Attribute] = &[
    attr("$id", AttrType::String),
    attr("$createdAt", AttrType::Datetime),
    attr("$updatedAt", AttrType::Datetime),
    attr("userId", AttrType::String),
    attr("providerId", AttrType::String),
    attr("identifier", AttrType::String),
    attr("providerType", AttrType::String),
];

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid_param("queries", &msg.into())
}

/// Converts one pre-1.5 query (`method(args)`) into the JSON object form.
fn from_legacy(raw: &str) -> Result<Value, Error> {
    let bad = || {
        Error::from(ErrorType::GeneralQueryInvalid).with_message(format!("Invalid query: {raw}"))
    };
    let open = raw.find('(').ok_or_else(bad)?;
    let inner = raw[open + 1..].strip_suffix(')').ok_or_else(bad)?;
    let method = raw[..open].trim();
    let args: Vec<Value> = serde_json::from_str(&format!("[{inner}]")).map_err(|_| bad())?;
    let json = match method {
        "limit" | "offset" | "cursorAfter" | "cursorBefore" => {
            serde_json::json!({ "method": method, "values": args })
        }
        "orderAsc" | "orderDesc" => serde_json::json!({
            "method": method,
            "attribute": args.first().cloned().unwrap_or(Value::String(String::new())),
        }),
        _ => {
            let attribute = args.first().cloned().ok_or_else(bad)?;
            let values = match args.get(1) {
                Some(Value::Array(v)) => v.clone(),
                Some(v) => vec![v.clone()],
                None => vec![],
            };
            serde_json::json!({ "method": method, "attribute": attribute, "values": values })
        }
    };
    Ok(json)
}

/// The storage form of `v` for an attribute of type `ty`, or `None` when it is not a value
/// of that type (utopia-php/database `Filter`: strings must be strings, booleans real
/// booleans, integers integers, datetimes parseable datetimes).
fn convert(ty: AttrType, v: &Value) -> Option<FilterValue> {
    match (ty, v) {
        // NUL cannot reach a PostgreSQL text comparison; refuse it on every backend alike.
        (AttrType::String, Value::String(s)) if !s.contains('\0') => {
            Some(FilterValue::Text(s.clone()))
        }
        (AttrType::Labels, Value::String(s))
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Some(FilterValue::Text(s.clone()))
        }
        (AttrType::Integer, Value::Number(n)) => n.as_i64().map(FilterValue::Int),
        (AttrType::Boolean, Value::Bool(b)) => Some(FilterValue::Int(i64::from(*b))),
        (AttrType::Datetime, Value::String(s)) => {
            crate::domain::time::parse_iso_ms(s).map(FilterValue::Int)
        }
        _ => None,
    }
}

/// `Equal` for `equal`: the method name as utopia-php/database capitalises it in messages.
fn capitalised(method: &str) -> String {
    let mut c = method.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Parses and validates `queries` for a route that filters and orders on `attributes` (an
/// empty list allows only limit and offset, as on `account.listLogs`).
pub fn parse(
    raw: &[String],
    legacy_syntax: bool,
    attributes: &[Attribute],
) -> Result<ListQuery, Error> {
    if raw.len() > MAX_QUERIES {
        return Err(invalid(format!(
            "Value must be a valid array no longer than {MAX_QUERIES} items"
        )));
    }
    let mut q = ListQuery::default();
    for text in raw {
        if text.len() > MAX_QUERY_LEN {
            return Err(invalid("Invalid query: Query too long"));
        }
        let value = if legacy_syntax && !text.trim_start().starts_with('{') {
            from_legacy(text)?
        } else {
            serde_json::from_str::<Value>(text)
                .map_err(|_| invalid("Invalid query: Syntax error"))?
        };
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("Invalid query: Syntax error"))?;
        let method = obj
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let attribute = obj
            .get("attribute")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values = match obj.get("values") {
            Some(Value::Array(v)) => v.clone(),
            None | Some(Value::Null) => vec![],
            Some(_) => return Err(invalid("Invalid query: Values must be an array")),
        };
        let number = |name: &str| -> Result<i64, Error> {
            values
                .first()
                .and_then(Value::as_i64)
                .filter(|n| (0..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    invalid(format!(
                        "Invalid {name} query: Value must be a valid range between 0 and 5,000"
                    ))
                })
        };
        let declared = || -> Result<Attribute, Error> {
            attributes
                .iter()
                .find(|a| a.name == attribute)
                .copied()
                .ok_or_else(|| {
                    invalid(format!(
                        "Invalid query: Attribute not found in schema: {attribute}"
                    ))
                })
        };
        let op = match method {
            "limit" => {
                q.limit = number("limit")?;
                continue;
            }
            "offset" => {
                q.offset = number("offset")?;
                continue;
            }
            "cursorAfter" | "cursorBefore" if !attributes.is_empty() => {
                let id = values
                    .first()
                    .and_then(Value::as_str)
                    .filter(|s| crate::domain::validate::uid(s).is_ok())
                    .ok_or_else(|| invalid("Invalid cursor query: Cursor must be a valid ID"))?;
                q.cursor = Some(Cursor {
                    id: id.to_owned(),
                    after: method == "cursorAfter",
                });
                continue;
            }
            "orderAsc" | "orderDesc" if !attributes.is_empty() => {
                let a = declared()?;
                if a.ty == AttrType::Labels {
                    return Err(invalid(format!(
                        "Invalid query: Cannot order by attribute \"{}\" because it is an array.",
                        a.name
                    )));
                }
                q.order.push((a.name.to_owned(), method == "orderAsc"));
                continue;
            }
            "equal" => FilterOp::Equal,
            "notEqual" => FilterOp::NotEqual,
            "lessThan" => FilterOp::LessThan,
            "lessThanEqual" => FilterOp::LessThanEqual,
            "greaterThan" => FilterOp::GreaterThan,
            "greaterThanEqual" => FilterOp::GreaterThanEqual,
            "isNull" => FilterOp::IsNull,
            "isNotNull" => FilterOp::IsNotNull,
            "startsWith" => FilterOp::StartsWith,
            "endsWith" => FilterOp::EndsWith,
            _ => return Err(invalid(format!("Invalid query method: {method}"))),
        };
        if attributes.is_empty() {
            return Err(invalid(format!("Invalid query method: {method}")));
        }
        let attribute = declared()?;
        if attribute.ty == AttrType::Labels && op != FilterOp::Equal {
            return Err(invalid(format!(
                "Invalid query: Cannot query {method} on attribute \"{}\" because it is an array.",
                attribute.name
            )));
        }
        let values = match op {
            FilterOp::IsNull | FilterOp::IsNotNull => vec![],
            FilterOp::StartsWith | FilterOp::EndsWith if values.len() != 1 => {
                return Err(invalid(format!(
                    "Invalid query: {} queries require exactly one value.",
                    capitalised(method)
                )));
            }
            _ if values.is_empty() => {
                return Err(invalid(format!(
                    "Invalid query: {} queries require at least one value.",
                    capitalised(method)
                )));
            }
            _ if values.len() > MAX_VALUES => {
                return Err(invalid(format!(
                    "Invalid query: Query on attribute has greater than {MAX_VALUES} values: {}",
                    attribute.name
                )));
            }
            _ => values
                .iter()
                .map(|v| {
                    convert(attribute.ty, v).ok_or_else(|| {
                        invalid(format!(
                            "Invalid query: Query value is invalid for attribute \"{}\"",
                            attribute.name
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if matches!(op, FilterOp::StartsWith | FilterOp::EndsWith)
            && attribute.ty != AttrType::String
        {
            return Err(invalid(format!(
                "Invalid query: Cannot query {method} on attribute \"{}\" because it is not a string.",
                attribute.name
            )));
        }
        q.filters.push(Filter {
            attribute: attribute.name.to_owned(),
            op,
            values,
        });
    }
    // Every value is one bound parameter; both databases cap how many a statement may have.
    if q.filters.iter().map(|f| f.values.len()).sum::<usize>() > MAX_VALUES {
        return Err(invalid(format!(
            "Invalid query: Queries have greater than {MAX_VALUES} values in all"
        )));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: &[Attribute] = &[
        attr("provider", AttrType::String),
        attr("$id", AttrType::String),
        attr("$createdAt", AttrType::Datetime),
        attr("status", AttrType::Boolean),
        attr("count", AttrType::Integer),
    ];

    fn one(query: &str) -> Result<ListQuery, Error> {
        parse(&[query.to_owned()], false, ATTRS)
    }

    #[test]
    fn json_queries_set_limit_offset_cursor_and_filters() {
        let q = parse(
            &[
                r#"{"method":"limit","values":[5]}"#.into(),
                r#"{"method":"offset","values":[10]}"#.into(),
                r#"{"method":"cursorAfter","values":["abc"]}"#.into(),
                r#"{"method":"equal","attribute":"provider","values":["github"]}"#.into(),
                r#"{"method":"orderDesc","attribute":"$id"}"#.into(),
            ],
            false,
            ATTRS,
        )
        .unwrap();
        assert_eq!((q.limit, q.offset), (5, 10));
        assert_eq!(
            q.cursor,
            Some(Cursor {
                id: "abc".into(),
                after: true
            })
        );
        assert_eq!(q.filters[0].op, FilterOp::Equal);
        assert_eq!(
            q.filters[0].values,
            vec![FilterValue::Text("github".into())]
        );
        assert_eq!(q.order, vec![("$id".to_string(), false)]);
    }

    #[test]
    fn legacy_syntax_is_converted_only_for_old_formats() {
        let q = parse(
            &["limit(3)".into(), r#"equal("provider", ["x"])"#.into()],
            true,
            ATTRS,
        )
        .unwrap();
        assert_eq!(q.limit, 3);
        assert_eq!(q.filters[0].values, vec![FilterValue::Text("x".into())]);
        let e = parse(&["limit(3".into()], true, ATTRS).unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralQueryInvalid);
        let e = parse(&["limit(3)".into()], false, ATTRS).unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
    }

    #[test]
    fn values_are_converted_to_the_declared_type_of_their_attribute() {
        let f = |q: &str| one(q).unwrap().filters[0].values.clone();
        assert_eq!(
            f(
                r#"{"method":"greaterThan","attribute":"$createdAt","values":["2020-10-15T06:38:00.000+00:00"]}"#
            ),
            vec![FilterValue::Int(1_602_743_880_000)]
        );
        assert_eq!(
            f(r#"{"method":"equal","attribute":"status","values":[true, false]}"#),
            vec![FilterValue::Int(1), FilterValue::Int(0)]
        );
        assert_eq!(
            f(r#"{"method":"lessThan","attribute":"count","values":[5]}"#),
            vec![FilterValue::Int(5)]
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_argument_error_naming_the_attribute() {
        for q in [
            r#"{"method":"equal","attribute":"provider","values":[5]}"#,
            r#"{"method":"equal","attribute":"status","values":["true"]}"#,
            r#"{"method":"equal","attribute":"status","values":[1]}"#,
            r#"{"method":"equal","attribute":"count","values":["5"]}"#,
            r#"{"method":"equal","attribute":"$createdAt","values":["soon"]}"#,
            r#"{"method":"equal","attribute":"provider","values":[["x"]]}"#,
            r#"{"method":"equal","attribute":"provider","values":["a\u0000b"]}"#,
        ] {
            let e = one(q).unwrap_err();
            assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid, "{q}");
            assert!(
                e.message().contains("Query value is invalid for attribute"),
                "{q}: {}",
                e.message()
            );
        }
    }

    #[test]
    fn starts_with_needs_one_value_and_a_string_attribute() {
        let e = one(r#"{"method":"startsWith","attribute":"provider","values":["a","b"]}"#)
            .unwrap_err();
        assert!(
            e.message()
                .ends_with("StartsWith queries require exactly one value.")
        );
        let e = one(r#"{"method":"endsWith","attribute":"count","values":[5]}"#).unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
        let e = one(r#"{"method":"equal","attribute":"provider","values":[]}"#).unwrap_err();
        assert!(
            e.message()
                .ends_with("Equal queries require at least one value.")
        );
    }

    #[test]
    fn unknown_attributes_and_methods_are_argument_errors() {
        let e = one(r#"{"method":"equal","attribute":"secret","values":["x"]}"#).unwrap_err();
        assert!(
            e.message()
                .contains("Attribute not found in schema: secret")
        );
        let e = one(r#"{"method":"search","attribute":"provider","values":["x"]}"#).unwrap_err();
        assert!(e.message().contains("Invalid query method: search"));
        let e = parse(
            &[r#"{"method":"equal","attribute":"provider","values":["x"]}"#.into()],
            false,
            &[],
        )
        .unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
        let e = parse(
            &[r#"{"method":"limit","values":[5001]}"#.into()],
            false,
            &[],
        )
        .unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
    }

    #[test]
    fn cursors_must_be_ids_and_values_are_capped_across_all_filters() {
        for id in [r#""""#, r#""a\u0000b""#, r#""_x""#, "5"] {
            let e = one(&format!(r#"{{"method":"cursorAfter","values":[{id}]}}"#)).unwrap_err();
            assert!(e.message().contains("Cursor must be a valid ID"), "{id}");
        }
        let values = serde_json::to_string(&vec![""; 1300]).unwrap();
        let q = format!(r#"{{"method":"equal","attribute":"provider","values":{values}}}"#);
        assert!(one(&q).is_ok());
        let e = parse(&vec![q; 4], false, ATTRS).unwrap_err();
        assert!(
            e.message().contains("greater than 5000 values"),
            "{}",
            e.message()
        );
    }
}
