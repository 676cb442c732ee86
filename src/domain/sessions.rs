//! Session rules: creation by password or anonymously, extension, deletion, JWTs
//! (spec §3, §5.4–§5.6, §5.10).

use base64::Engine;

use crate::domain::accounts::{Env, check_user_limit, new_user};
use crate::domain::ids::{random_hex, sha256_hex, unique_id};
use crate::domain::time::now_ms;
use crate::domain::{geo, jwt, useragent};
use crate::error::{Error, ErrorType, Result};
use crate::store::{SessionPurge, SessionRow, UserRow};

/// Bytes of randomness in a session secret (256 hex chars on the wire).
const SESSION_SECRET_BYTES: usize = 128;

/// A session just created, with the secret that exists only in this response.
pub struct NewSession {
    pub session: SessionRow,
    /// `base64({"id": userId, "secret": secret})`: the cookie value and the key callers' `secret`.
    pub encoded: String,
}

/// The encoded session Appwrite puts in cookies and `X-Appwrite-Session`.
pub fn encode_session(user_id: &str, secret: &str) -> String {
    let json = serde_json::json!({ "id": user_id, "secret": secret }).to_string();
    base64::engine::general_purpose::STANDARD.encode(json)
}

/// Decodes an encoded session into `(userId, secret)`; `None` for anything malformed.
pub fn decode_session(encoded: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let id = v.get("id")?.as_str()?.to_owned();
    let secret = v.get("secret")?.as_str()?.to_owned();
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// A session row for `user` with a fresh secret, client fields and expiry.
fn build(env: &Env<'_>, user_id: &str, provider: &str, uid: &str, factors: &[&str]) -> NewSession {
    let secret = random_hex(SESSION_SECRET_BYTES);
    let now = now_ms();
    let duration_ms = env.project.settings.auth.duration as i64 * 1000;
    let session = SessionRow {
        id: unique_id(),
        user_id: user_id.to_owned(),
        created_at: now,
        updated_at: now,
        expire: now + duration_ms,
        provider: provider.into(),
        provider_uid: uid.into(),
        secret_hash: sha256_hex(&secret),
        ip: env.client.ip.clone(),
        user_agent: env.client.user_agent.clone(),
        ua: useragent::parse(&env.client.user_agent),
        country_code: geo::country_code(&env.client.ip),
        factors: serde_json::to_string(factors).unwrap_or_else(|_| "[]".into()),
        ..SessionRow::default()
    };
    NewSession {
        encoded: encode_session(user_id, &secret),
        session,
    }
}

/// `POST /v1/account/sessions/email` (spec §5.5).
pub async fn create_email_password_session(
    env: &Env<'_>,
    email: &str,
    password: &str,
) -> Result<(UserRow, NewSession)> {
    let user = env.store.find_user_by_email(&env.project.id, email).await?;
    let Some(mut user) = user else {
        // Spend the same time as a real check so that response times do not reveal accounts.
        let _ = env.hasher.hash(password).await;
        return Err(ErrorType::UserInvalidCredentials.into());
    };
    let verified = match (&user.password, user.password_update) {
        (Some(phc), Some(_)) => env
            .hasher
            .verify(password, phc)
            .await
            .map_err(Error::internal)?,
        _ => false,
    };
    if !verified {
        return Err(ErrorType::UserInvalidCredentials.into());
    }
    if !user.status {
        return Err(ErrorType::UserBlocked.into());
    }
    if user
        .password
        .as_deref()
        .is_some_and(|phc| env.hasher.needs_rehash(phc))
    {
        let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
        user.password = Some(stored.phc);
        user.hash = Some(stored.algorithm);
        user.hash_options = Some(stored.options.to_string());
        env.store
            .update_user(&env.project.id, &user, None, SessionPurge::Keep, None)
            .await?;
    }
    let new = build(env, &user.id, "email", email, &["password"]);
    let audit = env.audit(&user, "session.create", format!("user/{}", user.id));
    env.store
        .create_session(
            &env.project.id,
            &new.session,
            env.project.settings.auth.max_sessions,
            &audit,
        )
        .await?;
    Ok((user, new))
}

/// `POST /v1/account/sessions/anonymous` (spec §5.6): a new user without email or password.
pub async fn create_anonymous_session(env: &Env<'_>) -> Result<(UserRow, NewSession)> {
    check_user_limit(env).await?;
    let user = new_user(unique_id(), now_ms());
    let new = build(env, &user.id, "anonymous", "", &["anonymous"]);
    let audits = [
        env.audit(&user, "user.create", format!("user/{}", user.id)),
        env.audit(&user, "session.create", format!("user/{}", user.id)),
    ];
    env.store
        .create_user(&env.project.id, &user, None, Some(&new.session), &audits)
        .await?;
    Ok((user, new))
}

/// `PATCH /v1/account/sessions/:id`: pushes the expiry to now + the project's duration.
pub async fn extend_session(env: &Env<'_>, user: &UserRow, session_id: &str) -> Result<SessionRow> {
    let expire = now_ms() + env.project.settings.auth.duration as i64 * 1000;
    let audit = env.audit(user, "session.update", format!("user/{}", user.id));
    let found = env
        .store
        .update_session_expire(&env.project.id, &user.id, session_id, expire, &audit)
        .await?;
    if !found {
        return Err(ErrorType::UserSessionNotFound.into());
    }
    env.store
        .find_session(&env.project.id, &user.id, session_id)
        .await?
        .ok_or_else(|| ErrorType::UserSessionNotFound.into())
}

/// `DELETE /v1/account/sessions/:id`.
pub async fn delete_session(env: &Env<'_>, user: &UserRow, session_id: &str) -> Result<()> {
    let audit = env.audit(user, "session.delete", format!("user/{}", user.id));
    if env
        .store
        .delete_session(&env.project.id, &user.id, session_id, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(ErrorType::UserSessionNotFound.into())
    }
}

/// `DELETE /v1/account/sessions`.
pub async fn delete_all_sessions(env: &Env<'_>, user: &UserRow) -> Result<()> {
    let audit = env.audit(user, "session.delete", format!("user/{}", user.id));
    env.store
        .delete_sessions(&env.project.id, &user.id, &audit)
        .await?;
    Ok(())
}

/// `POST /v1/account/jwts`: a JWT for the current session, valid `duration` seconds.
pub fn create_jwt(key: &[u8], user_id: &str, session_id: &str, duration: i64) -> Result<String> {
    if duration <= 0 {
        // Appwrite's JWT library throws for a zero lifetime; keep the 500 it answers with.
        return Err(Error::internal(anyhow::anyhow!(
            "JWT duration must be positive"
        )));
    }
    let claims = jwt::Claims {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
        exp: now_ms() / 1000 + duration,
    };
    jwt::sign(key, &claims).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_sessions_round_trip_and_reject_garbage() {
        let e = encode_session("u1", "abc");
        assert_eq!(
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(&e)
                    .unwrap()
            )
            .unwrap(),
            r#"{"id":"u1","secret":"abc"}"#
        );
        assert_eq!(decode_session(&e), Some(("u1".into(), "abc".into())));
        assert_eq!(decode_session("!!"), None);
        assert_eq!(decode_session(&encode_session("", "x")), None);
    }
}
