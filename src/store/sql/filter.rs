//! SQL for a [`ListQuery`] on one table: filters, order, cursor, page and the true count.
//! Everything compares the same way on both backends: text byte-wise (`COLLATE "C"` on
//! PostgreSQL for ordering), `startsWith`/`endsWith` case-sensitively through `substr` instead
//! of `LIKE` (whose case rules differ), and NULLs sorted as the smallest value.

use super::*;

/// A queryable attribute of a table and the column behind it.
pub(super) struct Column {
    pub attribute: &'static str,
    pub column: &'static str,
    pub text: bool,
    pub nullable: bool,
    /// A JSON array of strings (labels): `equal` means "contains one of".
    pub array: bool,
}

/// Declares a column: `text` columns compare byte-wise, others are integers.
pub(super) const fn col(
    attribute: &'static str,
    column: &'static str,
    text: bool,
    nullable: bool,
) -> Column {
    Column {
        attribute,
        column,
        text,
        nullable,
        array: false,
    }
}

/// Declares a JSON array of strings that only `equal` may filter on (as containment). Its
/// items hold only letters and digits (labels), so `"item"` cannot match across items.
pub(super) const fn array(attribute: &'static str, column: &'static str) -> Column {
    Column {
        attribute,
        column,
        text: true,
        nullable: false,
        array: true,
    }
}

/// A table as a list sees it.
pub(super) struct Listing {
    pub table: &'static str,
    pub columns: &'static [Column],
    /// The selected columns.
    pub select: &'static str,
    /// How the `search` param is answered; `None` when the list has none.
    pub search: Option<super::search::Index>,
}

/// The statements of one list request.
pub(super) struct Built {
    pub count_sql: String,
    pub count_args: Vec<Arg>,
    pub page_sql: String,
    pub page_args: Vec<Arg>,
    /// Whether the fetched rows come in reverse order (`cursorBefore`) and must be flipped.
    pub reversed: bool,
}

impl Listing {
    fn column(&self, attribute: &str) -> StoreResult<&Column> {
        self.columns
            .iter()
            .find(|c| c.attribute == attribute)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown attribute {attribute}")))
    }

    /// The expression a column sorts and pages by: NULL folded to the smallest value.
    fn sort_expr(&self, c: &Column, d: Dialect) -> String {
        let base = match (c.nullable, c.text) {
            (false, _) => c.column.to_owned(),
            (true, true) => format!("COALESCE({}, '')", c.column),
            (true, false) => format!("COALESCE({}, -9223372036854775807)", c.column),
        };
        if c.text {
            format!("{base}{}", d.collate())
        } else {
            base
        }
    }
}

fn value_arg(c: &Column, v: &FilterValue) -> StoreResult<Arg> {
    match (c.text, v) {
        (true, FilterValue::Text(s)) => Ok(Arg::Text(s.clone())),
        (false, FilterValue::Int(n)) => Ok(Arg::Int(*n)),
        _ => Err(StoreError::Corrupt(format!(
            "filter value of the wrong type for {}",
            c.attribute
        ))),
    }
}

