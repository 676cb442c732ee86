//! Passwordless sign-in (spec §5.7, §5.8): email OTP, magic URL and phone tokens, and their
//! exchange for a session. A first token for an unknown email or phone creates the user.

use crate::domain::accounts::{check_user_limit, messaging_target, new_user, set_email};
use crate::domain::alerts;
use crate::domain::ids::unique_id;
use crate::domain::messages::{Message, Template};
use crate::domain::oauth2::secrets::Unwrapped;
use crate::domain::sessions::{self, NewSession, encode_session};
use crate::domain::tokens::{self, Issued, TokenKind, long_secret, six_digits};
use crate::domain::{Env, email_policy};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{Tx, UserRow};

/// Email OTP and magic-URL tokens live this long (seconds).
const EMAIL_OTP_LIFETIME: u64 = 900;
const MAGIC_URL_LIFETIME: u64 = 3600;
const PHONE_LOGIN_LIFETIME: u64 = 900;
/// Bytes of a magic-URL secret (64 hex chars).
const MAGIC_URL_BYTES: usize = 32;

/// Which passwordless email flow: they differ in a few of Appwrite's quirks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EmailFlow {
    Otp,
    MagicUrl,
}

/// The user with `email`, or a new one written in `tx` (no password). Email OTP users get an
/// email target, magic-URL users none, and an identity with the email is a different error
/// for each (appwrite 1.9.6 app/controllers/api/account.php: createEmailToken,
/// createMagicURLToken).
async fn user_for_email(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    user_id: Option<String>,
    email: &str,
    flow: EmailFlow,
) -> Result<UserRow> {
    if let Some(u) = tx.find_user_by_email(env.pid(), email).await? {
        // Locked, so an email change cannot commit between this check and the token.
        if let Some(locked) = tx.lock_user(env.pid(), &u.id).await?
            && locked.email.as_deref() == Some(email)
        {
            return Ok(locked);
        }
    }
    check_user_limit(env, Some(tx)).await?;
    if tx.identity_email_taken(env.pid(), email, None).await? {
        return Err(match flow {
            EmailFlow::Otp => ErrorType::GeneralBadRequest,
            EmailFlow::MagicUrl => ErrorType::UserEmailAlreadyExists,
        }
        .into());
    }
    let now = env.now();
    let mut user = new_user(user_id.unwrap_or_else(unique_id), now);
    set_email(&mut user, email)?;
    email_policy::check(env, &user)?;
    let target = (flow == EmailFlow::Otp).then_some(("email", email));
    insert_new_user(env, tx, &user, target).await?;
    Ok(user)
}

/// Writes a user created by a first sign-in, with its messaging target (`(type, identifier)`,
/// unless another target holds the identifier) and the `user.create` audit record.
async fn insert_new_user(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    user: &UserRow,
    target: Option<(&str, &str)>,
) -> Result<()> {
    tx.insert_user(env.pid(), user)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    if let Some((kind, identifier)) = target
        && !tx.target_identifier_taken(env.pid(), identifier).await?
    {
        let t = messaging_target(&user.id, kind, identifier, user.created_at);
        tx.insert_target(env.pid(), &t)
            .await
            .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    }
    tx.insert_audit(
        env.pid(),
        &env.audit(user, "user.create", format!("user/{}", user.id)),
    )
    .await?;
    Ok(())
}

/// `POST /v1/account/tokens/email`: a 6-digit code by email, valid 15 minutes.
pub async fn create_email_token(
    env: &Env<'_>,
    user_id: Option<String>,
    email: &str,
    with_phrase: bool,
) -> Result<Issued> {
    // Two first sign-ins for one new address at once: the second insert loses the race on
    // the unique index (PostgreSQL); once more, it finds the user the first one created.
    match create_email_token_once(env, user_id.clone(), email, with_phrase).await {
        Err(e) if e.ty == ErrorType::UserAlreadyExists => {
            create_email_token_once(env, user_id.clone(), email, with_phrase).await
        }
        other => other,
    }
}

/// One attempt of [`create_email_token`].
async fn create_email_token_once(
    env: &Env<'_>,
    user_id: Option<String>,
    email: &str,
    with_phrase: bool,
) -> Result<Issued> {
    env.require_email()?;
    let phrase = tokens::phrase_if(with_phrase);
    let code = six_digits();
    let mut tx = env.begin().await?;
    let user = user_for_email(env, &mut tx, user_id, email, EmailFlow::Otp).await?;
    let token = tokens::new_token(
        env,
        &user.id,
        TokenKind::EmailOtp,
        &code,
        EMAIL_OTP_LIFETIME,
    );
    let mut message = env.message(
        Template::OtpSession,
        email,
        user.name.as_deref().unwrap_or_default(),
    );
    message.vars.insert("otp".into(), code.expose().to_owned());
    message.vars.insert("phrase".into(), phrase.clone());
    tokens::store_token(env, &mut tx, &token, Some(&message)).await?;
    env.commit(tx).await?;
    Ok(Issued {
        token,
        secret: code,
        phrase,
    })
}

