//! Account rules: creation, profile changes, password and email/phone changes (spec §5.1–§5.3,
//! §5.11–§5.14). Each function makes one store call per unit of work.

use crate::domain::email_meta;
use crate::domain::ids::unique_id;
use crate::domain::passwords::{PasswordHasher, StoredPassword, contains_personal_data};
use crate::domain::project::Project;
use crate::domain::time::now_ms;
use crate::error::{Error, ErrorType, Result};
use crate::store::{AuditRow, SessionPurge, Store, TargetRow, UserRow};

/// Who made the request, for the audit trail and new sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
    /// Appwrite's log `userType`: `user`, `guest` or `keyProject`.
    pub user_type: &'static str,
}

/// What every rule needs: the store, the hasher, the project and the client.
pub struct Env<'a> {
    pub store: &'a dyn Store,
    pub hasher: &'a PasswordHasher,
    pub project: &'a Project,
    pub client: &'a ClientInfo,
}

impl Env<'_> {
    /// An audit record of `event` acted out for `user`.
    pub fn audit(&self, user: &UserRow, event: &str, resource: String) -> AuditRow {
        AuditRow {
            user_id: user.id.clone(),
            event: event.into(),
            resource,
            user_email: user.email.clone().unwrap_or_default(),
            user_name: user.name.clone().unwrap_or_default(),
            mode: "default".into(),
            user_type: if self.client.user_type.is_empty() {
                "user".into()
            } else {
                self.client.user_type.into()
            },
            ip: self.client.ip.clone(),
            user_agent: self.client.user_agent.clone(),
            country_code: crate::domain::geo::country_code(&self.client.ip),
            time: now_ms(),
        }
    }
}

/// A user with Appwrite's defaults for a new document.
pub fn new_user(id: String, now: i64) -> UserRow {
    UserRow {
        id,
        created_at: now,
        updated_at: now,
        password_history: "[]".into(),
        registration: now,
        status: true,
        labels: "[]".into(),
        prefs: "{}".into(),
        accessed_at: now,
        ..UserRow::default()
    }
}

fn set_email(user: &mut UserRow, email: &str) -> Result<()> {
    let meta = email_meta::analyse(email).ok_or(ErrorType::GeneralInvalidEmail)?;
    user.email = Some(email.to_owned());
    user.email_canonical = Some(meta.canonical);
    user.email_is_free = Some(meta.is_free);
    user.email_is_disposable = Some(meta.is_disposable);
    user.email_is_corporate = Some(meta.is_corporate);
    user.email_is_canonical = Some(meta.is_canonical);
    Ok(())
}

fn set_password(user: &mut UserRow, stored: StoredPassword, history_len: u64, now: i64) {
    if history_len > 0 {
        let mut history: Vec<String> =
            serde_json::from_str(&user.password_history).unwrap_or_default();
        history.push(stored.phc.clone());
        let keep = history.len().saturating_sub(history_len as usize);
        history.drain(..keep);
        user.password_history = serde_json::to_string(&history).unwrap_or_else(|_| "[]".into());
    }
    user.password = Some(stored.phc);
    user.hash = Some(stored.algorithm);
    user.hash_options = Some(stored.options.to_string());
    user.password_update = Some(now);
}

/// Fails with `user_count_exceeded` when the project's user limit is reached.
pub async fn check_user_limit(env: &Env<'_>) -> Result<()> {
    let limit = env.project.settings.auth.limit;
    if limit > 0 && env.store.count_users(&env.project.id).await? >= limit as i64 {
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
    check_user_limit(env).await?;
    if env
        .store
        .identity_email_taken(&env.project.id, &email, None)
        .await?
    {
        return Err(ErrorType::GeneralBadRequest.into());
    }
    if auth.personal_data_check
        && contains_personal_data(password, raw_user_id, Some(&email), name.as_deref(), None)
    {
        return Err(ErrorType::PasswordPersonalData.into());
    }
    let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
    let now = now_ms();
    let mut user = new_user(requested_id.unwrap_or_else(unique_id), now);
    user.name = name;
    set_email(&mut user, &email)?;
    set_password(&mut user, stored, auth.password_history, now);
    let target = if env
        .store
        .target_identifier_taken(&env.project.id, &email)
        .await?
    {
        None
    } else {
        Some(TargetRow {
            id: unique_id(),
            user_id: user.id.clone(),
            created_at: now,
            updated_at: now,
            name: String::new(),
            provider_id: None,
            provider_type: "email".into(),
            identifier: email.clone(),
            expired: false,
            session_id: None,
        })
    };
    let audit = env.audit(&user, "user.create", format!("user/{}", user.id));
    env.store
        .create_user(&env.project.id, &user, target.as_ref(), None, &[audit])
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    Ok((user, target.into_iter().collect()))
}

/// Saves profile fields already changed on `user` and records `event`.
pub async fn save_profile(env: &Env<'_>, mut user: UserRow, event: &str) -> Result<UserRow> {
    user.updated_at = now_ms();
    let audit = env.audit(&user, event, format!("user/{}", user.id));
    env.store
        .update_user(
            &env.project.id,
            &user,
            None,
            SessionPurge::Keep,
            Some(&audit),
        )
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    Ok(user)
}

/// Checks `password` against the user's stored hash: `user_invalid_credentials` on mismatch.
async fn require_password(env: &Env<'_>, user: &UserRow, password: &str) -> Result<()> {
    if user.password_update.is_none() {
        return Ok(());
    }
    let ok = match &user.password {
        Some(phc) => env
            .hasher
            .verify(password, phc)
            .await
            .map_err(Error::internal)?,
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ErrorType::UserInvalidCredentials.into())
    }
}

