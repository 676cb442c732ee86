//! What the server manages of a user's access (Users API): sessions it creates or ends,
//! generic tokens, JWTs, MFA administration, and messaging targets.

use crate::domain::Env;
use crate::domain::ids::{random_hex, unique_id};
use crate::domain::jwt_keys::JwtSigner;
use crate::domain::mfa::{self, Factors};
use crate::domain::queries::{self, TARGET_ATTRIBUTES};
use crate::domain::sessions::{self, MAX_LISTED_SESSIONS, NewSession};
use crate::domain::tokens::{self, Issued, TokenKind};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{ChallengeRow, Page, SessionRow, TargetRow, UserRow};

use super::get;

/// `users.listSessions`: the user's sessions, oldest first.
pub async fn list_sessions(env: &Env<'_>, user: &str) -> Result<Page<SessionRow>> {
    let user = get(env, user).await?;
    Ok(env
        .store
        .list_sessions(env.pid(), &user.id, MAX_LISTED_SESSIONS)
        .await?)
}

/// `users.createSession`: a session the server hands to its own client (SSR), provider
/// `server`. Appwrite gives it no factor, which its MFA gate then refuses on every account
/// route; it counts here as one factor, `server`, so the session can be used.
pub async fn create_session(env: &Env<'_>, user: &str) -> Result<(UserRow, NewSession)> {
    let user = get(env, user).await?;
    let new = sessions::build(env, &user.id, "server", "", &["server"]);
    let mut tx = env.begin().await?;
    tx.lock_user(env.pid(), &user.id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    tx.insert_session(env.pid(), &new.session).await?;
    tx.evict_sessions(env.pid(), &user.id, env.project.settings.auth.max_sessions)
        .await?;
    env.commit_audited(tx, &user, "session.create", format!("user/{}", user.id))
        .await?;
    Ok((user, new))
}

/// `users.deleteSessions`: every session of the user.
pub async fn delete_sessions(env: &Env<'_>, user: &str) -> Result<()> {
    let user = get(env, user).await?;
    let mut tx = env.begin().await?;
    tx.delete_sessions(env.pid(), &user.id, None).await?;
    env.commit_audited(tx, &user, "session.delete", format!("user/{}", user.id))
        .await
}

/// `users.deleteSession`: one session of the user.
pub async fn delete_session(env: &Env<'_>, user: &str, session: &str) -> Result<()> {
    let user = get(env, user).await?;
    let mut tx = env.begin().await?;
    if !tx.delete_session(env.pid(), &user.id, session).await? {
        return Err(ErrorType::UserSessionNotFound.into());
    }
    env.commit_audited(tx, &user, "session.delete", format!("user/{}", user.id))
        .await
}

/// `users.createToken`: a generic token (type 8) of `length` hex characters valid for
/// `expire_s`, exchangeable once for a session by `POST /v1/account/sessions/token`.
pub async fn create_token(
    env: &Env<'_>,
    user: &str,
    length: usize,
    expire_s: u64,
) -> Result<Issued> {
    let user = get(env, user).await?;
    let mut hex = random_hex(length.div_ceil(2));
    hex.truncate(length);
    let secret = Secret::new(hex);
    let token = tokens::new_token(env, &user.id, TokenKind::Generic, &secret, expire_s);
    let mut tx = env.begin().await?;
    tokens::store_token(env, &mut tx, &token, None).await?;
    env.commit_audited(tx, &user, "tokens.create", format!("user/{}", user.id))
        .await?;
    Ok(Issued {
        token,
        secret,
        phrase: String::new(),
    })
}

/// `users.createJWT`: a JWT for the session `session` (`recent` or empty: the newest one).
/// A user with no session gets a session-less JWT, bound to its project and user only, as in
/// Appwrite; a named session that does not exist is `user_session_not_found`.
pub async fn create_jwt(
    env: &Env<'_>,
    signer: &JwtSigner<'_>,
    user: &str,
    session: &str,
    duration_s: i64,
) -> Result<Secret> {
    let user = get(env, user).await?;
    let now = env.now();
    let session_id = if session.is_empty() || session == "recent" {
        let all = env
            .store
            .list_sessions(env.pid(), &user.id, MAX_LISTED_SESSIONS)
            .await?;
        all.rows
            .into_iter()
            .filter(|s| s.expire >= now)
            .max_by_key(|s| (s.created_at, s.id.clone()))
            .map(|s| s.id)
            .unwrap_or_default()
    } else {
        env.store
            .find_session(env.pid(), &user.id, session)
            .await?
            .filter(|s| s.expire >= now)
            .ok_or(ErrorType::UserSessionNotFound)?
            .id
    };
    sessions::create_jwt(env, signer, &user.id, &session_id, duration_s).await
}

/// `users.updateMfa`.
pub async fn update_mfa(env: &Env<'_>, user: &str, enabled: bool) -> Result<UserRow> {
    mfa::update_mfa(env, user, None, enabled).await
}

/// `users.listMfaFactors`.
pub async fn list_factors(env: &Env<'_>, user: &str) -> Result<Factors> {
    mfa::list_factors(env, &get(env, user).await?).await
}

/// `users.deleteMfaAuthenticator` (`totp`).
pub async fn delete_authenticator(env: &Env<'_>, user: &str) -> Result<()> {
    mfa::authenticators::delete(env, &get(env, user).await?).await
}

/// `users.getMfaRecoveryCodes`.
pub async fn get_recovery_codes(env: &Env<'_>, user: &str) -> Result<Vec<String>> {
    mfa::recovery_codes::get(env, &get(env, user).await?).await
}

/// `users.createMfaRecoveryCodes` (PATCH): 409 while codes exist.
pub async fn create_recovery_codes(env: &Env<'_>, user: &str) -> Result<Vec<String>> {
    mfa::recovery_codes::create(env, &get(env, user).await?).await
}

/// `users.updateMfaRecoveryCodes` (PUT): new codes replace the old ones.
pub async fn regenerate_recovery_codes(env: &Env<'_>, user: &str) -> Result<Vec<String>> {
    mfa::recovery_codes::regenerate(env, &get(env, user).await?).await
}

/// `users.getMfaChallenge` (2.x): an unexpired challenge of the user with its code, so the
/// server can deliver a `custom` factor's code through its own channel. A missing or expired
/// one is `user_invalid_token`, as Appwrite answers for a challenge it cannot find.
pub async fn get_challenge(
    env: &Env<'_>,
    user: &str,
    challenge: &str,
) -> Result<(ChallengeRow, Option<Secret>)> {
    let user = get(env, user).await?;
    let found = env
        .store
        .find_challenge(env.pid(), challenge)
        .await?
        .filter(|c| c.user_id == user.id && c.expire >= env.now())
        .ok_or(ErrorType::UserInvalidToken)?;
    let code = mfa::challenges::code(env, &found)?;
    Ok((found, code))
}

/// `users.listTargets`.
pub async fn list_targets(
    env: &Env<'_>,
    user: &str,
    raw_queries: &[String],
    legacy_syntax: bool,
) -> Result<Page<TargetRow>> {
    let user = get(env, user).await?;
    let query = queries::parse(raw_queries, legacy_syntax, TARGET_ATTRIBUTES)?;
    match env
        .store
        .list_targets_page(env.pid(), &user.id, &query)
        .await
    {
        Err(crate::store::StoreError::CursorNotFound) => {
            let id = query.cursor.map(|c| c.id).unwrap_or_default();
            Err(Error::from(ErrorType::GeneralCursorNotFound)
                .with_message(format!("Target '{id}' for the 'cursor' value not found.")))
        }
        other => Ok(other?),
    }
}

/// One target of the user; `user_target_not_found` otherwise.
pub async fn get_target(env: &Env<'_>, user: &str, id: &str) -> Result<TargetRow> {
    let user = get(env, user).await?;
    env.store
        .find_target(env.pid(), id)
        .await?
        .filter(|t| t.user_id == user.id)
        .ok_or_else(|| ErrorType::UserTargetNotFound.into())
}

/// What a target is created from.
pub struct NewTarget {
    pub id: Option<String>,
    pub provider_type: String,
    pub identifier: String,
    pub provider_id: Option<String>,
    pub name: Option<String>,
}

/// Checks an identifier against the target's type: an email address, an E.164 number, or
/// any device token for push.
fn check_identifier(provider_type: &str, identifier: &str) -> Result<String> {
    match provider_type {
        "email" => crate::domain::validate::email(identifier)
            .map_err(|_| ErrorType::GeneralInvalidEmail.into()),
        "sms" => crate::domain::validate::phone(identifier)
            .map_err(|_| ErrorType::GeneralInvalidPhone.into()),
        _ => Ok(identifier.to_owned()),
    }
}

/// `users.createTarget`.
pub async fn create_target(env: &Env<'_>, user: &str, new: NewTarget) -> Result<TargetRow> {
    let user = get(env, user).await?;
    let identifier = check_identifier(&new.provider_type, &new.identifier)?;
    let now = env.now();
    let target = TargetRow {
        id: new.id.unwrap_or_else(unique_id),
        user_id: user.id.clone(),
        created_at: now,
        updated_at: now,
        name: new.name.unwrap_or_default(),
        provider_id: new.provider_id,
        provider_type: new.provider_type,
        identifier,
        expired: false,
        session_id: None,
    };
    let mut tx = env.begin().await?;
    tx.insert_target(env.pid(), &target)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    env.commit_audited(tx, &user, "target.create", format!("target/{}", target.id))
        .await?;
    Ok(target)
}

/// What `users.updateTarget` may change.
pub struct TargetChange {
    pub identifier: Option<String>,
    pub provider_id: Option<String>,
    pub name: Option<String>,
}

/// `users.updateTarget`: a new identifier is checked against the type and un-expires it.
pub async fn update_target(
    env: &Env<'_>,
    user: &str,
    id: &str,
    change: TargetChange,
) -> Result<TargetRow> {
    let mut target = get_target(env, user, id).await?;
    let user = get(env, user).await?;
    if let Some(identifier) = change.identifier {
        target.identifier = check_identifier(&target.provider_type, &identifier)?;
        target.expired = false;
    }
    if let Some(p) = change.provider_id {
        target.provider_id = Some(p);
    }
    if let Some(n) = change.name {
        target.name = n;
    }
    target.updated_at = env.now();
    let mut tx = env.begin().await?;
    tx.update_target(env.pid(), &target)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    env.commit_audited(tx, &user, "target.update", format!("target/{id}"))
        .await?;
    Ok(target)
}

/// `users.deleteTarget`.
pub async fn delete_target(env: &Env<'_>, user: &str, id: &str) -> Result<()> {
    let target = get_target(env, user, id).await?;
    let user = get(env, &target.user_id).await?;
    let mut tx = env.begin().await?;
    if !tx.delete_target(env.pid(), id).await? {
        return Err(ErrorType::UserTargetNotFound.into());
    }
    env.commit_audited(tx, &user, "target.delete", format!("target/{id}"))
        .await
}
