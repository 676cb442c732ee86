//! Tokens of the passwordless, verification and recovery flows.

use super::*;

const TOKEN_COLS: &str = "id, user_id, created_at, type, secret_hash, expire";

fn token_from(r: &AnyRow) -> StoreResult<TokenRow> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        kind: r.try_get("type")?,
        secret_hash: get_secret(r, "secret_hash")?,
        expire: r.try_get("expire")?,
    })
}

/// `$from, …` placeholders for `kinds` and their bound values.
fn kinds_in(from: usize, kinds: &[i64]) -> (String, Vec<Arg>) {
    (
        placeholders(from, kinds.len()),
        kinds.iter().map(|k| Arg::Int(*k)).collect(),
    )
}

async fn run(conn: &mut AnyConnection, sql: String, args: &[Arg]) -> StoreResult<u64> {
    Ok(bind_args(sqlx::query(AssertSqlSafe(sql)), args)
        .execute(conn)
        .await?
        .rows_affected())
}

async fn by_secret_hash(
    conn: &mut AnyConnection,
    project: &str,
    user: &str,
    secret_hash: &str,
) -> StoreResult<Vec<TokenRow>> {
    fetch_rows(
        conn,
        format!(
            "SELECT {TOKEN_COLS} FROM tokens \
             WHERE project_id = $1 AND user_id = $2 AND secret_hash = $3 ORDER BY created_at, id"
        ),
        &[project.into(), user.into(), secret_hash.into()],
        token_from,
    )
    .await
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn prune_tokens(&self, before: i64) -> StoreResult<u64> {
        execute(
            &mut *self.write.acquire().await?,
            "DELETE FROM tokens WHERE expire < $1",
            &[before.into()],
        )
        .await
    }

    async fn find_tokens_by_secret_hash(
        &self,
        project: &str,
        user: &str,
        secret_hash: &str,
    ) -> StoreResult<Vec<TokenRow>> {
        by_secret_hash(&mut *self.reader().await?, project, user, secret_hash).await
    }
}

#[async_trait]
impl TokenTx for SqlTx {
    async fn find_tokens_by_secret_hash(
        &mut self,
        project: &str,
        user: &str,
        secret_hash: &str,
    ) -> StoreResult<Vec<TokenRow>> {
        by_secret_hash(self.conn(), project, user, secret_hash).await
    }

    async fn insert_token(&mut self, project: &str, t: &TokenRow) -> StoreResult<()> {
        sqlx::query(insert_sql("tokens", TOKEN_COLS))
            .bind(project)
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(t.created_at)
            .bind(t.kind)
            .bind(t.secret_hash.expose())
            .bind(t.expire)
            .execute(self.conn())
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn delete_user_tokens(
        &mut self,
        project: &str,
        user: &str,
        kinds: &[i64],
    ) -> StoreResult<u64> {
        if kinds.is_empty() {
            return Ok(0);
        }
        let (list, mut args) = kinds_in(3, kinds);
        args.splice(0..0, [project.into(), user.into()]);
        run(
            self.conn(),
            format!(
                "DELETE FROM tokens WHERE project_id = $1 AND user_id = $2 AND type IN ({list})"
            ),
            &args,
        )
        .await
    }

    async fn record_failed_attempt(
        &mut self,
        project: &str,
        user: &str,
        kinds: &[i64],
        max: i64,
    ) -> StoreResult<()> {
        if kinds.is_empty() {
            return Ok(());
        }
        let (list, mut args) = kinds_in(3, kinds);
        args.splice(0..0, [project.into(), user.into()]);
        run(
            self.conn(),
            format!(
                "UPDATE tokens SET attempts = attempts + 1 \
                 WHERE project_id = $1 AND user_id = $2 AND type IN ({list})"
            ),
            &args,
        )
        .await?;
        let (list, mut args) = kinds_in(4, kinds);
        args.splice(0..0, [project.into(), user.into(), max.into()]);
        run(
            self.conn(),
            format!(
                "DELETE FROM tokens WHERE project_id = $1 AND user_id = $2 AND attempts > $3 \
                 AND type IN ({list})"
            ),
            &args,
        )
        .await?;
        Ok(())
    }

    async fn delete_token(&mut self, project: &str, id: &str) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM tokens WHERE project_id = $1 AND id = $2",
            &[project.into(), id.into()],
        )
        .await?
            > 0)
    }
}
