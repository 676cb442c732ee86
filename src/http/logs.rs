//! `account.listLogs` — GET /v1/account/logs: the user's security audit trail (Appwrite 1.9.6).

use crate::domain::logs;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// Newest first; only `limit` and `offset` queries are allowed.
pub async fn list_logs(ctx: Ctx, a: Args) -> Result<Reply> {
    let page = logs::list(
        &ctx.env(),
        ctx.user()?,
        &a.list("queries"),
        ctx.legacy_queries(),
    )
    .await?;
    Ok(Reply::json(models::page(
        &page,
        a.bool("total")?,
        "logs",
        |l| models::log(l, &ctx.client.locale),
    )))
}
