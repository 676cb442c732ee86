//! Push targets of the signed-in user (spec §5.17).

use crate::domain::targets;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// `account.createPushTarget` — POST /v1/account/targets/push.
pub async fn create_push_target(ctx: Ctx, a: Args) -> Result<Reply> {
    let target = targets::create_push_target(
        &ctx.env(),
        ctx.user()?,
        ctx.current_session(),
        a.custom_id("targetId")?,
        a.str("identifier")?.to_owned(),
        a.opt_str("providerId").map(str::to_owned),
    )
    .await?;
    Ok(Reply::json(models::target(&target)))
}

/// `account.updatePushTarget` — PUT /v1/account/targets/:targetId/push.
pub async fn update_push_target(ctx: Ctx, a: Args) -> Result<Reply> {
    let target = targets::update_push_target(
        &ctx.env(),
        ctx.user()?,
        ctx.current_session(),
        a.str("targetId")?,
        a.str("identifier")?.to_owned(),
    )
    .await?;
    Ok(Reply::json(models::target(&target)))
}

/// `account.deletePushTarget` — DELETE /v1/account/targets/:targetId/push.
pub async fn delete_push_target(ctx: Ctx, a: Args) -> Result<Reply> {
    targets::delete_push_target(&ctx.env(), ctx.user()?, a.str("targetId")?).await?;
    Ok(Reply::empty())
}
