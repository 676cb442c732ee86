//! Account rules: creation, profile changes, password and email/phone changes (spec §5.1–§5.3,
//! §5.11–§5.14). Slow work (hashing) happens before a unit of work opens; inside it the user
//! row is re-read under lock, so a change never writes back a stale copy of another one.

use crate::domain::email_meta;
use crate::domain::hashing::StoredPassword;
use crate::domain::ids::unique_id;
use crate::domain::passwords::contains_personal_data;
use crate::domain::{Env, breached};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{TargetRow, Tx, UserRow};

/// A user with Appwrite's defaults for a new document.
pub fn new_user(id: String, now: i64) -> UserRow {
    UserRow {
        id,
        created_at: now,
        updated_at: now,
        password_history: Secret::new("[]"),
        registration: now,
        status: true,
        labels: "[]".into(),
        prefs: "{}".into(),
        accessed_at: now,
        ..UserRow::default()
    }
}

/// Sets the email and its metadata (spec §5.1 step 7).
pub fn set_email(user: &mut UserRow, email: &str) -> Result<()> {
    let meta = email_meta::analyse(email).ok_or(ErrorType::GeneralInvalidEmail)?;
    user.email = Some(email.to_owned());
    user.email_canonical = Some(meta.canonical);
    user.email_is_free = Some(meta.is_free);
    user.email_is_disposable = Some(meta.is_disposable);
    user.email_is_corporate = Some(meta.is_corporate);
    user.email_is_canonical = Some(meta.is_canonical);
    Ok(())
}

/// Makes `stored` the user's password, keeping the last `history_len` hashes.
/// `pwned` is what the breach lookup said of it (`passwordPwned`; `None`: not looked up).
pub fn set_password(
    user: &mut UserRow,
    stored: StoredPassword,
    pwned: Option<bool>,
    history_len: u64,
    now: i64,
) {
    user.password_pwned = pwned;
    if history_len > 0 {
        let mut history: Vec<String> =
            serde_json::from_str(user.password_history.expose()).unwrap_or_default();
        history.push(stored.phc.expose().to_owned());
        let keep = history
            .len()
            .saturating_sub(usize::try_from(history_len).unwrap_or(usize::MAX));
        history.drain(..keep);
        user.password_history =
            Secret::new(serde_json::to_string(&history).unwrap_or_else(|_| "[]".into()));
    }
    replace_hash(user, stored);
    user.password_update = Some(now);
}

/// Stores a new hash of the same password (a re-hash after login): `passwordUpdate` and the
/// history stay as they are.
pub fn replace_hash(user: &mut UserRow, stored: StoredPassword) {
    user.password = Some(stored.phc);
    user.hash = Some(stored.algorithm);
    user.hash_options = Some(stored.options.to_string());
}

/// A new email or sms target of a user.
pub fn messaging_target(user: &str, provider_type: &str, identifier: &str, now: i64) -> TargetRow {
    TargetRow {
        id: unique_id(),
        user_id: user.to_owned(),
        created_at: now,
        updated_at: now,
        name: String::new(),
        provider_id: None,
        provider_type: provider_type.into(),
        identifier: identifier.to_owned(),
        expired: false,
        session_id: None,
    }
}

/// Fails with `user_count_exceeded` when the project's user limit is reached; inside a unit
/// of work the count is exact, because the project is locked first.
pub async fn check_user_limit(env: &Env<'_>, tx: Option<&mut Box<dyn Tx>>) -> Result<()> {
    let limit = env.project.settings.auth.limit;
    if limit == 0 {
        return Ok(());
    }
    let count = match tx {
        Some(tx) => {
            tx.lock_project(env.pid()).await?;
            tx.count_users(env.pid()).await?
        }
        None => env.store.count_users(env.pid()).await?,
    };
    if u64::try_from(count).unwrap_or(0) >= limit {
        return Err(ErrorType::UserCountExceeded.into());
    }
    Ok(())
}

/// `POST /v1/account`: a user with an email target; no session.
pub async fn create_account(
    env: &Env<'_>,
    requested_id: Option<String>,
    raw_user_id: &str,
    email: String,
    password: &str,
    name: Option<String>,
) -> Result<(UserRow, Vec<TargetRow>)> {
    let auth = &env.project.settings.auth;
    check_user_limit(env, None).await?;
    if env
        .store
        .identity_email_taken(env.pid(), &email, None)
        .await?
    {
        return Err(ErrorType::GeneralBadRequest.into());
    }
    if auth.personal_data_check
        && contains_personal_data(password, raw_user_id, Some(&email), name.as_deref(), None)
    {
        return Err(ErrorType::PasswordPersonalData.into());
    }
    let now = env.now();
    let mut user = new_user(requested_id.unwrap_or_else(unique_id), now);
    user.name = name;
    set_email(&mut user, &email)?;
    // Checked before the (costly) hash; Appwrite hashes first, with the same outcome.
    crate::domain::email_policy::check(env, &user)?;
    let pwned = breached::check_new(env, password).await?;
    let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
    set_password(&mut user, stored, pwned, auth.password_history, now);

    let mut tx = env.begin().await?;
    check_user_limit(env, Some(&mut tx)).await?;
    let target = if tx.target_identifier_taken(env.pid(), &email).await? {
        None
    } else {
        Some(messaging_target(&user.id, "email", &email, now))
    };
    tx.insert_user(env.pid(), &user)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    if let Some(t) = &target {
        tx.insert_target(env.pid(), t)
            .await
            .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    }
    env.commit_audited(tx, &user, "user.create", format!("user/{}", user.id))
        .await?;
    Ok((user, target.into_iter().collect()))
}