/// Adds the filters to `wheres`, binding their values into `args` (placeholders continue
/// after the ones already there).
fn push_filters(
    l: &Listing,
    q: &ListQuery,
    d: Dialect,
    wheres: &mut Vec<String>,
    args: &mut Vec<Arg>,
) -> StoreResult<()> {
    if let Some(text) = &q.search {
        let index = l
            .search
            .ok_or_else(|| StoreError::Corrupt(format!("{} has no search", l.table)))?;
        let words = super::search::words(text);
        match super::search::condition(index, d, l.table, &words, args.len() + 1) {
            Some((condition, values)) => {
                wheres.push(condition);
                args.extend(values.into_iter().map(Arg::Text));
            }
            None => wheres.push("1 = 0".into()),
        }
    }
    for f in &q.filters {
        let c = l.column(&f.attribute)?;
        let col = c.column;
        if c.array {
            if f.op != FilterOp::Equal {
                return Err(StoreError::Corrupt(format!(
                    "{:?} on the array attribute {}",
                    f.op, c.attribute
                )));
            }
            let find = match d {
                Dialect::Sqlite => "instr",
                Dialect::Postgres => "strpos",
            };
            let mut any = vec![];
            for v in &f.values {
                let FilterValue::Text(item) = v else {
                    return Err(StoreError::Corrupt(format!("non-text {}", c.attribute)));
                };
                args.push(Arg::Text(format!("\"{item}\"")));
                any.push(format!("{find}({col}, ${}) > 0", args.len()));
            }
            wheres.push(format!("({})", any.join(" OR ")));
            continue;
        }
        match f.op {
            FilterOp::IsNull => {
                wheres.push(format!("{col} IS NULL"));
                continue;
            }
            FilterOp::IsNotNull => {
                wheres.push(format!("{col} IS NOT NULL"));
                continue;
            }
            _ => {}
        }
        let ordered = if c.text { d.collate() } else { "" };
        let mut bind = |v: &FilterValue| -> StoreResult<String> {
            args.push(value_arg(c, v)?);
            Ok(format!("${}", args.len()))
        };
        // One comparison however many values: `IN` lists, and for `<`/`>` the loosest bound
        // (Rust orders text by bytes, as `COLLATE "C"` and SQLite do), so a long value list
        // never builds a deep expression (SQLite stops at depth 1000).
        let loosest = |highest: bool| {
            let mut vs = f.values.iter();
            let first = vs.next();
            vs.fold(first, |best, v| match best {
                Some(b) if (v > b) == highest => Some(v),
                other => other,
            })
        };
        let condition = match f.op {
            FilterOp::Equal | FilterOp::NotEqual => {
                let list = f
                    .values
                    .iter()
                    .map(&mut bind)
                    .collect::<StoreResult<Vec<_>>>()?
                    .join(", ");
                let not = if f.op == FilterOp::NotEqual {
                    "NOT "
                } else {
                    ""
                };
                format!("{col} {not}IN ({list})")
            }
            FilterOp::LessThan | FilterOp::LessThanEqual => {
                let op = if f.op == FilterOp::LessThan {
                    "<"
                } else {
                    "<="
                };
                let Some(v) = loosest(true) else { continue };
                format!("{col}{ordered} {op} {}", bind(v)?)
            }
            FilterOp::GreaterThan | FilterOp::GreaterThanEqual => {
                let op = if f.op == FilterOp::GreaterThan {
                    ">"
                } else {
                    ">="
                };
                let Some(v) = loosest(false) else { continue };
                format!("{col}{ordered} {op} {}", bind(v)?)
            }
            FilterOp::StartsWith | FilterOp::EndsWith if c.text => {
                let Some(v) = f.values.first() else { continue };
                let p = bind(v)?;
                if f.op == FilterOp::StartsWith {
                    format!("substr({col}, 1, length({p})) = {p}")
                } else {
                    format!(
                        "(length({col}) >= length({p}) AND substr({col}, length({col}) - length({p}) + 1) = {p})"
                    )
                }
            }
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "{:?} on a non-text attribute {}",
                    f.op, c.attribute
                )));
            }
        };
        wheres.push(condition);
    }
    Ok(())
}

/// The full order: the query's, then `created_at` and `id` ascending unless already named, so
/// every row has one place and cursors are exact.
fn full_order<'a>(l: &'a Listing, q: &ListQuery) -> StoreResult<Vec<(&'a Column, bool)>> {
    let mut order = vec![];
    for (attribute, asc) in &q.order {
        let c = l.column(attribute)?;
        if !order
            .iter()
            .any(|(o, _): &(&Column, bool)| o.column == c.column)
        {
            order.push((c, *asc));
        }
    }
    for tiebreak in ["created_at", "id"] {
        if !order.iter().any(|(o, _)| o.column == tiebreak) {
            let c = l
                .columns
                .iter()
                .find(|c| c.column == tiebreak)
                .ok_or_else(|| StoreError::Corrupt(format!("{} has no {tiebreak}", l.table)))?;
            order.push((c, true));
        }
    }
    Ok(order)
}

