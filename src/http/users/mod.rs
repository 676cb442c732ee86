//! The Users API (server keys): `/v1/users…`. Creation and hash imports are in [`create`],
//! sessions, tokens, JWTs, MFA and targets in [`access`].

pub mod access;
pub mod create;

use crate::domain::accounts;
use crate::domain::users;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::store::UserRow;

/// The User model of `user` with its targets.
pub(crate) async fn user_reply(ctx: &Ctx, user: &UserRow) -> Result<Reply> {
    let targets = accounts::targets_of(&ctx.env(), user).await?;
    Ok(Reply::json(models::user(user, &targets)))
}

/// `users.list` — GET /v1/users.
pub async fn list(ctx: Ctx, a: Args) -> Result<Reply> {
    let env = ctx.env();
    let page = users::list(
        &env,
        &a.list("queries"),
        a.str("search")?,
        ctx.legacy_queries(),
    )
    .await?;
    let mut items = Vec::with_capacity(page.rows.len());
    for u in &page.rows {
        items.push(models::user(u, &accounts::targets_of(&env, u).await?));
    }
    let total = if a.bool("total")? { page.total } else { 0 };
    Ok(Reply::json(models::list(total, "users", items)))
}

/// `users.listIdentities` — GET /v1/users/identities.
pub async fn list_identities(ctx: Ctx, a: Args) -> Result<Reply> {
    let page = users::list_identities(
        &ctx.env(),
        &a.list("queries"),
        a.str("search")?,
        ctx.legacy_queries(),
    )
    .await?;
    Ok(Reply::json(crate::http::identities::identity_list(
        &ctx,
        &page,
        a.bool("total")?,
    )))
}

/// `users.deleteIdentity` — DELETE /v1/users/identities/:identityId.
pub async fn delete_identity(ctx: Ctx, a: Args) -> Result<Reply> {
    users::delete_identity(&ctx.env(), a.str("identityId")?).await?;
    Ok(Reply::empty())
}

/// `users.get` — GET /v1/users/:userId.
pub async fn get(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::get(&ctx.env(), a.str("userId")?).await?;
    user_reply(&ctx, &user).await
}

/// `users.delete` — DELETE /v1/users/:userId: deleted, not blocked.
pub async fn delete(ctx: Ctx, a: Args) -> Result<Reply> {
    users::delete(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::empty())
}

/// `users.updateEmail` — PATCH /v1/users/:userId/email.
pub async fn update_email(ctx: Ctx, a: Args) -> Result<Reply> {
    let user =
        users::update_email(&ctx.env(), a.str("userId")?, a.str("email")?.to_owned()).await?;
    user_reply(&ctx, &user).await
}

/// `users.updatePhone` — PATCH /v1/users/:userId/phone.
pub async fn update_phone(ctx: Ctx, a: Args) -> Result<Reply> {
    let user =
        users::update_phone(&ctx.env(), a.str("userId")?, a.str("number")?.to_owned()).await?;
    user_reply(&ctx, &user).await
}

/// `users.updateName` — PATCH /v1/users/:userId/name.
pub async fn update_name(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_name(&ctx.env(), a.str("userId")?, a.str("name")?.to_owned()).await?;
    user_reply(&ctx, &user).await
}

/// `users.updatePassword` — PATCH /v1/users/:userId/password.
pub async fn update_password(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_password(&ctx.env(), a.str("userId")?, a.str("password")?).await?;
    user_reply(&ctx, &user).await
}

/// `users.updateStatus` — PATCH /v1/users/:userId/status.
pub async fn update_status(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_status(&ctx.env(), a.str("userId")?, a.bool("status")?).await?;
    user_reply(&ctx, &user).await
}

/// `users.updateLabels` — PUT /v1/users/:userId/labels.
pub async fn update_labels(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_labels(&ctx.env(), a.str("userId")?, a.list("labels")).await?;
    user_reply(&ctx, &user).await
}

/// `users.updateEmailVerification` — PATCH /v1/users/:userId/verification.
pub async fn update_email_verification(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_email_verification(
        &ctx.env(),
        a.str("userId")?,
        a.bool("emailVerification")?,
    )
    .await?;
    user_reply(&ctx, &user).await
}

/// `users.updatePhoneVerification` — PATCH /v1/users/:userId/verification/phone.
pub async fn update_phone_verification(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_phone_verification(
        &ctx.env(),
        a.str("userId")?,
        a.bool("phoneVerification")?,
    )
    .await?;
    user_reply(&ctx, &user).await
}

/// `users.getPrefs` — GET /v1/users/:userId/prefs.
pub async fn get_prefs(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::get(&ctx.env(), a.str("userId")?).await?;
    Ok(Reply::json(models::prefs(&user)))
}

/// `users.updatePrefs` — PATCH /v1/users/:userId/prefs: answers the new preferences.
pub async fn update_prefs(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::update_prefs(&ctx.env(), a.str("userId")?, a.object("prefs")?).await?;
    Ok(Reply::json(models::prefs(&user)))
}

/// `users.listLogs` — GET /v1/users/:userId/logs, newest first (limit and offset only).
pub async fn list_logs(ctx: Ctx, a: Args) -> Result<Reply> {
    let env = ctx.env();
    let user = users::get(&env, a.str("userId")?).await?;
    let page =
        crate::domain::logs::list(&env, &user, &a.list("queries"), ctx.legacy_queries()).await?;
    Ok(Reply::json(models::page(
        &page,
        a.bool("total")?,
        "logs",
        |l| models::log(l, &ctx.client.locale),
    )))
}

/// `users.listMemberships` — GET /v1/users/:userId/memberships. Teams are not served, so a
/// user is a member of nothing: an empty list (the user must exist; queries are checked).
pub async fn list_memberships(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = users::get(&ctx.env(), a.str("userId")?).await?;
    crate::domain::queries::parse(
        &a.list("queries"),
        ctx.legacy_queries(),
        crate::domain::queries::MEMBERSHIP_ATTRIBUTES,
    )?;
    let _ = user;
    Ok(Reply::json(models::list(0, "memberships", vec![])))
}
