//! Recovery codes (spec §6): six single-use codes of ten hex characters, sealed at rest. A
//! code is spent in the unit of work that accepts it, with the user's codes locked, so two
//! requests cannot both use one (appwrite#11692).

use subtle::ConstantTimeEq;

use crate::domain::Env;
use crate::domain::ids::random_hex;
use crate::domain::mfa::seal_context;
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{Tx, UserRow};

const COUNT: usize = 6;
/// Five random bytes: ten hex characters (Appwrite `Auth::tokenGenerator(10)`).
const CODE_BYTES: usize = 5;
const WHAT: &str = "recovery-codes";

fn open(env: &Env<'_>, user: &str, sealed: &Secret) -> Result<Vec<String>> {
    let plain = env
        .sealer
        .open(&seal_context(env, user, WHAT), sealed.expose())
        .ok_or_else(|| Error::internal(anyhow::anyhow!("recovery codes do not open")))?;
    serde_json::from_slice(&plain).map_err(Error::internal)
}

async fn put(env: &Env<'_>, tx: &mut Box<dyn Tx>, user: &str, codes: &[String]) -> Result<()> {
    let plain = serde_json::to_vec(codes).map_err(Error::internal)?;
    let sealed = Secret::new(env.sealer.seal(&seal_context(env, user, WHAT), &plain));
    tx.put_recovery_codes(env.pid(), user, &sealed, env.now())
        .await?;
    Ok(())
}

/// The user's unused codes (none when never generated).
pub async fn stored(env: &Env<'_>, user: &str) -> Result<Vec<String>> {
    match env.store.find_recovery_codes(env.pid(), user).await? {
        Some(sealed) => open(env, user, &sealed),
        None => Ok(vec![]),
    }
}

/// The user's codes, with the user's row locked first: two requests creating the first codes
/// find no codes row to lock, so they queue on the user instead.
async fn locked_for_update(env: &Env<'_>, tx: &mut Box<dyn Tx>, user: &str) -> Result<Vec<String>> {
    tx.lock_user(env.pid(), user)
        .await?
        .ok_or(ErrorType::UserNotFound)?;
    locked(env, tx, user).await
}

async fn locked(env: &Env<'_>, tx: &mut Box<dyn Tx>, user: &str) -> Result<Vec<String>> {
    match tx.lock_recovery_codes(env.pid(), user).await? {
        Some(sealed) => open(env, user, &sealed),
        None => Ok(vec![]),
    }
}

fn generate() -> Vec<String> {
    (0..COUNT).map(|_| random_hex(CODE_BYTES)).collect()
}

/// `POST /v1/account/mfa/recovery-codes`: six new codes; 409 while unused ones exist.
pub async fn create(env: &Env<'_>, user: &UserRow) -> Result<Vec<String>> {
    let mut tx = env.begin().await?;
    if !locked_for_update(env, &mut tx, &user.id).await?.is_empty() {
        return Err(ErrorType::UserRecoveryCodesAlreadyExists.into());
    }
    let codes = generate();
    put(env, &mut tx, &user.id, &codes).await?;
    env.commit_audited(tx, user, "user.update", format!("user/{}", user.id))
        .await?;
    Ok(codes)
}

/// `GET /v1/account/mfa/recovery-codes` (after a recent challenge).
pub async fn get(env: &Env<'_>, user: &UserRow) -> Result<Vec<String>> {
    let codes = stored(env, &user.id).await?;
    if codes.is_empty() {
        return Err(ErrorType::UserRecoveryCodesNotFound.into());
    }
    Ok(codes)
}

/// `PATCH /v1/account/mfa/recovery-codes` (after a recent challenge): six new codes replace
/// the old ones.
pub async fn regenerate(env: &Env<'_>, user: &UserRow) -> Result<Vec<String>> {
    let mut tx = env.begin().await?;
    if locked_for_update(env, &mut tx, &user.id).await?.is_empty() {
        return Err(ErrorType::UserRecoveryCodesNotFound.into());
    }
    let codes = generate();
    put(env, &mut tx, &user.id, &codes).await?;
    env.commit_audited(tx, user, "user.update", format!("user/{}", user.id))
        .await?;
    Ok(codes)
}

/// Spends `code` if it is one of the user's unused codes; whether it was.
pub(super) async fn spend(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    user: &str,
    code: &str,
) -> Result<bool> {
    let mut codes = locked(env, tx, user).await?;
    // Every code is compared, so the time taken says nothing about which one matched.
    let mut found = None;
    for (i, c) in codes.iter().enumerate() {
        if bool::from(c.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(i);
        }
    }
    let Some(i) = found else {
        return Ok(false);
    };
    codes.remove(i);
    put(env, tx, user, &codes).await?;
    Ok(true)
}
