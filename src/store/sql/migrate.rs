//! Versioned migrations. On PostgreSQL they run under a session advisory lock, so when many
//! nodes start on one empty database one migrates and the others wait, then find nothing to do.

use super::*;

/// `pg_advisory_lock` key of the migration lock (any constant shared by every node).
const MIGRATION_LOCK: i64 = 0x6c61_7463_686b_6579; // "latchkey"

/// Parses a stored user agent; given by the caller so the store depends on no domain code.
pub type ParseUserAgent = fn(&str) -> UserAgentInfo;

impl SqlStore {
    /// Applies pending migrations, holding the migration lock on PostgreSQL.
    pub async fn migrate(&self, parse_ua: ParseUserAgent) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        if self.dialect == Dialect::Postgres {
            let free: bool = sqlx::query("SELECT pg_try_advisory_lock($1) AS free")
                .bind(MIGRATION_LOCK)
                .fetch_one(&mut *conn)
                .await?
                .try_get("free")?;
            if !free {
                tracing::info!("another node holds the migration lock; waiting for it");
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        let result = self.apply(&mut conn, parse_ua).await;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    async fn apply(&self, conn: &mut AnyConnection, parse_ua: ParseUserAgent) -> StoreResult<()> {
        use sqlx::Connection;
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
        for (version, sql) in self.migrations {
            if applied.iter().any(|a| a == version) {
                continue;
            }
            let mut tx = conn.begin().await?;
            sqlx::raw_sql(AssertSqlSafe(*sql)).execute(&mut *tx).await?;
            if *version == "0002_audit_user_agent" {
                backfill_audit_user_agents(&mut tx, parse_ua).await?;
            }
            if *version == "0006_users_api" {
                backfill_search_words(&mut tx).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(unix_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version, "applied migration");
        }
        Ok(())
    }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Parses the user agent of every audit record written before the client columns existed.
async fn backfill_audit_user_agents(
    conn: &mut AnyConnection,
    parse_ua: ParseUserAgent,
) -> StoreResult<()> {
    let rows = sqlx::query("SELECT seq, user_agent FROM audit_logs")
        .fetch_all(&mut *conn)
        .await?;
    for r in rows {
        let seq: i64 = r.try_get("seq")?;
        let agent: String = r.try_get("user_agent")?;
        let ua = parse_ua(if agent.is_empty() { "UNKNOWN" } else { &agent });
        sqlx::query(
            "UPDATE audit_logs SET os_code = $1, os_name = $2, os_version = $3, client_type = $4, \
             client_code = $5, client_name = $6, client_version = $7, client_engine = $8, \
             client_engine_version = $9, device_name = $10, device_brand = $11, device_model = $12 \
             WHERE seq = $13",
        )
        .bind(&ua.os_code)
        .bind(&ua.os_name)
        .bind(&ua.os_version)
        .bind(&ua.client_type)
        .bind(&ua.client_code)
        .bind(&ua.client_name)
        .bind(&ua.client_version)
        .bind(&ua.client_engine)
        .bind(&ua.client_engine_version)
        .bind(&ua.device_name)
        .bind(&ua.device_brand)
        .bind(&ua.device_model)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Fills the `search` words of users and identities written before the column existed.
async fn backfill_search_words(conn: &mut AnyConnection) -> StoreResult<()> {
    let users = sqlx::query("SELECT project_id, id, email, phone, name FROM users")
        .fetch_all(&mut *conn)
        .await?;
    for r in users {
        let (project, id): (String, String) = (r.try_get("project_id")?, r.try_get("id")?);
        let text = |c: &str| -> StoreResult<String> {
            Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default())
        };
        let words = super::search::document([
            id.as_str(),
            &text("email")?,
            &text("phone")?,
            &text("name")?,
        ]);
        sqlx::query("UPDATE users SET search = $1 WHERE project_id = $2 AND id = $3")
            .bind(words)
            .bind(&project)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
    }
    let identities = sqlx::query(
        "SELECT project_id, id, user_id, provider, provider_uid, provider_email FROM identities",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in identities {
        let get = |c: &str| -> StoreResult<String> { Ok(r.try_get::<String, _>(c)?) };
        let (project, id) = (get("project_id")?, get("id")?);
        let words = super::search::document([
            id.as_str(),
            &get("user_id")?,
            &get("provider")?,
            &get("provider_uid")?,
            &get("provider_email")?,
        ]);
        sqlx::query("UPDATE identities SET search = $1 WHERE project_id = $2 AND id = $3")
            .bind(words)
            .bind(&project)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
