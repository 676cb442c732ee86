//! MFA routes of the signed-in user (spec §6): the switch, the factor list, the TOTP
//! authenticator, challenges and recovery codes.

use serde_json::json;

use crate::domain::accounts;
use crate::domain::mfa::{self, Factor, authenticators, challenges, recovery_codes};
use crate::error::{ErrorType, Result};
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// The factor names `createMfaChallenge` accepts.
pub const FACTORS: &[&str] = &Factor::NAMES;
/// The authenticator types.
pub const AUTHENTICATORS: &[&str] = &[mfa::TOTP];

/// `account.updateMFA` — PATCH /v1/account/mfa.
pub async fn update_mfa(ctx: Ctx, a: Args) -> Result<Reply> {
    let env = ctx.env();
    let user =
        mfa::update_mfa(&env, &ctx.user()?.id, ctx.current_session(), a.bool("mfa")?).await?;
    let targets = accounts::targets_of(&env, &user).await?;
    Ok(Reply::account(user, targets))
}

/// `account.listMfaFactors` — GET /v1/account/mfa/factors.
pub async fn list_factors(ctx: Ctx, _: Args) -> Result<Reply> {
    let f = mfa::list_factors(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::json(models::mfa_factors(&f)))
}

/// `account.createMfaAuthenticator` — POST /v1/account/mfa/authenticators/:type.
pub async fn create_authenticator(ctx: Ctx, _: Args) -> Result<Reply> {
    let new = authenticators::create(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::json(
        json!({"secret": new.secret.expose(), "uri": new.uri}),
    ))
}

/// `account.updateMfaAuthenticator` — PUT /v1/account/mfa/authenticators/:type.
pub async fn verify_authenticator(ctx: Ctx, a: Args) -> Result<Reply> {
    let env = ctx.env();
    let user = ctx.user()?;
    authenticators::verify(&env, user, ctx.current_session(), a.str("otp")?).await?;
    let targets = accounts::targets_of(&env, user).await?;
    Ok(Reply::account(ctx.into_user()?, targets))
}

/// `account.deleteMfaAuthenticator` — DELETE /v1/account/mfa/authenticators/:type.
pub async fn delete_authenticator(ctx: Ctx, _: Args) -> Result<Reply> {
    authenticators::delete(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::empty())
}

/// `account.createMfaChallenge` — POST /v1/account/mfa/challenges.
pub async fn create_challenge(ctx: Ctx, a: Args) -> Result<Reply> {
    let factor = Factor::parse(a.str("factor")?).ok_or(ErrorType::GeneralArgumentInvalid)?;
    let c = challenges::create(&ctx.env(), ctx.user()?, factor).await?;
    Ok(Reply::json(models::mfa_challenge(&c)))
}

/// `account.updateMfaChallenge` — PUT /v1/account/mfa/challenges.
pub async fn verify_challenge(ctx: Ctx, a: Args) -> Result<Reply> {
    let s = challenges::verify(
        &ctx.env(),
        ctx.user()?,
        ctx.current_session(),
        a.str("challengeId")?,
        a.str("otp")?,
    )
    .await?;
    Ok(Reply::json(models::session(
        &crate::http::sessions::revealed(&ctx, &s),
        true,
        "",
        &ctx.client.locale,
    )))
}

/// `account.createMfaRecoveryCodes` — POST /v1/account/mfa/recovery-codes.
pub async fn create_recovery_codes(ctx: Ctx, _: Args) -> Result<Reply> {
    let codes = recovery_codes::create(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::json(models::mfa_recovery_codes(&codes)))
}

/// `account.getMfaRecoveryCodes` — GET /v1/account/mfa/recovery-codes.
pub async fn get_recovery_codes(ctx: Ctx, _: Args) -> Result<Reply> {
    let codes = recovery_codes::get(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::json(models::mfa_recovery_codes(&codes)))
}

/// `account.updateMfaRecoveryCodes` — PATCH /v1/account/mfa/recovery-codes.
pub async fn regenerate_recovery_codes(ctx: Ctx, _: Args) -> Result<Reply> {
    let codes = recovery_codes::regenerate(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::json(models::mfa_recovery_codes(&codes)))
}
