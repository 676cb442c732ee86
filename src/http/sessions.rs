//! `/v1/account/sessions*`: create by email/password or anonymously, list, get, extend, delete.

use axum::http::HeaderName;

use crate::domain::oauth2;
use crate::domain::sessions::{self, NewSession};
use crate::error::{Error, ErrorType, Result};
use crate::http::cookies::{domain_verified, expired_cookies, fallback_value, session_cookies};
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::store::SessionRow;

const FALLBACK: HeaderName = HeaderName::from_static("x-fallback-cookies");

fn page_origin(ctx: &Ctx) -> Option<&str> {
    ctx.request
        .origin
        .as_deref()
        .or(ctx.request.referer.as_deref())
}

/// The 201 of a new session: both cookies, `X-Fallback-Cookies` for cross-site clients, and
/// the encoded session as `secret` for API-key callers only.
pub(crate) fn created(ctx: &Ctx, new: NewSession) -> Reply {
    let encoded = new.encoded.expose();
    let secret = if ctx.is_key() { encoded } else { "" };
    let mut reply = Reply::json(models::session(
        &revealed(ctx, &new.session),
        true,
        secret,
        &ctx.client.locale,
    ));
    reply.cookies = session_cookies(
        &ctx.project.id,
        encoded,
        new.session.expire,
        &ctx.request.host,
        ctx.request.https,
    );
    if !domain_verified(page_origin(ctx), &ctx.request.host) {
        reply
            .headers
            .push((FALLBACK, fallback_value(&ctx.project.id, encoded)));
    }
    reply
}

/// Expires both cookies (and the fallback) when the request's own session ends.
pub fn logout_headers(ctx: &Ctx, reply: &mut Reply) {
    reply.cookies = expired_cookies(&ctx.project.id, &ctx.request.host, ctx.request.https);
    if !domain_verified(page_origin(ctx), &ctx.request.host) {
        reply.headers.push((FALLBACK, "[]".into()));
    }
}

/// `account.createEmailPasswordSession` — POST /v1/account/sessions/email.
/// With `[lockout]` set, a locked email is refused before its password is checked; each
/// attempt reserves its count first, so parallel guesses cannot overshoot.
pub async fn create_email_password_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let email = a.str("email")?;
    let lockout = ctx.state.lockout;
    let (limiter, project) = (&*ctx.state.limiter, ctx.project.id.as_str());
    let now = ctx.state.clock.now_ms() / 1000;
    let slot = match lockout
        .reserve(limiter, project, email, now)
        .await
        .map_err(Error::internal)?
    {
        Ok(slot) => slot,
        Err(ends) => {
            let minutes = (ends - now).max(1).unsigned_abs().div_ceil(60);
            return Err(Error::from(ErrorType::GeneralRateLimitExceeded).with_message(format!(
                "Too many wrong passwords for this account. Try again in {minutes} minutes or reset the password."
            )));
        }
    };
    let result =
        sessions::create_email_password_session(&ctx.env(), email, a.str("password")?).await;
    if !matches!(&result, Err(e) if e.ty == ErrorType::UserInvalidCredentials) {
        lockout
            .succeeded(limiter, slot)
            .await
            .map_err(Error::internal)?;
    }
    let (_, new) = result?;
    Ok(created(&ctx, new))
}

/// `account.createAnonymousSession` — POST /v1/account/sessions/anonymous.
pub async fn create_anonymous_session(ctx: Ctx, _: Args) -> Result<Reply> {
    let (_, new) = sessions::create_anonymous_session(&ctx.env()).await?;
    Ok(created(&ctx, new))
}

/// The session with its provider tokens in clear, for its own user.
pub(crate) fn revealed(ctx: &Ctx, s: &SessionRow) -> SessionRow {
    oauth2::revealed_session(&ctx.state.sealer, &ctx.project.id, s)
}

fn is_current(ctx: &Ctx, s: &SessionRow) -> bool {
    ctx.current_session().is_some_and(|c| c.id == s.id)
}

/// The session named by the `sessionId` path param, where `current` means the request's own.
fn named_session_id(ctx: &Ctx, a: &Args) -> Result<String> {
    let id = a.str("sessionId")?;
    if id == "current" {
        return ctx
            .current_session()
            .map(|s| s.id.clone())
            .ok_or_else(|| ErrorType::UserSessionNotFound.into());
    }
    Ok(id.to_owned())
}

/// `account.listSessions` — GET /v1/account/sessions.
pub async fn list_sessions(ctx: Ctx, _: Args) -> Result<Reply> {
    let page = sessions::list_sessions(&ctx.env(), ctx.user()?).await?;
    Ok(Reply::json(models::page(&page, true, "sessions", |s| {
        models::session(
            &revealed(&ctx, s),
            is_current(&ctx, s),
            "",
            &ctx.client.locale,
        )
    })))
}

/// `account.getSession` — GET /v1/account/sessions/:sessionId.
pub async fn get_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let id = named_session_id(&ctx, &a)?;
    let s = sessions::get_session(&ctx.env(), ctx.user()?, &id).await?;
    Ok(Reply::json(models::session(
        &revealed(&ctx, &s),
        is_current(&ctx, &s),
        "",
        &ctx.client.locale,
    )))
}

/// `account.updateSession` — PATCH /v1/account/sessions/:sessionId: extends its expiry, and
/// for an OAuth2 session refreshes the provider's tokens first.
pub async fn update_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let id = named_session_id(&ctx, &a)?;
    let user = ctx.user()?;
    let env = ctx.env();
    let current = sessions::get_session(&env, user, &id).await?;
    let s = if oauth2::is_accepted(&current.provider) && !current.provider_refresh_token.is_empty()
    {
        let now = ctx.state.clock.now_ms();
        let configured = match crate::oauth2::spec::find(&current.provider) {
            Some(_) => {
                ctx.state
                    .oauth2
                    .configure(&ctx.project.settings, &current.provider, now)
                    .await?
            }
            None => return Err(ErrorType::ProjectProviderUnsupported.into()),
        };
        let refresh = revealed(&ctx, &current).provider_refresh_token;
        let fresh = configured
            .refresh(&ctx.state.oauth2.http, &refresh)
            .await
            .map_err(|e| {
                e.into_error(&crate::oauth2::label_of(configured.spec, &current.provider))
            })?;
        oauth2::refresh_session(&env, user, current, &fresh).await?
    } else {
        sessions::extend_session(&env, user, &id).await?
    };
    Ok(Reply::json(models::session(
        &revealed(&ctx, &s),
        is_current(&ctx, &s),
        "",
        &ctx.client.locale,
    )))
}

/// `account.deleteSession` — DELETE /v1/account/sessions/:sessionId.
pub async fn delete_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let id = named_session_id(&ctx, &a)?;
    sessions::delete_session(&ctx.env(), ctx.user()?, &id).await?;
    let mut reply = Reply::empty();
    if ctx.current_session().is_some_and(|c| c.id == id) {
        logout_headers(&ctx, &mut reply);
    }
    Ok(reply)
}

/// `account.deleteSessions` — DELETE /v1/account/sessions.
pub async fn delete_sessions(ctx: Ctx, _: Args) -> Result<Reply> {
    sessions::delete_all_sessions(&ctx.env(), ctx.user()?).await?;
    let mut reply = Reply::empty();
    if ctx.current_session().is_some() {
        logout_headers(&ctx, &mut reply);
    }
    Ok(reply)
}
