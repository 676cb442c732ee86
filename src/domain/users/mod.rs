//! The Users API's rules (server keys): listing and searching users, creating them with a
//! plain password or an imported hash, changing any field without the user's password, and
//! deleting them for real. The user's sessions, tokens, JWTs, MFA and targets as the server
//! manages them are in [`access`].

pub mod access;
pub mod import;
pub mod seed;

use crate::domain::accounts::{
    check_history, check_personal_data, messaging_target, new_user, set_email, set_password,
    update_profile,
};
use crate::domain::hashing::{Imported, StoredPassword};
use crate::domain::ids::unique_id;
use crate::domain::passwords::contains_personal_data;
use crate::domain::queries::{self, IDENTITY_ATTRIBUTES, USER_ATTRIBUTES};
use crate::domain::{Env, breached};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{IdentityRow, ListQuery, Page, StoreError, TargetRow, UserRow};

/// Appwrite counts at most this many for `total` (`APP_LIMIT_COUNT`).
const MAX_COUNT: i64 = 5000;
/// Most labels a user may have (Appwrite `APP_LIMIT_ARRAY_LABELS_SIZE`).
pub const MAX_LABELS: usize = 1000;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 36;

/// A list page, with Appwrite's cursor message for `what` when the cursor row is gone.
async fn page_of<T>(
    what: &str,
    query: &ListQuery,
    run: impl std::future::Future<Output = std::result::Result<Page<T>, StoreError>>,
) -> Result<Page<T>> {
    let mut page = match run.await {
        Err(StoreError::CursorNotFound) => {
            let id = query.cursor.as_ref().map(|c| c.id.as_str()).unwrap_or("");
            return Err(Error::from(ErrorType::GeneralCursorNotFound)
                .with_message(format!("{what} '{id}' for the 'cursor' value not found.")));
        }
        other => other?,
    };
    page.total = page.total.min(MAX_COUNT);
    Ok(page)
}

/// The `search` param as a query: empty means no search (Appwrite skips it).
fn with_search(mut query: ListQuery, search: &str) -> ListQuery {
    query.search = Some(search.trim().to_owned()).filter(|s| !s.is_empty());
    query
}

/// `users.list`: users matching `queries` and `search` (every word a prefix of a word of the
/// user's id, email, phone or name).
pub async fn list(
    env: &Env<'_>,
    raw_queries: &[String],
    search: &str,
    legacy_syntax: bool,
) -> Result<Page<UserRow>> {
    let query = with_search(
        queries::parse(raw_queries, legacy_syntax, USER_ATTRIBUTES)?,
        search,
    );
    page_of("User", &query, env.store.list_users(env.pid(), &query)).await
}

/// `users.listIdentities`: the identities of every user.
pub async fn list_identities(
    env: &Env<'_>,
    raw_queries: &[String],
    search: &str,
    legacy_syntax: bool,
) -> Result<Page<IdentityRow>> {
    let query = with_search(
        queries::parse(raw_queries, legacy_syntax, IDENTITY_ATTRIBUTES)?,
        search,
    );
    page_of(
        "Identity",
        &query,
        env.store.list_identities(env.pid(), None, &query),
    )
    .await
}

/// `users.deleteIdentity`: any user's identity.
pub async fn delete_identity(env: &Env<'_>, id: &str) -> Result<()> {
    let identity = env
        .store
        .find_identity(env.pid(), id)
        .await?
        .ok_or(ErrorType::UserIdentityNotFound)?;
    let user = get(env, &identity.user_id).await?;
    let mut tx = env.begin().await?;
    if !tx.delete_identity(env.pid(), id).await? {
        return Err(ErrorType::UserIdentityNotFound.into());
    }
    env.commit_audited(tx, &user, "identity.delete", format!("identity/{id}"))
        .await
}

/// One user; `user_not_found` otherwise.
pub async fn get(env: &Env<'_>, id: &str) -> Result<UserRow> {
    env.store
        .find_user(env.pid(), id)
        .await?
        .ok_or_else(|| ErrorType::UserNotFound.into())
}

