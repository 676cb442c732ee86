//! Appwrite 2.5's `password-pwned` policy (`[projects.auth] passwordPwned`): every password a
//! user signs up, signs in or resets with is looked up in a breach corpus and the answer is
//! recorded on the user as `passwordPwned`. On its own the policy only records; `users`
//! refuses a breached new password (`password_pwned`), `sessions` refuses a sign-in with one
//! until the password is reset (`user_password_reset_required`). The lookup itself is the
//! instance's (`[breachedPasswords]`, `crate::breach`); without an endpoint nothing is looked
//! up and `passwordPwned` stays null.

use serde::{Deserialize, Serialize};

use crate::domain::Env;
use crate::error::{ErrorType, Result};

/// `[projects.auth] passwordPwned`, Appwrite's names and defaults.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PwnedPolicy {
    /// Look passwords up and record the answer.
    pub enabled: bool,
    /// Refuse a breached password at sign-up and when one is set.
    pub users: bool,
    /// Refuse a sign-in with a breached password until it is reset.
    pub sessions: bool,
}

impl Default for PwnedPolicy {
    fn default() -> Self {
        PwnedPolicy {
            enabled: true,
            users: false,
            sessions: false,
        }
    }
}

/// Looks up `password`, `blocks` saying whether the route refuses a breached one: the value
/// for `passwordPwned`, or the error of a lookup that could not be made while failing closed.
async fn look_up(env: &Env<'_>, password: &str, blocks: bool) -> Result<Option<bool>> {
    if !env.project.settings.auth.password_pwned.enabled || !env.breaches.configured() {
        return Ok(None);
    }
    match env.breaches.is_breached(password, env.clock).await {
        Some(hit) => Ok(Some(hit)),
        None if blocks && env.breaches.fail_closed() => {
            Err(ErrorType::GeneralPwnedPasswordsUnavailable.into())
        }
        None => Ok(None),
    }
}

/// A password about to be set (sign-up, password change, recovery, users API): its
/// `passwordPwned`, or `password_pwned` when the policy's `users` refuses it.
pub async fn check_new(env: &Env<'_>, password: &str) -> Result<Option<bool>> {
    let refuse = env.project.settings.auth.password_pwned.users;
    let verdict = look_up(env, password, refuse).await?;
    if refuse && verdict == Some(true) {
        return Err(ErrorType::PasswordPwned.into());
    }
    Ok(verdict)
}

/// A password a user just signed in with (after it verified): its `passwordPwned`, and
/// whether the policy's `sessions` refuses the sign-in. The caller records the first even when
/// it refuses. `recorded` is what the user's row says of this password: when the corpus
/// cannot be asked now, a password already known to be breached is still refused.
pub async fn check_sign_in(
    env: &Env<'_>,
    password: &str,
    recorded: Option<bool>,
) -> Result<(Option<bool>, bool)> {
    let policy = &env.project.settings.auth.password_pwned;
    let refuse = policy.sessions;
    let verdict = look_up(env, password, refuse).await?;
    let known = verdict.or(recorded.filter(|_| policy.enabled));
    Ok((verdict, refuse && known == Some(true)))
}
