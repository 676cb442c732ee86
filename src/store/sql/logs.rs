//! Security audit records.

use super::*;

#[async_trait]
impl LogStore for SqlStore {
    async fn list_logs(
        &self,
        project: &str,
        user: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AuditRow>, i64)> {
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project)
        .bind(user)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(
            "SELECT user_id, event, resource, user_email, user_name, mode, user_type, ip, user_agent, \
             country_code, time FROM audit_logs WHERE project_id = $1 AND user_id = $2 \
             ORDER BY time DESC, seq DESC LIMIT $3 OFFSET $4",
        )
        .bind(project)
        .bind(user)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let logs = rows
            .iter()
            .map(|r| {
                Ok(AuditRow {
                    user_id: r.try_get("user_id")?,
                    event: r.try_get("event")?,
                    resource: r.try_get("resource")?,
                    user_email: r.try_get("user_email")?,
                    user_name: r.try_get("user_name")?,
                    mode: r.try_get("mode")?,
                    user_type: r.try_get("user_type")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    country_code: r.try_get("country_code")?,
                    time: r.try_get("time")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((logs, total))
    }
}