/// The password of a user being created.
pub enum NewPassword<'a> {
    None,
    /// Hashed here with the default Argon2id.
    Plain(&'a str),
    /// Kept as given and verified with its own algorithm at the next login.
    Imported {
        hash: &'a str,
        algorithm: Imported,
    },
    /// An Argon2 PHC string from elsewhere (`createArgon2User`).
    Argon2(&'a str),
}

/// What a new user is made of.
pub struct NewUser<'a> {
    pub id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub password: NewPassword<'a>,
}

/// The stored form of an imported password.
fn imported_password(password: &NewPassword<'_>) -> Result<Option<StoredPassword>> {
    let bad = |m: String| Error::invalid_param("password", &m);
    Ok(match password {
        NewPassword::None | NewPassword::Plain(_) => None,
        NewPassword::Argon2(phc) => {
            let parsed = argon2::password_hash::phc::PasswordHash::new(phc).map_err(|_| {
                bad("Invalid Argon2 hash: a PHC string `$argon2id$v=19$m=…` expected".into())
            })?;
            let param = |k: &str| {
                parsed
                    .params
                    .get_decimal(k)
                    .map_or(serde_json::Value::Null, serde_json::Value::from)
            };
            if !parsed.algorithm.as_str().starts_with("argon2")
                || !crate::domain::hashing::argon2_acceptable(phc)
            {
                return Err(bad(format!(
                    "Invalid Argon2 hash: at most {} KiB and {} passes",
                    crate::domain::hashing::MAX_VERIFY_MEMORY_KIB,
                    crate::domain::hashing::MAX_VERIFY_TIME_COST
                )));
            }
            Some(StoredPassword {
                phc: Secret::new(*phc),
                algorithm: "argon2".into(),
                options: serde_json::json!({
                    "type": "argon2",
                    "memoryCost": param("m"),
                    "timeCost": param("t"),
                    "threads": param("p"),
                }),
            })
        }
        NewPassword::Imported { hash, algorithm } => {
            algorithm.check(hash).map_err(bad)?;
            Some(StoredPassword {
                phc: Secret::new(*hash),
                algorithm: algorithm.name().into(),
                options: algorithm.options(),
            })
        }
    })
}

/// `users.create` and the `users.create<Algorithm>User` imports: a user with email and phone
/// targets for the addresses it has. Appwrite applies no user limit here (server keys).
pub async fn create(env: &Env<'_>, new: NewUser<'_>) -> Result<(UserRow, Vec<TargetRow>)> {
    let auth = &env.project.settings.auth;
    let now = env.now();
    let mut user = new_user(new.id.unwrap_or_else(unique_id), now);
    if let Some(email) = &new.email
        && env
            .store
            .identity_email_taken(env.pid(), email, None)
            .await?
    {
        return Err(ErrorType::UserEmailAlreadyExists.into());
    }
    if let NewPassword::Plain(p) = new.password
        && auth.personal_data_check
        && contains_personal_data(
            p,
            &user.id,
            new.email.as_deref(),
            new.name.as_deref(),
            new.phone.as_deref(),
        )
    {
        return Err(ErrorType::PasswordPersonalData.into());
    }
    user.name = new.name;
    if let Some(email) = &new.email {
        set_email(&mut user, email)?;
    }
    user.phone = new.phone;
    // Imported hashes were never looked up: their `passwordPwned` stays null.
    let (stored, pwned) = match new.password {
        NewPassword::Plain(p) => {
            let pwned = breached::check_new(env, p).await?;
            (
                Some(env.hasher.hash(p).await.map_err(Error::internal)?),
                pwned,
            )
        }
        ref other => (imported_password(other)?, None),
    };
    if let Some(stored) = stored {
        set_password(&mut user, stored, pwned, auth.password_history, now);
    }

    let targets = insert_with_targets(env, &user, ErrorType::UserTargetAlreadyExists).await?;
    Ok((user, targets))
}

