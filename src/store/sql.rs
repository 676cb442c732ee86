//! The SQL shared by both backends. Placeholders are `$N`, which PostgreSQL and sqlx's SQLite
//! driver both bind by position; types are limited to what `Any` carries (i64, text, null).

use async_trait::async_trait;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row};

use super::*;
use crate::domain::queries::{FilterOp, ListQuery};

/// A backend: the pool plus its own migration files.
pub struct SqlStore {
    pub pool: AnyPool,
    pub migrations: &'static [(&'static str, &'static str)],
}

type Q<'q> = Query<'q, Any, AnyArguments>;

fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Database(e),
    }
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

fn ob(v: Option<bool>) -> Option<i64> {
    v.map(i64::from)
}

fn get_bool(r: &AnyRow, c: &str) -> StoreResult<bool> {
    Ok(r.try_get::<i64, _>(c)? != 0)
}

fn get_obool(r: &AnyRow, c: &str) -> StoreResult<Option<bool>> {
    Ok(r.try_get::<Option<i64>, _>(c)?.map(|v| v != 0))
}

const USER_COLS: &str = "id, created_at, updated_at, name, email, phone, password, hash, hash_options, \
    password_history, password_update, registration, status, labels, email_verification, \
    phone_verification, mfa, prefs, accessed_at, email_canonical, email_is_free, \
    email_is_disposable, email_is_corporate, email_is_canonical";

fn bind_user<'q>(q: Q<'q>, u: &'q UserRow) -> Q<'q> {
    q.bind(&u.id)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(&u.name)
        .bind(&u.email)
        .bind(&u.phone)
        .bind(&u.password)
        .bind(&u.hash)
        .bind(&u.hash_options)
        .bind(&u.password_history)
        .bind(u.password_update)
        .bind(u.registration)
        .bind(b(u.status))
        .bind(&u.labels)
        .bind(b(u.email_verification))
        .bind(b(u.phone_verification))
        .bind(b(u.mfa))
        .bind(&u.prefs)
        .bind(u.accessed_at)
        .bind(&u.email_canonical)
        .bind(ob(u.email_is_free))
        .bind(ob(u.email_is_disposable))
        .bind(ob(u.email_is_corporate))
        .bind(ob(u.email_is_canonical))
}

fn user_from(r: &AnyRow) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        password: r.try_get("password")?,
        hash: r.try_get("hash")?,
        hash_options: r.try_get("hash_options")?,
        password_history: r.try_get("password_history")?,
        password_update: r.try_get("password_update")?,
        registration: r.try_get("registration")?,
        status: get_bool(r, "status")?,
        labels: r.try_get("labels")?,
        email_verification: get_bool(r, "email_verification")?,
        phone_verification: get_bool(r, "phone_verification")?,
        mfa: get_bool(r, "mfa")?,
        prefs: r.try_get("prefs")?,
        accessed_at: r.try_get("accessed_at")?,
        email_canonical: r.try_get("email_canonical")?,
        email_is_free: get_obool(r, "email_is_free")?,
        email_is_disposable: get_obool(r, "email_is_disposable")?,
        email_is_corporate: get_obool(r, "email_is_corporate")?,
        email_is_canonical: get_obool(r, "email_is_canonical")?,
    })
}

const SESSION_COLS: &str = "id, user_id, created_at, updated_at, expire, provider, provider_uid, \
    provider_access_token, provider_access_token_expiry, provider_refresh_token, secret_hash, ip, \
    user_agent, os_code, os_name, os_version, client_type, client_code, client_name, \
    client_version, client_engine, client_engine_version, device_name, device_brand, \
    device_model, country_code, factors, mfa_updated_at";

fn bind_session<'q>(q: Q<'q>, s: &'q SessionRow) -> Q<'q> {
    q.bind(&s.id)
        .bind(&s.user_id)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.expire)
        .bind(&s.provider)
        .bind(&s.provider_uid)
        .bind(&s.provider_access_token)
        .bind(s.provider_access_token_expiry)
        .bind(&s.provider_refresh_token)
        .bind(&s.secret_hash)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(&s.ua.os_code)
        .bind(&s.ua.os_name)
        .bind(&s.ua.os_version)
        .bind(&s.ua.client_type)
        .bind(&s.ua.client_code)
        .bind(&s.ua.client_name)
        .bind(&s.ua.client_version)
        .bind(&s.ua.client_engine)
        .bind(&s.ua.client_engine_version)
        .bind(&s.ua.device_name)
        .bind(&s.ua.device_brand)
        .bind(&s.ua.device_model)
        .bind(&s.country_code)
        .bind(&s.factors)
        .bind(s.mfa_updated_at)
}

