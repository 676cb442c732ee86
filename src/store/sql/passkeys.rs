//! Passkeys and their WebAuthn ceremonies. Neither table is one the read cache holds.

use super::filter::{Listing, Scope, col};
use super::*;

const PASSKEY_COLS: &str = "id, user_id, name, created_at, updated_at, accessed_at, \
    credential_id, credential, challenge_id";
const CHALLENGE_COLS: &str = "id, user_id, passkey_id, rp_id, state, created_at, expire";

/// The attributes `account.listPasskeys` may filter and order on (Appwrite 2.5), and their
/// columns.
const LISTING: Listing = Listing {
    table: "passkeys",
    select: PASSKEY_COLS,
    search: None,
    columns: &[
        col("$id", "id", true, false),
        col("$createdAt", "created_at", false, false),
        col("$updatedAt", "updated_at", false, false),
        col("name", "name", true, false),
        col("accessedAt", "accessed_at", false, true),
    ],
};

fn passkey_from(r: &AnyRow) -> StoreResult<PasskeyRow> {
    Ok(PasskeyRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        accessed_at: r.try_get("accessed_at")?,
        credential_id: r.try_get("credential_id")?,
        credential: r.try_get("credential")?,
        challenge_id: r.try_get("challenge_id")?,
    })
}

fn challenge_from(r: &AnyRow) -> StoreResult<PasskeyChallengeRow> {
    Ok(PasskeyChallengeRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        passkey_id: r.try_get("passkey_id")?,
        rp_id: r.try_get("rp_id")?,
        state: get_secret(r, "state")?,
        created_at: r.try_get("created_at")?,
        expire: r.try_get("expire")?,
    })
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn list_passkeys(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<Page<PasskeyRow>> {
        let scope = Scope {
            condition: "project_id = $1 AND user_id = $2 AND credential_id IS NOT NULL",
            args: vec![project.into(), user.into()],
        };
        let mut conn = self.reader().await?;
        filter::run(
            &mut conn,
            &LISTING,
            query,
            self.dialect,
            scope,
            passkey_from,
        )
        .await
    }

    async fn find_passkey(&self, project: &str, id: &str) -> StoreResult<Option<PasskeyRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {PASSKEY_COLS} FROM passkeys WHERE project_id = $1 AND id = $2"),
            &[project.into(), id.into()],
            passkey_from,
        )
        .await
    }

    async fn find_passkey_by_credential(
        &self,
        project: &str,
        credential_id: &str,
    ) -> StoreResult<Option<PasskeyRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!(
                "SELECT {PASSKEY_COLS} FROM passkeys WHERE project_id = $1 AND credential_id = $2"
            ),
            &[project.into(), credential_id.into()],
            passkey_from,
        )
        .await
    }

    async fn count_passkeys(
        &self,
        project: &str,
        user: &str,
        pending_since: i64,
    ) -> StoreResult<i64> {
        let n = fetch_opt(
            &mut *self.reader().await?,
            "SELECT COUNT(*) AS n FROM passkeys WHERE project_id = $1 AND user_id = $2 \
             AND (credential_id IS NOT NULL OR updated_at >= $3)"
                .into(),
            &[project.into(), user.into(), pending_since.into()],
            |r| Ok(r.try_get::<i64, _>("n")?),
        )
        .await?;
        Ok(n.unwrap_or(0))
    }

    async fn prune_passkey_challenges(&self, before: i64) -> StoreResult<u64> {
        let mut conn = self.write.acquire().await?;
        let challenges = execute(
            &mut conn,
            "DELETE FROM passkey_challenges WHERE expire < $1",
            &[before.into()],
        )
        .await?;
        let pending = execute(
            &mut conn,
            "DELETE FROM passkeys WHERE credential_id IS NULL AND updated_at < $1",
            &[(before - PENDING_KEPT_MS).into()],
        )
        .await?;
        Ok(challenges + pending)
    }
}

/// How long a pending passkey outlives the challenges it could still be verified with.
const PENDING_KEPT_MS: i64 = 3_600_000;

