//! OAuth2 identities of the signed-in user (spec §5.18); OAuth2 sign-in creates them later.

use crate::domain::queries::{self, MAX_QUERIES};
use crate::error::{ErrorType, Result};
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::reply::{Model, Reply};

/// Attributes `account.listIdentities` may filter and order on.
const ATTRIBUTES: &[&str] = &[
    "userId",
    "provider",
    "providerUid",
    "providerEmail",
    "providerAccessTokenExpiry",
    "$id",
    "$createdAt",
    "$updatedAt",
];
/// The attributes among them that hold datetimes.
const DATETIMES: &[&str] = &["providerAccessTokenExpiry", "$createdAt", "$updatedAt"];
/// Appwrite counts at most this many for `total`.
const MAX_COUNT: i64 = 5000;

/// Whether the client speaks the pre-1.5 query syntax.
pub fn legacy_queries(ctx: &Ctx) -> bool {
    ctx.request.format.is_some_and(|f| f < (1, 5, 0))
}

/// `account.listIdentities` — GET /v1/account/identities.
pub async fn list_identities(ctx: Ctx, p: Params) -> Result<Reply> {
    let raw = p.string_list("queries", MAX_QUERIES)?;
    let total_wanted = p.loose_bool("total", true)?;
    let query = queries::parse(&raw, legacy_queries(&ctx), ATTRIBUTES, DATETIMES)?;
    let user = ctx.user()?;
    if let Some((cursor, _)) = &query.cursor {
        let exists = ctx
            .state
            .store
            .find_identity(&ctx.project.id, cursor)
            .await?
            .is_some_and(|i| i.user_id == user.id);
        if !exists {
            return Err(
                crate::error::Error::from(ErrorType::GeneralCursorNotFound).with_message(format!(
                    "Identity '{cursor}' for the 'cursor' value not found."
                )),
            );
        }
    }
    let (rows, total) = ctx
        .state
        .store
        .list_identities(&ctx.project.id, &user.id, &query)
        .await?;
    let total = if total_wanted {
        total.min(MAX_COUNT)
    } else {
        0
    };
    Ok(Reply::ok(
        Model::IdentityList,
        models::list(
            total,
            "identities",
            rows.iter().map(models::identity).collect(),
        ),
    ))
}

/// `account.deleteIdentity` — DELETE /v1/account/identities/:identityId.
pub async fn delete_identity(ctx: Ctx, _: Params) -> Result<Reply> {
    let user = ctx.user()?;
    let identity = ctx
        .state
        .store
        .find_identity(&ctx.project.id, ctx.path("identityId"))
        .await?
        .ok_or(ErrorType::UserIdentityNotFound)?;
    if identity.user_id != user.id {
        // Appwrite fails on document permissions here rather than saying "not found".
        return Err(ErrorType::UserUnauthorized.into());
    }
    let audit = ctx
        .env()
        .audit(user, "identity.delete", format!("identity/{}", identity.id));
    ctx.state
        .store
        .delete_identity(&ctx.project.id, &identity.id, &audit)
        .await?;
    Ok(Reply::no_content())
}