/// `POST /v1/account/tokens/magic-url`: a sign-in link by email, valid an hour. `url` is the
/// page the link opens (already checked against the project's platforms), or the project's
/// default; without either the request is refused.
pub async fn create_magic_url_token(
    env: &Env<'_>,
    user_id: Option<String>,
    email: &str,
    url: Option<&str>,
    with_phrase: bool,
) -> Result<Issued> {
    // Two first sign-ins for one new address at once: the second insert loses the race on
    // the unique index (PostgreSQL); once more, it finds the user the first one created.
    match create_magic_url_token_once(env, user_id.clone(), email, url, with_phrase).await {
        Err(e) if e.ty == ErrorType::UserAlreadyExists => {
            create_magic_url_token_once(env, user_id.clone(), email, url, with_phrase).await
        }
        other => other,
    }
}

/// One attempt of [`create_magic_url_token`].
async fn create_magic_url_token_once(
    env: &Env<'_>,
    user_id: Option<String>,
    email: &str,
    url: Option<&str>,
    with_phrase: bool,
) -> Result<Issued> {
    env.require_email()?;
    let phrase = tokens::phrase_if(with_phrase);
    let secret = long_secret(MAGIC_URL_BYTES);
    let mut tx = env.begin().await?;
    let user = user_for_email(env, &mut tx, user_id, email, EmailFlow::MagicUrl).await?;
    let token = tokens::new_token(
        env,
        &user.id,
        TokenKind::MagicUrl,
        &secret,
        MAGIC_URL_LIFETIME,
    );
    let url = url.ok_or_else(|| {
        Error::invalid_param(
            "url",
            "Pass the page the link opens: this project has no `url` and the server no `publicUrl`.",
        )
    })?;
    let redirect = tokens::link(
        url,
        &[
            ("userId", &user.id),
            ("secret", secret.expose()),
            ("expire", &crate::domain::time::format_ms(token.expire)),
            ("project", env.pid()),
        ],
    );
    let mut message = env.message(
        Template::MagicSession,
        email,
        user.name.as_deref().unwrap_or_default(),
    );
    message.vars.insert("redirect".into(), redirect?);
    message.vars.insert("phrase".into(), phrase.clone());
    tokens::store_token(env, &mut tx, &token, Some(&message)).await?;
    env.commit(tx).await?;
    Ok(Issued {
        token,
        secret,
        phrase,
    })
}

/// The fixed code of a mock number, if `phone` is one.
pub fn mock_otp(env: &Env<'_>, phone: &str) -> Option<Secret> {
    env.project
        .settings
        .auth
        .mock_numbers
        .iter()
        .find(|m| m.phone == phone)
        .map(|m| m.otp.clone())
}

/// The SMS that carries `code` to `phone`.
fn sms_message(env: &Env<'_>, user: &UserRow, phone: &str, code: &Secret) -> Message {
    let mut m = env.message(
        Template::Sms,
        phone,
        user.name.as_deref().unwrap_or_default(),
    );
    m.vars.insert("secret".into(), code.expose().to_owned());
    m
}

/// A phone code for `user` and the SMS that carries it: a mock number's fixed code and no SMS,
/// or six random digits.
pub fn sms_code(env: &Env<'_>, user: &UserRow, phone: &str) -> (Secret, Option<Message>) {
    match mock_otp(env, phone) {
        Some(fixed) => (fixed, None),
        None => {
            let code = six_digits();
            let m = sms_message(env, user, phone, &code);
            (code, Some(m))
        }
    }
}

/// `POST /v1/account/tokens/phone`: a 6-digit code by SMS (none for a mock number), valid 15
/// minutes. Key callers get the encoded `{id, secret}` as the token's secret.
pub async fn create_phone_token(
    env: &Env<'_>,
    user_id: Option<String>,
    phone: &str,
) -> Result<Issued> {
    // Two first sign-ins for one new address at once: the second insert loses the race on
    // the unique index (PostgreSQL); once more, it finds the user the first one created.
    match create_phone_token_once(env, user_id.clone(), phone).await {
        Err(e) if e.ty == ErrorType::UserAlreadyExists => {
            create_phone_token_once(env, user_id.clone(), phone).await
        }
        other => other,
    }
}

/// One attempt of [`create_phone_token`].
async fn create_phone_token_once(
    env: &Env<'_>,
    user_id: Option<String>,
    phone: &str,
) -> Result<Issued> {
    env.require_sms()?;
    let mut tx = env.begin().await?;
    let found = match tx.find_user_by_phone(env.pid(), phone).await? {
        Some(u) => tx
            .lock_user(env.pid(), &u.id)
            .await?
            .filter(|l| l.phone.as_deref() == Some(phone)),
        None => None,
    };
    let user = match found {
        Some(u) => u,
        None => {
            check_user_limit(env, Some(&mut tx)).await?;
            let now = env.now();
            let mut user = new_user(user_id.unwrap_or_else(unique_id), now);
            user.phone = Some(phone.to_owned());
            insert_new_user(env, &mut tx, &user, Some(("sms", phone))).await?;
            user
        }
    };
    let (code, message) = sms_code(env, &user, phone);
    let token = tokens::new_token(env, &user.id, TokenKind::Phone, &code, PHONE_LOGIN_LIFETIME);
    tokens::store_token(env, &mut tx, &token, message.as_ref()).await?;
    env.commit(tx).await?;
    Ok(Issued {
        secret: Secret::new(encode_session(&user.id, code.expose())),
        token,
        phrase: String::new(),
    })
}

