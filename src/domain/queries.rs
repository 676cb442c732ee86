//! `queries[]` of list routes (spec §2.12): JSON query objects, and the pre-1.5 string
//! syntax (`limit(25)`, `equal("provider", ["github"])`) for old SDKs.

use serde_json::Value;

use crate::error::{Error, ErrorType};

/// At most this many queries per request (Appwrite `APP_LIMIT_ARRAY_PARAMS_SIZE`).
pub const MAX_QUERIES: usize = 100;
/// At most this many characters per query string.
pub const MAX_QUERY_LEN: usize = 4096;
/// Largest `limit` and `offset` accepted (Appwrite `APP_LIMIT_COUNT`).
pub const MAX_LIMIT: i64 = 5000;
/// Page size when no `limit` query is given.
pub const DEFAULT_LIMIT: i64 = 25;

/// A comparison a list route may filter on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterOp {
    Equal,
    NotEqual,
    LessThan,
    LessThanEqual,
    GreaterThan,
    GreaterThanEqual,
    IsNull,
    IsNotNull,
    StartsWith,
    EndsWith,
}

/// One filter on an allowed attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub attribute: String,
    pub op: FilterOp,
    pub values: Vec<Value>,
}

/// The validated page request of a list route.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub limit: i64,
    pub offset: i64,
    /// `(id, after)`: continue after (or before) the document with this id.
    pub cursor: Option<(String, bool)>,
    pub filters: Vec<Filter>,
    /// `(attribute, ascending)`.
    pub order: Vec<(String, bool)>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            limit: DEFAULT_LIMIT,
            offset: 0,
            cursor: None,
            filters: vec![],
            order: vec![],
        }
    }
}

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

/// Parses and validates `queries` for a route that filters and orders on `attributes`
/// (an empty list allows only limit and offset, as on `account.listLogs`). Values of the
/// `datetimes` attributes must be Appwrite datetimes and become epoch milliseconds.
pub fn parse(
    raw: &[String],
    legacy_syntax: bool,
    attributes: &[&str],
    datetimes: &[&str],
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
        let checked_attribute = || -> Result<String, Error> {
            if attributes.contains(&attribute) {
                Ok(attribute.to_owned())
            } else {
                Err(invalid(format!(
                    "Invalid query: Attribute not found in schema: {attribute}"
                )))
            }
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
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| invalid("Invalid cursor query: Cursor must be a valid ID"))?;
                q.cursor = Some((id.to_owned(), method == "cursorAfter"));
                continue;
            }
            "orderAsc" | "orderDesc" if !attributes.is_empty() => {
                q.order.push((checked_attribute()?, method == "orderAsc"));
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
        let needs_values = !matches!(op, FilterOp::IsNull | FilterOp::IsNotNull);
        if needs_values && values.is_empty() {
            return Err(invalid(format!(
                "Invalid query: {method} queries require at least one value."
            )));
        }
        if values.iter().any(|v| v.is_array() || v.is_object()) {
            return Err(invalid("Invalid query: Values must be scalars"));
        }
        let attribute = checked_attribute()?;
        let values = if datetimes.contains(&attribute.as_str()) {
            if matches!(op, FilterOp::StartsWith | FilterOp::EndsWith) {
                return Err(invalid(format!("Invalid query method: {method}")));
            }
            values
                .iter()
                .map(|v| {
                    v.as_str()
                        .and_then(crate::domain::time::parse_iso_ms)
                        .map(Value::from)
                        .ok_or_else(|| {
                            invalid(format!(
                                "Invalid query: {attribute} must be a valid datetime"
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            values
        };
        q.filters.push(Filter {
            attribute,
            op,
            values,
        });
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: &[&str] = &["provider", "$id"];

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
            &[],
        )
        .unwrap();
        assert_eq!((q.limit, q.offset), (5, 10));
        assert_eq!(q.cursor, Some(("abc".into(), true)));
        assert_eq!(q.filters[0].op, FilterOp::Equal);
        assert_eq!(q.order, vec![("$id".to_string(), false)]);
    }

    #[test]
    fn legacy_syntax_is_converted_only_for_old_formats() {
        let q = parse(
            &["limit(3)".into(), r#"equal("provider", ["x"])"#.into()],
            true,
            ATTRS,
            &[],
        )
        .unwrap();
        assert_eq!(q.limit, 3);
        assert_eq!(q.filters[0].values, vec![Value::String("x".into())]);
        let e = parse(&["limit(3".into()], true, ATTRS, &[]).unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralQueryInvalid);
        let e = parse(&["limit(3)".into()], false, ATTRS, &[]).unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
    }

    #[test]
    fn datetime_values_become_epoch_millis_and_must_parse() {
        let q = parse(
            &[r#"{"method":"greaterThan","attribute":"$id","values":["2020-10-15T06:38:00.000+00:00"]}"#.into()],
            false,
            ATTRS,
            &["$id"],
        )
        .unwrap();
        assert_eq!(q.filters[0].values, vec![Value::from(1_602_743_880_000i64)]);
        let e = parse(
            &[r#"{"method":"equal","attribute":"$id","values":["soon"]}"#.into()],
            false,
            ATTRS,
            &["$id"],
        )
        .unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
    }

    #[test]
    fn unknown_attributes_and_methods_are_argument_errors() {
        let e = parse(
            &[r#"{"method":"equal","attribute":"secret","values":["x"]}"#.into()],
            false,
            ATTRS,
            &[],
        )
        .unwrap_err();
        assert!(
            e.message()
                .contains("Attribute not found in schema: secret")
        );
        let e = parse(
            &[r#"{"method":"search","attribute":"provider","values":["x"]}"#.into()],
            false,
            ATTRS,
            &[],
        )
        .unwrap_err();
        assert!(e.message().contains("Invalid query method: search"));
        let e = parse(
            &[r#"{"method":"equal","attribute":"provider","values":["x"]}"#.into()],
            false,
            &[],
            &[],
        )
        .unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
        let e = parse(
            &[r#"{"method":"limit","values":[5001]}"#.into()],
            false,
            &[],
            &[],
        )
        .unwrap_err();
        assert_eq!(e.ty, ErrorType::GeneralArgumentInvalid);
    }
}