fn session_from(r: &AnyRow) -> StoreResult<SessionRow> {
    Ok(SessionRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        expire: r.try_get("expire")?,
        provider: r.try_get("provider")?,
        provider_uid: r.try_get("provider_uid")?,
        provider_access_token: r.try_get("provider_access_token")?,
        provider_access_token_expiry: r.try_get("provider_access_token_expiry")?,
        provider_refresh_token: r.try_get("provider_refresh_token")?,
        secret_hash: r.try_get("secret_hash")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        ua: UserAgentInfo {
            os_code: r.try_get("os_code")?,
            os_name: r.try_get("os_name")?,
            os_version: r.try_get("os_version")?,
            client_type: r.try_get("client_type")?,
            client_code: r.try_get("client_code")?,
            client_name: r.try_get("client_name")?,
            client_version: r.try_get("client_version")?,
            client_engine: r.try_get("client_engine")?,
            client_engine_version: r.try_get("client_engine_version")?,
            device_name: r.try_get("device_name")?,
            device_brand: r.try_get("device_brand")?,
            device_model: r.try_get("device_model")?,
        },
        country_code: r.try_get("country_code")?,
        factors: r.try_get("factors")?,
        mfa_updated_at: r.try_get("mfa_updated_at")?,
    })
}

const TARGET_COLS: &str = "id, user_id, created_at, updated_at, name, provider_id, provider_type, \
    identifier, expired, session_id";

fn bind_target<'q>(q: Q<'q>, t: &'q TargetRow) -> Q<'q> {
    q.bind(&t.id)
        .bind(&t.user_id)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(&t.name)
        .bind(&t.provider_id)
        .bind(&t.provider_type)
        .bind(&t.identifier)
        .bind(b(t.expired))
        .bind(&t.session_id)
}

fn target_from(r: &AnyRow) -> StoreResult<TargetRow> {
    Ok(TargetRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        name: r.try_get("name")?,
        provider_id: r.try_get("provider_id")?,
        provider_type: r.try_get("provider_type")?,
        identifier: r.try_get("identifier")?,
        expired: get_bool(r, "expired")?,
        session_id: r.try_get("session_id")?,
    })
}

const IDENTITY_COLS: &str = "id, user_id, created_at, updated_at, provider, provider_uid, \
    provider_email, provider_access_token, provider_access_token_expiry, provider_refresh_token";

fn identity_from(r: &AnyRow) -> StoreResult<IdentityRow> {
    Ok(IdentityRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        provider: r.try_get("provider")?,
        provider_uid: r.try_get("provider_uid")?,
        provider_email: r.try_get("provider_email")?,
        provider_access_token: r.try_get("provider_access_token")?,
        provider_access_token_expiry: r.try_get("provider_access_token_expiry")?,
        provider_refresh_token: r.try_get("provider_refresh_token")?,
    })
}

/// Maps a query attribute of `account.listIdentities` to its column (whitelisted).
fn identity_column(attribute: &str) -> Option<&'static str> {
    Some(match attribute {
        "$id" => "id",
        "$createdAt" => "created_at",
        "$updatedAt" => "updated_at",
        "userId" => "user_id",
        "provider" => "provider",
        "providerUid" => "provider_uid",
        "providerEmail" => "provider_email",
        "providerAccessTokenExpiry" => "provider_access_token_expiry",
        _ => return None,
    })
}

/// Binds a filter value: integers as BIGINT, everything else as text.
fn bind_value<'q>(q: Q<'q>, v: &serde_json::Value) -> Q<'q> {
    match v.as_i64() {
        Some(n) => q.bind(n),
        None => q.bind(
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string()),
        ),
    }
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

async fn insert_audit(
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

async fn insert_session(
    conn: &mut sqlx::AnyConnection,
    project: &str,
    s: &SessionRow,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO sessions (project_id, {SESSION_COLS}) VALUES ($1, {})",
        placeholders(2, count_cols(SESSION_COLS))
    );
    bind_session(sqlx::query(AssertSqlSafe(sql)).bind(project), s)
        .execute(conn)
        .await
        .map_err(conflict_or)?;
    Ok(())
}

