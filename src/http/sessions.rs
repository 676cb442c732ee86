//! `/v1/account/sessions*`: create by email/password or anonymously, list, get, extend, delete.

use axum::http::{HeaderName, StatusCode};

use crate::domain::passwords::check_plain_length;
use crate::domain::sessions::{self, NewSession};
use crate::domain::validate;
use crate::error::{ErrorType, Result};
use crate::http::cookies::{domain_verified, expired_cookies, fallback_value, session_cookies};
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::reply::{Model, Reply};
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
fn created(ctx: &Ctx, new: NewSession) -> Reply {
    let secret = if ctx.is_key() {
        new.encoded.as_str()
    } else {
        ""
    };
    let mut reply = Reply::json(
        StatusCode::CREATED,
        Model::Session,
        models::session(&new.session, true, secret),
    );
    reply.cookies = session_cookies(
        &ctx.project.id,
        &new.encoded,
        new.session.expire,
        &ctx.request.host,
        ctx.request.https,
    );
    if !domain_verified(page_origin(ctx), &ctx.request.host) {
        reply
            .headers
            .push((FALLBACK, fallback_value(&ctx.project.id, &new.encoded)));
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
pub async fn create_email_password_session(ctx: Ctx, p: Params) -> Result<Reply> {
    let email = p.required("email", validate::email)?;
    let password = p.required("password", |s| check_plain_length(s).map(|_| s.to_owned()))?;
    let (_, new) = sessions::create_email_password_session(&ctx.env(), &email, &password).await?;
    Ok(created(&ctx, new))
}

/// `account.createAnonymousSession` — POST /v1/account/sessions/anonymous.
pub async fn create_anonymous_session(ctx: Ctx, _: Params) -> Result<Reply> {
    let (_, new) = sessions::create_anonymous_session(&ctx.env()).await?;
    Ok(created(&ctx, new))
}

fn is_current(ctx: &Ctx, s: &SessionRow) -> bool {
    ctx.current_session().is_some_and(|c| c.id == s.id)
}

/// The session named by the `sessionId` path param, where `current` means the request's own.
fn named_session_id(ctx: &Ctx) -> Result<String> {
    let id = ctx.path("sessionId");
    if id == "current" {
        return ctx
            .current_session()
            .map(|s| s.id.clone())
            .ok_or_else(|| ErrorType::UserSessionNotFound.into());
    }
    validate::uid(id).map_err(|_| ErrorType::UserSessionNotFound.into())
}

/// `account.listSessions` — GET /v1/account/sessions.
pub async fn list_sessions(ctx: Ctx, _: Params) -> Result<Reply> {
    let user = ctx.user()?;
    let rows = ctx
        .state
        .store
        .list_sessions(&ctx.project.id, &user.id)
        .await?;
    let items = rows
        .iter()
        .map(|s| models::session(s, is_current(&ctx, s), ""))
        .collect();
    Ok(Reply::ok(
        Model::SessionList,
        models::list(rows.len() as i64, "sessions", items),
    ))
}

/// `account.getSession` — GET /v1/account/sessions/:sessionId.
pub async fn get_session(ctx: Ctx, _: Params) -> Result<Reply> {
    let user = ctx.user()?;
    let id = named_session_id(&ctx)?;
    let s = ctx
        .state
        .store
        .find_session(&ctx.project.id, &user.id, &id)
        .await?
        .ok_or(ErrorType::UserSessionNotFound)?;
    Ok(Reply::ok(
        Model::Session,
        models::session(&s, is_current(&ctx, &s), ""),
    ))
}

/// `account.updateSession` — PATCH /v1/account/sessions/:sessionId: extends its expiry.
pub async fn update_session(ctx: Ctx, _: Params) -> Result<Reply> {
    let id = named_session_id(&ctx)?;
    let s = sessions::extend_session(&ctx.env(), ctx.user()?, &id).await?;
    Ok(Reply::ok(
        Model::Session,
        models::session(&s, is_current(&ctx, &s), ""),
    ))
}

/// `account.deleteSession` — DELETE /v1/account/sessions/:sessionId.
pub async fn delete_session(ctx: Ctx, _: Params) -> Result<Reply> {
    let id = named_session_id(&ctx)?;
    sessions::delete_session(&ctx.env(), ctx.user()?, &id).await?;
    let mut reply = Reply::no_content();
    if ctx.current_session().is_some_and(|c| c.id == id) {
        logout_headers(&ctx, &mut reply);
    }
    Ok(reply)
}

/// `account.deleteSessions` — DELETE /v1/account/sessions.
pub async fn delete_sessions(ctx: Ctx, _: Params) -> Result<Reply> {
    sessions::delete_all_sessions(&ctx.env(), ctx.user()?).await?;
    let mut reply = Reply::no_content();
    if ctx.current_session().is_some() {
        logout_headers(&ctx, &mut reply);
    }
    Ok(reply)
}
