//! The user's security audit trail (`account.listLogs`, Appwrite 1.9.6).

use crate::domain::Env;
use crate::domain::queries;
use crate::error::Result;
use crate::store::{AuditRow, Page, UserRow};

/// Newest first; only `limit` and `offset` queries are allowed.
pub async fn list(
    env: &Env<'_>,
    user: &UserRow,
    raw_queries: &[String],
    legacy_syntax: bool,
) -> Result<Page<AuditRow>> {
    let query = queries::parse(raw_queries, legacy_syntax, &[])?;
    Ok(env
        .store
        .list_logs(env.pid(), &user.id, query.limit, query.offset)
        .await?)
}