async fn insert_target(
    conn: &mut sqlx::AnyConnection,
    project: &str,
    t: &TargetRow,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO targets (project_id, {TARGET_COLS}) VALUES ($1, {})",
        placeholders(2, count_cols(TARGET_COLS))
    );
    bind_target(sqlx::query(AssertSqlSafe(sql)).bind(project), t)
        .execute(conn)
        .await
        .map_err(conflict_or)?;
    Ok(())
}

impl SqlStore {
    /// Runs one `DELETE` bound to `binds` and records `audit` in the same transaction,
    /// unless nothing was deleted. Returns whether a row went.
    async fn delete_audited(
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
impl Store for SqlStore {
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

    async fn count_users(&self, project: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE project_id = $1")
                .bind(project)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    async fn find_user(&self, project: &str, id: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn find_user_by_email(&self, project: &str, email: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND email = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn create_user(
        &self,
        project: &str,
        user: &UserRow,
        target: Option<&TargetRow>,
        session: Option<&SessionRow>,
        audits: &[AuditRow],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO users (project_id, {USER_COLS}) VALUES ($1, {})",
            placeholders(2, count_cols(USER_COLS))
        );
        bind_user(sqlx::query(AssertSqlSafe(sql)).bind(project), user)
            .execute(&mut *tx)
            .await
            .map_err(conflict_or)?;
        if let Some(t) = target {
            insert_target(&mut tx, project, t).await?;
        }
        if let Some(s) = session {
            insert_session(&mut tx, project, s).await?;
        }
        for a in audits {
            insert_audit(&mut tx, project, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_user(
        &self,
        project: &str,
        user: &UserRow,
        rename_target: Option<(&str, &str)>,
        purge: SessionPurge,
        audit: Option<&AuditRow>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // Column i of USER_COLS is bound to $(i + 2); the first column (id) is the key.
        let sets = USER_COLS
            .split(',')
            .map(str::trim)
            .enumerate()
            .skip(1)
            .map(|(i, c)| format!("{c} = ${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("UPDATE users SET {sets} WHERE project_id = $1 AND id = $2");
        bind_user(sqlx::query(AssertSqlSafe(sql)).bind(project), user)
            .execute(&mut *tx)
            .await
            .map_err(conflict_or)?;
        if let Some((old, new)) = rename_target {
            sqlx::query(
                "UPDATE targets SET identifier = $1, updated_at = $2 WHERE project_id = $3 AND user_id = $4 AND identifier = $5",
            )
            .bind(new)
            .bind(user.updated_at)
            .bind(project)
            .bind(&user.id)
            .bind(old)
            .execute(&mut *tx)
            .await
            .map_err(conflict_or)?;
        }
        match purge {
            SessionPurge::Keep => {}
            SessionPurge::AllBut(keep) => {
                sqlx::query(
                    "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id <> $3",
                )
                .bind(project)
                .bind(&user.id)
                .bind(keep)
                .execute(&mut *tx)
                .await?;
            }
            SessionPurge::All => {
                sqlx::query("DELETE FROM sessions WHERE project_id = $1 AND user_id = $2")
                    .bind(project)
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if let Some(a) = audit {
            insert_audit(&mut tx, project, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn touch_user(&self, project: &str, id: &str, accessed_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET accessed_at = $1 WHERE project_id = $2 AND id = $3")
            .bind(accessed_at)
            .bind(project)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_user(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["sessions", "targets", "identities"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE project_id = $1 AND user_id = $2"
            )))
            .bind(project)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM users WHERE project_id = $1 AND id = $2")
            .bind(project)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn target_identifier_taken(&self, project: &str, identifier: &str) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM targets WHERE project_id = $1 AND identifier = $2")
                .bind(project)
                .bind(identifier)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    async fn identity_email_taken(
        &self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM identities WHERE project_id = $1 AND provider_email = $2 AND user_id <> $3",
        )
        .bind(project)
        .bind(email)
        .bind(except_user.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    async fn create_session(
        &self,
        project: &str,
        session: &SessionRow,
        max_sessions: u64,
        audit: &AuditRow,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_session(&mut tx, project, session).await?;
        if max_sessions > 0 {
            // Keep the newest `max_sessions`; the one just inserted is among them.
            sqlx::query(
                "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id NOT IN \
                 (SELECT id FROM sessions WHERE project_id = $1 AND user_id = $2 \
                  ORDER BY created_at DESC, id DESC LIMIT $3)",
            )
            .bind(project)
            .bind(&session.user_id)
            .bind(max_sessions as i64)
            .execute(&mut *tx)
            .await?;
        }
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_session_by_secret_hash(
        &self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND secret_hash = $2"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(session_from)
            .transpose()
    }

    async fn find_session(
        &self,
        project: &str,
        user: &str,
        id: &str,
    ) -> StoreResult<Option<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND user_id = $2 AND id = $3"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(user)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(session_from)
            .transpose()
    }

    async fn list_sessions(&self, project: &str, user: &str) -> StoreResult<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND user_id = $2 \
             ORDER BY created_at, id LIMIT 1000"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(user)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(session_from)
            .collect()
    }

    async fn update_session_expire(
        &self,
        project: &str,
        user: &str,
        id: &str,
        expire: i64,
        audit: &AuditRow,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET expire = $1, updated_at = $2 WHERE project_id = $3 AND user_id = $4 AND id = $5",
        )
        .bind(expire)
        .bind(audit.time)
        .bind(project)
        .bind(user)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if done {
            insert_audit(&mut tx, project, audit).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn delete_session(
        &self,
        project: &str,
        user: &str,
        id: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool> {
        self.delete_audited(
            "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id = $3",
            &[project, user, id],
            project,
            audit,
        )
        .await
    }

    async fn delete_sessions(
        &self,
        project: &str,
        user: &str,
        audit: &AuditRow,
    ) -> StoreResult<()> {
        // The audit is kept even when the user had no session left: the request happened.
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE project_id = $1 AND user_id = $2")
            .bind(project)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_targets(&self, project: &str, user: &str) -> StoreResult<Vec<TargetRow>> {
        let sql = format!(
            "SELECT {TARGET_COLS} FROM targets WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, id"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(user)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(target_from)
            .collect()
    }

    async fn find_target(&self, project: &str, id: &str) -> StoreResult<Option<TargetRow>> {
        let sql = format!("SELECT {TARGET_COLS} FROM targets WHERE project_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(target_from)
            .transpose()
    }

    async fn create_target(
        &self,
        project: &str,
        target: &TargetRow,
        audit: &AuditRow,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_target(&mut tx, project, target).await?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_target(
        &self,
        project: &str,
        t: &TargetRow,
        audit: &AuditRow,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE targets SET identifier = $1, name = $2, expired = $3, updated_at = $4 \
             WHERE project_id = $5 AND id = $6",
        )
        .bind(&t.identifier)
        .bind(&t.name)
        .bind(b(t.expired))
        .bind(t.updated_at)
        .bind(project)
        .bind(&t.id)
        .execute(&mut *tx)
        .await
        .map_err(conflict_or)?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_target(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()> {
        self.delete_audited(
            "DELETE FROM targets WHERE project_id = $1 AND id = $2",
            &[project, id],
            project,
            audit,
        )
        .await
        .map(|_| ())
    }

    async fn list_identities(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<(Vec<IdentityRow>, i64)> {
        let mut wheres = vec!["project_id = $1".to_string(), "user_id = $2".to_string()];
        // Filter values: datetimes arrive as epoch milliseconds and bind as integers.
        let mut args: Vec<serde_json::Value> = vec![];
        let mut next = 3;
        for f in &query.filters {
            let col = identity_column(&f.attribute)
                .ok_or_else(|| StoreError::Corrupt(format!("attribute {}", f.attribute)))?;
            let op = match f.op {
                FilterOp::IsNull => {
                    wheres.push(format!("{col} IS NULL"));
                    continue;
                }
                FilterOp::IsNotNull => {
                    wheres.push(format!("{col} IS NOT NULL"));
                    continue;
                }
                FilterOp::Equal => "=",
                FilterOp::NotEqual => "<>",
                FilterOp::LessThan => "<",
                FilterOp::LessThanEqual => "<=",
                FilterOp::GreaterThan => ">",
                FilterOp::GreaterThanEqual => ">=",
                FilterOp::StartsWith | FilterOp::EndsWith => "LIKE",
            };
            let mut ors = vec![];
            for v in &f.values {
                if let Some(n) = v.as_i64().filter(|_| op != "LIKE") {
                    ors.push(format!("{col} {op} ${next}"));
                    args.push(serde_json::Value::from(n));
                    next += 1;
                    continue;
                }
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let arg = match f.op {
                    FilterOp::StartsWith => format!("{escaped}%"),
                    FilterOp::EndsWith => format!("%{escaped}"),
                    _ => text,
                };
                let escape = if op == "LIKE" { " ESCAPE '\\'" } else { "" };
                ors.push(format!("{col} {op} ${next}{escape}"));
                args.push(serde_json::Value::String(arg));
                next += 1;
            }
            let joiner = if f.op == FilterOp::NotEqual {
                " AND "
            } else {
                " OR "
            };
            wheres.push(format!("({})", ors.join(joiner)));
        }
        let filter_sql = wheres.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) AS n FROM identities WHERE {filter_sql}");
        let mut count_q = sqlx::query(AssertSqlSafe(count_sql))
            .bind(project)
            .bind(user);
        for a in &args {
            count_q = bind_value(count_q, a);
        }
        let total: i64 = count_q.fetch_one(&self.pool).await?.try_get("n")?;

        let mut page_wheres = filter_sql.clone();
        let mut page_args = args.clone();
        if let Some((cursor, after)) = &query.cursor {
            let cmp = if *after { ">" } else { "<" };
            page_wheres.push_str(&format!(
                " AND (created_at, id) {cmp} (SELECT created_at, id FROM identities WHERE project_id = $1 AND id = ${next})"
            ));
            page_args.push(serde_json::Value::String(cursor.clone()));
            next += 1;
        }
        let mut order: Vec<String> = query
            .order
            .iter()
            .filter_map(|(a, asc)| {
                identity_column(a).map(|c| format!("{c} {}", if *asc { "ASC" } else { "DESC" }))
            })
            .collect();
        order.push("created_at ASC, id ASC".into());
        let sql = format!(
            "SELECT {IDENTITY_COLS} FROM identities WHERE {page_wheres} ORDER BY {} LIMIT ${next} OFFSET ${}",
            order.join(", "),
            next + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(project).bind(user);
        for a in &page_args {
            q = bind_value(q, a);
        }
        let rows = q
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(identity_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((rows, total))
    }

    async fn find_identity(&self, project: &str, id: &str) -> StoreResult<Option<IdentityRow>> {
        let sql =
            format!("SELECT {IDENTITY_COLS} FROM identities WHERE project_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(identity_from)
            .transpose()
    }

    async fn create_identity(&self, project: &str, i: &IdentityRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO identities (project_id, {IDENTITY_COLS}) VALUES ($1, {})",
            placeholders(2, count_cols(IDENTITY_COLS))
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(&i.id)
            .bind(&i.user_id)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(&i.provider)
            .bind(&i.provider_uid)
            .bind(&i.provider_email)
            .bind(&i.provider_access_token)
            .bind(i.provider_access_token_expiry)
            .bind(&i.provider_refresh_token)
            .execute(&self.pool)
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn delete_identity(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()> {
        self.delete_audited(
            "DELETE FROM identities WHERE project_id = $1 AND id = $2",
            &[project, id],
            project,
            audit,
        )
        .await
        .map(|_| ())
    }

    async fn list_logs(
        &self,
        project: &str,
        user: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AuditRow>, i64)> {
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project)
        .bind(user)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(
            "SELECT user_id, event, resource, user_email, user_name, mode, user_type, ip, user_agent, \
             country_code, time FROM audit_logs WHERE project_id = $1 AND user_id = $2 \
             ORDER BY time DESC, seq DESC LIMIT $3 OFFSET $4",
        )
        .bind(project)
        .bind(user)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let logs = rows
            .iter()
            .map(|r| {
                Ok(AuditRow {
                    user_id: r.try_get("user_id")?,
                    event: r.try_get("event")?,
                    resource: r.try_get("resource")?,
                    user_email: r.try_get("user_email")?,
                    user_name: r.try_get("user_name")?,
                    mode: r.try_get("mode")?,
                    user_type: r.try_get("user_type")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    country_code: r.try_get("country_code")?,
                    time: r.try_get("time")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((logs, total))
    }
}
