//! `/v1/account/verifications/*` (and the older `/v1/account/verification*`): email by link
//! (1.x) or code (2.x), phone by SMS code.

use crate::domain::recovery::{self, By, Delivery};
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::http::tokens::issued;

/// `account.createEmailVerification` — POST /v1/account/verifications/email.
pub async fn create_email_verification(ctx: Ctx, a: Args) -> Result<Reply> {
    let i =
        recovery::create_email_verification(&ctx.env(), ctx.user()?, Delivery::Link(a.str("url")?))
            .await?;
    Ok(issued(&ctx, &i))
}

/// `account.createEmailVerificationOTP` — POST /v1/account/verifications/email/otp.
pub async fn create_email_verification_otp(ctx: Ctx, a: Args) -> Result<Reply> {
    let phrase = a.bool("phrase")?;
    let i = recovery::create_email_verification(&ctx.env(), ctx.user()?, Delivery::Code { phrase })
        .await?;
    Ok(issued(&ctx, &i))
}

async fn update_email(ctx: Ctx, a: Args, by: By) -> Result<Reply> {
    let t = recovery::update_email_verification(&ctx.env(), a.str("userId")?, a.str("secret")?, by)
        .await?;
    Ok(Reply::json(models::token(&t, "", "")))
}

/// `account.updateEmailVerification` — PUT /v1/account/verifications/email.
pub async fn update_email_verification(ctx: Ctx, a: Args) -> Result<Reply> {
    update_email(ctx, a, By::Link).await
}

/// `account.updateEmailVerificationOTP` — PUT /v1/account/verifications/email/otp.
pub async fn update_email_verification_otp(ctx: Ctx, a: Args) -> Result<Reply> {
    update_email(ctx, a, By::Code).await
}

/// `account.createPhoneVerification` — POST /v1/account/verifications/phone.
pub async fn create_phone_verification(ctx: Ctx, _: Args) -> Result<Reply> {
    let i = recovery::create_phone_verification(&ctx.env(), ctx.user()?).await?;
    Ok(issued(&ctx, &i))
}

/// `account.updatePhoneVerification` — PUT /v1/account/verifications/phone.
pub async fn update_phone_verification(ctx: Ctx, a: Args) -> Result<Reply> {
    let t =
        recovery::update_phone_verification(&ctx.env(), a.str("userId")?, a.str("secret")?).await?;
    Ok(Reply::json(models::token(&t, "", "")))
}
