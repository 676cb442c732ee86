//! A user's sessions, tokens, JWTs, MFA and targets as the server manages them.

use serde_json::json;

use crate::domain::users::access::{self, NewTarget, TargetChange};
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::http::sessions::revealed;
use crate::http::users::user_reply;

/// `users.listSessions` — GET /v1/users/:userId/sessions.
pub async fn list_sessions(ctx: Ctx, a: Args) -> Result<Reply> {
    let page = access::list_sessions(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::page(
        &page,
        a.bool("total")?,
        "sessions",
        |s| models::session(&revealed(&ctx, s), false, "", &ctx.client.locale),
    )))
}

/// `users.createSession` — POST /v1/users/:userId/sessions: the encoded session as `secret`,
/// for the server to hand to its client; no cookies (the caller is a server).
pub async fn create_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let (_, new) = access::create_session(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::session(
        &new.session,
        false,
        new.encoded.expose(),
        &ctx.client.locale,
    )))
}

/// `users.deleteSessions` — DELETE /v1/users/:userId/sessions.
pub async fn delete_sessions(ctx: Ctx, a: Args) -> Result<Reply> {
    access::delete_sessions(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::empty())
}

/// `users.deleteSession` — DELETE /v1/users/:userId/sessions/:sessionId.
pub async fn delete_session(ctx: Ctx, a: Args) -> Result<Reply> {
    access::delete_session(&ctx.env(), a.str("userId")?, a.str("sessionId")?).await?;
    Ok(Reply::empty())
}

/// `users.createToken` — POST /v1/users/:userId/tokens.
pub async fn create_token(ctx: Ctx, a: Args) -> Result<Reply> {
    let length = usize::try_from(a.int("length")?).unwrap_or(6);
    let expire = u64::try_from(a.int("expire")?).unwrap_or(900);
    let issued = access::create_token(&ctx.env(), a.str("userId")?, length, expire).await?;
    Ok(Reply::json(models::token(
        &issued.token,
        issued.secret.expose(),
        &issued.phrase,
    )))
}

/// `users.createJWT` — POST /v1/users/:userId/jwts.
pub async fn create_jwt(ctx: Ctx, a: Args) -> Result<Reply> {
    let jwt = access::create_jwt(
        &ctx.env(),
        &ctx.jwt_signer(),
        a.str("userId")?,
        a.str("sessionId")?,
        a.int("duration")?,
    )
    .await?;
    Ok(Reply::json(json!({ "jwt": jwt.expose() })))
}

/// `users.updateMfa` — PATCH /v1/users/:userId/mfa.
pub async fn update_mfa(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = access::update_mfa(&ctx.env(), a.str("userId")?, a.bool("mfa")?).await?;
    user_reply(&ctx, &user).await
}

/// `users.listMfaFactors` — GET /v1/users/:userId/mfa/factors.
pub async fn list_factors(ctx: Ctx, a: Args) -> Result<Reply> {
    let f = access::list_factors(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::mfa_factors(&f)))
}

/// `users.deleteMfaAuthenticator` — DELETE /v1/users/:userId/mfa/authenticators/:type.
pub async fn delete_authenticator(ctx: Ctx, a: Args) -> Result<Reply> {
    access::delete_authenticator(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::empty())
}

/// `users.getMfaRecoveryCodes` — GET /v1/users/:userId/mfa/recovery-codes.
pub async fn get_recovery_codes(ctx: Ctx, a: Args) -> Result<Reply> {
    let codes = access::get_recovery_codes(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::mfa_recovery_codes(&codes)))
}

/// `users.createMfaRecoveryCodes` — PATCH /v1/users/:userId/mfa/recovery-codes.
pub async fn create_recovery_codes(ctx: Ctx, a: Args) -> Result<Reply> {
    let codes = access::create_recovery_codes(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::mfa_recovery_codes(&codes)))
}

/// `users.updateMfaRecoveryCodes` — PUT /v1/users/:userId/mfa/recovery-codes.
pub async fn regenerate_recovery_codes(ctx: Ctx, a: Args) -> Result<Reply> {
    let codes = access::regenerate_recovery_codes(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::mfa_recovery_codes(&codes)))
}

/// `users.getMfaChallenge` (2.x) — GET /v1/users/:userId/mfa/challenges/:challengeId.
pub async fn get_challenge(ctx: Ctx, a: Args) -> Result<Reply> {
    let (challenge, code) =
        access::get_challenge(&ctx.env(), a.str("userId")?, a.str("challengeId")?).await?;
    Ok(Reply::json(models::mfa_challenge_secret(
        &challenge,
        code.as_ref().map_or("", |c| c.expose()),
    )))
}

/// `users.listTargets` — GET /v1/users/:userId/targets.
pub async fn list_targets(ctx: Ctx, a: Args) -> Result<Reply> {
    let page = access::list_targets(
        &ctx.env(),
        a.str("userId")?,
        &a.list("queries"),
        ctx.legacy_queries(),
    )
    .await?;
    Ok(Reply::json(models::page(
        &page,
        a.bool("total")?,
        "targets",
        models::target,
    )))
}

/// `users.createTarget` — POST /v1/users/:userId/targets.
pub async fn create_target(ctx: Ctx, a: Args) -> Result<Reply> {
    let target = access::create_target(
        &ctx.env(),
        a.str("userId")?,
        NewTarget {
            id: a.custom_id("targetId")?,
            provider_type: a.str("providerType")?.to_owned(),
            identifier: a.str("identifier")?.to_owned(),
            provider_id: a.opt_str("providerId").map(str::to_owned),
            name: a.opt_str("name").map(str::to_owned),
        },
    )
    .await?;
    Ok(Reply::json(models::target(&target)))
}

/// `users.getTarget` — GET /v1/users/:userId/targets/:targetId.
pub async fn get_target(ctx: Ctx, a: Args) -> Result<Reply> {
    let target = access::get_target(&ctx.env(), a.str("userId")?, a.str("targetId")?).await?;
    Ok(Reply::json(models::target(&target)))
}

/// `users.updateTarget` — PATCH /v1/users/:userId/targets/:targetId.
pub async fn update_target(ctx: Ctx, a: Args) -> Result<Reply> {
    let target = access::update_target(
        &ctx.env(),
        a.str("userId")?,
        a.str("targetId")?,
        TargetChange {
            identifier: a.opt_str("identifier").map(str::to_owned),
            provider_id: a.opt_str("providerId").map(str::to_owned),
            name: a.opt_str("name").map(str::to_owned),
        },
    )
    .await?;
    Ok(Reply::json(models::target(&target)))
}

/// `users.deleteTarget` — DELETE /v1/users/:userId/targets/:targetId.
pub async fn delete_target(ctx: Ctx, a: Args) -> Result<Reply> {
    access::delete_target(&ctx.env(), a.str("userId")?, a.str("targetId")?).await?;
    Ok(Reply::empty())
}
