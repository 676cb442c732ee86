//! The SQL shared by both backends, one file per resource. Placeholders are `$N`, which
//! PostgreSQL and sqlx's SQLite driver both bind by position; values are limited to what `Any`
//! carries (i64, text, null). Reads go to the read pool, every write to a [`SqlTx`].

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Row};

use super::*;

pub mod cache;
mod filter;
mod identities;
mod jwt;
mod logs;
mod mfa;
mod migrate;
mod outbox;
mod passkeys;
mod projects;
pub(crate) mod search;
mod sessions;
mod targets;
mod tokens;
mod users;

pub use migrate::ParseUserAgent;

/// What differs in the SQL text of the two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Appended to a `SELECT` that must lock the rows it reads until the transaction ends.
    /// SQLite needs none: its units of work run under `BEGIN IMMEDIATE` on one writer.
    fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Appended to a `SELECT` of a work queue: lock the rows read, passing over rows another
    /// transaction holds instead of waiting for them (SQLite: one writer, nothing to skip).
    fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Byte-wise text comparison, so `<`, `>` and `ORDER BY` on text agree across backends
    /// whatever locale the PostgreSQL cluster was created with.
    fn collate(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    /// The statement that opens a read snapshot: a count and its page agree.
    fn read_snapshot(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }

    /// `n` numbered placeholders from `from` (`?N` on SQLite, `$N` on PostgreSQL). SQLite
    /// looks a `$N` name up among the statement's earlier names one by one, which a long
    /// multi-row `INSERT` pays for; `?N` it takes as the number it is.
    fn placeholders(self, from: usize, n: usize) -> String {
        let mark = match self {
            Dialect::Sqlite => '?',
            Dialect::Postgres => '$',
        };
        (from..from + n)
            .map(|i| format!("{mark}{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The statement that opens a unit of work.
    fn begin(self) -> &'static str {
        match self {
            // Takes the write lock up front, so a read-then-write unit never fails to upgrade.
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }
}

/// A backend: a writer pool, a read pool (the same pool on PostgreSQL and in-memory SQLite),
/// and its own migration files.
pub struct SqlStore {
    pub write: AnyPool,
    pub read: AnyPool,
    pub dialect: Dialect,
    pub migrations: &'static [(&'static str, &'static str)],
    pub cache: Arc<cache::ReadCache>,
}

/// An open unit of work.
pub struct SqlTx {
    tx: sqlx::Transaction<'static, Any>,
    dialect: Dialect,
    cache: Arc<cache::ReadCache>,
    /// What its commit must tell the cache.
    touched: cache::Touched,
}

pub(super) type Q<'q> = Query<'q, Any, AnyArguments>;

/// A bound value of a dynamically built statement.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

pub(super) fn bind_args<'q>(mut q: Q<'q>, args: &'q [Arg]) -> Q<'q> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(n) => q.bind(*n),
        };
    }
    q
}

pub(super) fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Database(e),
    }
}

pub(super) fn b(v: bool) -> i64 {
    i64::from(v)
}

pub(super) fn ob(v: Option<bool>) -> Option<i64> {
    v.map(i64::from)
}

pub(super) fn get_bool(r: &AnyRow, c: &str) -> StoreResult<bool> {
    Ok(r.try_get::<i64, _>(c)? != 0)
}

pub(super) fn get_obool(r: &AnyRow, c: &str) -> StoreResult<Option<bool>> {
    Ok(r.try_get::<Option<i64>, _>(c)?.map(|v| v != 0))
}

pub(super) fn get_secret(r: &AnyRow, c: &str) -> StoreResult<crate::secret::Secret> {
    Ok(crate::secret::Secret::new(r.try_get::<String, _>(c)?))
}

/// `$from, $from+1, …` for `n` values.
pub(super) fn placeholders(from: usize, n: usize) -> String {
    Dialect::Postgres.placeholders(from, n)
}

/// `INSERT INTO <table> (project_id, <cols>) VALUES ($1, $2, …)`: the project is bound
/// first, then the row's columns in `cols` order.
pub(super) fn insert_sql(table: &str, cols: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!(
        "INSERT INTO {table} (project_id, {cols}) VALUES ($1, {})",
        placeholders(2, cols.split(',').count())
    ))
}

/// `UPDATE <table> SET <col> = $3, … WHERE project_id = $1 AND id = $2`: binds as
/// [`insert_sql`] does when the first column is `id`.
pub(super) fn update_sql(table: &str, cols: &str) -> AssertSqlSafe<String> {
    let sets = cols
        .split(',')
        .map(str::trim)
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    AssertSqlSafe(format!(
        "UPDATE {table} SET {sets} WHERE project_id = $1 AND id = $2"
    ))
}

/// Bound values per multi-row `INSERT`, far under SQLite's limit of 32,766 on purpose: the
/// SQLite driver finds each value's parameter by a walk over the statement's parameters, so a
/// statement costs the square of its values (measured: 30,000 values, 1.6 s of CPU a
/// statement; 1,000 values, 1,860 users/s; 250, 2,050 users/s with five sessions each).
const VALUES_PER_INSERT: usize = 250;

