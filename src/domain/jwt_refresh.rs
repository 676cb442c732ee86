//! Refreshable short JWTs (Appwrite issue #3258, a latchkey addition): `createJWT` with
//! `refresh: true` also returns a single-use refresh token; exchanging it gives a new JWT and
//! the next refresh token of the same family, for as long as the issuing session lives.
//! Presenting a token that was already exchanged means it was copied: the whole family goes,
//! so neither the thief nor the owner can refresh again (the owner signs in again). The tokens
//! go with their session (a foreign key), so logout, session deletion, a password change and
//! user deletion revoke them too; a blocked user's exchanges are refused (`user_blocked`).

use crate::domain::ids::unique_id;
use crate::domain::jwt_keys::JwtSigner;
use crate::domain::tokens::long_secret;
use crate::domain::{Env, sessions};
use crate::error::{Error, ErrorType, Result};
use crate::secret::{Secret, sha256_hex};
use crate::store::{RefreshTokenRow, SessionRow, Tx};

/// A JWT and the refresh token that yields the next one.
#[derive(Debug)]
pub struct Refreshed {
    pub jwt: Secret,
    pub refresh_token: Secret,
}

/// Random bytes of a refresh token's secret (hex on the wire, after the family id).
const SECRET_BYTES: usize = 32;
/// Refresh-token families one session may have; a new one ends the oldest.
pub const MAX_FAMILIES_PER_SESSION: i64 = 10;

fn next_token(
    family: &str,
    user: &str,
    session: &SessionRow,
    duration: i64,
    now: i64,
) -> (Secret, RefreshTokenRow) {
    // `<family>.<secret>`: a token the store no longer knows still names its family, so an
    // old copy presented after the chain moved on revokes the chain (see `exchange`).
    let secret = Secret::new(format!("{family}.{}", long_secret(SECRET_BYTES).expose()));
    let row = RefreshTokenRow {
        id: unique_id(),
        family_id: family.to_owned(),
        user_id: user.to_owned(),
        session_id: session.id.clone(),
        secret_hash: Secret::new(sha256_hex(secret.expose())),
        duration,
        created_at: now,
        spent_at: None,
        expire: session.expire,
    };
    (secret, row)
}

/// A JWT for `session` and the first refresh token of a new family.
pub async fn issue(
    env: &Env<'_>,
    signer: &JwtSigner<'_>,
    user_id: &str,
    session: &SessionRow,
    duration: i64,
) -> Result<Refreshed> {
    let (refresh_token, row) = next_token(&unique_id(), user_id, session, duration, env.now());
    let mut tx = env.begin().await?;
    // User, then session, then its tokens: the order of every other unit (logout, deletion,
    // an exchange), so none of them deadlocks against this one.
    tx.lock_user(env.pid(), user_id).await?;
    if tx
        .lock_session(env.pid(), user_id, &session.id)
        .await?
        .is_none()
    {
        return Err(refused("the session that would issue it has ended."));
    }
    // A session keeps its newest families only: a client minting chains in a loop cannot
    // grow the table.
    tx.trim_refresh_families(env.pid(), &session.id, MAX_FAMILIES_PER_SESSION - 1)
        .await?;
    tx.insert_refresh_token(env.pid(), &row).await?;
    env.commit(tx).await?;
    let jwt = sessions::create_jwt(env, signer, user_id, &session.id, duration).await?;
    Ok(Refreshed { jwt, refresh_token })
}

fn refused(why: &str) -> Error {
    Error::from(ErrorType::UserInvalidToken).with_message(format!(
        "Invalid refresh token passed in the request: {why}"
    ))
}

/// Deletes the token's family, then refuses the exchange.
async fn revoke(
    env: &Env<'_>,
    mut tx: Box<dyn Tx>,
    token: &RefreshTokenRow,
    why: &str,
) -> Result<Refreshed> {
    tx.delete_refresh_family(env.pid(), &token.family_id)
        .await?;
    env.commit(tx).await?;
    Err(refused(why))
}

/// An unknown token: if it names a family that still has tokens, it is an old link of that
/// chain (only the last spent one is kept), presented again: the chain is revoked.
async fn revoke_named_family(env: &Env<'_>, secret: &str) -> Result<Refreshed> {
    let Some((family, _)) = secret.split_once('.') else {
        return Err(refused("it is unknown or was revoked."));
    };
    let mut tx = env.begin().await?;
    let revoked = tx.delete_refresh_family(env.pid(), family).await?;
    env.commit(tx).await?;
    Err(refused(if revoked > 0 {
        "it was already used, so its family is revoked."
    } else {
        "it is unknown or was revoked."
    }))
}

/// Exchanges a refresh token for a new JWT and the next refresh token.
pub async fn exchange(env: &Env<'_>, signer: &JwtSigner<'_>, secret: &str) -> Result<Refreshed> {
    let now = env.now();
    let hash = sha256_hex(secret);
    // Read first, without a lock, to learn whose it is; then lock in the order every other
    // writer takes (user, session, then the session's refresh tokens through the cascade), so
    // a logout or password change racing this exchange waits instead of deadlocking.
    let Some(seen) = env.store.find_refresh_token(env.pid(), &hash).await? else {
        return revoke_named_family(env, secret).await;
    };
    let mut tx = env.begin().await?;
    let user = tx.lock_user(env.pid(), &seen.user_id).await?;
    let session = tx
        .lock_session(env.pid(), &seen.user_id, &seen.session_id)
        .await?
        .filter(|s| s.expire >= now);
    let Some(token) = tx.lock_refresh_token(env.pid(), &hash).await? else {
        return Err(refused("it is unknown or was revoked."));
    };
    if token.spent_at.is_some() {
        return revoke(
            env,
            tx,
            &token,
            "it was already used, so its family is revoked.",
        )
        .await;
    }
    let (Some(user), Some(session)) = (user, session) else {
        return revoke(env, tx, &token, "the session that issued it has ended.").await;
    };
    if !user.status {
        return Err(ErrorType::UserBlocked.into());
    }
    if !tx.spend_refresh_token(env.pid(), &token.id, now).await? {
        return Err(refused("it was already used."));
    }
    // Only the token just spent is kept of the spent ones: enough to catch its reuse, and
    // a long-lived session's chain stays a few rows.
    tx.trim_refresh_family(env.pid(), &token.family_id, &token.id)
        .await?;
    let (refresh_token, row) =
        next_token(&token.family_id, &user.id, &session, token.duration, now);
    tx.insert_refresh_token(env.pid(), &row).await?;
    env.commit(tx).await?;
    let jwt = sessions::create_jwt(env, signer, &user.id, &session.id, token.duration).await?;
    Ok(Refreshed { jwt, refresh_token })
}
