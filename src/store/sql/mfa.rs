//! MFA authenticators, challenges and recovery codes.

use super::*;

const AUTHENTICATOR_COLS: &str =
    "id, user_id, type, verified, secret, last_step, created_at, updated_at";
const CHALLENGE_COLS: &str = "id, user_id, type, code, attempts, created_at, expire";

fn authenticator_from(r: &AnyRow) -> StoreResult<AuthenticatorRow> {
    Ok(AuthenticatorRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        kind: r.try_get("type")?,
        verified: get_bool(r, "verified")?,
        secret: get_secret(r, "secret")?,
        last_step: r.try_get("last_step")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn challenge_from(r: &AnyRow) -> StoreResult<ChallengeRow> {
    Ok(ChallengeRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        kind: r.try_get("type")?,
        code: r
            .try_get::<Option<String>, _>("code")?
            .map(crate::secret::Secret::new),
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
        expire: r.try_get("expire")?,
    })
}

async fn authenticator(
    conn: &mut AnyConnection,
    project: &str,
    user: &str,
    kind: &str,
    lock: &str,
) -> StoreResult<Option<AuthenticatorRow>> {
    fetch_opt(
        conn,
        format!(
            "SELECT {AUTHENTICATOR_COLS} FROM authenticators \
             WHERE project_id = $1 AND user_id = $2 AND type = $3{lock}"
        ),
        &[project.into(), user.into(), kind.into()],
        authenticator_from,
    )
    .await
}

async fn challenge(
    conn: &mut AnyConnection,
    project: &str,
    id: &str,
    lock: &str,
) -> StoreResult<Option<ChallengeRow>> {
    fetch_opt(
        conn,
        format!(
            "SELECT {CHALLENGE_COLS} FROM mfa_challenges WHERE project_id = $1 AND id = $2{lock}"
        ),
        &[project.into(), id.into()],
        challenge_from,
    )
    .await
}

async fn recovery_codes(
    conn: &mut AnyConnection,
    project: &str,
    user: &str,
    lock: &str,
) -> StoreResult<Option<Secret>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT codes FROM recovery_codes WHERE project_id = $1 AND user_id = $2{lock}"
    )))
    .bind(project)
    .bind(user)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(|r| get_secret(r, "codes")).transpose()
}

#[async_trait]
impl MfaStore for SqlStore {
    async fn find_authenticator(
        &self,
        project: &str,
        user: &str,
        kind: &str,
    ) -> StoreResult<Option<AuthenticatorRow>> {
        authenticator(&mut *self.reader().await?, project, user, kind, "").await
    }

    async fn find_challenge(&self, project: &str, id: &str) -> StoreResult<Option<ChallengeRow>> {
        challenge(&mut *self.reader().await?, project, id, "").await
    }

    async fn find_recovery_codes(&self, project: &str, user: &str) -> StoreResult<Option<Secret>> {
        recovery_codes(&mut *self.reader().await?, project, user, "").await
    }

    async fn prune_challenges(&self, before: i64) -> StoreResult<u64> {
        execute(
            &mut *self.write.acquire().await?,
            "DELETE FROM mfa_challenges WHERE expire < $1",
            &[before.into()],
        )
        .await
    }
}

#[async_trait]
impl MfaTx for SqlTx {
    async fn lock_authenticator(
        &mut self,
        project: &str,
        user: &str,
        kind: &str,
    ) -> StoreResult<Option<AuthenticatorRow>> {
        let lock = self.dialect.for_update();
        authenticator(self.conn(), project, user, kind, lock).await
    }

    async fn insert_authenticator(
        &mut self,
        project: &str,
        a: &AuthenticatorRow,
    ) -> StoreResult<()> {
        sqlx::query(insert_sql("authenticators", AUTHENTICATOR_COLS))
            .bind(project)
            .bind(&a.id)
            .bind(&a.user_id)
            .bind(&a.kind)
            .bind(b(a.verified))
            .bind(a.secret.expose())
            .bind(a.last_step)
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(self.conn())
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn update_authenticator(
        &mut self,
        project: &str,
        a: &AuthenticatorRow,
    ) -> StoreResult<()> {
        execute(
            self.conn(),
            "UPDATE authenticators SET verified = $1, last_step = $2, updated_at = $3 \
             WHERE project_id = $4 AND id = $5",
            &[
                b(a.verified).into(),
                a.last_step.into(),
                a.updated_at.into(),
                project.into(),
                a.id.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_authenticator(
        &mut self,
        project: &str,
        user: &str,
        kind: &str,
    ) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM authenticators WHERE project_id = $1 AND user_id = $2 AND type = $3",
            &[project.into(), user.into(), kind.into()],
        )
        .await?
            > 0)
    }

    async fn insert_challenge(&mut self, project: &str, c: &ChallengeRow) -> StoreResult<()> {
        sqlx::query(insert_sql("mfa_challenges", CHALLENGE_COLS))
            .bind(project)
            .bind(&c.id)
            .bind(&c.user_id)
            .bind(&c.kind)
            .bind(c.code.as_ref().map(|s| s.expose().to_owned()))
            .bind(c.attempts)
            .bind(c.created_at)
            .bind(c.expire)
            .execute(self.conn())
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn lock_challenge(
        &mut self,
        project: &str,
        id: &str,
    ) -> StoreResult<Option<ChallengeRow>> {
        let lock = self.dialect.for_update();
        challenge(self.conn(), project, id, lock).await
    }

    async fn bump_challenge_attempts(&mut self, project: &str, id: &str) -> StoreResult<()> {
        execute(
            self.conn(),
            "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE project_id = $1 AND id = $2",
            &[project.into(), id.into()],
        )
        .await?;
        Ok(())
    }

    async fn delete_challenge(&mut self, project: &str, id: &str) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM mfa_challenges WHERE project_id = $1 AND id = $2",
            &[project.into(), id.into()],
        )
        .await?
            > 0)
    }

    async fn lock_recovery_codes(
        &mut self,
        project: &str,
        user: &str,
    ) -> StoreResult<Option<Secret>> {
        let lock = self.dialect.for_update();
        recovery_codes(self.conn(), project, user, lock).await
    }

    async fn put_recovery_codes(
        &mut self,
        project: &str,
        user: &str,
        codes: &Secret,
        now: i64,
    ) -> StoreResult<()> {
        execute(
            self.conn(),
            "INSERT INTO recovery_codes (project_id, user_id, codes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, user_id) \
             DO UPDATE SET codes = excluded.codes, updated_at = excluded.updated_at",
            &[
                project.into(),
                user.into(),
                codes.expose().into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }
}
