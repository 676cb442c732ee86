//! Account JWTs: `account.createJWT` — POST /v1/account/jwts (and the 1.4/1.5 alias
//! /v1/account/jwt) — and latchkey's additions: refreshing a short JWT and the projects' JWKS.

use serde_json::json;

use crate::domain::{jwt_refresh, sessions};
use crate::error::{ErrorType, Result};
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// A JWT for the request's own session; with `refresh`, also its first refresh token.
pub async fn create_jwt(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = ctx.user()?;
    // appwrite main: a JWT-authenticated request may not mint another JWT.
    let session = ctx
        .current_session()
        .ok_or(ErrorType::UserJwtCreationDenied)?;
    let duration = a.int("duration")?;
    if a.bool("refresh")? {
        let issued =
            jwt_refresh::issue(&ctx.env(), &ctx.jwt_signer(), &user.id, session, duration).await?;
        return Ok(refreshed(&issued));
    }
    let jwt = sessions::create_jwt(
        &ctx.env(),
        &ctx.jwt_signer(),
        &user.id,
        &session.id,
        duration,
    )
    .await?;
    Ok(Reply::json(json!({ "jwt": jwt.expose() })))
}

/// The Jwt model with latchkey's `refreshToken`.
fn refreshed(issued: &jwt_refresh::Refreshed) -> Reply {
    Reply::json(json!({
        "jwt": issued.jwt.expose(),
        "refreshToken": issued.refresh_token.expose(),
    }))
}

/// POST /v1/account/jwts/refresh: a new JWT and the next refresh token for a refresh token.
pub async fn refresh_jwt(ctx: Ctx, a: Args) -> Result<Reply> {
    let issued =
        jwt_refresh::exchange(&ctx.env(), &ctx.jwt_signer(), a.str("refreshToken")?).await?;
    Ok(refreshed(&issued))
}

/// GET /v1/.well-known/jwks.json (project from `project` or `X-Appwrite-Project`) and
/// GET /v1/projects/:projectId/jwks.json: the public keys that verify the project's JWTs.
pub async fn jwks(ctx: Ctx, a: Args) -> Result<Reply> {
    let project = match a.opt_str("projectId") {
        Some(id) => ctx.state.project(id).ok_or(ErrorType::ProjectNotFound)?,
        None => ctx.project.clone(),
    };
    let state = &ctx.state;
    let set = state
        .jwt_keys
        .jwks(
            &*state.store,
            &project.id,
            project.settings.jwt.algorithm,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Reply::json(set))
}