fn bind_passkey<'q>(q: Q<'q>, p: &'q PasskeyRow) -> Q<'q> {
    q.bind(&p.id)
        .bind(&p.user_id)
        .bind(&p.name)
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(p.accessed_at)
        .bind(&p.credential_id)
        .bind(&p.credential)
        .bind(&p.challenge_id)
}

#[async_trait]
impl PasskeyTx for SqlTx {
    async fn put_pending_passkey(&mut self, project: &str, p: &PasskeyRow) -> StoreResult<()> {
        // The user's own pending passkey of this id starts over; anything else keeps the id.
        execute(
            self.conn_cache_safe(),
            "DELETE FROM passkeys WHERE project_id = $1 AND id = $2 AND user_id = $3 \
             AND credential_id IS NULL",
            &[
                project.into(),
                p.id.as_str().into(),
                p.user_id.as_str().into(),
            ],
        )
        .await?;
        bind_passkey(
            sqlx::query(insert_sql("passkeys", PASSKEY_COLS)).bind(project),
            p,
        )
        .execute(self.conn_cache_safe())
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn update_passkey(&mut self, project: &str, p: &PasskeyRow) -> StoreResult<()> {
        sqlx::query(
            "UPDATE passkeys SET name = $3, updated_at = $4, accessed_at = $5, \
             credential_id = $6, credential = $7, challenge_id = $8 \
             WHERE project_id = $1 AND id = $2",
        )
        .bind(project)
        .bind(&p.id)
        .bind(&p.name)
        .bind(p.updated_at)
        .bind(p.accessed_at)
        .bind(&p.credential_id)
        .bind(&p.credential)
        .bind(&p.challenge_id)
        .execute(self.conn_cache_safe())
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn rename_passkey(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<bool> {
        Ok(execute(
            self.conn_cache_safe(),
            "UPDATE passkeys SET name = $4, updated_at = $5 \
             WHERE project_id = $1 AND user_id = $2 AND id = $3 AND credential_id IS NOT NULL",
            &[
                project.into(),
                user.into(),
                id.into(),
                name.into(),
                now.into(),
            ],
        )
        .await?
            == 1)
    }

    async fn record_passkey_use(
        &mut self,
        project: &str,
        id: &str,
        seen: &str,
        credential: &str,
        now: i64,
    ) -> StoreResult<bool> {
        Ok(execute(
            self.conn_cache_safe(),
            "UPDATE passkeys SET credential = $4, accessed_at = $5 \
             WHERE project_id = $1 AND id = $2 AND credential = $3",
            &[
                project.into(),
                id.into(),
                seen.into(),
                credential.into(),
                now.into(),
            ],
        )
        .await?
            == 1)
    }

    async fn delete_passkey(&mut self, project: &str, user: &str, id: &str) -> StoreResult<bool> {
        Ok(execute(
            self.conn_cache_safe(),
            "DELETE FROM passkeys WHERE project_id = $1 AND user_id = $2 AND id = $3",
            &[project.into(), user.into(), id.into()],
        )
        .await?
            > 0)
    }

    async fn insert_passkey_challenge(
        &mut self,
        project: &str,
        c: &PasskeyChallengeRow,
    ) -> StoreResult<()> {
        sqlx::query(insert_sql("passkey_challenges", CHALLENGE_COLS))
            .bind(project)
            .bind(&c.id)
            .bind(&c.user_id)
            .bind(&c.passkey_id)
            .bind(&c.rp_id)
            .bind(c.state.expose())
            .bind(c.created_at)
            .bind(c.expire)
            .execute(self.conn_cache_safe())
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn take_passkey_challenge(
        &mut self,
        project: &str,
        id: &str,
    ) -> StoreResult<Option<PasskeyChallengeRow>> {
        let lock = self.dialect.for_update();
        let found = fetch_opt(
            self.conn_cache_safe(),
            format!(
                "SELECT {CHALLENGE_COLS} FROM passkey_challenges \
                 WHERE project_id = $1 AND id = $2{lock}"
            ),
            &[project.into(), id.into()],
            challenge_from,
        )
        .await?;
        if found.is_some() {
            execute(
                self.conn_cache_safe(),
                "DELETE FROM passkey_challenges WHERE project_id = $1 AND id = $2",
                &[project.into(), id.into()],
            )
            .await?;
        }
        Ok(found)
    }
}
