//! The outbox of accepted emails and SMS.

use super::*;

const OUTBOX_COLS: &str = "id, project_id, channel, kind, created_at, status, attempts, \
    next_attempt_at, last_error, done_at, expires_at, payload, user_id";

fn message_from(r: &AnyRow) -> StoreResult<OutboxRow> {
    Ok(OutboxRow {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        channel: r.try_get("channel")?,
        kind: r.try_get("kind")?,
        created_at: r.try_get("created_at")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        done_at: r.try_get("done_at")?,
        expires_at: r.try_get("expires_at")?,
        payload: r
            .try_get::<Option<String>, _>("payload")?
            .map(crate::secret::Secret::new),
        user_id: r.try_get("user_id")?,
    })
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn due_messages(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxRow>> {
        fetch_rows(
            &mut *self.reader().await?,
            format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at, created_at LIMIT $2"
            ),
            &[now.into(), limit.into()],
            message_from,
        )
        .await
    }

    async fn claim_messages(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        let mut claimed = fetch_rows(
            &mut *self.write.acquire().await?,
            format!(
                "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1 \
                 WHERE status = 'pending' AND id IN (SELECT id FROM outbox \
                 WHERE status = 'pending' AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at, created_at LIMIT $3{}) \
                 RETURNING {OUTBOX_COLS}",
                self.dialect.skip_locked()
            ),
            &[until.into(), now.into(), limit.into()],
            message_from,
        )
        .await?;
        // RETURNING gives no order; oldest first, as they were due.
        claimed.sort_by_key(|m| m.created_at);
        Ok(claimed)
    }

    async fn mark_sent(&self, id: &str, lease: i64, now: i64) -> StoreResult<bool> {
        Ok(execute(
            &mut *self.write.acquire().await?,
            "UPDATE outbox SET status = 'sent', done_at = $1, payload = NULL, last_error = '' \
             WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
            &[now.into(), id.into(), lease.into()],
        )
        .await?
            == 1)
    }

    async fn mark_retry(&self, id: &str, lease: i64, next: i64, error: &str) -> StoreResult<bool> {
        Ok(execute(
            &mut *self.write.acquire().await?,
            "UPDATE outbox SET next_attempt_at = $1, last_error = $2 \
             WHERE id = $3 AND status = 'pending' AND next_attempt_at = $4",
            &[next.into(), error.into(), id.into(), lease.into()],
        )
        .await?
            == 1)
    }

    async fn mark_failed(&self, id: &str, lease: i64, now: i64, error: &str) -> StoreResult<bool> {
        Ok(execute(
            &mut *self.write.acquire().await?,
            "UPDATE outbox SET status = 'failed', done_at = $1, last_error = $2, payload = NULL \
             WHERE id = $3 AND status = 'pending' AND next_attempt_at = $4",
            &[now.into(), error.into(), id.into(), lease.into()],
        )
        .await?
            == 1)
    }

    async fn prune_messages(&self, before: i64) -> StoreResult<u64> {
        execute(
            &mut *self.write.acquire().await?,
            "DELETE FROM outbox WHERE status <> 'pending' AND done_at < $1",
            &[before.into()],
        )
        .await
    }

    async fn count_messages(&self) -> StoreResult<OutboxCounts> {
        let mut conn = self.reader().await?;
        let count = |status: &'static str| {
            format!("SELECT COUNT(*) AS n FROM outbox WHERE status = '{status}'")
        };
        Ok(OutboxCounts {
            pending: fetch_count(&mut conn, count("pending"), &[]).await?,
            failed: fetch_count(&mut conn, count("failed"), &[]).await?,
        })
    }

    async fn find_message(&self, id: &str) -> StoreResult<Option<OutboxRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1"),
            &[id.into()],
            message_from,
        )
        .await
    }
}

#[async_trait]
impl OutboxTx for SqlTx {
    async fn enqueue_message(&mut self, m: &OutboxRow) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO outbox ({OUTBOX_COLS}) VALUES ({})",
            placeholders(1, OUTBOX_COLS.split(',').count())
        )))
        .bind(&m.id)
        .bind(&m.project_id)
        .bind(&m.channel)
        .bind(&m.kind)
        .bind(m.created_at)
        .bind(&m.status)
        .bind(m.attempts)
        .bind(m.next_attempt_at)
        .bind(&m.last_error)
        .bind(m.done_at)
        .bind(m.expires_at)
        .bind(m.payload.as_ref().map(|p| p.expose().to_owned()))
        .bind(&m.user_id)
        .execute(self.conn_cache_safe())
        .await
        .map_err(conflict_or)?;
        Ok(())
    }
}
