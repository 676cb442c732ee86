//! Passkeys (Appwrite 2.5): WebAuthn credentials registered by a signed-in user and used to
//! sign in without a password. The ceremonies are `webauthn-rs`'s; this module keeps their
//! state in the store between the two requests of each, and Appwrite's rules around them.
//!
//! - Registration: `POST /account/passkeys` makes a pending passkey and a challenge (5 min);
//!   `PUT /account/passkeys/{id}/verification` answers it. A challenge answers one attempt,
//!   failed or not. User verification is required, attestation is `none`, and the credential
//!   must be discoverable (usernameless sign-in).
//! - Sign-in: `POST /account/tokens/passkey` makes a challenge naming no credential; `PUT`
//!   answers it with an assertion of any of the project's passkeys, which names its user.
//!   The answer is a one-minute token for `POST /account/sessions/token`, whose session
//!   counts as two factors (the passkey and its user verification), as Appwrite's.
//! - A signature counter that does not grow (a cloned authenticator) and a changed backup
//!   eligibility are refused by `webauthn-rs`; each sign-in stores the new counter.

pub mod relying_party;

use relying_party::RelyingParty;

use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid,
};

use crate::domain::Env;
use crate::domain::ids::unique_id;
use crate::domain::tokens::{self, Issued, TokenKind};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{ListQuery, Page, PasskeyChallengeRow, PasskeyRow, SessionRow, UserRow};

/// Passkeys per user, pending ones included (Appwrite's `APP_LIMIT_USER_PASSKEYS`).
pub const MAX_PASSKEYS: i64 = 10;
/// How long a ceremony may take.
pub const CHALLENGE_MS: i64 = 300_000;
/// How recently the session must have signed in (or passed MFA) to change passkeys.
pub const RECENT_SESSION_MS: i64 = 600_000;
/// How long the token a passkey sign-in yields lives.
pub const TOKEN_SECONDS: u64 = 60;

/// A ceremony handed to the client: its id and the options for `navigator.credentials`.
#[derive(Debug)]
pub struct Challenge {
    pub row: PasskeyChallengeRow,
    /// The pending passkey (registration); empty for a sign-in.
    pub passkey_id: String,
    /// The `publicKey` options, WebAuthn's JSON.
    pub public_key: Value,
}

fn not_configured() -> Error {
    Error::from(ErrorType::UserAuthMethodUnsupported).with_message(
        "Passkeys are not configured for this project. Set a relying party ID (or add a localhost web platform) and web platforms on it.",
    )
}

fn invalid(why: impl std::fmt::Display) -> Error {
    Error::from(ErrorType::UserPasskeyInvalid)
        .with_message(format!("The passkey could not be verified: {why}."))
}

fn expired_challenge() -> Error {
    Error::from(ErrorType::UserInvalidToken)
}