/// Writes a new user with an email and an SMS target for the addresses it has (unless another
/// user's target already has one), in one unit of work with its `user.create` audit. A taken
/// id, email or phone is `user_already_exists`; a target conflict is `target_taken`.
pub(crate) async fn insert_with_targets(
    env: &Env<'_>,
    user: &UserRow,
    target_taken: ErrorType,
) -> Result<Vec<TargetRow>> {
    let now = env.now();
    let mut tx = env.begin().await?;
    let mut targets = vec![];
    for (kind, address) in [("email", &user.email), ("sms", &user.phone)] {
        if let Some(address) = address
            && !tx.target_identifier_taken(env.pid(), address).await?
        {
            targets.push(messaging_target(&user.id, kind, address, now));
        }
    }
    tx.insert_user(env.pid(), user)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    for t in &targets {
        tx.insert_target(env.pid(), t)
            .await
            .map_err(|e| e.conflict_as(target_taken))?;
    }
    env.commit_audited(tx, user, "user.create", format!("user/{}", user.id))
        .await?;
    Ok(targets)
}

/// `users.updateName`.
pub async fn update_name(env: &Env<'_>, id: &str, name: String) -> Result<UserRow> {
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        u.name = Some(name);
        Ok(())
    })
    .await
}

/// `users.updateStatus`: `false` blocks the user (its sessions stop working at the gate).
pub async fn update_status(env: &Env<'_>, id: &str, status: bool) -> Result<UserRow> {
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        u.status = status;
        Ok(())
    })
    .await
}

/// `users.updateLabels`: replaces the labels (letters and digits, at most 36 each; duplicates
/// kept once, in first-seen order, as Appwrite's `array_unique`).
pub async fn update_labels(env: &Env<'_>, id: &str, labels: Vec<String>) -> Result<UserRow> {
    if let Some(bad) = labels.iter().find(|l| {
        l.is_empty() || l.len() > MAX_LABEL_LEN || !l.chars().all(|c| c.is_ascii_alphanumeric())
    }) {
        return Err(Error::invalid_param(
            "labels",
            &format!(
                "Value must a valid array no longer than {MAX_LABELS} items and Value must be a valid string and at least 1 chars and no longer than {MAX_LABEL_LEN} chars and only contain letters and digits: {bad}"
            ),
        ));
    }
    let mut unique: Vec<String> = vec![];
    for l in labels {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    let json = serde_json::to_string(&unique).map_err(Error::internal)?;
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        u.labels = json;
        Ok(())
    })
    .await
}

/// `users.updatePrefs`: replaces the preferences object.
pub async fn update_prefs(env: &Env<'_>, id: &str, prefs: serde_json::Value) -> Result<UserRow> {
    let json = prefs.to_string();
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        u.prefs = json;
        Ok(())
    })
    .await
}

/// `users.updateEmailVerification`.
pub async fn update_email_verification(env: &Env<'_>, id: &str, verified: bool) -> Result<UserRow> {
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        u.email_verification = verified;
        Ok(())
    })
    .await
}

/// `users.updatePhoneVerification`.
pub async fn update_phone_verification(env: &Env<'_>, id: &str, verified: bool) -> Result<UserRow> {
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        u.phone_verification = verified;
        Ok(())
    })
    .await
}

/// `users.updatePassword`: a new Argon2id password without the old one; the project's
/// history rule applies, as in Appwrite.
pub async fn update_password(env: &Env<'_>, id: &str, password: &str) -> Result<UserRow> {
    let user = get(env, id).await?;
    let auth = &env.project.settings.auth;
    check_personal_data(env, &user, password)?;
    check_history(env, &user, password).await?;
    let pwned = breached::check_new(env, password).await?;
    let stored = env.hasher.hash(password).await.map_err(Error::internal)?;
    let history = auth.password_history;
    let now = env.now();
    update_profile(env, id, ErrorType::UserAlreadyExists, |u| {
        set_password(u, stored, pwned, history, now);
        Ok(())
    })
    .await
}

