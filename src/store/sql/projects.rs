//! The record of configured projects, and the API keys made with the CLI.

use super::*;

const KEY_COLS: &str = "project_id, id, name, scopes, secret_hash, expire, created_at";

fn key_from(r: &AnyRow) -> StoreResult<KeyRow> {
    Ok(KeyRow {
        project_id: r.try_get("project_id")?,
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        scopes: r.try_get("scopes")?,
        secret_hash: r.try_get("secret_hash")?,
        expire: r.try_get("expire")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait]
impl ProjectStore for SqlStore {
    async fn list_projects(&self) -> StoreResult<Vec<ProjectRow>> {
        fetch_rows(
            &mut *self.reader().await?,
            "SELECT id, name, settings FROM projects ORDER BY id".into(),
            &[],
            |r| {
                Ok(ProjectRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    settings: r.try_get("settings")?,
                })
            },
        )
        .await
    }

    async fn upsert_project(&self, p: &ProjectRow, now: i64) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        execute(
            &mut conn,
            "INSERT INTO projects (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, settings = excluded.settings, \
             updated_at = excluded.updated_at",
            &[p.id.as_str().into(), p.name.as_str().into(), p.settings.as_str().into(), now.into()],
        )
        .await?;
        Ok(())
    }

    async fn list_keys(&self, project: &str) -> StoreResult<Vec<KeyRow>> {
        fetch_rows(
            &mut *self.reader().await?,
            format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE project_id = $1 ORDER BY created_at, id"
            ),
            &[project.into()],
            key_from,
        )
        .await
    }

    async fn find_key_by_secret_hash(&self, secret_hash: &str) -> StoreResult<Option<KeyRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {KEY_COLS} FROM api_keys WHERE secret_hash = $1"),
            &[secret_hash.into()],
            key_from,
        )
        .await
    }

    async fn insert_key(&self, k: &KeyRow) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO api_keys ({KEY_COLS}) VALUES ({})",
            placeholders(1, 7)
        )))
        .bind(&k.project_id)
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.scopes)
        .bind(&k.secret_hash)
        .bind(k.expire)
        .bind(k.created_at)
        .execute(&mut *conn)
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn delete_key(&self, project: &str, id: &str) -> StoreResult<bool> {
        let mut conn = self.write.acquire().await?;
        Ok(execute(
            &mut conn,
            "DELETE FROM api_keys WHERE project_id = $1 AND id = $2",
            &[project.into(), id.into()],
        )
        .await?
            == 1)
    }
}
