//! JWT signing keys and the refresh tokens of short JWTs. Neither table is one the read cache
//! holds, so their statements never invalidate it.

use super::*;

const KEY_COLS: &str = "id, alg, private_key, public_jwk, created_at, retired_at";
const REFRESH_COLS: &str =
    "id, family_id, user_id, session_id, secret_hash, duration, created_at, spent_at, expire";

fn key_from(r: &AnyRow) -> StoreResult<JwtKeyRow> {
    Ok(JwtKeyRow {
        id: r.try_get("id")?,
        alg: r.try_get("alg")?,
        private_key: r.try_get("private_key")?,
        public_jwk: r.try_get("public_jwk")?,
        created_at: r.try_get("created_at")?,
        retired_at: r.try_get("retired_at")?,
    })
}

fn refresh_from(r: &AnyRow) -> StoreResult<RefreshTokenRow> {
    Ok(RefreshTokenRow {
        id: r.try_get("id")?,
        family_id: r.try_get("family_id")?,
        user_id: r.try_get("user_id")?,
        session_id: r.try_get("session_id")?,
        secret_hash: get_secret(r, "secret_hash")?,
        duration: r.try_get("duration")?,
        created_at: r.try_get("created_at")?,
        spent_at: r.try_get("spent_at")?,
        expire: r.try_get("expire")?,
    })
}

#[async_trait]
impl JwtStore for SqlStore {
    async fn list_jwt_keys(&self, project: &str) -> StoreResult<Vec<JwtKeyRow>> {
        fetch_rows(
            &mut *self.reader().await?,
            format!(
                "SELECT {KEY_COLS} FROM jwt_keys WHERE project_id = $1 \
                 ORDER BY created_at DESC, id DESC"
            ),
            &[project.into()],
            key_from,
        )
        .await
    }

    async fn find_refresh_token(
        &self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<RefreshTokenRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!(
                "SELECT {REFRESH_COLS} FROM jwt_refresh_tokens \
                 WHERE secret_hash = $1 AND project_id = $2"
            ),
            &[secret_hash.into(), project.into()],
            refresh_from,
        )
        .await
    }

    async fn prune_jwt_keys(&self, before: i64) -> StoreResult<u64> {
        execute(
            &mut *self.write.acquire().await?,
            "DELETE FROM jwt_keys WHERE retired_at IS NOT NULL AND retired_at < $1",
            &[before.into()],
        )
        .await
    }

    async fn prune_refresh_tokens(&self, before: i64) -> StoreResult<u64> {
        execute(
            &mut *self.write.acquire().await?,
            "DELETE FROM jwt_refresh_tokens WHERE expire < $1",
            &[before.into()],
        )
        .await
    }
}

#[async_trait]
impl JwtTx for SqlTx {
    async fn insert_jwt_key(&mut self, project: &str, k: &JwtKeyRow) -> StoreResult<()> {
        sqlx::query(insert_sql("jwt_keys", KEY_COLS))
            .bind(project)
            .bind(&k.id)
            .bind(&k.alg)
            .bind(&k.private_key)
            .bind(&k.public_jwk)
            .bind(k.created_at)
            .bind(k.retired_at)
            .execute(self.conn_cache_safe())
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn retire_jwt_key(&mut self, project: &str, now: i64) -> StoreResult<bool> {
        Ok(execute(
            self.conn_cache_safe(),
            "UPDATE jwt_keys SET retired_at = $2 WHERE project_id = $1 AND retired_at IS NULL",
            &[project.into(), now.into()],
        )
        .await?
            > 0)
    }

    async fn insert_refresh_token(
        &mut self,
        project: &str,
        t: &RefreshTokenRow,
    ) -> StoreResult<()> {
        sqlx::query(insert_sql("jwt_refresh_tokens", REFRESH_COLS))
            .bind(project)
            .bind(&t.id)
            .bind(&t.family_id)
            .bind(&t.user_id)
            .bind(&t.session_id)
            .bind(t.secret_hash.expose())
            .bind(t.duration)
            .bind(t.created_at)
            .bind(t.spent_at)
            .bind(t.expire)
            .execute(self.conn_cache_safe())
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn lock_refresh_token(
        &mut self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<RefreshTokenRow>> {
        let lock = self.dialect.for_update();
        fetch_opt(
            self.conn_cache_safe(),
            format!(
                "SELECT {REFRESH_COLS} FROM jwt_refresh_tokens \
                 WHERE secret_hash = $1 AND project_id = $2{lock}"
            ),
            &[secret_hash.into(), project.into()],
            refresh_from,
        )
        .await
    }

    async fn spend_refresh_token(
        &mut self,
        project: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        Ok(execute(
            self.conn_cache_safe(),
            "UPDATE jwt_refresh_tokens SET spent_at = $3 \
             WHERE project_id = $1 AND id = $2 AND spent_at IS NULL",
            &[project.into(), id.into(), now.into()],
        )
        .await?
            == 1)
    }

    async fn trim_refresh_family(
        &mut self,
        project: &str,
        family: &str,
        keep: &str,
    ) -> StoreResult<u64> {
        execute(
            self.conn_cache_safe(),
            "DELETE FROM jwt_refresh_tokens WHERE project_id = $1 AND family_id = $2 \
             AND spent_at IS NOT NULL AND id <> $3",
            &[project.into(), family.into(), keep.into()],
        )
        .await
    }

    async fn trim_refresh_families(
        &mut self,
        project: &str,
        session: &str,
        keep: i64,
    ) -> StoreResult<u64> {
        execute(
            self.conn_cache_safe(),
            "DELETE FROM jwt_refresh_tokens WHERE project_id = $1 AND session_id = $2 \
             AND family_id NOT IN (SELECT family_id FROM jwt_refresh_tokens \
             WHERE project_id = $1 AND session_id = $2 GROUP BY family_id \
             ORDER BY MAX(created_at) DESC, family_id DESC LIMIT $3)",
            &[project.into(), session.into(), keep.into()],
        )
        .await
    }

    async fn delete_refresh_family(&mut self, project: &str, family: &str) -> StoreResult<u64> {
        execute(
            self.conn_cache_safe(),
            "DELETE FROM jwt_refresh_tokens WHERE project_id = $1 AND family_id = $2",
            &[project.into(), family.into()],
        )
        .await
    }
}
