//! Passkeys (2.x Account API): `account.listPasskeys`, `createPasskey`, `getPasskey`,
//! `updatePasskey`, `deletePasskey`, `updatePasskeyVerification`, and the passkey sign-in
//! `createPasskeyToken` / `updatePasskeyToken`. Rules in `domain::passkeys`.

use serde_json::{Value, json};

use crate::domain::passkeys::{self, Challenge};
use crate::domain::time::format_ms;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::store::PasskeyRow;

/// The Passkey model; `accessedAt` is `""` until it first signs someone in.
pub fn passkey(p: &PasskeyRow) -> Value {
    json!({
        "$id": p.id,
        "$createdAt": format_ms(p.created_at),
        "$updatedAt": format_ms(p.updated_at),
        "name": p.name,
        "accessedAt": p.accessed_at.map(format_ms).unwrap_or_default(),
    })
}

/// The PasskeyChallenge model.
fn challenge(c: &Challenge) -> Value {
    json!({
        "$id": c.row.id,
        "$createdAt": format_ms(c.row.created_at),
        "passkeyId": c.passkey_id,
        "expire": format_ms(c.row.expire),
        "publicKey": c.public_key,
    })
}

/// `account.listPasskeys` — GET /v1/account/passkeys.
pub async fn list(ctx: Ctx, a: Args) -> Result<Reply> {
    let page = passkeys::list(
        &ctx.env(),
        ctx.user()?,
        &a.list("queries"),
        ctx.legacy_queries(),
    )
    .await?;
    Ok(Reply::json(models::page(
        &page,
        a.bool("total")?,
        "passkeys",
        passkey,
    )))
}

/// `account.createPasskey` — POST /v1/account/passkeys.
pub async fn create(ctx: Ctx, a: Args) -> Result<Reply> {
    let c = passkeys::create(
        &ctx.env(),
        ctx.user()?,
        ctx.current_session(),
        a.custom_id("passkeyId")?,
        a.str("name")?.to_owned(),
    )
    .await?;
    Ok(Reply::json(challenge(&c)))
}

/// `account.getPasskey` — GET /v1/account/passkeys/:passkeyId.
pub async fn get(ctx: Ctx, a: Args) -> Result<Reply> {
    let p = passkeys::get(&ctx.env(), ctx.user()?, a.str("passkeyId")?).await?;
    Ok(Reply::json(passkey(&p)))
}

/// `account.updatePasskey` — PATCH /v1/account/passkeys/:passkeyId (its name).
pub async fn update(ctx: Ctx, a: Args) -> Result<Reply> {
    let p = passkeys::rename(
        &ctx.env(),
        ctx.user()?,
        a.str("passkeyId")?,
        a.str("name")?.to_owned(),
    )
    .await?;
    Ok(Reply::json(passkey(&p)))
}

/// `account.deletePasskey` — DELETE /v1/account/passkeys/:passkeyId.
pub async fn delete(ctx: Ctx, a: Args) -> Result<Reply> {
    passkeys::delete(
        &ctx.env(),
        ctx.user()?,
        ctx.current_session(),
        a.str("passkeyId")?,
    )
    .await?;
    Ok(Reply::empty())
}

/// `account.updatePasskeyVerification` — PUT /v1/account/passkeys/:passkeyId/verification.
pub async fn verify(ctx: Ctx, a: Args) -> Result<Reply> {
    let p = passkeys::verify(
        &ctx.env(),
        ctx.user()?,
        ctx.current_session(),
        a.str("passkeyId")?,
        &a.object("credential")?,
    )
    .await?;
    Ok(Reply::json(passkey(&p)))
}

/// `account.createPasskeyToken` — POST /v1/account/tokens/passkey: a sign-in challenge.
pub async fn create_token(ctx: Ctx, _: Args) -> Result<Reply> {
    let c = passkeys::start_sign_in(&ctx.env()).await?;
    Ok(Reply::json(challenge(&c)))
}

/// `account.updatePasskeyToken` — PUT /v1/account/tokens/passkey: the answer to a sign-in
/// challenge becomes a token (secret shown) for `POST /v1/account/sessions/token`.
pub async fn update_token(ctx: Ctx, a: Args) -> Result<Reply> {
    let (_, issued) =
        passkeys::finish_sign_in(&ctx.env(), a.str("challengeId")?, &a.object("credential")?)
            .await?;
    Ok(Reply::json(models::token(
        &issued.token,
        issued.secret.expose(),
        &issued.phrase,
    )))
}