/// Inserts `rows` with multi-row `INSERT`s: one statement per few hundred rows instead of one
/// per row, which is what makes seeding millions of rows take minutes rather than hours.
/// `bind` binds one row's columns in `cols` order, after its project.
pub(super) async fn insert_many<'r, T: Sync>(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: &str,
    cols: &str,
    project: &'r str,
    rows: &'r [T],
    bind: fn(Q<'r>, &'r T) -> Q<'r>,
) -> StoreResult<()> {
    let per_row = cols.split(',').count() + 1;
    for part in rows.chunks((VALUES_PER_INSERT / per_row).max(1)) {
        let values = (0..part.len())
            .map(|i| format!("({})", dialect.placeholders(1 + i * per_row, per_row)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} (project_id, {cols}) VALUES {values}"
        )));
        for row in part {
            q = bind(q.bind(project), row);
        }
        q.execute(&mut *conn).await.map_err(conflict_or)?;
    }
    Ok(())
}

/// Opens a read-only snapshot on a reader connection (dropped without commit, it just ends).
pub(super) async fn snapshot(
    conn: &mut AnyConnection,
    d: Dialect,
) -> StoreResult<sqlx::Transaction<'_, Any>> {
    use sqlx::Connection;
    Ok(conn.begin_with(d.read_snapshot()).await?)
}

/// Maps a fetched row to its struct.
pub(super) type FromRow<T> = fn(&AnyRow) -> StoreResult<T>;

/// Runs a `SELECT` and maps the row it finds, if any.
pub(super) async fn fetch_opt<T>(
    conn: &mut AnyConnection,
    sql: String,
    args: &[Arg],
    map: FromRow<T>,
) -> StoreResult<Option<T>> {
    bind_args(sqlx::query(AssertSqlSafe(sql)), args)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map)
        .transpose()
}

/// Runs a `SELECT` and maps every row.
pub(super) async fn fetch_rows<T>(
    conn: &mut AnyConnection,
    sql: String,
    args: &[Arg],
    map: FromRow<T>,
) -> StoreResult<Vec<T>> {
    bind_args(sqlx::query(AssertSqlSafe(sql)), args)
        .fetch_all(conn)
        .await?
        .iter()
        .map(map)
        .collect()
}

/// Runs a `SELECT COUNT(*) AS n …`.
pub(super) async fn fetch_count(
    conn: &mut AnyConnection,
    sql: String,
    args: &[Arg],
) -> StoreResult<i64> {
    Ok(bind_args(sqlx::query(AssertSqlSafe(sql)), args)
        .fetch_one(conn)
        .await?
        .try_get("n")?)
}

/// Runs a write statement; how many rows it touched.
pub(super) async fn execute(
    conn: &mut AnyConnection,
    sql: &'static str,
    args: &[Arg],
) -> StoreResult<u64> {
    Ok(bind_args(sqlx::query(sql), args)
        .execute(conn)
        .await
        .map_err(conflict_or)?
        .rows_affected())
}

impl SqlStore {
    /// A connection of the read pool.
    pub(super) async fn reader(&self) -> StoreResult<sqlx::pool::PoolConnection<Any>> {
        Ok(self.read.acquire().await?)
    }
}

#[async_trait]
impl Transactional for SqlStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.write.begin_with(self.dialect.begin()).await?;
        Ok(Box::new(SqlTx {
            tx,
            dialect: self.dialect,
            cache: self.cache.clone(),
            touched: cache::Touched::default(),
        }))
    }

    fn pools(&self) -> Vec<(&'static str, u32, usize)> {
        vec![
            ("write", self.write.size(), self.write.num_idle()),
            ("read", self.read.size(), self.read.num_idle()),
        ]
    }

    async fn ping(&self) -> StoreResult<&'static str> {
        // A read connection: on SQLite the writer may be busy, and readiness is about reads.
        sqlx::query("SELECT 1")
            .execute(&mut *self.reader().await?)
            .await?;
        Ok(match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
        })
    }
}

impl SqlTx {
    /// The connection for a statement that may touch any user's rows: its commit kills every
    /// cached read. The safe default; the two below are for statements known to be narrower.
    fn conn(&mut self) -> &mut AnyConnection {
        self.touched.everything();
        &mut self.tx
    }

    /// For a statement on rows of one user only (their sessions, their user row): its commit
    /// kills only that user's cached reads.
    fn conn_for(&mut self, project: &str, user: &str) -> &mut AnyConnection {
        self.touched.user(project, user);
        &mut self.tx
    }

    /// For a statement that changes no row the cache holds: a read, or a write to a table
    /// the cache never holds (logs, the outbox).
    fn conn_cache_safe(&mut self) -> &mut AnyConnection {
        self.touched.cache_safe();
        &mut self.tx
    }
}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let SqlTx {
            tx, cache, touched, ..
        } = *self;
        let done = tx.commit().await;
        // Also when the commit failed: whether it reached the disk may be unknown.
        cache.wrote_for(&touched);
        Ok(done?)
    }
}

#[async_trait]
impl AuditTx for SqlTx {
    async fn insert_audit(&mut self, project: &str, a: &AuditRow) -> StoreResult<()> {
        logs::insert(self.conn_cache_safe(), project, a).await
    }
}
