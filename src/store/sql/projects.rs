//! The record of configured projects.

use super::*;

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
}
