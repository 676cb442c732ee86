//! Appwrite 1.9.5's email policies (project `auths` switches): refuse disposable, aliased
//! (non-canonical) or free addresses, or anything but a corporate one, on sign-up and email
//! change. They read the metadata already stored on the user (spec §5.1 step 7).

use crate::domain::Env;
use crate::error::{ErrorType, Result};
use crate::store::UserRow;

/// Fails with the policy's error when the user's email breaks one of the project's policies.
pub fn check(env: &Env<'_>, user: &UserRow) -> Result<()> {
    let auth = &env.project.settings.auth;
    if user.email.is_none() {
        return Ok(());
    }
    // appwrite 1.9.5 app/controllers/api/account.php: the checks after `EmailValidator`.
    if auth.disposable_emails && user.email_is_disposable == Some(true) {
        return Err(ErrorType::UserEmailDisposable.into());
    }
    // `emailIsCanonical` says the provider's aliases are known; the policy asks that the
    // address already be its canonical form (no dots or `+tag` that fold away).
    if auth.canonical_emails && user.email_canonical.is_some() && user.email_canonical != user.email
    {
        return Err(ErrorType::UserEmailNotCanonical.into());
    }
    if auth.free_emails && user.email_is_free == Some(true) {
        return Err(ErrorType::UserEmailFree.into());
    }
    if auth.corporate_emails && user.email_is_corporate != Some(true) {
        return Err(ErrorType::UserEmailNotCorporate.into());
    }
    Ok(())
}
