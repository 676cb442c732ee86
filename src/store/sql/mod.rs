//! The SQL shared by both backends, one file per resource. Placeholders are `$N`, which
//! PostgreSQL and sqlx's SQLite driver both bind by position; types are limited to what `Any`
//! carries (i64, text, null).

use async_trait::async_trait;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row};

use super::*;

mod identities;
mod logs;
mod sessions;
mod targets;
mod users;

/// A backend: the pool plus its own migration files.
pub struct SqlStore {
    pub pool: AnyPool,
    pub migrations: &'static [(&'static str, &'static str)],
}

pub(super) type Q<'q> = Query<'q, Any, AnyArguments>;

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

/// `$1, $2, …, $n`.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn count_cols(cols: &str) -> usize {
    cols.split(',').count()
}

/// `INSERT INTO <table> (project_id, <cols>) VALUES ($1, $2, …)`: the project is bound
/// first, then the row's columns in `cols` order.
pub(super) fn insert_sql(table: &str, cols: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!(
        "INSERT INTO {table} (project_id, {cols}) VALUES ($1, {})",
        placeholders(2, count_cols(cols))
    ))
}

pub(super) async fn insert_audit(
    conn: &mut sqlx::AnyConnection,
    project: &str,
    a: &AuditRow,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_logs (project_id, user_id, event, resource, user_email, user_name, mode, \
         user_type, ip, user_agent, country_code, time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(project)
    .bind(&a.user_id)
    .bind(&a.event)
    .bind(&a.resource)
    .bind(&a.user_email)
    .bind(&a.user_name)
    .bind(&a.mode)
    .bind(&a.user_type)
    .bind(&a.ip)
    .bind(&a.user_agent)
    .bind(&a.country_code)
    .bind(a.time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Maps a fetched row to its struct.
pub(super) type FromRow<T> = fn(&AnyRow) -> StoreResult<T>;
/// Binds a struct's columns after the project id.
pub(super) type BindRow<T> = for<'q> fn(Q<'q>, &'q T) -> Q<'q>;

/// Inserts one row of `table` inside an open transaction; `Conflict` on a unique index.
pub(super) async fn insert_row<T>(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    cols: &str,
    bind: BindRow<T>,
    project: &str,
    row: &T,
) -> StoreResult<()> {
    bind(sqlx::query(insert_sql(table, cols)).bind(project), row)
        .execute(conn)
        .await
        .map_err(conflict_or)?;
    Ok(())
}

impl SqlStore {
    /// Runs a `SELECT` bound to text `binds` and maps the row it finds, if any.
    pub(super) async fn fetch_opt<T>(
        &self,
        sql: String,
        binds: &[&str],
        map: FromRow<T>,
    ) -> StoreResult<Option<T>> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(map)
            .transpose()
    }

    /// Runs a `SELECT` bound to text `binds` and maps every row.
    pub(super) async fn fetch_rows<T>(
        &self,
        sql: String,
        binds: &[&str],
        map: FromRow<T>,
    ) -> StoreResult<Vec<T>> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(&self.pool).await?.iter().map(map).collect()
    }

    /// Runs one `DELETE` bound to `binds` and records `audit` in the same transaction,
    /// unless nothing was deleted. Returns whether a row went.
    pub(super) async fn delete_audited(
        &self,
        sql: &'static str,
        binds: &[&str],
        project: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let deleted = q.execute(&mut *tx).await?.rows_affected() > 0;
        if deleted {
            insert_audit(&mut tx, project, audit).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}

#[async_trait]
impl ProjectStore for SqlStore {
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *conn)
        .await?;
        let applied: Vec<String> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("version"))
            .collect::<Result<_, _>>()?;
        drop(conn);
        for (version, sql) in self.migrations {
            if applied.iter().any(|a| a == version) {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(AssertSqlSafe(*sql)).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(crate::domain::time::now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version, "applied migration");
        }
        Ok(())
    }

    async fn list_projects(&self) -> StoreResult<Vec<ProjectRow>> {
        let rows = sqlx::query("SELECT id, name, settings FROM projects ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ProjectRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    settings: r.try_get("settings")?,
                })
            })
            .collect()
    }

    async fn upsert_project(&self, p: &ProjectRow) -> StoreResult<()> {
        let now = crate::domain::time::now_ms();
        sqlx::query(
            "INSERT INTO projects (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.settings)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
