//! Session rules: creation by password or anonymously, listing, extension, deletion, JWTs
//! (spec §3, §5.4–§5.6, §5.10).

use base64::Engine;

use crate::domain::accounts::{check_user_limit, new_user, replace_hash};
use crate::domain::ids::{random_hex, unique_id};
use crate::domain::jwt_keys::JwtSigner;
use crate::domain::time::seconds_to_ms;
use crate::domain::{Env, jwt};
use crate::error::{Error, ErrorType, Result};
use crate::secret::{Secret, sha256_hex};
use crate::store::{Page, SessionRow, UserRow};

/// Bytes of randomness in a session secret (256 hex chars on the wire).
const SESSION_SECRET_BYTES: usize = 128;
/// Appwrite lists at most this many sessions of a user (`APP_LIMIT_SUBQUERY`).
pub const MAX_LISTED_SESSIONS: i64 = 1000;

/// A session just created, with the secret that exists only in this response.
pub struct NewSession {
    pub session: SessionRow,
    /// `base64({"id": userId, "secret": secret})`: the cookie value and the key callers' `secret`.
    pub encoded: Secret,
}

/// The encoded session Appwrite puts in cookies and `X-Appwrite-Session`.
pub fn encode_session(user_id: &str, secret: &str) -> String {
    let json = serde_json::json!({ "id": user_id, "secret": secret }).to_string();
    base64::engine::general_purpose::STANDARD.encode(json)
}

/// Decodes an encoded session into `(userId, secret)`; `None` for anything malformed.
pub fn decode_session(encoded: &str) -> Option<(String, Secret)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let id = v.get("id")?.as_str()?.to_owned();
    let secret = v.get("secret")?.as_str()?.to_owned();
    (!id.is_empty() && !secret.is_empty()).then(|| (id, Secret::new(secret)))
}

/// A session row for `user` with a fresh secret, client fields and expiry.
pub fn build(
    env: &Env<'_>,
    user_id: &str,
    provider: &str,
    uid: &str,
    factors: &[&str],
) -> NewSession {
    let secret = random_hex(SESSION_SECRET_BYTES);
    let now = env.now();
    let duration_ms = seconds_to_ms(env.project.settings.auth.duration);
    let session = SessionRow {
        id: unique_id(),
        user_id: user_id.to_owned(),
        created_at: now,
        updated_at: now,
        expire: now.saturating_add(duration_ms),
        provider: provider.into(),
        provider_uid: uid.into(),
        secret_hash: Secret::new(sha256_hex(&secret)),
        ip: env.client.ip.clone(),
        user_agent: env.client.user_agent.clone(),
        ua: env.client.ua().clone(),
        country_code: env.client.country_code().to_owned(),
        factors: serde_json::to_string(factors).unwrap_or_else(|_| "[]".into()),
        ..SessionRow::default()
    };
    NewSession {
        encoded: Secret::new(encode_session(user_id, &secret)),
        session,
    }
}

/// `POST /v1/account/sessions/email` (spec §5.5). The session is written only if the password
/// it verified is still the user's when the unit of work holds the user's row, so no session
/// made with an old password outlives a password change.
pub async fn create_email_password_session(
    env: &Env<'_>,
    email: &str,
    password: &str,
) -> Result<(UserRow, NewSession)> {
    let user = env.store.find_user_by_email(env.pid(), email).await?;
    // A missing user or password still costs one hash, so timing reveals neither.
    let with_password = user.as_ref().filter(|u| u.password_update.is_some());
    let verified = env
        .hasher
        .verify_stored(
            password,
            with_password.and_then(|u| u.password.as_ref()),
            with_password.and_then(|u| u.hash.as_deref()),
            with_password.and_then(|u| u.hash_options.as_deref()),
        )
        .await
        .map_err(Error::internal)?;
    let Some(user) = user.filter(|_| verified) else {
        return Err(ErrorType::UserInvalidCredentials.into());
    };
    if !user.status {
        return Err(ErrorType::UserBlocked.into());
    }
    let (pwned, refuse) =
        crate::domain::breached::check_sign_in(env, password, user.password_pwned).await?;
    let rehash = match &user.password {
        Some(phc) if env.hasher.needs_rehash_stored(phc, user.hash.as_deref()) => {
            Some(env.hasher.hash(password).await.map_err(Error::internal)?)
        }
        _ => None,
    };

    let mut tx = env.begin().await?;
    let mut fresh = tx
        .lock_user(env.pid(), &user.id)
        .await?
        .ok_or(ErrorType::UserInvalidCredentials)?;
    if fresh.password != user.password {
        return Err(ErrorType::UserInvalidCredentials.into());
    }
    if !fresh.status {
        return Err(ErrorType::UserBlocked.into());
    }
    let looked_up = pwned.is_some() && pwned != fresh.password_pwned;
    if looked_up {
        fresh.password_pwned = pwned;
    }
    let rehashed = rehash.is_some();
    if let Some(stored) = rehash {
        replace_hash(&mut fresh, stored);
    }
    if looked_up || rehashed {
        tx.update_user(env.pid(), &fresh).await?;
    }
    if refuse {
        // Recorded even though the sign-in is refused: the user must reset the password.
        env.commit(tx).await?;
        return Err(ErrorType::UserPasswordResetRequired.into());
    }
    let new = build(env, &fresh.id, "email", email, &["password"]);
    let first = tx.count_sessions(env.pid(), &fresh.id).await? == 0;
    tx.insert_session(env.pid(), &new.session).await?;
    tx.evict_sessions(env.pid(), &fresh.id, env.project.settings.auth.max_sessions)
        .await?;
    crate::domain::alerts::session_alert(env, &mut tx, &fresh, &new.session, first).await?;
    env.commit_audited(tx, &fresh, "session.create", format!("user/{}", fresh.id))
        .await?;
    Ok((fresh, new))
}

