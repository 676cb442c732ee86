//! Multi-factor authentication (spec §2.6, §6): the factor gate's arithmetic, the factor list,
//! turning MFA on and off, and what the submodules share. Authenticator secrets and recovery
//! codes are sealed at rest with the `mfa` key ([`crate::seal`]); every rule takes a user, so
//! the Users API can reuse them for `/users/:id/mfa…`.

pub mod authenticators;
pub mod challenges;
pub mod recovery_codes;
pub mod totp;

use crate::domain::Env;
use crate::error::{Error, ErrorType, Result};
use crate::store::{SessionRow, Store, Tx, UserRow};

/// How long a completed challenge counts as recent for `mfaProtected` routes
/// (Appwrite `MFA_RECENT_DURATION`; its error message says 5 minutes, the constant is 30).
pub const RECENT_MS: i64 = 1800 * 1000;

/// The only authenticator type.
pub const TOTP: &str = "totp";

/// A factor a challenge proves (Appwrite `Type::*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    Email,
    Phone,
    RecoveryCode,
    Custom,
}

impl Factor {
    /// Every factor, in the order `createMfaChallenge` lists them.
    pub const ALL: [Factor; 5] = [
        Factor::Email,
        Factor::Phone,
        Factor::Totp,
        Factor::RecoveryCode,
        Factor::Custom,
    ];

    /// The names of [`Factor::ALL`], as `createMfaChallenge` accepts them.
    pub const NAMES: [&'static str; 5] = [
        Factor::ALL[0].name(),
        Factor::ALL[1].name(),
        Factor::ALL[2].name(),
        Factor::ALL[3].name(),
        Factor::ALL[4].name(),
    ];

    /// The name stored on sessions and challenges.
    pub const fn name(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::Email => "email",
            Factor::Phone => "phone",
            Factor::RecoveryCode => "recoveryCode",
            Factor::Custom => "custom",
        }
    }

    /// A factor by name in any case: every official SDK sends `recoverycode` (its enum is
    /// lower-case), which Appwrite 1.8 accepts and then never matches (appwrite#10740).
    pub fn parse(name: &str) -> Option<Factor> {
        Factor::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Whether the project's `mfaFactors` policy allows it; recovery codes always work, as the
    /// way back in.
    pub fn enabled(self, env: &Env<'_>) -> bool {
        let p = &env.project.settings.auth.mfa_factors;
        match self {
            Factor::Totp => p.totp,
            Factor::Email => p.email,
            Factor::Phone => p.phone,
            Factor::Custom => p.custom,
            Factor::RecoveryCode => true,
        }
    }

    /// 501 `user_auth_method_unsupported` unless the policy allows it.
    pub fn require_enabled(self, env: &Env<'_>) -> Result<()> {
        if self.enabled(env) {
            Ok(())
        } else {
            Err(Error::from(ErrorType::UserAuthMethodUnsupported)
                .with_message("The requested factor is disabled by the MFA factors policy"))
        }
    }
}

/// Whether the user has an email address and it is verified.
fn verified_email(user: &UserRow) -> bool {
    user.email.as_deref().is_some_and(|e| !e.is_empty()) && user.email_verification
}

/// Whether the user has a phone number and it is verified.
fn verified_phone(user: &UserRow) -> bool {
    user.phone.as_deref().is_some_and(|p| !p.is_empty()) && user.phone_verification
}

/// The factor names recorded on a session.
pub fn session_factors(session: &SessionRow) -> Vec<String> {
    serde_json::from_str(&session.factors).unwrap_or_default()
}

/// `factors` with `added` appended where missing, as the stored JSON array.
fn with_factors(mut factors: Vec<String>, added: &[&str]) -> String {
    for f in added {
        if !factors.iter().any(|have| have == f) {
            factors.push((*f).to_owned());
        }
    }
    serde_json::to_string(&factors).unwrap_or_else(|_| "[]".into())
}

/// Whether the user has a verified TOTP authenticator.
pub async fn has_verified_totp(store: &dyn Store, project: &str, user: &str) -> Result<bool> {
    Ok(store
        .find_authenticator(project, user, TOTP)
        .await?
        .is_some_and(|a| a.verified))
}