/// Which address a contact change is about.
enum Address {
    Email,
    Phone,
}

/// `users.updateEmail` and `users.updatePhone`: the new address, unverified; the target of the
/// old address follows it (or one is created), and tokens sent to the old one stop working.
/// `""` removes the address and its target (Appwrite's `allowEmpty`).
async fn update_address(
    env: &Env<'_>,
    id: &str,
    address: Address,
    value: String,
) -> Result<UserRow> {
    let (kind, taken, token_kinds) = match address {
        Address::Email => (
            "email",
            ErrorType::UserEmailAlreadyExists,
            crate::domain::tokens::EMAIL_KINDS,
        ),
        Address::Phone => (
            "sms",
            ErrorType::UserPhoneAlreadyExists,
            crate::domain::tokens::PHONE_KINDS,
        ),
    };
    if matches!(address, Address::Email)
        && !value.is_empty()
        && env
            .store
            .identity_email_taken(env.pid(), &value, Some(id))
            .await?
    {
        return Err(ErrorType::UserEmailAlreadyExists.into());
    }
    let mut tx = env.begin().await?;
    let mut user = tx
        .lock_user(env.pid(), id)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    let old = match (&address, value.is_empty()) {
        (Address::Email, false) => {
            let old = user.email.clone();
            set_email(&mut user, &value)?;
            user.email_verification = false;
            old
        }
        (Address::Email, true) => {
            user.email_canonical = None;
            user.email_is_free = None;
            user.email_is_disposable = None;
            user.email_is_corporate = None;
            user.email_is_canonical = None;
            user.email_verification = false;
            user.email.take()
        }
        (Address::Phone, false) => {
            user.phone_verification = false;
            user.phone.replace(value.clone())
        }
        (Address::Phone, true) => {
            user.phone_verification = false;
            user.phone.take()
        }
    };
    let now = env.now();
    user.updated_at = now;
    tx.update_user(env.pid(), &user)
        .await
        .map_err(|e| e.conflict_as(taken))?;
    if value.is_empty() {
        tx.delete_user_tokens(env.pid(), &user.id, token_kinds)
            .await?;
        if let Some(old) = &old {
            tx.delete_user_target(env.pid(), &user.id, old, kind)
                .await?;
        }
    } else if old.as_deref() != Some(value.as_str()) {
        tx.delete_user_tokens(env.pid(), &user.id, token_kinds)
            .await?;
        let moved = match &old {
            Some(old) => tx
                .rename_target(env.pid(), &user.id, old, &value, now)
                .await
                .map(|_| ()),
            None => Ok(()),
        };
        moved.map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
        if old.is_none() && !tx.target_identifier_taken(env.pid(), &value).await? {
            tx.insert_target(env.pid(), &messaging_target(&user.id, kind, &value, now))
                .await
                .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
        }
    }
    env.commit_audited(tx, &user, "user.update", format!("user/{}", user.id))
        .await?;
    Ok(user)
}

/// `users.updateEmail`.
pub async fn update_email(env: &Env<'_>, id: &str, email: String) -> Result<UserRow> {
    update_address(env, id, Address::Email, email).await
}

/// `users.updatePhone`.
pub async fn update_phone(env: &Env<'_>, id: &str, phone: String) -> Result<UserRow> {
    update_address(env, id, Address::Phone, phone).await
}

/// `users.delete`: the user is deleted, not blocked, with its sessions, tokens, identities,
/// targets, MFA records and queued messages, in one unit of work (its audit trail stays).
pub async fn delete(env: &Env<'_>, id: &str) -> Result<()> {
    let user = get(env, id).await?;
    let mut tx = env.begin().await?;
    if !tx.delete_user(env.pid(), id).await? {
        return Err(ErrorType::UserNotFound.into());
    }
    env.commit_audited(tx, &user, "user.delete", format!("user/{id}"))
        .await
}