/// The WebAuthn user handle of a user: stable for the user, different for a new user that
/// reuses a deleted one's id (its creation time differs), so an old credential never signs
/// the new user in.
pub fn user_handle(project: &str, user: &UserRow) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"latchkey passkey user handle\0")
        .chain_update(project.as_bytes())
        .chain_update(b"\0")
        .chain_update(user.id.as_bytes())
        .chain_update(b"\0")
        .chain_update(user.created_at.to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn seal_context(project: &str, challenge: &str) -> String {
    format!("passkey_challenges/{project}/{challenge}")
}

fn seal_state(env: &Env<'_>, id: &str, state: &impl serde::Serialize) -> Result<Secret> {
    let json = serde_json::to_vec(state).map_err(Error::internal)?;
    Ok(Secret::new(
        env.sealer.seal(&seal_context(env.pid(), id), &json),
    ))
}

fn open_state<T: serde::de::DeserializeOwned>(env: &Env<'_>, c: &PasskeyChallengeRow) -> Result<T> {
    env.sealer
        .open(&seal_context(env.pid(), &c.id), c.state.expose())
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .ok_or_else(expired_challenge)
}

/// Refuses a caller whose session did not sign in or pass MFA in the last ten minutes (a JWT
/// or a stolen session cookie must not add a way in).
pub fn check_recent(env: &Env<'_>, session: Option<&SessionRow>) -> Result<()> {
    let recent = session.is_some_and(|s| {
        let at = s.mfa_updated_at.unwrap_or(0).max(s.created_at);
        env.now() - at <= RECENT_SESSION_MS
    });
    if recent {
        Ok(())
    } else {
        Err(ErrorType::UserReauthenticationRequired.into())
    }
}

/// Spends the ceremony `id` (in a unit of work of its own: an attempt that fails later has
/// used it all the same), then checks it is still good: not expired, of the kind expected
/// (`registration`: the user and pending passkey it was made for; `None`: a sign-in), and made
/// for the relying party the project has now. The project's relying party with it.
async fn take_challenge<'e>(
    env: &Env<'e>,
    id: &str,
    registration: Option<(&str, &str)>,
) -> Result<(PasskeyChallengeRow, &'e RelyingParty)> {
    let now = env.now();
    let mut tx = env.begin().await?;
    let challenge = tx.take_passkey_challenge(env.pid(), id).await?;
    env.commit(tx).await?;
    let challenge = challenge
        .filter(|c| c.expire >= now)
        .filter(|c| match registration {
            Some((user, passkey)) => {
                c.user_id.as_deref() == Some(user) && c.passkey_id.as_deref() == Some(passkey)
            }
            None => c.user_id.is_none(),
        })
        .ok_or_else(expired_challenge)?;
    let rp = env
        .project
        .relying_party
        .as_ref()
        .filter(|rp| rp.id == challenge.rp_id)
        .ok_or_else(expired_challenge)?;
    Ok((challenge, rp))
}

/// The verified passkey `id` of `user`; pending and other users' ones are not found.
async fn owned(env: &Env<'_>, user: &UserRow, id: &str) -> Result<PasskeyRow> {
    env.store
        .find_passkey(env.pid(), id)
        .await?
        .filter(|p| p.user_id == user.id && p.credential_id.is_some())
        .ok_or_else(|| ErrorType::UserPasskeyNotFound.into())
}

/// `POST /v1/account/passkeys`: a pending passkey and its registration challenge.
pub async fn create(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    passkey_id: Option<String>,
    name: String,
) -> Result<Challenge> {
    let rp = env
        .project
        .relying_party
        .as_ref()
        .ok_or_else(not_configured)?;
    check_recent(env, session)?;
    let now = env.now();
    let id = passkey_id.unwrap_or_else(unique_id);
    let taken = env.store.find_passkey(env.pid(), &id).await?;
    if taken
        .as_ref()
        .is_some_and(|p| p.credential_id.is_some() || p.user_id != user.id)
    {
        return Err(ErrorType::UserPasskeyAlreadyExists.into());
    }
    // The user's own pending passkey this request restarts (same id) does not count twice.
    let pending_since = now - CHALLENGE_MS;
    let restarting = taken.is_some_and(|p| p.updated_at >= pending_since);
    let count = env
        .store
        .count_passkeys(env.pid(), &user.id, pending_since)
        .await?;
    if count - i64::from(restarting) >= MAX_PASSKEYS {
        return Err(ErrorType::UserPasskeyLimitExceeded.into());
    }
    let existing = env
        .store
        .list_passkeys(
            env.pid(),
            &user.id,
            &ListQuery {
                limit: MAX_PASSKEYS * 2,
                ..ListQuery::default()
            },
        )
        .await?;
    let exclude: Vec<_> = existing
        .rows
        .iter()
        .filter_map(|p| p.credential.as_deref())
        .filter_map(|c| serde_json::from_str::<Passkey>(c).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let account_name = user
        .email
        .clone()
        .or_else(|| user.phone.clone())
        .or_else(|| user.name.clone().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| user.id.clone());
    let display = user
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| account_name.clone());
    let (ccr, state): (CreationChallengeResponse, PasskeyRegistration) = rp
        .webauthn
        .start_passkey_registration(
            user_handle(env.pid(), user),
            &account_name,
            &display,
            (!exclude.is_empty()).then_some(exclude),
        )
        .map_err(Error::internal)?;
    let mut public_key = serde_json::to_value(&ccr.public_key).map_err(Error::internal)?;
    // Usernameless sign-in needs a discoverable credential: ask for one.
    if let Some(sel) = public_key
        .get_mut("authenticatorSelection")
        .and_then(Value::as_object_mut)
    {
        sel.insert("residentKey".into(), "required".into());
        sel.insert("requireResidentKey".into(), true.into());
    }
    let challenge_id = unique_id();
    let row = PasskeyChallengeRow {
        state: seal_state(env, &challenge_id, &state)?,
        id: challenge_id,
        user_id: Some(user.id.clone()),
        passkey_id: Some(id.clone()),
        rp_id: rp.id.clone(),
        created_at: now,
        expire: now + CHALLENGE_MS,
    };
    let pending = PasskeyRow {
        id: id.clone(),
        user_id: user.id.clone(),
        name,
        created_at: now,
        updated_at: now,
        challenge_id: Some(row.id.clone()),
        ..PasskeyRow::default()
    };
    let mut tx = env.begin().await?;
    tx.put_pending_passkey(env.pid(), &pending)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserPasskeyAlreadyExists))?;
    tx.insert_passkey_challenge(env.pid(), &row).await?;
    env.commit(tx).await?;
    Ok(Challenge {
        row,
        passkey_id: id,
        public_key,
    })
}