/// The gate (spec §2.6): whether a session with `factors` must complete a challenge before it
/// may leave the `mfa` group. With MFA on and a second factor available, two are needed.
pub async fn needs_more_factors(
    store: &dyn Store,
    project: &str,
    user: &UserRow,
    factors: usize,
) -> Result<bool> {
    if !user.mfa || factors >= 2 {
        return Ok(false);
    }
    let more = user.email_verification
        || user.phone_verification
        || has_verified_totp(store, project, &user.id).await?;
    Ok(more && factors < 2)
}

/// `mfaProtected` (hook i): the session completed a challenge in the last 30 minutes. A JWT
/// caller has no session and so never has.
pub fn require_recent_challenge(session: Option<&SessionRow>, now: i64) -> Result<()> {
    let recent = session
        .and_then(|s| s.mfa_updated_at)
        .is_some_and(|at| at.saturating_add(RECENT_MS) >= now);
    if recent {
        Ok(())
    } else {
        Err(ErrorType::UserChallengeRequired.into())
    }
}

/// What `GET /v1/account/mfa/factors` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Factors {
    pub totp: bool,
    pub phone: bool,
    pub email: bool,
    pub recovery_code: bool,
    pub custom: bool,
}

/// The factors the user could complete a challenge with now.
pub async fn list_factors(env: &Env<'_>, user: &UserRow) -> Result<Factors> {
    let totp = has_verified_totp(env.store, env.pid(), &user.id).await?;
    let codes = recovery_codes::stored(env, &user.id).await?;
    Ok(Factors {
        totp: Factor::Totp.enabled(env) && totp,
        phone: Factor::Phone.enabled(env) && verified_phone(user),
        email: Factor::Email.enabled(env) && verified_email(user),
        recovery_code: !codes.is_empty(),
        custom: Factor::Custom.enabled(env),
    })
}

/// Adds `added` to the session's factors in the unit of work; with `challenged`, also records
/// that a challenge completed now. The session is read again under a lock, so two challenges
/// completed at once both count; one deleted meanwhile is `user_session_not_found` (and the
/// unit, with the code it spent, rolls back). The updated session.
async fn credit_session(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    session: &SessionRow,
    added: &[&str],
    challenged: bool,
) -> Result<SessionRow> {
    let mut s = tx
        .lock_session(env.pid(), &session.user_id, &session.id)
        .await?
        .ok_or(ErrorType::UserSessionNotFound)?;
    s.factors = with_factors(session_factors(&s), added);
    let now = env.now();
    if challenged {
        s.mfa_updated_at = Some(now);
    }
    s.updated_at = now;
    tx.update_session_factors(
        env.pid(),
        &s.user_id,
        &s.id,
        &s.factors,
        s.mfa_updated_at,
        now,
    )
    .await?;
    Ok(s)
}

/// `PATCH /v1/account/mfa`: turns MFA on or off. Turning it on credits the calling session
/// with the user's verified factors (TOTP, email, phone), so it is not locked out.
pub async fn update_mfa(
    env: &Env<'_>,
    user_id: &str,
    session: Option<&SessionRow>,
    enabled: bool,
) -> Result<UserRow> {
    let mut tx = env.begin().await?;
    let mut user = tx
        .lock_user(env.pid(), user_id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    user.mfa = enabled;
    user.updated_at = env.now();
    tx.update_user(env.pid(), &user).await?;
    if let (true, Some(s)) = (enabled, session) {
        let totp = tx
            .lock_authenticator(env.pid(), &user.id, TOTP)
            .await?
            .is_some_and(|a| a.verified);
        let added: Vec<&str> = [
            (totp, Factor::Totp),
            (verified_email(&user), Factor::Email),
            (verified_phone(&user), Factor::Phone),
        ]
        .into_iter()
        .filter(|(has, _)| *has)
        .map(|(_, f)| f.name())
        .collect();
        credit_session(env, &mut tx, s, &added, false).await?;
    }
    env.commit_audited(tx, &user, "user.update", format!("user/{}", user.id))
        .await?;
    Ok(user)
}

/// The sealing context of a user's MFA secret `what`: a ciphertext moved to another user or
/// project does not open.
fn seal_context(env: &Env<'_>, user: &str, what: &str) -> String {
    format!("{}/{user}/{what}", env.pid())
}
