//! Password recovery and email/phone verification (spec §5.15), in Appwrite 1.9's link form and
//! the 2.x six-digit-code form. Each creation writes the token and its message in one unit of
//! work; each confirmation consumes the token in the unit of work that applies it.

use crate::domain::Env;
use crate::domain::accounts::{check_history, set_password};
use crate::domain::messages::Template;
use crate::domain::passwordless::sms_code;
use crate::domain::tokens::{self, Issued, TokenKind, long_secret, six_digits};
use crate::error::{Error, ErrorType, Result};
use crate::store::{TokenRow, UserRow};

/// Recovery and email-verification tokens, and phone verification codes, live an hour.
const LIFETIME: u64 = 3600;
/// Email codes of the 2.x OTP flows live 15 minutes, like sign-in codes.
const OTP_LIFETIME: u64 = 900;
/// Bytes of a recovery or verification secret (256 hex chars).
const LINK_SECRET_BYTES: usize = 128;

/// How a recovery or verification reaches the user: a link to `url`, or a code (with a
/// security phrase when asked for).
#[derive(Clone, Copy)]
pub enum Delivery<'u> {
    Link(&'u str),
    Code { phrase: bool },
}

/// Which flow a confirmation completes: the link's token or the code's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum By {
    Link,
    Code,
}

/// A token for `user` and the email that carries it (link or code).
async fn issue_by_email(
    env: &Env<'_>,
    user: &UserRow,
    email: &str,
    kinds: (TokenKind, TokenKind),
    delivery: Delivery<'_>,
    templates: (Template, Template),
    event: &str,
) -> Result<Issued> {
    let (secret, lifetime, template, kind, phrase) = match delivery {
        Delivery::Link(_) => (
            long_secret(LINK_SECRET_BYTES),
            LIFETIME,
            templates.0,
            kinds.0,
            String::new(),
        ),
        Delivery::Code { phrase } => (
            six_digits(),
            OTP_LIFETIME,
            templates.1,
            kinds.1,
            tokens::phrase_if(phrase),
        ),
    };
    let token = tokens::new_token(env, &user.id, kind, &secret, lifetime);
    let mut m = env.message(template, email, user.name.as_deref().unwrap_or_default());
    match delivery {
        Delivery::Link(url) => {
            m.vars.insert(
                "redirect".into(),
                tokens::secret_link(url, &token, &secret)?,
            );
        }
        Delivery::Code { .. } => {
            m.vars.insert("otp".into(), secret.expose().to_owned());
            m.vars.insert("phrase".into(), phrase.clone());
        }
    }
    let mut tx = env.begin().await?;
    // The address is checked again under the user's lock: an email change committed since the
    // user was read voids tokens, and this one would otherwise outlive it.
    let fresh = tx.lock_user(env.pid(), &user.id).await?;
    if fresh.as_ref().and_then(|u| u.email.as_deref()) != Some(email) {
        return Err(ErrorType::UserNotFound.into());
    }
    tokens::store_token(env, &mut tx, &token, Some(&m)).await?;
    env.commit_audited(tx, user, event, format!("user/{}", user.id))
        .await?;
    Ok(Issued {
        token,
        secret,
        phrase,
    })
}

/// `POST /v1/account/recovery` (and the 2.x `/recovery/otp`): a reset link or code to the
/// user with `email`.
pub async fn create_recovery(env: &Env<'_>, email: &str, delivery: Delivery<'_>) -> Result<Issued> {
    env.require_email()?;
    let user = env
        .store
        .find_user_by_email(env.pid(), email)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    if !user.status {
        return Err(ErrorType::UserBlocked.into());
    }
    issue_by_email(
        env,
        &user,
        email,
        (TokenKind::Recovery, TokenKind::RecoveryOtp),
        delivery,
        (Template::Recovery, Template::RecoveryOtp),
        "recovery.create",
    )
    .await
}

