//! MFA challenges (spec §6): one is opened for a factor (its code sent by email or SMS where
//! the factor needs one) and completed with the code, which adds the factor to the calling
//! session. Stricter than Appwrite: a challenge lasts the 15 minutes its email promises (not an
//! hour), and it is spent after [`MAX_WRONG_ANSWERS`] wrong codes.

use subtle::ConstantTimeEq;

use crate::domain::Env;
use crate::domain::ids::unique_id;
use crate::domain::messages::Template;
use crate::domain::mfa::{Factor, TOTP, authenticators, credit_session, recovery_codes};
use crate::domain::passwordless::sms_code;
use crate::domain::time::seconds_to_ms;
use crate::domain::tokens::six_digits;
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{ChallengeRow, SessionRow, Tx, UserRow};

/// Seconds a challenge stays open.
pub const LIFETIME_S: u64 = 15 * 60;
/// Wrong codes that spend a challenge: the fifth wrong one deletes it.
pub const MAX_WRONG_ANSWERS: i64 = 5;

fn code_context(env: &Env<'_>, id: &str) -> String {
    format!("{}/challenge/{id}", env.pid())
}

/// `POST /v1/account/mfa/challenges`: opens a challenge for `factor`. Email and phone need a
/// transport and a verified address, and get the code by message; a TOTP or recovery-code
/// challenge sends nothing; a custom challenge's code is read by the server (Users API).
pub async fn create(env: &Env<'_>, user: &UserRow, factor: Factor) -> Result<ChallengeRow> {
    factor.require_enabled(env)?;
    let mut code = six_digits();
    let mut message = None;
    match factor {
        Factor::Phone => {
            env.require_sms()?;
            let phone = user
                .phone
                .as_deref()
                .filter(|p| !p.is_empty())
                .ok_or(ErrorType::UserPhoneNotFound)?;
            if !user.phone_verification {
                return Err(ErrorType::UserPhoneNotVerified.into());
            }
            let (c, m) = sms_code(env, user, phone);
            code = c;
            message = m;
        }
        Factor::Email => {
            env.require_email()?;
            let email = user
                .email
                .as_deref()
                .filter(|e| !e.is_empty())
                .ok_or(ErrorType::UserEmailNotFound)?;
            if !user.email_verification {
                return Err(ErrorType::UserEmailNotVerified.into());
            }
            let mut m = env.message(
                Template::MfaChallenge,
                email,
                user.name.as_deref().unwrap_or_default(),
            );
            m.vars.insert("otp".into(), code.expose().to_owned());
            message = Some(m);
        }
        Factor::Totp | Factor::RecoveryCode | Factor::Custom => {}
    }
    let now = env.now();
    let id = unique_id();
    // Sealed, not hashed: a six-digit code's hash is reversed by trying a million codes.
    let sealed = matches!(factor, Factor::Email | Factor::Phone | Factor::Custom).then(|| {
        Secret::new(
            env.sealer
                .seal(&code_context(env, &id), code.expose().as_bytes()),
        )
    });
    let challenge = ChallengeRow {
        code: sealed,
        id,
        user_id: user.id.clone(),
        kind: factor.name().into(),
        attempts: 0,
        created_at: now,
        expire: now.saturating_add(seconds_to_ms(LIFETIME_S)),
    };
    let mut tx = env.begin().await?;
    tx.insert_challenge(env.pid(), &challenge).await?;
    if let Some(m) = &message {
        env.enqueue(&mut tx, &user.id, m, Some(challenge.expire))
            .await?;
    }
    env.commit_audited(tx, user, "challenge.create", format!("user/{}", user.id))
        .await?;
    Ok(challenge)
}

/// Whether `otp` answers the challenge; a right TOTP or recovery code is spent in `tx`.
async fn answers(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    user: &UserRow,
    challenge: &ChallengeRow,
    factor: Factor,
    otp: &str,
) -> Result<bool> {
    match factor {
        Factor::Totp => match tx.lock_authenticator(env.pid(), &user.id, TOTP).await? {
            Some(mut a) if a.verified => authenticators::accept_code(env, tx, &mut a, otp).await,
            _ => Ok(false),
        },
        Factor::RecoveryCode => recovery_codes::spend(env, tx, &user.id, otp).await,
        Factor::Email | Factor::Phone | Factor::Custom => Ok(code(env, challenge)?
            .is_some_and(|c| bool::from(c.expose().as_bytes().ct_eq(otp.as_bytes())))),
    }
}

/// `PUT /v1/account/mfa/challenges`: completes the user's open challenge with `otp`. An
/// unknown, expired, spent or other user's challenge, or a wrong code, is 401
/// `user_invalid_token`; a wrong code is counted. The session, with the factor added and
/// `mfaUpdatedAt` now.
pub async fn verify(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    challenge_id: &str,
    otp: &str,
) -> Result<SessionRow> {
    // A JWT caller has no session to add the factor to.
    let session = session.ok_or(ErrorType::UserSessionNotFound)?;
    let mut tx = env.begin().await?;
    let challenge = tx
        .lock_challenge(env.pid(), challenge_id)
        .await?
        .filter(|c| c.user_id == user.id && c.expire >= env.now())
        .ok_or(ErrorType::UserInvalidToken)?;
    let factor = Factor::parse(&challenge.kind).ok_or_else(|| {
        Error::internal(anyhow::anyhow!(
            "a challenge of unknown type {}",
            challenge.kind
        ))
    })?;
    factor.require_enabled(env)?;
    if !answers(env, &mut tx, user, &challenge, factor, otp).await? {
        if challenge.attempts + 1 >= MAX_WRONG_ANSWERS {
            tx.delete_challenge(env.pid(), &challenge.id).await?;
        } else {
            tx.bump_challenge_attempts(env.pid(), &challenge.id).await?;
        }
        env.commit(tx).await?;
        return Err(ErrorType::UserInvalidToken.into());
    }
    tx.delete_challenge(env.pid(), &challenge.id).await?;
    let updated = credit_session(env, &mut tx, session, &[factor.name()], true).await?;
    env.commit_audited(tx, user, "challenges.update", format!("user/{}", user.id))
        .await?;
    Ok(updated)
}

/// The code of an email, phone or custom challenge (the Users API hands a custom one to the
/// server); `None` for the factors without one.
pub fn code(env: &Env<'_>, challenge: &ChallengeRow) -> Result<Option<Secret>> {
    let Some(sealed) = &challenge.code else {
        return Ok(None);
    };
    let plain = env
        .sealer
        .open(&code_context(env, &challenge.id), sealed.expose())
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a challenge code does not open")))?;
    String::from_utf8(plain)
        .map(|s| Some(Secret::new(s)))
        .map_err(Error::internal)
}
