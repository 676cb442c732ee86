//! Importing users exported from another system (`latchkey users import`): Appwrite's own
//! `GET /v1/users` pages and Firebase's `auth:export`. Each user lands in one unit of work with
//! its email and phone targets, keeping its id, flags, labels, prefs and registration date;
//! its password hash is kept as it is and verified with its own algorithm at the next login.

use crate::domain::Env;
use crate::domain::accounts::{new_user, set_email};
use crate::domain::hashing::{Imported, StoredPassword};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;

use super::{MAX_LABEL_LEN, MAX_LABELS};

/// A user as another system describes it.
#[derive(Debug, Default)]
pub struct ForeignUser {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub email_verification: bool,
    pub phone_verification: bool,
    pub status: bool,
    pub labels: Vec<String>,
    /// A JSON object.
    pub prefs: Option<serde_json::Value>,
    /// Epoch milliseconds; now when unknown.
    pub registration: Option<i64>,
    pub password: Option<ForeignPassword>,
}

/// A password hash and what made it: Appwrite's `hash` name and `hashOptions`.
pub struct ForeignPassword {
    pub hash: Secret,
    pub algorithm: String,
    pub options: serde_json::Value,
}

impl std::fmt::Debug for ForeignPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeignPassword")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn invalid(what: &str) -> Error {
    Error::from(ErrorType::GeneralArgumentInvalid).with_message(what.to_owned())
}

/// The stored form of a foreign hash, refused when it could never verify.
fn stored_password(p: ForeignPassword) -> Result<StoredPassword> {
    if p.algorithm == "argon2" {
        if !crate::domain::hashing::argon2_acceptable(p.hash.expose()) {
            return Err(invalid(
                "an argon2 hash that is not a PHC string, or costs more than latchkey verifies",
            ));
        }
        return Ok(StoredPassword {
            phc: p.hash,
            algorithm: "argon2".into(),
            options: p.options,
        });
    }
    let imported = Imported::from_stored(&p.algorithm, &p.options.to_string())
        .ok_or_else(|| invalid(&format!("unknown hash algorithm `{}`", p.algorithm)))?;
    imported
        .check(p.hash.expose())
        .map_err(|e| invalid(&format!("{} hash: {e}", p.algorithm)))?;
    Ok(StoredPassword {
        phc: p.hash,
        algorithm: imported.name().into(),
        options: imported.options(),
    })
}

/// Imports one user; `user_already_exists` when its id, email or phone is taken.
pub async fn import_user(env: &Env<'_>, foreign: ForeignUser) -> Result<()> {
    crate::domain::validate::uid(&foreign.id)
        .map_err(|e| invalid(&format!("id `{}`: {e}", foreign.id)))?;
    let now = env.now();
    let mut user = new_user(foreign.id, now);
    user.registration = foreign.registration.unwrap_or(now);
    user.created_at = user.registration;
    if foreign
        .name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 128)
    {
        return Err(invalid("a name longer than 128 characters"));
    }
    user.name = foreign.name.filter(|n| !n.is_empty());
    if let Some(email) = foreign.email.filter(|e| !e.is_empty()) {
        let email = crate::domain::validate::email(&email)
            .map_err(|_| invalid(&format!("email `{email}` is not an address")))?;
        set_email(&mut user, &email)?;
    }
    if let Some(phone) = foreign.phone.filter(|p| !p.is_empty()) {
        user.phone = Some(
            crate::domain::validate::phone(&phone)
                .map_err(|_| invalid(&format!("phone `{phone}` is not E.164")))?,
        );
    }
    user.email_verification = foreign.email_verification && user.email.is_some();
    user.phone_verification = foreign.phone_verification && user.phone.is_some();
    user.status = foreign.status;
    if foreign.labels.len() > MAX_LABELS
        || foreign.labels.iter().any(|l| {
            l.is_empty() || l.len() > MAX_LABEL_LEN || !l.chars().all(|c| c.is_ascii_alphanumeric())
        })
    {
        return Err(invalid(
            "labels must be letters and digits, at most 36 each",
        ));
    }
    user.labels = serde_json::to_string(&foreign.labels).map_err(Error::internal)?;
    if let Some(prefs) = foreign.prefs.filter(|p| p.is_object()) {
        user.prefs = prefs.to_string();
    }
    if let Some(p) = foreign.password {
        let stored = stored_password(p)?;
        user.password = Some(stored.phc);
        user.hash = Some(stored.algorithm);
        user.hash_options = Some(stored.options.to_string());
        user.password_update = Some(now);
    }
    super::insert_with_targets(env, &user, ErrorType::UserAlreadyExists)
        .await
        .map(|_| ())
}
