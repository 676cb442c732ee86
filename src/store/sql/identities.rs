//! OAuth2 identities and the filtered, paged listing of them.

use super::*;

use crate::domain::queries::{FilterOp, ListQuery};

const IDENTITY_COLS: &str = "id, user_id, created_at, updated_at, provider, provider_uid, \
    provider_email, provider_access_token, provider_access_token_expiry, provider_refresh_token";

fn identity_from(r: &AnyRow) -> StoreResult<IdentityRow> {
    Ok(IdentityRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        provider: r.try_get("provider")?,
        provider_uid: r.try_get("provider_uid")?,
        provider_email: r.try_get("provider_email")?,
        provider_access_token: r.try_get("provider_access_token")?,
        provider_access_token_expiry: r.try_get("provider_access_token_expiry")?,
        provider_refresh_token: r.try_get("provider_refresh_token")?,
    })
}

/// Maps a query attribute of `account.listIdentities` to its column (whitelisted).
fn identity_column(attribute: &str) -> Option<&'static str> {
    Some(match attribute {
        "$id" => "id",
        "$createdAt" => "created_at",
        "$updatedAt" => "updated_at",
        "userId" => "user_id",
        "provider" => "provider",
        "providerUid" => "provider_uid",
        "providerEmail" => "provider_email",
        "providerAccessTokenExpiry" => "provider_access_token_expiry",
        _ => return None,
    })
}

/// Binds a filter value: integers as BIGINT, everything else as text.
fn bind_value<'q>(q: Q<'q>, v: &serde_json::Value) -> Q<'q> {
    match v.as_i64() {
        Some(n) => q.bind(n),
        None => q.bind(
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string()),
        ),
    }
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn identity_email_taken(
        &self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM identities WHERE project_id = $1 AND provider_email = $2 AND user_id <> $3",
        )
        .bind(project)
        .bind(email)
        .bind(except_user.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    async fn list_identities(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<(Vec<IdentityRow>, i64)> {
        let mut wheres = vec!["project_id = $1".to_string(), "user_id = $2".to_string()];
        // Filter values: datetimes arrive as epoch milliseconds and bind as integers.
        let mut args: Vec<serde_json::Value> = vec![];
        let mut next = 3;
        for f in &query.filters {
            let col = identity_column(&f.attribute)
                .ok_or_else(|| StoreError::Corrupt(format!("attribute {}", f.attribute)))?;
            let op = match f.op {
                FilterOp::IsNull => {
                    wheres.push(format!("{col} IS NULL"));
                    continue;
                }
                FilterOp::IsNotNull => {
                    wheres.push(format!("{col} IS NOT NULL"));
                    continue;
                }
                FilterOp::Equal => "=",
                FilterOp::NotEqual => "<>",
                FilterOp::LessThan => "<",
                FilterOp::LessThanEqual => "<=",
                FilterOp::GreaterThan => ">",
                FilterOp::GreaterThanEqual => ">=",
                FilterOp::StartsWith | FilterOp::EndsWith => "LIKE",
            };
            let mut ors = vec![];
            for v in &f.values {
                if let Some(n) = v.as_i64().filter(|_| op != "LIKE") {
                    ors.push(format!("{col} {op} ${next}"));
                    args.push(serde_json::Value::from(n));
                    next += 1;
                    continue;
                }
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let arg = match f.op {
                    FilterOp::StartsWith => format!("{escaped}%"),
                    FilterOp::EndsWith => format!("%{escaped}"),
                    _ => text,
                };
                let escape = if op == "LIKE" { " ESCAPE '\\'" } else { "" };
                ors.push(format!("{col} {op} ${next}{escape}"));
                args.push(serde_json::Value::String(arg));
                next += 1;
            }
            let joiner = if f.op == FilterOp::NotEqual {
                " AND "
            } else {
                " OR "
            };
            wheres.push(format!("({})", ors.join(joiner)));
        }
        let filter_sql = wheres.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) AS n FROM identities WHERE {filter_sql}");
        let mut count_q = sqlx::query(AssertSqlSafe(count_sql))
            .bind(project)
            .bind(user);
        for a in &args {
            count_q = bind_value(count_q, a);
        }
        let total: i64 = count_q.fetch_one(&self.pool).await?.try_get("n")?;

        let mut page_wheres = filter_sql.clone();
        let mut page_args = args.clone();
        if let Some((cursor, after)) = &query.cursor {
            let cmp = if *after { ">" } else { "<" };
            page_wheres.push_str(&format!(
                " AND (created_at, id) {cmp} (SELECT created_at, id FROM identities WHERE project_id = $1 AND id = ${next})"
            ));
            page_args.push(serde_json::Value::String(cursor.clone()));
            next += 1;
        }
        let mut order: Vec<String> = query
            .order
            .iter()
            .filter_map(|(a, asc)| {
                identity_column(a).map(|c| format!("{c} {}", if *asc { "ASC" } else { "DESC" }))
            })
            .collect();
        order.push("created_at ASC, id ASC".into());
        let sql = format!(
            "SELECT {IDENTITY_COLS} FROM identities WHERE {page_wheres} ORDER BY {} LIMIT ${next} OFFSET ${}",
            order.join(", "),
            next + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(project).bind(user);
        for a in &page_args {
            q = bind_value(q, a);
        }
        let rows = q
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(identity_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((rows, total))
    }

    async fn find_identity(&self, project: &str, id: &str) -> StoreResult<Option<IdentityRow>> {
        self.fetch_opt(
            format!("SELECT {IDENTITY_COLS} FROM identities WHERE project_id = $1 AND id = $2"),
            &[project, id],
            identity_from,
        )
        .await
    }

    async fn create_identity(&self, project: &str, i: &IdentityRow) -> StoreResult<()> {
        sqlx::query(insert_sql("identities", IDENTITY_COLS))
            .bind(project)
            .bind(&i.id)
            .bind(&i.user_id)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(&i.provider)
            .bind(&i.provider_uid)
            .bind(&i.provider_email)
            .bind(&i.provider_access_token)
            .bind(i.provider_access_token_expiry)
            .bind(&i.provider_refresh_token)
            .execute(&self.pool)
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn delete_identity(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()> {
        self.delete_audited(
            "DELETE FROM identities WHERE project_id = $1 AND id = $2",
            &[project, id],
            project,
            audit,
        )
        .await
        .map(|_| ())
    }
}