/// `POST /v1/account/sessions/token` and the deprecated `PUT …/magic-url`, `PUT …/phone`
/// (spec §5.7): any unexpired sign-in token of the user becomes a session and is consumed.
/// Verification and recovery tokens are not sign-in tokens. An OAuth2 token arrives
/// unwrapped (`oauth`): its session is the provider's, with the identity's tokens (Appwrite
/// main).
pub async fn create_session(
    env: &Env<'_>,
    user_id: &str,
    secret: &str,
    oauth: Option<&Unwrapped>,
) -> Result<(UserRow, NewSession)> {
    let user = env
        .store
        .find_user(env.pid(), user_id)
        .await?
        .ok_or(ErrorType::UserInvalidToken)?;
    const SIGN_IN: &[TokenKind] = &[
        TokenKind::MagicUrl,
        TokenKind::EmailOtp,
        TokenKind::Phone,
        TokenKind::Generic,
        TokenKind::Passkey,
    ];
    let (token, kind) = match oauth {
        Some(o) => tokens::verify(env, &user, o.secret.expose(), &[TokenKind::OAuth2]).await?,
        None => tokens::verify(env, &user, secret, SIGN_IN).await?,
    };
    // The identity the sign-in stored; gone (deleted since), the token is no good.
    let identity = match oauth {
        Some(o) => Some(
            env.store
                .find_user_identity(env.pid(), &user.id, &o.provider)
                .await?
                .ok_or(ErrorType::UserInvalidToken)?,
        ),
        None => None,
    };
    let (factor, provider) = match (kind, oauth) {
        (TokenKind::MagicUrl, _) => ("email", "magic-url"),
        (TokenKind::EmailOtp, _) => ("email", "token"),
        (TokenKind::Phone, _) => ("phone", "phone"),
        (TokenKind::OAuth2, Some(o)) => ("email", o.provider.as_str()),
        (TokenKind::Passkey, _) => ("passkey", "passkey"),
        _ => ("token", "token"),
    };
    let mut tx = env.begin().await?;
    let mut fresh = tx
        .lock_user(env.pid(), &user.id)
        .await?
        .ok_or(ErrorType::UserInvalidToken)?;
    if !fresh.status {
        return Err(ErrorType::UserBlocked.into());
    }
    tokens::consume(env, &mut tx, &token).await?;
    let uid = match (kind, &identity) {
        (TokenKind::OAuth2, Some(i)) => i.provider_uid.clone(),
        (TokenKind::Phone, _) => fresh.phone.clone().unwrap_or_default(),
        _ => fresh.email.clone().unwrap_or_default(),
    };
    // Two factors for OAuth2, as the session flow gives (spec §2.6): the provider stands in
    // for the second.
    // A passkey proves possession and, by its required user verification, a PIN or a
    // biometric: two factors, so it satisfies MFA as Appwrite's passkey sessions do.
    let factors: &[&str] = match kind {
        TokenKind::OAuth2 => &["email", "oauth2"],
        TokenKind::Passkey => &["passkey", "userVerification"],
        _ => &[factor],
    };
    let mut new = sessions::build(env, &fresh.id, provider, &uid, factors);
    if kind == TokenKind::Passkey {
        new.session.mfa_updated_at = Some(env.now());
    }
    if let Some(i) = &identity {
        // Still sealed to this user: the identity's ciphertext is copied as it is.
        new.session.provider_access_token = i.provider_access_token.clone();
        new.session.provider_refresh_token = i.provider_refresh_token.clone();
        new.session.provider_access_token_expiry = i.provider_access_token_expiry;
    }
    let changed = match kind {
        TokenKind::MagicUrl | TokenKind::EmailOtp if !fresh.email_verification => {
            fresh.email_verification = true;
            true
        }
        TokenKind::Phone if !fresh.phone_verification => {
            fresh.phone_verification = true;
            true
        }
        _ => false,
    };
    if changed {
        fresh.updated_at = env.now();
        tx.update_user(env.pid(), &fresh).await?;
    }
    let first = tx.count_sessions(env.pid(), &fresh.id).await? == 0;
    tx.insert_session(env.pid(), &new.session).await?;
    tx.evict_sessions(env.pid(), &fresh.id, env.project.settings.auth.max_sessions)
        .await?;
    alerts::session_alert(env, &mut tx, &fresh, &new.session, first).await?;
    env.commit_audited(tx, &fresh, "session.create", format!("user/{}", fresh.id))
        .await?;
    Ok((fresh, new))
}