/// The user named by a confirmation and their unexpired token of `kind` matching `secret`.
async fn confirmation(
    env: &Env<'_>,
    user_id: &str,
    secret: &str,
    kind: TokenKind,
) -> Result<(UserRow, TokenRow)> {
    let user = env
        .store
        .find_user(env.pid(), user_id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    let (token, _) = tokens::verify(env, &user, secret, &[kind]).await?;
    Ok((user, token))
}

/// `PUT /v1/account/recovery` (and `/recovery/otp`): sets the new password, marks the email
/// verified (the inbox was proven) and, with `invalidateSessions`, ends **all** sessions.
/// Answers with the consumed token (spec §5.15).
pub async fn update_recovery(
    env: &Env<'_>,
    user_id: &str,
    secret: &str,
    password: &str,
    by: By,
) -> Result<TokenRow> {
    let auth = &env.project.settings.auth;
    let kind = match by {
        By::Link => TokenKind::Recovery,
        By::Code => TokenKind::RecoveryOtp,
    };
    let (user, token) = confirmation(env, user_id, secret, kind).await?;
    check_history(env, &user, password).await?;
    let pwned = crate::domain::breached::check_new(env, password).await?;
    let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
    let mut tx = env.begin().await?;
    let mut fresh = tx
        .lock_user(env.pid(), &user.id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    tokens::consume(env, &mut tx, &token).await?;
    let now = env.now();
    set_password(&mut fresh, stored, pwned, auth.password_history, now);
    fresh.email_verification = true;
    fresh.updated_at = now;
    tx.update_user(env.pid(), &fresh).await?;
    if auth.invalidate_sessions {
        tx.delete_sessions(env.pid(), &fresh.id, None).await?;
    }
    env.commit_audited(tx, &fresh, "recovery.update", format!("user/{}", fresh.id))
        .await?;
    Ok(token)
}

/// `POST /v1/account/verifications/email` (and `/verifications/email/otp`).
pub async fn create_email_verification(
    env: &Env<'_>,
    user: &UserRow,
    delivery: Delivery<'_>,
) -> Result<Issued> {
    env.require_email()?;
    let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) else {
        return Err(ErrorType::UserEmailNotFound.into());
    };
    if user.email_verification {
        return Err(ErrorType::UserEmailAlreadyVerified.into());
    }
    issue_by_email(
        env,
        user,
        email,
        (TokenKind::Verification, TokenKind::VerificationOtp),
        delivery,
        (Template::Verification, Template::VerificationOtp),
        "verification.create",
    )
    .await
}

/// Consumes a verification token and sets the flag it proves.
async fn confirm(env: &Env<'_>, user_id: &str, secret: &str, kind: TokenKind) -> Result<TokenRow> {
    let (user, token) = confirmation(env, user_id, secret, kind).await?;
    let mut tx = env.begin().await?;
    let mut fresh = tx
        .lock_user(env.pid(), &user.id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    tokens::consume(env, &mut tx, &token).await?;
    match kind {
        TokenKind::Phone => fresh.phone_verification = true,
        _ => fresh.email_verification = true,
    }
    fresh.updated_at = env.now();
    tx.update_user(env.pid(), &fresh).await?;
    env.commit_audited(
        tx,
        &fresh,
        "verification.update",
        format!("user/{}", fresh.id),
    )
    .await?;
    Ok(token)
}

/// `PUT /v1/account/verifications/email` (and `/verifications/email/otp`).
pub async fn update_email_verification(
    env: &Env<'_>,
    user_id: &str,
    secret: &str,
    by: By,
) -> Result<TokenRow> {
    let kind = match by {
        By::Link => TokenKind::Verification,
        By::Code => TokenKind::VerificationOtp,
    };
    confirm(env, user_id, secret, kind).await
}

/// `POST /v1/account/verifications/phone`: a code by SMS (none for a mock number), valid an
/// hour. It is a phone token like a sign-in code, so either completes the other's flow.
pub async fn create_phone_verification(env: &Env<'_>, user: &UserRow) -> Result<Issued> {
    env.require_sms()?;
    let Some(phone) = user.phone.as_deref().filter(|p| !p.is_empty()) else {
        return Err(ErrorType::UserPhoneNotFound.into());
    };
    if user.phone_verification {
        return Err(ErrorType::UserPhoneAlreadyVerified.into());
    }
    let (code, message) = sms_code(env, user, phone);
    let token = tokens::new_token(env, &user.id, TokenKind::Phone, &code, LIFETIME);
    let mut tx = env.begin().await?;
    tokens::store_token(env, &mut tx, &token, message.as_ref()).await?;
    env.commit_audited(tx, user, "verification.create", format!("user/{}", user.id))
        .await?;
    Ok(Issued {
        token,
        secret: code,
        phrase: String::new(),
    })
}

/// `PUT /v1/account/verifications/phone`.
pub async fn update_phone_verification(
    env: &Env<'_>,
    user_id: &str,
    secret: &str,
) -> Result<TokenRow> {
    confirm(env, user_id, secret, TokenKind::Phone).await
}
