//! `/v1/account` itself: create, get, delete, prefs, name, password, email, phone, status.

use axum::http::StatusCode;
use serde_json::Value;

use crate::domain::accounts;
use crate::domain::passwords::check_plain_length;
use crate::domain::validate;
use crate::error::{Error, Result};
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::reply::{Model, Reply};
use crate::http::sessions::logout_headers;
use crate::store::UserRow;

/// Largest prefs object, as JSON with non-ASCII escaped the way PHP encodes it.
const MAX_PREFS_BYTES: usize = 65535;

async fn account_reply(ctx: &Ctx, status: StatusCode, user: &UserRow) -> Result<Reply> {
    let targets = ctx
        .state
        .store
        .list_targets(&ctx.project.id, &user.id)
        .await?;
    Ok(Reply::json(
        status,
        Model::Account,
        models::account(user, &targets),
    ))
}

/// `account.create` — POST /v1/account.
pub async fn create(ctx: Ctx, p: Params) -> Result<Reply> {
    let raw_id = p.string("userId", true)?.unwrap_or_default();
    let user_id = p.required("userId", validate::custom_id)?;
    let email = p.required("email", validate::email)?;
    let password = p.required("password", |s| {
        ctx.project.password_policy.check(s).map(|_| s.to_owned())
    })?;
    let name = p.optional("name", |s| validate::text(s, 1, 128))?;
    let (user, targets) =
        accounts::create_account(&ctx.env(), user_id, &raw_id, email, &password, name).await?;
    Ok(Reply::json(
        StatusCode::CREATED,
        Model::Account,
        models::account(&user, &targets),
    ))
}

/// `account.get` — GET /v1/account.
pub async fn get(ctx: Ctx, _: Params) -> Result<Reply> {
    account_reply(&ctx, StatusCode::OK, ctx.user()?).await
}

/// `account.delete` — DELETE /v1/account.
pub async fn delete(ctx: Ctx, _: Params) -> Result<Reply> {
    accounts::delete_account(&ctx.env(), ctx.user()?).await?;
    let mut reply = Reply::no_content();
    logout_headers(&ctx, &mut reply);
    Ok(reply)
}

/// `account.getPrefs` — GET /v1/account/prefs.
pub async fn get_prefs(ctx: Ctx, _: Params) -> Result<Reply> {
    Ok(Reply::ok(Model::Plain, models::prefs(ctx.user()?)))
}

/// PHP `json_encode` length: non-ASCII characters count as `\uXXXX` escapes.
fn php_json_len(v: &Value) -> usize {
    v.to_string()
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 6 * c.len_utf16() })
        .sum()
}

/// `account.updatePrefs` — PATCH /v1/account/prefs.
pub async fn update_prefs(ctx: Ctx, p: Params) -> Result<Reply> {
    let describe = || {
        Error::invalid_param(
            "prefs",
            "Value must be a valid object and no longer than 65535 bytes",
        )
    };
    let prefs = match p.get("prefs") {
        None => return Err(Error::missing_param("prefs")),
        Some(Value::Object(m)) => Value::Object(m.clone()),
        // PHP decodes `{}` as an empty array, so Appwrite SDKs may send `[]` for "no prefs".
        Some(Value::Array(a)) if a.is_empty() => Value::Object(Default::default()),
        Some(_) => return Err(describe()),
    };
    if php_json_len(&prefs) > MAX_PREFS_BYTES {
        return Err(describe());
    }
    let mut user = ctx.user()?.clone();
    user.prefs = prefs.to_string();
    let user = accounts::save_profile(&ctx.env(), user, "user.update").await?;
    account_reply(&ctx, StatusCode::OK, &user).await
}

/// `account.updateName` — PATCH /v1/account/name.
pub async fn update_name(ctx: Ctx, p: Params) -> Result<Reply> {
    let name = p.required("name", |s| validate::text(s, 1, 128))?;
    let mut user = ctx.user()?.clone();
    user.name = Some(name);
    let user = accounts::save_profile(&ctx.env(), user, "user.update").await?;
    account_reply(&ctx, StatusCode::OK, &user).await
}

/// `account.updatePassword` — PATCH /v1/account/password.
pub async fn update_password(ctx: Ctx, p: Params) -> Result<Reply> {
    let password = p.required("password", |s| {
        ctx.project.password_policy.check(s).map(|_| s.to_owned())
    })?;
    let old = p
        .optional("oldPassword", |s| validate::text(s, 0, 256))?
        .unwrap_or_default();
    let current = ctx.current_session().map(|s| s.id.clone());
    let user = accounts::update_password(
        &ctx.env(),
        ctx.user()?.clone(),
        &password,
        &old,
        current.as_deref(),
    )
    .await?;
    account_reply(&ctx, StatusCode::OK, &user).await
}

/// `account.updateEmail` — PATCH /v1/account/email.
pub async fn update_email(ctx: Ctx, p: Params) -> Result<Reply> {
    let email = p.required("email", validate::email)?;
    let password = p.required("password", |s| check_plain_length(s).map(|_| s.to_owned()))?;
    let user = accounts::update_email(&ctx.env(), ctx.user()?.clone(), email, &password).await?;
    account_reply(&ctx, StatusCode::OK, &user).await
}

/// `account.updatePhone` — PATCH /v1/account/phone.
pub async fn update_phone(ctx: Ctx, p: Params) -> Result<Reply> {
    let phone = p.required("phone", validate::phone)?;
    let password = p.required("password", |s| check_plain_length(s).map(|_| s.to_owned()))?;
    let user = accounts::update_phone(&ctx.env(), ctx.user()?.clone(), phone, &password).await?;
    account_reply(&ctx, StatusCode::OK, &user).await
}

/// `account.updateStatus` — PATCH /v1/account/status: blocks the account and logs it out.
pub async fn update_status(ctx: Ctx, _: Params) -> Result<Reply> {
    let user = accounts::block(&ctx.env(), ctx.user()?.clone()).await?;
    let mut reply = account_reply(&ctx, StatusCode::OK, &user).await?;
    logout_headers(&ctx, &mut reply);
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefs_size_counts_non_ascii_as_php_escapes() {
        assert_eq!(php_json_len(&serde_json::json!({"a": "b"})), 9);
        assert_eq!(php_json_len(&serde_json::json!({"a": "é"})), 14);
        assert_eq!(php_json_len(&serde_json::json!({"a": "😀"})), 20);
    }
}