/// `PUT /v1/account/passkeys/{id}/verification`: answers the registration challenge of the
/// pending passkey `id` with the browser's credential.
pub async fn verify(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    id: &str,
    credential: &Value,
) -> Result<PasskeyRow> {
    check_recent(env, session)?;
    let mut passkey = env
        .store
        .find_passkey(env.pid(), id)
        .await?
        .filter(|p| p.user_id == user.id && p.credential_id.is_none())
        .ok_or(ErrorType::UserPasskeyNotFound)?;
    let challenge_id = passkey.challenge_id.clone().unwrap_or_default();
    let now = env.now();
    let (challenge, rp) = take_challenge(env, &challenge_id, Some((&user.id, id))).await?;
    let state: PasskeyRegistration = open_state(env, &challenge)?;
    let answer: RegisterPublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(|_| invalid("malformed credential"))?;
    let verified = rp
        .webauthn
        .finish_passkey_registration(&answer, &state)
        .map_err(invalid)?;
    passkey.credential_id = Some(base64_url(verified.cred_id().as_ref()));
    passkey.credential = Some(serde_json::to_string(&verified).map_err(Error::internal)?);
    passkey.challenge_id = None;
    passkey.updated_at = now;
    let mut tx = env.begin().await?;
    tx.update_passkey(env.pid(), &passkey)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserPasskeyAlreadyExists))?;
    env.commit_audited(tx, user, "passkey.create", format!("user/{}", user.id))
        .await?;
    Ok(passkey)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `GET /v1/account/passkeys`: the user's verified passkeys matching `queries`.
pub async fn list(
    env: &Env<'_>,
    user: &UserRow,
    queries: &[String],
    legacy_syntax: bool,
) -> Result<Page<PasskeyRow>> {
    let query = crate::domain::queries::parse(
        queries,
        legacy_syntax,
        crate::domain::queries::PASSKEY_ATTRIBUTES,
    )?;
    Ok(env.store.list_passkeys(env.pid(), &user.id, &query).await?)
}

/// `GET /v1/account/passkeys/{id}`.
pub async fn get(env: &Env<'_>, user: &UserRow, id: &str) -> Result<PasskeyRow> {
    owned(env, user, id).await
}

/// `PATCH /v1/account/passkeys/{id}`: renames it.
pub async fn rename(env: &Env<'_>, user: &UserRow, id: &str, name: String) -> Result<PasskeyRow> {
    let mut passkey = owned(env, user, id).await?;
    passkey.name = name;
    passkey.updated_at = env.now();
    let mut tx = env.begin().await?;
    // The name only: a sign-in racing this keeps the counter it stored.
    if !tx
        .rename_passkey(env.pid(), &user.id, id, &passkey.name, passkey.updated_at)
        .await?
    {
        return Err(ErrorType::UserPasskeyNotFound.into());
    }
    env.commit_audited(tx, user, "passkey.update", format!("user/{}", user.id))
        .await?;
    Ok(passkey)
}

