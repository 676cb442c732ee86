//! Security audit records, with the user agent parsed when they are written.

use super::sessions::ua_from;
use super::*;

const AUDIT_COLS: &str = "user_id, event, resource, user_email, user_name, mode, user_type, ip, \
    user_agent, os_code, os_name, os_version, client_type, client_code, client_name, \
    client_version, client_engine, client_engine_version, device_name, device_brand, \
    device_model, country_code, time";

pub(super) async fn insert(
    conn: &mut AnyConnection,
    project: &str,
    a: &AuditRow,
) -> StoreResult<()> {
    sqlx::query(insert_sql("audit_logs", AUDIT_COLS))
        .bind(project)
        .bind(&a.user_id)
        .bind(&a.event)
        .bind(&a.resource)
        .bind(&a.user_email)
        .bind(&a.user_name)
        .bind(&a.mode)
        .bind(&a.user_type)
        .bind(&a.ip)
        .bind(&a.user_agent)
        .bind(&a.ua.os_code)
        .bind(&a.ua.os_name)
        .bind(&a.ua.os_version)
        .bind(&a.ua.client_type)
        .bind(&a.ua.client_code)
        .bind(&a.ua.client_name)
        .bind(&a.ua.client_version)
        .bind(&a.ua.client_engine)
        .bind(&a.ua.client_engine_version)
        .bind(&a.ua.device_name)
        .bind(&a.ua.device_brand)
        .bind(&a.ua.device_model)
        .bind(&a.country_code)
        .bind(a.time)
        .execute(conn)
        .await?;
    Ok(())
}

fn audit_from(r: &AnyRow) -> StoreResult<AuditRow> {
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
        ua: ua_from(r)?,
        country_code: r.try_get("country_code")?,
        time: r.try_get("time")?,
    })
}

#[async_trait]
impl LogStore for SqlStore {
    async fn list_logs(
        &self,
        project: &str,
        user: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<AuditRow>> {
        let mut conn = self.reader().await?;
        let mut tx = snapshot(&mut conn, self.dialect).await?;
        let total = fetch_count(
            &mut tx,
            "SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = $1 AND user_id = $2".into(),
            &[project.into(), user.into()],
        )
        .await?;
        let rows = fetch_rows(
            &mut tx,
            format!(
                "SELECT {AUDIT_COLS} FROM audit_logs WHERE project_id = $1 AND user_id = $2 \
                 ORDER BY time DESC, seq DESC LIMIT $3 OFFSET $4"
            ),
            &[project.into(), user.into(), limit.into(), offset.into()],
            audit_from,
        )
        .await?;
        tx.commit().await?;
        Ok(Page { rows, total })
    }
}