/// `POST /v1/account/sessions/anonymous` (spec §5.6): a new user without email or password.
pub async fn create_anonymous_session(env: &Env<'_>) -> Result<(UserRow, NewSession)> {
    check_user_limit(env, None).await?;
    let user = new_user(unique_id(), env.now());
    let new = build(env, &user.id, "anonymous", "", &["anonymous"]);
    let mut tx = env.begin().await?;
    check_user_limit(env, Some(&mut tx)).await?;
    tx.insert_user(env.pid(), &user)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    tx.insert_session(env.pid(), &new.session).await?;
    let resource = format!("user/{}", user.id);
    tx.insert_audit(
        env.pid(),
        &env.audit(&user, "user.create", resource.clone()),
    )
    .await?;
    env.commit_audited(tx, &user, "session.create", resource)
        .await?;
    Ok((user, new))
}

/// The user's sessions, oldest first (at most [`MAX_LISTED_SESSIONS`]), with the true count.
pub async fn list_sessions(env: &Env<'_>, user: &UserRow) -> Result<Page<SessionRow>> {
    Ok(env
        .store
        .list_sessions(env.pid(), &user.id, MAX_LISTED_SESSIONS)
        .await?)
}

/// One session of the user; `user_session_not_found` otherwise.
pub async fn get_session(env: &Env<'_>, user: &UserRow, session_id: &str) -> Result<SessionRow> {
    env.store
        .find_session(env.pid(), &user.id, session_id)
        .await?
        .ok_or_else(|| ErrorType::UserSessionNotFound.into())
}

/// `PATCH /v1/account/sessions/:id`: pushes the expiry to now + the project's duration.
pub async fn extend_session(env: &Env<'_>, user: &UserRow, session_id: &str) -> Result<SessionRow> {
    let now = env.now();
    let expire = now.saturating_add(seconds_to_ms(env.project.settings.auth.duration));
    let mut tx = env.begin().await?;
    if !tx
        .update_session_expire(env.pid(), &user.id, session_id, expire, now)
        .await?
    {
        return Err(ErrorType::UserSessionNotFound.into());
    }
    env.commit_audited(tx, user, "session.update", format!("user/{}", user.id))
        .await?;
    get_session(env, user, session_id).await
}

/// `DELETE /v1/account/sessions/:id`.
pub async fn delete_session(env: &Env<'_>, user: &UserRow, session_id: &str) -> Result<()> {
    let mut tx = env.begin().await?;
    if !tx.delete_session(env.pid(), &user.id, session_id).await? {
        return Err(ErrorType::UserSessionNotFound.into());
    }
    env.commit_audited(tx, user, "session.delete", format!("user/{}", user.id))
        .await?;
    Ok(())
}

/// `DELETE /v1/account/sessions`. The audit is kept even when no session was left: the
/// request happened.
pub async fn delete_all_sessions(env: &Env<'_>, user: &UserRow) -> Result<()> {
    let mut tx = env.begin().await?;
    tx.delete_sessions(env.pid(), &user.id, None).await?;
    env.commit_audited(tx, user, "session.delete", format!("user/{}", user.id))
        .await?;
    Ok(())
}

/// `POST /v1/account/jwts`: a JWT for the current session, valid `duration` seconds (≥ 1: the
/// route's declaration rejects 0, where Appwrite's JWT library throws and answers 500), signed
/// as the project says (`[projects.jwt]`).
pub async fn create_jwt(
    env: &Env<'_>,
    signer: &JwtSigner<'_>,
    user_id: &str,
    session_id: &str,
    duration: i64,
) -> Result<Secret> {
    let claims = jwt::Claims {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
        project_id: env.pid().to_owned(),
        exp: (env.now() / 1000).saturating_add(duration),
    };
    signer
        .sign(
            env.store,
            env.project.settings.jwt.algorithm,
            &claims,
            env.now(),
        )
        .await
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
        assert_eq!(decode_session(&e), Some(("u1".into(), Secret::new("abc"))));
        assert_eq!(decode_session("!!"), None);
        assert_eq!(decode_session(&encode_session("", "x")), None);
    }
}
