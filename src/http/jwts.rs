//! `account.createJWT` — POST /v1/account/jwts (and the 1.4/1.5 alias /v1/account/jwt).

use serde_json::json;

use crate::domain::sessions;
use crate::error::{ErrorType, Result};
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::reply::Reply;

/// A JWT for the request's own session.
pub async fn create_jwt(ctx: Ctx, a: Args) -> Result<Reply> {
    let user = ctx.user()?;
    // appwrite main: a JWT-authenticated request may not mint another JWT.
    let session = ctx
        .current_session()
        .ok_or(ErrorType::UserJwtCreationDenied)?;
    let jwt = sessions::create_jwt(
        &ctx.env(),
        ctx.state.instance_key.expose().as_bytes(),
        &user.id,
        &session.id,
        a.int("duration")?,
    )?;
    Ok(Reply::json(json!({ "jwt": jwt.expose() })))
}
