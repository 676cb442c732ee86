//! TOTP authenticators (spec §6): create (the secret is shown once), verify with a first
//! code, delete. A code is accepted once: the step it belongs to is recorded, and a code of
//! that step or an earlier one is refused after (stricter than Appwrite, which accepts a code
//! again until its 30 seconds end).

use crate::domain::Env;
use crate::domain::ids::unique_id;
use crate::domain::mfa::{TOTP, credit_session, seal_context, totp};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{AuthenticatorRow, SessionRow, Tx, UserRow};

/// What `POST /v1/account/mfa/authenticators/totp` answers (the MFAType model).
pub struct NewAuthenticator {
    pub secret: Secret,
    pub uri: String,
}

/// The authenticator's base32 secret.
fn open_secret(env: &Env<'_>, a: &AuthenticatorRow) -> Result<Secret> {
    let plain = env
        .sealer
        .open(&seal_context(env, &a.user_id, TOTP), a.secret.expose())
        .ok_or_else(|| Error::internal(anyhow::anyhow!("an authenticator secret does not open")))?;
    String::from_utf8(plain)
        .map(Secret::new)
        .map_err(Error::internal)
}

/// Checks `code` against the authenticator for the current step and, when right, records the
/// step so the code cannot be used again. Whether it was right.
pub(super) async fn accept_code(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    a: &mut AuthenticatorRow,
    code: &str,
) -> Result<bool> {
    let secret = open_secret(env, a)?;
    let now_s = u64::try_from(env.now().div_euclid(1000)).unwrap_or_default();
    let Some(step) = totp::check(secret.expose(), code, now_s) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if step <= a.last_step {
        return Ok(false);
    }
    a.last_step = step;
    a.updated_at = env.now();
    tx.update_authenticator(env.pid(), a).await?;
    Ok(true)
}

/// `POST /v1/account/mfa/authenticators/totp`: a new secret, replacing an unverified one;
/// 409 when a verified one exists. The account is labelled with the email (else phone, else
/// id) and the issuer is the project's name.
pub async fn create(env: &Env<'_>, user: &UserRow) -> Result<NewAuthenticator> {
    let secret = totp::new_secret();
    let now = env.now();
    let row = AuthenticatorRow {
        id: unique_id(),
        user_id: user.id.clone(),
        kind: TOTP.into(),
        verified: false,
        secret: Secret::new(
            env.sealer
                .seal(&seal_context(env, &user.id, TOTP), secret.as_bytes()),
        ),
        last_step: 0,
        created_at: now,
        updated_at: now,
    };
    let mut tx = env.begin().await?;
    // The user's row serialises two creates (no authenticator row exists yet to lock).
    tx.lock_user(env.pid(), &user.id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    if let Some(old) = tx.lock_authenticator(env.pid(), &user.id, TOTP).await? {
        if old.verified {
            return Err(ErrorType::UserAuthenticatorAlreadyVerified.into());
        }
        tx.delete_authenticator(env.pid(), &user.id, TOTP).await?;
    }
    tx.insert_authenticator(env.pid(), &row).await?;
    env.commit_audited(tx, user, "user.update", format!("user/{}", user.id))
        .await?;
    let label = [&user.email, &user.phone]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or(&user.id);
    Ok(NewAuthenticator {
        uri: totp::uri(&env.project.name, label, &secret),
        secret: Secret::new(secret),
    })
}

/// `PUT /v1/account/mfa/authenticators/totp`: the first code verifies the authenticator and
/// counts as the `totp` factor of the calling session.
pub async fn verify(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    code: &str,
) -> Result<()> {
    let mut tx = env.begin().await?;
    let mut a = tx
        .lock_authenticator(env.pid(), &user.id, TOTP)
        .await?
        .ok_or(ErrorType::UserAuthenticatorNotFound)?;
    if a.verified {
        return Err(ErrorType::UserAuthenticatorAlreadyVerified.into());
    }
    // Written with the accepted step; a wrong code writes nothing.
    a.verified = true;
    if !accept_code(env, &mut tx, &mut a, code).await? {
        return Err(ErrorType::UserInvalidToken.into());
    }
    if let Some(s) = session {
        credit_session(env, &mut tx, s, &[TOTP], false).await?;
    }
    env.commit_audited(tx, user, "user.update", format!("user/{}", user.id))
        .await
}

/// `DELETE /v1/account/mfa/authenticators/totp` (after a recent challenge).
pub async fn delete(env: &Env<'_>, user: &UserRow) -> Result<()> {
    let mut tx = env.begin().await?;
    if !tx.delete_authenticator(env.pid(), &user.id, TOTP).await? {
        return Err(ErrorType::UserAuthenticatorNotFound.into());
    }
    env.commit_audited(tx, user, "user.update", format!("user/{}", user.id))
        .await
}