/// Builds the count and page statements. `scope` is the fixed condition (e.g.
/// `project_id = $1 AND user_id = $2`) whose values are `scope_args`; `cursor_values` are the
/// cursor row's values of [`cursor_select`], in order.
pub(super) fn build(
    l: &Listing,
    q: &ListQuery,
    d: Dialect,
    scope: &str,
    scope_args: Vec<Arg>,
    cursor_values: Option<Vec<Arg>>,
) -> StoreResult<Built> {
    let mut wheres = vec![scope.to_owned()];
    let mut args = scope_args;
    push_filters(l, q, d, &mut wheres, &mut args)?;
    let count_sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {}",
        l.table,
        wheres.join(" AND ")
    );
    let count_args = args.clone();

    let order = full_order(l, q)?;
    let reversed = q.cursor.as_ref().is_some_and(|c| !c.after);
    if let Some(values) = cursor_values {
        // Lexicographic "comes after the cursor row" over the full order, each column in its
        // own direction; for cursorBefore every direction is flipped.
        let mut alternatives = vec![];
        let mut equal_prefix: Vec<String> = vec![];
        for ((c, asc), v) in order.iter().zip(values) {
            args.push(v);
            let p = format!("${}", args.len());
            let expr = l.sort_expr(c, d);
            let forward = *asc != reversed;
            let op = if forward { ">" } else { "<" };
            let mut terms = equal_prefix.clone();
            terms.push(format!("{expr} {op} {p}"));
            alternatives.push(format!("({})", terms.join(" AND ")));
            equal_prefix.push(format!("{expr} = {p}"));
        }
        wheres.push(format!("({})", alternatives.join(" OR ")));
    }
    let order_sql = order
        .iter()
        .map(|(c, asc)| {
            let forward = *asc != reversed;
            format!(
                "{} {}",
                l.sort_expr(c, d),
                if forward { "ASC" } else { "DESC" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    args.push(Arg::Int(q.limit));
    args.push(Arg::Int(q.offset));
    let page_sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {order_sql} LIMIT ${} OFFSET ${}",
        l.select,
        l.table,
        wheres.join(" AND "),
        args.len() - 1,
        args.len()
    );
    Ok(Built {
        count_sql,
        count_args,
        page_sql,
        page_args: args,
        reversed,
    })
}

/// Reads the cursor row's sort values in the order's types, among the rows the list may
/// see; [`StoreError::CursorNotFound`] when there is no such row.
async fn cursor_values(
    conn: &mut AnyConnection,
    l: &Listing,
    q: &ListQuery,
    d: Dialect,
    scope: &Scope,
) -> StoreResult<Option<Vec<Arg>>> {
    let Some(cursor) = &q.cursor else {
        return Ok(None);
    };
    let exprs = full_order(l, q)?
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{} AS v{i}", l.sort_expr(c, d)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut args = scope.args.clone();
    args.push(Arg::Text(cursor.id.clone()));
    let sql = format!(
        "SELECT {exprs} FROM {} WHERE {} AND id = ${}",
        l.table,
        scope.condition,
        args.len()
    );
    let row = bind_args(sqlx::query(AssertSqlSafe(sql)), &args)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::CursorNotFound)?;
    full_order(l, q)?
        .iter()
        .enumerate()
        .map(|(i, (c, _))| {
            let name = format!("v{i}");
            Ok(if c.text {
                Arg::Text(row.try_get::<String, _>(name.as_str())?)
            } else {
                Arg::Int(row.try_get::<i64, _>(name.as_str())?)
            })
        })
        .collect::<StoreResult<Vec<_>>>()
        .map(Some)
}

/// The rows a list may see: `condition` (e.g. `project_id = $1 AND user_id = $2`) bound to
/// `args`.
pub(super) struct Scope {
    pub condition: &'static str,
    pub args: Vec<Arg>,
}

/// Runs a list in one read snapshot: the cursor row, the true count of the filtered rows,
/// then the page in the query's order.
pub(super) async fn run<T>(
    conn: &mut AnyConnection,
    l: &Listing,
    q: &ListQuery,
    d: Dialect,
    scope: Scope,
    map: FromRow<T>,
) -> StoreResult<Page<T>> {
    let mut tx = snapshot(conn, d).await?;
    let cursor = cursor_values(&mut tx, l, q, d, &scope).await?;
    let built = build(l, q, d, scope.condition, scope.args, cursor)?;
    let total = fetch_count(&mut tx, built.count_sql, &built.count_args).await?;
    let mut rows = fetch_rows(&mut tx, built.page_sql, &built.page_args, map).await?;
    tx.commit().await?;
    if built.reversed {
        rows.reverse();
    }
    Ok(Page { rows, total })
}