/// `PATCH /v1/account/password` (spec §5.12).
pub async fn update_password(
    env: &Env<'_>,
    mut user: UserRow,
    password: &str,
    old_password: &str,
    current_session: Option<&str>,
) -> Result<UserRow> {
    let auth = &env.project.settings.auth;
    require_password(env, &user, old_password).await?;
    if auth.password_history > 0 {
        let history: Vec<String> = serde_json::from_str(&user.password_history).unwrap_or_default();
        for old in history {
            if env
                .hasher
                .verify(password, &old)
                .await
                .map_err(Error::internal)?
            {
                return Err(ErrorType::PasswordRecentlyUsed.into());
            }
        }
    }
    if auth.personal_data_check
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
    let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
    let now = now_ms();
    set_password(&mut user, stored, auth.password_history, now);
    user.updated_at = now;
    let purge = match current_session {
        Some(keep) if auth.invalidate_sessions => SessionPurge::AllBut(keep.to_owned()),
        _ => SessionPurge::Keep,
    };
    let audit = env.audit(&user, "user.update", format!("user/{}", user.id));
    env.store
        .update_user(&env.project.id, &user, None, purge, Some(&audit))
        .await?;
    Ok(user)
}

/// `PATCH /v1/account/email` (spec §5.13), including anonymous → email conversion.
pub async fn update_email(
    env: &Env<'_>,
    mut user: UserRow,
    email: String,
    password: &str,
) -> Result<UserRow> {
    require_password(env, &user, password).await?;
    if env
        .store
        .identity_email_taken(&env.project.id, &email, Some(&user.id))
        .await?
    {
        return Err(ErrorType::GeneralBadRequest.into());
    }
    let old_email = user.email.clone();
    set_email(&mut user, &email)?;
    user.email_verification = false;
    ensure_target_free(env, old_email.as_deref(), &email).await?;
    let rename = old_email.as_deref().map(|old| (old, email.as_str()));
    save_contact(env, user, password, rename, ErrorType::GeneralBadRequest).await
}

/// A new email or phone must not be another target's identifier already (Appwrite checks
/// targets before the users' unique index, hence 409 `user_target_already_exists`).
async fn ensure_target_free(env: &Env<'_>, old: Option<&str>, new: &str) -> Result<()> {
    if old != Some(new)
        && env
            .store
            .target_identifier_taken(&env.project.id, new)
            .await?
    {
        return Err(ErrorType::UserTargetAlreadyExists.into());
    }
    Ok(())
}

/// Saves a changed email or phone: the given password becomes the account's when it had none
/// (anonymous → email conversion), and the old target follows the new address.
async fn save_contact(
    env: &Env<'_>,
    mut user: UserRow,
    password: &str,
    rename: Option<(&str, &str)>,
    taken: ErrorType,
) -> Result<UserRow> {
    let now = now_ms();
    if user.password_update.is_none() {
        let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
        set_password(
            &mut user,
            stored,
            env.project.settings.auth.password_history,
            now,
        );
    }
    user.updated_at = now;
    let audit = env.audit(&user, "user.update", format!("user/{}", user.id));
    env.store
        .update_user(
            &env.project.id,
            &user,
            rename,
            SessionPurge::Keep,
            Some(&audit),
        )
        .await
        .map_err(|e| e.conflict_as(taken))?;
    Ok(user)
}

/// `PATCH /v1/account/phone` (spec §5.14).
pub async fn update_phone(
    env: &Env<'_>,
    mut user: UserRow,
    phone: String,
    password: &str,
) -> Result<UserRow> {
    require_password(env, &user, password).await?;
    let old_phone = user.phone.clone();
    ensure_target_free(env, old_phone.as_deref(), &phone).await?;
    user.phone = Some(phone.clone());
    user.phone_verification = false;
    let rename = old_phone.as_deref().map(|old| (old, phone.as_str()));
    save_contact(
        env,
        user,
        password,
        rename,
        ErrorType::UserPhoneAlreadyExists,
    )
    .await
}

/// `PATCH /v1/account/status`: blocks the account and ends its sessions' use.
pub async fn block(env: &Env<'_>, mut user: UserRow) -> Result<UserRow> {
    user.status = false;
    save_profile(env, user, "user.update").await
}

/// `DELETE /v1/account`: the user and everything that belongs to it.
pub async fn delete_account(env: &Env<'_>, user: &UserRow) -> Result<()> {
    let audit = env.audit(user, "user.delete", format!("user/{}", user.id));
    env.store
        .delete_user(&env.project.id, &user.id, &audit)
        .await?;
    Ok(())
}
