//! `account.createJWT` — POST /v1/account/jwts (and the 1.4/1.5 alias /v1/account/jwt).

use axum::http::StatusCode;
use serde_json::json;

use crate::domain::sessions;
use crate::error::{ErrorType, Result};
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::reply::{Model, Reply};

/// Longest JWT lifetime a client may ask for, in seconds.
const MAX_DURATION: i64 = 3600;
const DEFAULT_DURATION: i64 = 900;

/// A JWT for the request's own session.
pub async fn create_jwt(ctx: Ctx, p: Params) -> Result<Reply> {
    let duration = p.int_in_range("duration", DEFAULT_DURATION, 0, MAX_DURATION)?;
    let user = ctx.user()?;
    // appwrite main: a JWT-authenticated request may not mint another JWT.
    let session = ctx
        .current_session()
        .ok_or(ErrorType::UserJwtCreationDenied)?;
    let jwt = sessions::create_jwt(&ctx.state.instance_key, &user.id, &session.id, duration)?;
    Ok(Reply::json(
        StatusCode::CREATED,
        Model::Plain,
        json!({ "jwt": jwt }),
    ))
}
