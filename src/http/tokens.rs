//! `/v1/account/tokens/*` and the token → session exchange: passwordless sign-in by email
//! code, magic URL or phone code (spec §5.7, §5.8).

use crate::domain::oauth2::secrets::unwrap;
use crate::domain::passwordless;
use crate::domain::tokens::Issued;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::http::sessions::created;

/// The Token of a creation: its secret for key callers only, the phrase when asked for.
pub(crate) fn issued(ctx: &Ctx, i: &Issued) -> Reply {
    let secret = if ctx.is_key() { i.secret.expose() } else { "" };
    Reply::json(models::token(&i.token, secret, &i.phrase))
}

/// `account.createEmailToken` — POST /v1/account/tokens/email.
pub async fn create_email_token(ctx: Ctx, a: Args) -> Result<Reply> {
    let i = passwordless::create_email_token(
        &ctx.env(),
        a.custom_id("userId")?,
        a.str("email")?,
        a.bool("phrase")?,
    )
    .await?;
    Ok(issued(&ctx, &i))
}

/// Where a magic link opens when the client names no page: the project's `url`, else
/// `<publicUrl>/auth/magic-url` (Appwrite uses its console's page). Never the request's
/// `Host`: a forged one would send the victim's secret to the forger's host.
fn default_magic_url(ctx: &Ctx) -> Option<String> {
    match ctx
        .project
        .settings
        .url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        Some(u) => Some(u.to_owned()),
        None => ctx
            .state
            .public_url
            .as_ref()
            .map(|base| format!("{base}/auth/magic-url")),
    }
}

/// `account.createMagicURLToken` — POST /v1/account/tokens/magic-url.
pub async fn create_magic_url_token(ctx: Ctx, a: Args) -> Result<Reply> {
    let url = match a.opt_str("url").filter(|u| !u.is_empty()) {
        Some(u) => Some(u.to_owned()),
        None => default_magic_url(&ctx),
    };
    let i = passwordless::create_magic_url_token(
        &ctx.env(),
        a.custom_id("userId")?,
        a.str("email")?,
        url.as_deref(),
        a.bool("phrase")?,
    )
    .await?;
    Ok(issued(&ctx, &i))
}

/// `account.createPhoneToken` — POST /v1/account/tokens/phone.
pub async fn create_phone_token(ctx: Ctx, a: Args) -> Result<Reply> {
    let i = passwordless::create_phone_token(&ctx.env(), a.custom_id("userId")?, a.str("phone")?)
        .await?;
    Ok(issued(&ctx, &i))
}

/// `account.createSession` — POST /v1/account/sessions/token, and the deprecated
/// `account.updateMagicURLSession` / `account.updatePhoneSession`.
pub async fn create_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let secret = a.str("secret")?;
    // The OAuth2 token flow's secret is wrapped in a JWT of ours (spec §7.4 step 9).
    let oauth = unwrap(
        ctx.state.instance_key.expose().as_bytes(),
        secret,
        ctx.state.clock.now_ms(),
    );
    let (_, new) =
        passwordless::create_session(&ctx.env(), a.str("userId")?, secret, oauth.as_ref()).await?;
    Ok(created(&ctx, new))
}
