//! `/v1/account/recovery*`: password reset by link (1.x) or by code (2.x).

use crate::domain::recovery::{self, By, Delivery};
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::http::tokens::issued;

/// `account.createRecovery` — POST /v1/account/recovery.
pub async fn create_recovery(ctx: Ctx, a: Args) -> Result<Reply> {
    let i = recovery::create_recovery(&ctx.env(), a.str("email")?, Delivery::Link(a.str("url")?))
        .await?;
    Ok(issued(&ctx, &i))
}

/// `account.createRecoveryOTP` — POST /v1/account/recovery/otp.
pub async fn create_recovery_otp(ctx: Ctx, a: Args) -> Result<Reply> {
    let phrase = a.bool("phrase")?;
    let i =
        recovery::create_recovery(&ctx.env(), a.str("email")?, Delivery::Code { phrase }).await?;
    Ok(issued(&ctx, &i))
}

async fn update(ctx: Ctx, a: Args, by: By) -> Result<Reply> {
    let t = recovery::update_recovery(
        &ctx.env(),
        a.str("userId")?,
        a.str("secret")?,
        a.str("password")?,
        by,
    )
    .await?;
    Ok(Reply::json(models::token(&t, "", "")))
}

/// `account.updateRecovery` — PUT /v1/account/recovery: answers with the consumed token, its
/// secret blank.
pub async fn update_recovery(ctx: Ctx, a: Args) -> Result<Reply> {
    update(ctx, a, By::Link).await
}

/// `account.updateRecoveryOTP` — PUT /v1/account/recovery/otp.
pub async fn update_recovery_otp(ctx: Ctx, a: Args) -> Result<Reply> {
    update(ctx, a, By::Code).await
}
