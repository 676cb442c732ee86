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
        .bind(s.provider_access_token.expose())
        .bind(s.provider_access_token_expiry)
        .bind(s.provider_refresh_token.expose())
        .bind(s.secret_hash.expose())
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

/// The parsed user-agent columns shared by sessions and audit records.
pub(super) fn ua_from(r: &AnyRow) -> StoreResult<UserAgentInfo> {
    Ok(UserAgentInfo {
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
    })
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
        provider_access_token: get_secret(r, "provider_access_token")?,
        provider_access_token_expiry: r.try_get("provider_access_token_expiry")?,
        provider_refresh_token: get_secret(r, "provider_refresh_token")?,
        secret_hash: get_secret(r, "secret_hash")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        ua: ua_from(r)?,
        country_code: r.try_get("country_code")?,
        factors: r.try_get("factors")?,
        mfa_updated_at: r.try_get("mfa_updated_at")?,
    })
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn find_session_by_secret_hash(
        &self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<SessionRow>> {
        if let Some(hit) = self.cache.session(project, secret_hash) {
            return Ok(Some(hit));
        }
        let tick = self.cache.tick();
        let row = fetch_opt(
            &mut *self.reader().await?,
            format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND secret_hash = $2"
            ),
            &[project.into(), secret_hash.into()],
            session_from,
        )
        .await?;
        // Only sessions that exist: a stream of made-up secrets must not fill the cache.
        if let Some(row) = &row {
            self.cache
                .put_session(project, secret_hash, row.clone(), tick);
        }
        Ok(row)
    }

    async fn find_session(
        &self,
        project: &str,
        user: &str,
        id: &str,
    ) -> StoreResult<Option<SessionRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!(
                "SELECT {SESSION_COLS} FROM sessions \
                 WHERE project_id = $1 AND user_id = $2 AND id = $3"
            ),
            &[project.into(), user.into(), id.into()],
            session_from,
        )
        .await
    }

    async fn list_sessions(
        &self,
        project: &str,
        user: &str,
        limit: i64,
    ) -> StoreResult<Page<SessionRow>> {
        let mut conn = self.reader().await?;
        let mut tx = snapshot(&mut conn, self.dialect).await?;
        let args = [project.into(), user.into()];
        let total = fetch_count(
            &mut tx,
            "SELECT COUNT(*) AS n FROM sessions WHERE project_id = $1 AND user_id = $2".into(),
            &args,
        )
        .await?;
        let rows = fetch_rows(
            &mut tx,
            format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND user_id = $2 \
                 ORDER BY created_at, id LIMIT $3"
            ),
            &[project.into(), user.into(), limit.into()],
            session_from,
        )
        .await?;
        tx.commit().await?;
        Ok(Page { rows, total })
    }
}

#[async_trait]
impl SessionTx for SqlTx {
    async fn count_sessions(&mut self, project: &str, user: &str) -> StoreResult<i64> {
        fetch_count(
            self.conn_for(project, user),
            "SELECT COUNT(*) AS n FROM sessions WHERE project_id = $1 AND user_id = $2".into(),
            &[project.into(), user.into()],
        )
        .await
    }

    async fn insert_session(&mut self, project: &str, s: &SessionRow) -> StoreResult<()> {
        bind_session(
            sqlx::query(insert_sql("sessions", SESSION_COLS)).bind(project),
            s,
        )
        .execute(self.conn_for(project, &s.user_id))
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn insert_sessions(&mut self, project: &str, rows: &[SessionRow]) -> StoreResult<()> {
        let dialect = self.dialect;
        insert_many(
            self.conn(),
            dialect,
            "sessions",
            SESSION_COLS,
            project,
            rows,
            bind_session,
        )
        .await
    }

    async fn evict_sessions(&mut self, project: &str, user: &str, keep: u64) -> StoreResult<()> {
        if keep == 0 {
            return Ok(());
        }
        // Keep the newest `keep`; a session inserted in this unit is among them.
        execute(
            self.conn_for(project, user),
            "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id NOT IN \
             (SELECT id FROM sessions WHERE project_id = $1 AND user_id = $2 \
              ORDER BY created_at DESC, id DESC LIMIT $3)",
            &[
                project.into(),
                user.into(),
                i64::try_from(keep).unwrap_or(i64::MAX).into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn update_session_expire(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
        expire: i64,
        now: i64,
    ) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "UPDATE sessions SET expire = $1, updated_at = $2 \
             WHERE project_id = $3 AND user_id = $4 AND id = $5",
            &[
                expire.into(),
                now.into(),
                project.into(),
                user.into(),
                id.into(),
            ],
        )
        .await?
            > 0)
    }

    async fn update_session_provider_tokens(
        &mut self,
        project: &str,
        s: &SessionRow,
        now: i64,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE sessions SET provider_access_token = $1, provider_refresh_token = $2, \
             provider_access_token_expiry = $3, expire = $4, updated_at = $5 \
             WHERE project_id = $6 AND user_id = $7 AND id = $8",
        )
        .bind(s.provider_access_token.expose())
        .bind(s.provider_refresh_token.expose())
        .bind(s.provider_access_token_expiry)
        .bind(s.expire)
        .bind(now)
        .bind(project)
        .bind(&s.user_id)
        .bind(&s.id)
        .execute(self.conn())
        .await?
        .rows_affected()
            > 0)
    }

    async fn lock_session(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
    ) -> StoreResult<Option<SessionRow>> {
        let lock = self.dialect.for_update();
        fetch_opt(
            self.conn(),
            format!(
                "SELECT {SESSION_COLS} FROM sessions \
                 WHERE project_id = $1 AND user_id = $2 AND id = $3{lock}"
            ),
            &[project.into(), user.into(), id.into()],
            session_from,
        )
        .await
    }

    async fn update_session_factors(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
        factors: &str,
        mfa_updated_at: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET factors = $1, mfa_updated_at = $2, updated_at = $3 \
             WHERE project_id = $4 AND user_id = $5 AND id = $6",
        )
        .bind(factors)
        .bind(mfa_updated_at)
        .bind(now)
        .bind(project)
        .bind(user)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&mut self, project: &str, user: &str, id: &str) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id = $3",
            &[project.into(), user.into(), id.into()],
        )
        .await?
            > 0)
    }

    async fn delete_sessions(
        &mut self,
        project: &str,
        user: &str,
        except: Option<&str>,
    ) -> StoreResult<u64> {
        match except {
            Some(keep) => {
                execute(
                    self.conn(),
                    "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id <> $3",
                    &[project.into(), user.into(), keep.into()],
                )
                .await
            }
            None => {
                execute(
                    self.conn(),
                    "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2",
                    &[project.into(), user.into()],
                )
                .await
            }
        }
    }
}
