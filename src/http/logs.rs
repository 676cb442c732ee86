//! `account.listLogs` — GET /v1/account/logs: the user's security audit trail (Appwrite 1.9.6).

use crate::domain::queries::{self, MAX_QUERIES};
use crate::error::Result;
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::identities::legacy_queries;
use crate::http::models;
use crate::http::reply::{Model, Reply};

/// Newest first; only `limit` and `offset` queries are allowed.
pub async fn list_logs(ctx: Ctx, p: Params) -> Result<Reply> {
    let raw = p.string_list("queries", MAX_QUERIES)?;
    let total_wanted = p.loose_bool("total", true)?;
    let query = queries::parse(&raw, legacy_queries(&ctx), &[], &[])?;
    let user = ctx.user()?;
    let (rows, total) = ctx
        .state
        .store
        .list_logs(&ctx.project.id, &user.id, query.limit, query.offset)
        .await?;
    Ok(Reply::ok(
        Model::LogList,
        models::list(
            if total_wanted { total } else { 0 },
            "logs",
            rows.iter().map(models::log).collect(),
        ),
    ))
}
