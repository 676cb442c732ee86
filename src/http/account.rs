//! `/v1/account` itself: create, get, delete, prefs, name, password, email, phone, status.

use crate::domain::accounts;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::http::sessions::logout_headers;
use crate::store::UserRow;

async fn account_reply(ctx: &Ctx, user: UserRow) -> Result<Reply> {
    let targets = accounts::targets_of(&ctx.env(), &user).await?;
    Ok(Reply::account(user, targets))
}

/// `account.create` — POST /v1/account.
pub async fn create(ctx: Ctx, a: Args) -> Result<Reply> {
    let (user, targets) = accounts::create_account(
        &ctx.env(),
        a.custom_id("userId")?,
        a.str("userId")?,
        a.str("email")?.to_owned(),
        a.str("password")?,
        a.opt_str("name").map(str::to_owned),
    )
    .await?;
    Ok(Reply::account(user, targets))
}

/// `account.get` — GET /v1/account.
pub async fn get(ctx: Ctx, _: Args) -> Result<Reply> {
    let targets = accounts::targets_of(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::account(ctx.into_user()?, targets))
}

/// `account.delete` — DELETE /v1/account.
pub async fn delete(ctx: Ctx, _: Args) -> Result<Reply> {
    accounts::delete_account(&ctx.env(), ctx.user()?).await?;
    let mut reply = Reply::empty();
    logout_headers(&ctx, &mut reply);
    Ok(reply)
}

/// `account.getPrefs` — GET /v1/account/prefs.
pub async fn get_prefs(ctx: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::json(models::prefs(ctx.user()?)))
}

/// `account.updatePrefs` — PATCH /v1/account/prefs.
pub async fn update_prefs(ctx: Ctx, a: Args) -> Result<Reply> {
    let prefs = a.object("prefs")?.to_string();
    let user = accounts::update_profile(
        &ctx.env(),
        &ctx.user()?.id,
        crate::error::ErrorType::UserAlreadyExists,
        |u| {
            u.prefs = prefs;
            Ok(())
        },
    )
    .await?;
    account_reply(&ctx, user).await
}

/// `account.updateName` — PATCH /v1/account/name.
pub async fn update_name(ctx: Ctx, a: Args) -> Result<Reply> {
    let name = a.str("name")?.to_owned();
    let user = accounts::update_profile(
        &ctx.env(),
        &ctx.user()?.id,
        crate::error::ErrorType::UserAlreadyExists,
        |u| {
            u.name = Some(name);
            Ok(())
        },
    )
    .await?;
    account_reply(&ctx, user).await
}

/// `account.updatePassword` — PATCH /v1/account/password.
pub async fn update_password(ctx: Ctx, a: Args) -> Result<Reply> {
    let current = ctx.current_session().map(|s| s.id.clone());
    let user = accounts::update_password(
        &ctx.env(),
        ctx.user()?,
        a.str("password")?,
        a.opt_str("oldPassword").unwrap_or_default(),
        current.as_deref(),
    )
    .await?;
    account_reply(&ctx, user).await
}

/// `account.updateEmail` — PATCH /v1/account/email.
pub async fn update_email(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = accounts::update_email(
        &ctx.env(),
        ctx.user()?,
        a.str("email")?.to_owned(),
        a.str("password")?,
    )
    .await?;
    account_reply(&ctx, user).await
}

/// `account.updatePhone` — PATCH /v1/account/phone.
pub async fn update_phone(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = accounts::update_phone(
        &ctx.env(),
        ctx.user()?,
        a.str("phone")?.to_owned(),
        a.str("password")?,
    )
    .await?;
    account_reply(&ctx, user).await
}

/// `account.updateStatus` — PATCH /v1/account/status: blocks the account and logs it out.
pub async fn update_status(ctx: Ctx, _: Args) -> Result<Reply> {
    let user = accounts::block(&ctx.env(), ctx.user()?).await?;
    let mut reply = account_reply(&ctx, user).await?;
    logout_headers(&ctx, &mut reply);
    Ok(reply)
}
