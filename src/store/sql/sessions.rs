//! Sessions, looked up by the hash of their secret.

use super::*;

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

pub(super) async fn insert_session(
    conn: &mut sqlx::AnyConnection,
    project: &str,
    s: &SessionRow,
) -> StoreResult<()> {
    insert_row(conn, "sessions", SESSION_COLS, bind_session, project, s).await
}

#[async_trait]
impl SessionStore for SqlStore {
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
        self.fetch_opt(
            format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND secret_hash = $2"
            ),
            &[project, secret_hash],
            session_from,
        )
        .await
    }

    async fn find_session(
        &self,
        project: &str,
        user: &str,
        id: &str,
    ) -> StoreResult<Option<SessionRow>> {
        self.fetch_opt(
            format!(
                "SELECT {SESSION_COLS} FROM sessions \
                 WHERE project_id = $1 AND user_id = $2 AND id = $3"
            ),
            &[project, user, id],
            session_from,
        )
        .await
    }

    async fn list_sessions(&self, project: &str, user: &str) -> StoreResult<Vec<SessionRow>> {
        self.fetch_rows(
            format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND user_id = $2 \
             ORDER BY created_at, id LIMIT 1000"
            ),
            &[project, user],
            session_from,
        )
        .await
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
}
