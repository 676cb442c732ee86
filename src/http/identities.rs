//! OAuth2 identities of the signed-in user (spec §5.18).

use crate::domain::identities;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::store::{IdentityRow, Page};
use serde_json::Value;

/// `account.listIdentities` — GET /v1/account/identities.
pub async fn list_identities(ctx: Ctx, a: Args) -> Result<Reply> {
    let page = identities::list(
        &ctx.env(),
        ctx.user()?,
        &a.list("queries"),
        ctx.legacy_queries(),
    )
    .await?;
    Ok(Reply::json(identity_list(&ctx, &page, a.bool("total")?)))
}

/// The IdentityList model of a page, provider tokens opened for display.
pub(crate) fn identity_list(ctx: &Ctx, page: &Page<IdentityRow>, with_total: bool) -> Value {
    models::page(page, with_total, "identities", |i| {
        models::identity(&crate::domain::oauth2::revealed_identity(
            &ctx.state.sealer,
            &ctx.project.id,
            i,
        ))
    })
}

/// `account.deleteIdentity` — DELETE /v1/account/identities/:identityId.
pub async fn delete_identity(ctx: Ctx, a: Args) -> Result<Reply> {
    identities::delete(&ctx.env(), ctx.user()?, a.str("identityId")?).await?;
    Ok(Reply::empty())
}
