//! A validated page request for a list, with every filter value already converted to the type
//! of its attribute (`domain::queries` does the parsing), so both backends bind the same types.

/// A comparison a list may filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A filter value in its storage type: strings as text, integers, booleans as 0/1 and
/// datetimes as epoch milliseconds as integers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterValue {
    Text(String),
    Int(i64),
}

/// One filter on an attribute of the listed resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub attribute: String,
    pub op: FilterOp,
    /// Alternatives for `equal` and friends; the empty list for `isNull`/`isNotNull`.
    pub values: Vec<FilterValue>,
}

/// Where a page starts: after (or before) the row with this id, in the query's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub id: String,
    pub after: bool,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub limit: i64,
    pub offset: i64,
    pub cursor: Option<Cursor>,
    pub filters: Vec<Filter>,
    /// `(attribute, ascending)`, most significant first.
    pub order: Vec<(String, bool)>,
    /// The `search` param: rows whose words start with each of its words.
    pub search: Option<String>,
}

/// Page size when no `limit` query is given.
pub const DEFAULT_LIMIT: i64 = 25;

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            limit: DEFAULT_LIMIT,
            offset: 0,
            cursor: None,
            filters: vec![],
            order: vec![],
            search: None,
        }
    }
}

/// One page of a list and how many rows match the filters in all (ignoring the page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
}