/// The user's targets, for the Account model.
pub async fn targets_of(env: &Env<'_>, user: &UserRow) -> Result<Vec<TargetRow>> {
    Ok(env.store.list_targets(env.pid(), &user.id).await?)
}

/// Re-reads the user under lock in a new unit of work; `user_not_found` if it is gone.
async fn locked(env: &Env<'_>, id: &str) -> Result<(Box<dyn Tx>, UserRow)> {
    let mut tx = env.begin().await?;
    let user = tx
        .lock_user(env.pid(), id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    Ok((tx, user))
}

/// Applies `change` to the current row of the user, saves it and records `user.update`.
/// `taken` is the error a unique-index conflict (email, phone) means.
pub async fn update_profile(
    env: &Env<'_>,
    id: &str,
    taken: ErrorType,
    change: impl FnOnce(&mut UserRow) -> Result<()>,
) -> Result<UserRow> {
    let (mut tx, mut user) = locked(env, id).await?;
    change(&mut user)?;
    user.updated_at = env.now();
    tx.update_user(env.pid(), &user)
        .await
        .map_err(|e| e.conflict_as(taken))?;
    env.commit_audited(tx, &user, "user.update", format!("user/{}", user.id))
        .await?;
    Ok(user)
}

/// `password_personal_data` when the project checks for it and the new password contains the
/// user's id, email, name or phone.
pub fn check_personal_data(env: &Env<'_>, user: &UserRow, password: &str) -> Result<()> {
    if env.project.settings.auth.personal_data_check
        && contains_personal_data(
            password,
            &user.id,
            user.email.as_deref(),
            user.name.as_deref(),
            user.phone.as_deref(),
        )
    {
        return Err(ErrorType::PasswordPersonalData.into());
    }
    Ok(())
}

/// Checks `password` against the user's stored hash: `user_invalid_credentials` on mismatch.
/// A user who never set a password (anonymous) passes.
async fn require_password(env: &Env<'_>, user: &UserRow, password: &str) -> Result<()> {
    if user.password_update.is_none() {
        return Ok(());
    }
    let ok = env
        .hasher
        .verify_stored(
            password,
            user.password.as_ref(),
            user.hash.as_deref(),
            user.hash_options.as_deref(),
        )
        .await
        .map_err(Error::internal)?;
    if ok {
        Ok(())
    } else {
        Err(ErrorType::UserInvalidCredentials.into())
    }
}

/// `PATCH /v1/account/password` (spec §5.12).
pub async fn update_password(
    env: &Env<'_>,
    user: &UserRow,
    password: &str,
    old_password: &str,
    current_session: Option<&str>,
) -> Result<UserRow> {
    let auth = &env.project.settings.auth;
    require_password(env, user, old_password).await?;
    check_history(env, user, password).await?;
    check_personal_data(env, user, password)?;
    let pwned = breached::check_new(env, password).await?;
    let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
    let (mut tx, mut fresh) = locked(env, &user.id).await?;
    if fresh.password != user.password {
        // Changed by a concurrent request since `oldPassword` was checked.
        return Err(ErrorType::UserInvalidCredentials.into());
    }
    let now = env.now();
    set_password(&mut fresh, stored, pwned, auth.password_history, now);
    fresh.updated_at = now;
    tx.update_user(env.pid(), &fresh).await?;
    if auth.invalidate_sessions {
        // Sessions made with the old password go, except the caller's own (a JWT or key
        // caller has none, so all go).
        tx.delete_sessions(env.pid(), &fresh.id, current_session)
            .await?;
    }
    env.commit_audited(tx, &fresh, "user.update", format!("user/{}", fresh.id))
        .await?;
    Ok(fresh)
}

/// `password_recently_used` when `password` is one of the user's last `passwordHistory`.
pub async fn check_history(env: &Env<'_>, user: &UserRow, password: &str) -> Result<()> {
    if env.project.settings.auth.password_history == 0 {
        return Ok(());
    }
    let history: Vec<String> =
        serde_json::from_str(user.password_history.expose()).unwrap_or_default();
    for old in history {
        if env
            .hasher
            .verify(password, Some(&Secret::new(old)))
            .await
            .map_err(Error::internal)?
        {
            return Err(ErrorType::PasswordRecentlyUsed.into());
        }
    }
    Ok(())
}

/// A new email or phone must not be another target's identifier already (Appwrite checks
/// targets before the users' unique index, hence 409 `user_target_already_exists`).
async fn ensure_target_free(env: &Env<'_>, old: Option<&str>, new: &str) -> Result<()> {
    if old != Some(new) && env.store.target_identifier_taken(env.pid(), new).await? {
        return Err(ErrorType::UserTargetAlreadyExists.into());
    }
    Ok(())
}

/// What a contact change sets.
enum Contact {
    Email(String),
    Phone(String),
}

/// `PATCH /v1/account/email` (spec §5.13), including anonymous → email conversion.
pub async fn update_email(
    env: &Env<'_>,
    user: &UserRow,
    email: String,
    password: &str,
) -> Result<UserRow> {
    require_password(env, user, password).await?;
    if env
        .store
        .identity_email_taken(env.pid(), &email, Some(&user.id))
        .await?
    {
        return Err(ErrorType::GeneralBadRequest.into());
    }
    let mut changed = user.clone();
    set_email(&mut changed, &email)?;
    crate::domain::email_policy::check(env, &changed)?;
    ensure_target_free(env, user.email.as_deref(), &email).await?;
    save_contact(
        env,
        user,
        password,
        Contact::Email(email),
        ErrorType::GeneralBadRequest,
    )
    .await
}

/// `PATCH /v1/account/phone` (spec §5.14).
pub async fn update_phone(
    env: &Env<'_>,
    user: &UserRow,
    phone: String,
    password: &str,
) -> Result<UserRow> {
    require_password(env, user, password).await?;
    ensure_target_free(env, user.phone.as_deref(), &phone).await?;
    save_contact(
        env,
        user,
        password,
        Contact::Phone(phone),
        ErrorType::UserPhoneAlreadyExists,
    )
    .await
}

/// Saves a changed email or phone: the given password becomes the account's when it had none
/// (anonymous → email conversion), and the old target follows the new address.
async fn save_contact(
    env: &Env<'_>,
    user: &UserRow,
    password: &str,
    contact: Contact,
    taken: ErrorType,
) -> Result<UserRow> {
    // An anonymous account being converted sets its first password here.
    let stored = if user.password_update.is_none() {
        let pwned = breached::check_new(env, password).await?;
        Some((
            env.hasher.hash(password).await.map_err(Error::internal)?,
            pwned,
        ))
    } else {
        None
    };
    let (mut tx, mut fresh) = locked(env, &user.id).await?;
    if fresh.password != user.password {
        return Err(ErrorType::UserInvalidCredentials.into());
    }
    let now = env.now();
    let (old, new) = match &contact {
        Contact::Email(email) => {
            let old = fresh.email.clone();
            set_email(&mut fresh, email)?;
            fresh.email_verification = false;
            (old, email.clone())
        }
        Contact::Phone(phone) => {
            let old = fresh.phone.replace(phone.clone());
            fresh.phone_verification = false;
            (old, phone.clone())
        }
    };
    if let Some((stored, pwned)) = stored {
        set_password(
            &mut fresh,
            stored,
            pwned,
            env.project.settings.auth.password_history,
            now,
        );
    }
    fresh.updated_at = now;
    tx.update_user(env.pid(), &fresh)
        .await
        .map_err(|e| e.conflict_as(taken))?;
    if old.as_deref() != Some(new.as_str()) {
        // Links and codes sent to the old address must not verify (or sign in to) the new one.
        let kinds = match contact {
            Contact::Email(_) => crate::domain::tokens::EMAIL_KINDS,
            Contact::Phone(_) => crate::domain::tokens::PHONE_KINDS,
        };
        tx.delete_user_tokens(env.pid(), &fresh.id, kinds).await?;
    }
    if let Some(old) = old {
        tx.rename_target(env.pid(), &fresh.id, &old, &new, now)
            .await
            .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    }
    env.commit_audited(tx, &fresh, "user.update", format!("user/{}", fresh.id))
        .await?;
    Ok(fresh)
}

/// `PATCH /v1/account/status`: blocks the account, which ends its sessions' use.
pub async fn block(env: &Env<'_>, user: &UserRow) -> Result<UserRow> {
    update_profile(env, &user.id, ErrorType::UserAlreadyExists, |u| {
        u.status = false;
        Ok(())
    })
    .await
}

/// `DELETE /v1/account`: the user and everything that belongs to it.
pub async fn delete_account(env: &Env<'_>, user: &UserRow) -> Result<()> {
    let mut tx = env.begin().await?;
    tx.delete_user(env.pid(), &user.id).await?;
    env.commit_audited(tx, user, "user.delete", format!("user/{}", user.id))
        .await?;
    Ok(())
}
