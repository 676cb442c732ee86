//! Messaging targets (email, sms, push).

use super::*;

const TARGET_COLS: &str = "id, user_id, created_at, updated_at, name, provider_id, provider_type, \
    identifier, expired, session_id";

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

pub(super) async fn insert_target(
    conn: &mut sqlx::AnyConnection,
    project: &str,
    t: &TargetRow,
) -> StoreResult<()> {
    insert_row(conn, "targets", TARGET_COLS, bind_target, project, t).await
}

#[async_trait]
impl TargetStore for SqlStore {
    async fn target_identifier_taken(&self, project: &str, identifier: &str) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM targets WHERE project_id = $1 AND identifier = $2")
                .bind(project)
                .bind(identifier)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    async fn list_targets(&self, project: &str, user: &str) -> StoreResult<Vec<TargetRow>> {
        self.fetch_rows(
            format!(
                "SELECT {TARGET_COLS} FROM targets WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, id"
            ),
            &[project, user],
            target_from,
        )
        .await
    }

    async fn find_target(&self, project: &str, id: &str) -> StoreResult<Option<TargetRow>> {
        self.fetch_opt(
            format!("SELECT {TARGET_COLS} FROM targets WHERE project_id = $1 AND id = $2"),
            &[project, id],
            target_from,
        )
        .await
    }

    async fn create_target(
        &self,
        project: &str,
        target: &TargetRow,
        audit: &AuditRow,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_target(&mut tx, project, target).await?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_target(
        &self,
        project: &str,
        t: &TargetRow,
        audit: &AuditRow,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE targets SET identifier = $1, name = $2, expired = $3, updated_at = $4 \
             WHERE project_id = $5 AND id = $6",
        )
        .bind(&t.identifier)
        .bind(&t.name)
        .bind(b(t.expired))
        .bind(t.updated_at)
        .bind(project)
        .bind(&t.id)
        .execute(&mut *tx)
        .await
        .map_err(conflict_or)?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_target(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()> {
        self.delete_audited(
            "DELETE FROM targets WHERE project_id = $1 AND id = $2",
            &[project, id],
            project,
            audit,
        )
        .await
        .map(|_| ())
    }
}
