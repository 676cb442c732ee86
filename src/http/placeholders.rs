//! 2.x Account routes of things latchkey does not have, answered as Appwrite answers an
//! account that has none of them, so the newest SDKs' calls work: latchkey is not an OAuth2
//! provider yet (no consents) and serves no Teams (no memberships).

use crate::domain::queries::{self, CONSENT_ATTRIBUTES, MEMBERSHIP_ATTRIBUTES};
use crate::error::{ErrorType, Result};
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// `account.listConsents` — GET /v1/account/consents: the OAuth2 apps the user let in. None.
pub async fn list_consents(ctx: Ctx, a: Args) -> Result<Reply> {
    ctx.user()?;
    queries::parse(&a.list("queries"), ctx.legacy_queries(), CONSENT_ATTRIBUTES)?;
    Ok(Reply::json(models::list(0, "consents", vec![])))
}

/// `account.getConsent`, `deleteConsent`, `listConsentTokens`, `getConsentToken` and
/// `deleteConsentToken`: there is no consent to name.
pub async fn consent_not_found(ctx: Ctx, _: Args) -> Result<Reply> {
    ctx.user()?;
    Err(ErrorType::ConsentNotFound.into())
}

/// `account.listMemberships` — GET /v1/account/memberships: the user's team memberships.
/// None; the queries are checked against Appwrite's membership attributes.
pub async fn list_memberships(ctx: Ctx, a: Args) -> Result<Reply> {
    ctx.user()?;
    queries::parse(
        &a.list("queries"),
        ctx.legacy_queries(),
        MEMBERSHIP_ATTRIBUTES,
    )?;
    Ok(Reply::json(models::list(0, "memberships", vec![])))
}
