//! Messaging targets (email, sms, push).

use super::filter::{Listing, Scope, col};
use super::*;

const TARGET_COLS: &str = "id, user_id, created_at, updated_at, name, provider_id, provider_type, \
    identifier, expired, session_id";

/// The attributes `users.listTargets` may filter and order on, and their columns.
const LISTING: Listing = Listing {
    table: "targets",
    select: TARGET_COLS,
    search: None,
    columns: &[
        col("$id", "id", true, false),
        col("$createdAt", "created_at", false, false),
        col("$updatedAt", "updated_at", false, false),
        col("userId", "user_id", true, false),
        col("providerId", "provider_id", true, true),
        col("identifier", "identifier", true, false),
        col("providerType", "provider_type", true, false),
    ],
};

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

async fn identifier_taken(
    conn: &mut AnyConnection,
    project: &str,
    identifier: &str,
) -> StoreResult<bool> {
    Ok(fetch_count(
        conn,
        "SELECT COUNT(*) AS n FROM targets WHERE project_id = $1 AND identifier = $2".into(),
        &[project.into(), identifier.into()],
    )
    .await?
        > 0)
}

#[async_trait]
impl TargetStore for SqlStore {
    async fn target_identifier_taken(&self, project: &str, identifier: &str) -> StoreResult<bool> {
        identifier_taken(&mut *self.reader().await?, project, identifier).await
    }

    async fn list_targets(&self, project: &str, user: &str) -> StoreResult<Vec<TargetRow>> {
        if let Some(hit) = self.cache.targets(project, user) {
            return Ok(hit);
        }
        let tick = self.cache.tick();
        let rows = fetch_rows(
            &mut *self.reader().await?,
            format!(
                "SELECT {TARGET_COLS} FROM targets WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, id"
            ),
            &[project.into(), user.into()],
            target_from,
        )
        .await?;
        self.cache.put_targets(project, user, rows.clone(), tick);
        Ok(rows)
    }

    async fn list_targets_page(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<Page<TargetRow>> {
        let scope = Scope {
            condition: "project_id = $1 AND user_id = $2",
            args: vec![project.into(), user.into()],
        };
        let mut conn = self.reader().await?;
        filter::run(&mut conn, &LISTING, query, self.dialect, scope, target_from).await
    }

    async fn find_target(&self, project: &str, id: &str) -> StoreResult<Option<TargetRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {TARGET_COLS} FROM targets WHERE project_id = $1 AND id = $2"),
            &[project.into(), id.into()],
            target_from,
        )
        .await
    }
}

#[async_trait]
impl TargetTx for SqlTx {
    async fn target_identifier_taken(
        &mut self,
        project: &str,
        identifier: &str,
    ) -> StoreResult<bool> {
        identifier_taken(self.conn_cache_safe(), project, identifier).await
    }

    async fn insert_target(&mut self, project: &str, target: &TargetRow) -> StoreResult<()> {
        bind_target(
            sqlx::query(insert_sql("targets", TARGET_COLS)).bind(project),
            target,
        )
        .execute(self.conn_for(project, &target.user_id))
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn insert_targets(&mut self, project: &str, rows: &[TargetRow]) -> StoreResult<()> {
        let dialect = self.dialect;
        insert_many(
            self.conn(),
            dialect,
            "targets",
            TARGET_COLS,
            project,
            rows,
            bind_target,
        )
        .await
    }

    async fn update_target(&mut self, project: &str, t: &TargetRow) -> StoreResult<()> {
        sqlx::query(
            "UPDATE targets SET identifier = $1, name = $2, expired = $3, updated_at = $4, \
             provider_id = $5 WHERE project_id = $6 AND id = $7",
        )
        .bind(&t.identifier)
        .bind(&t.name)
        .bind(b(t.expired))
        .bind(t.updated_at)
        .bind(&t.provider_id)
        .bind(project)
        .bind(&t.id)
        .execute(self.conn())
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn rename_target(
        &mut self,
        project: &str,
        user: &str,
        old: &str,
        new: &str,
        now: i64,
    ) -> StoreResult<()> {
        execute(
            self.conn(),
            "UPDATE targets SET identifier = $1, updated_at = $2 \
             WHERE project_id = $3 AND user_id = $4 AND identifier = $5",
            &[
                new.into(),
                now.into(),
                project.into(),
                user.into(),
                old.into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn repoint_push_targets(
        &mut self,
        project: &str,
        user: &str,
        old_session: &str,
        new_session: &str,
        now: i64,
    ) -> StoreResult<u64> {
        execute(
            self.conn(),
            "UPDATE targets SET session_id = $1, updated_at = $2 \
             WHERE project_id = $3 AND user_id = $4 AND provider_type = 'push' AND session_id = $5",
            &[
                new_session.into(),
                now.into(),
                project.into(),
                user.into(),
                old_session.into(),
            ],
        )
        .await
    }

    async fn delete_user_target(
        &mut self,
        project: &str,
        user: &str,
        identifier: &str,
        provider_type: &str,
    ) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM targets WHERE project_id = $1 AND user_id = $2 AND identifier = $3 \
             AND provider_type = $4",
            &[
                project.into(),
                user.into(),
                identifier.into(),
                provider_type.into(),
            ],
        )
        .await?
            == 1)
    }

    async fn delete_target(&mut self, project: &str, id: &str) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM targets WHERE project_id = $1 AND id = $2",
            &[project.into(), id.into()],
        )
        .await?
            > 0)
    }
}