/// `DELETE /v1/account/passkeys/{id}`: it signs no one in any more. Like adding one, it
/// needs a recent session.
pub async fn delete(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    id: &str,
) -> Result<()> {
    owned(env, user, id).await?;
    check_recent(env, session)?;
    let mut tx = env.begin().await?;
    if !tx.delete_passkey(env.pid(), &user.id, id).await? {
        return Err(ErrorType::UserPasskeyNotFound.into());
    }
    env.commit_audited(tx, user, "passkey.delete", format!("user/{}", user.id))
        .await
}

/// `POST /v1/account/tokens/passkey`: a sign-in challenge any of the project's passkeys
/// may answer.
pub async fn start_sign_in(env: &Env<'_>) -> Result<Challenge> {
    let rp = env
        .project
        .relying_party
        .as_ref()
        .ok_or_else(not_configured)?;
    let (rcr, state): (RequestChallengeResponse, DiscoverableAuthentication) = rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(Error::internal)?;
    let mut public_key = serde_json::to_value(&rcr.public_key).map_err(Error::internal)?;
    if let Value::Object(m) = &mut public_key {
        m.insert("allowCredentials".into(), Value::Array(vec![]));
    }
    let now = env.now();
    let id = unique_id();
    let row = PasskeyChallengeRow {
        state: seal_state(env, &id, &state)?,
        id,
        user_id: None,
        passkey_id: None,
        rp_id: rp.id.clone(),
        created_at: now,
        expire: now + CHALLENGE_MS,
    };
    let mut tx = env.begin().await?;
    tx.insert_passkey_challenge(env.pid(), &row).await?;
    env.commit(tx).await?;
    Ok(Challenge {
        row,
        passkey_id: String::new(),
        public_key,
    })
}

/// `PUT /v1/account/tokens/passkey`: answers a sign-in challenge; the user the passkey
/// belongs to gets a one-minute token (its secret in the clear) for a session.
pub async fn finish_sign_in(
    env: &Env<'_>,
    challenge_id: &str,
    credential: &Value,
) -> Result<(UserRow, Issued)> {
    let now = env.now();
    let (challenge, rp) = take_challenge(env, challenge_id, None).await?;
    let state: DiscoverableAuthentication = open_state(env, &challenge)?;
    let answer: PublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(|_| invalid("malformed credential"))?;
    // The credential id finds the passkey; the signature below proves the authenticator
    // holds it. The user handle a discoverable credential also returns must agree.
    let passkey = env
        .store
        .find_passkey_by_credential(env.pid(), &base64_url(answer.get_credential_id()))
        .await?
        .ok_or_else(|| invalid("no passkey of this project has that credential"))?;
    let user = env
        .store
        .find_user(env.pid(), &passkey.user_id)
        .await?
        .ok_or_else(|| invalid("its user is gone"))?;
    if let Some(handle) = answer.get_user_unique_id()
        && handle != user_handle(env.pid(), &user).as_bytes()
    {
        return Err(invalid("it belongs to another user"));
    }
    let seen = passkey.credential.clone().unwrap_or_default();
    let mut stored: Passkey =
        serde_json::from_str(&seen).map_err(|_| invalid("its record is unreadable"))?;
    let result = rp
        .webauthn
        .finish_discoverable_authentication_v2(&answer, state, &stored)
        .map_err(invalid)?;
    if !user.status {
        return Err(ErrorType::UserBlocked.into());
    }
    stored.update_credential(&result);
    let updated = serde_json::to_string(&stored).map_err(Error::internal)?;
    let secret = tokens::long_secret(32);
    let token = tokens::new_token(env, &user.id, TokenKind::Passkey, &secret, TOKEN_SECONDS);
    let mut tx = env.begin().await?;
    // Compare-and-set: of two sign-ins checked against the same counter, or one racing the
    // passkey's deletion, only the first gets a token.
    if !tx
        .record_passkey_use(env.pid(), &passkey.id, &seen, &updated, now)
        .await?
    {
        return Err(invalid("it was used or deleted at the same time"));
    }
    tokens::store_token(env, &mut tx, &token, None).await?;
    env.commit_audited(tx, &user, "passkey.signin", format!("user/{}", user.id))
        .await?;
    Ok((
        user,
        Issued {
            token,
            secret,
            phrase: String::new(),
        },
    ))
}
