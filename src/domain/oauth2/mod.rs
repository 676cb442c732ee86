//! OAuth2 sign-in (spec §7): the provider names Appwrite accepts, what a provider tells us
//! about its user, and the rules that turn that into a user, an identity and a session or a
//! token (§7.4 steps 5–10). Talking to providers is `crate::oauth2`'s work; these rules see
//! only its results.

pub mod secrets;
pub mod state;

use crate::domain::accounts::{check_user_limit, messaging_target, new_user, set_email};
use crate::domain::ids::unique_id;
use crate::domain::sessions::{self, NewSession};
use crate::domain::time::seconds_to_ms;
use crate::domain::tokens::{self, TokenKind};
use crate::domain::{Env, alerts};
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{IdentityRow, SessionRow, UserRow};

/// Appwrite's provider names (spec §7.1), matched case-sensitively. `mock` and
/// `mock-unverified` are Appwrite's test-only providers. Latchkey also accepts
/// `oidc-<name>` for extra OpenID providers ([`is_accepted`]).
pub const PROVIDER_NAMES: &[&str] = &[
    "amazon",
    "apple",
    "appwrite",
    "auth0",
    "authentik",
    "autodesk",
    "bitbucket",
    "bitly",
    "box",
    "dailymotion",
    "discord",
    "disqus",
    "dropbox",
    "etsy",
    "facebook",
    "figma",
    "fusionauth",
    "github",
    "gitlab",
    "google",
    "huggingface",
    "keycloak",
    "kick",
    "linkedin",
    "microsoft",
    "notion",
    "oidc",
    "okta",
    "paypal",
    "paypalSandbox",
    "podio",
    "salesforce",
    "slack",
    "spotify",
    "stripe",
    "tradeshift",
    "tradeshiftBox",
    "twitch",
    "wordpress",
    "x",
    "yahoo",
    "yammer",
    "yandex",
    "zoho",
    "zoom",
    "mock",
    "mock-unverified",
];

/// The prefix of latchkey's extra OpenID providers (`oidc-<name>`).
pub const EXTRA_OIDC_PREFIX: &str = "oidc-";

/// Whether `name` is a provider the routes accept (Appwrite's list, or `oidc-<name>` with a
/// name of lowercase letters, digits and dashes).
pub fn is_accepted(name: &str) -> bool {
    PROVIDER_NAMES.contains(&name)
        || name.strip_prefix(EXTRA_OIDC_PREFIX).is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 64
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// What a provider says about the user who signed in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderUser {
    /// The provider's stable id of the user (`sub`, `id`, …).
    pub id: String,
    /// `""` when the provider gave none.
    pub email: String,
    /// Whether the provider vouches that the user owns `email`.
    pub verified: bool,
    pub name: String,
}

/// The tokens a provider issued. Never logged: `Secret` hides them from `Debug`.
#[derive(Debug, Clone, Default)]
pub struct ProviderTokens {
    pub access: Secret,
    pub refresh: Secret,
    /// Seconds until `access` expires, when the provider said.
    pub expires_in: Option<i64>,
    /// The raw ID token, when the sign-in was by one (2.x `providerIdToken`).
    pub id_token: Secret,
}

impl ProviderTokens {
    /// When `access` expires, epoch ms, if the provider said.
    pub fn expiry(&self, now: i64) -> Option<i64> {
        self.expires_in
            .map(|s| now.saturating_add(s.saturating_mul(1000)))
    }
}

/// Which flow a sign-in ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A session and its cookies (`createOAuth2Session`, ID-token sessions).
    Session,
    /// A short-lived token the client exchanges for a session (`createOAuth2Token`).
    Token,
}

/// The caller of the redirect, when already signed in (an anonymous user upgrading, or a
/// signed-in user linking another provider).
pub struct Caller<'a> {
    pub user: &'a UserRow,
    /// The session the request carried, replaced by the new one.
    pub session_id: Option<&'a str>,
}

/// What a sign-in produced.
pub enum SignedIn {
    Session(Box<NewSession>),
    /// A type-7 token and its raw secret, to be wrapped for the success URL.
    Token {
        token_id: String,
        secret: Secret,
    },
}

/// Why linking refused: Appwrite answers `general_bad_request` with these messages.
const EMAIL_NOT_VERIFIED: &str = "An account with this email already exists, and the provider or the account has not verified it. Sign in to that account first, then link this provider.";
const EMAIL_HELD_BY_IDENTITY: &str =
    "Another account is already linked to a provider identity with this email address.";

/// Spec §7.4 steps 5–10: finds or creates the user of a provider identity, stores the
/// identity, and issues a session or a token. `provider` is the route's provider name.
pub async fn sign_in(
    env: &Env<'_>,
    provider: &str,
    who: &ProviderUser,
    tokens_in: &ProviderTokens,
    caller: Option<Caller<'_>>,
    flow: Flow,
) -> Result<(UserRow, SignedIn)> {
    let who = &normalised(who);
    if who.id.is_empty() {
        return Err(ErrorType::UserMissingId.into());
    }
    let pid = env.pid();
    let store = env.store;
    // Step 5: a signed-in caller keeps their account; nobody else may hold this identity
    // or this email.
    let mut created: Option<UserRow> = None;
    let user = match &caller {
        Some(c) => {
            if let Some(i) = store
                .find_identity_by_provider(pid, provider, &who.id)
                .await?
                && i.user_id != c.user.id
            {
                return Err(ErrorType::UserAlreadyExists.into());
            }
            if !who.email.is_empty() {
                if store
                    .identity_email_taken(pid, &who.email, Some(&c.user.id))
                    .await?
                {
                    return Err(ErrorType::UserAlreadyExists.into());
                }
                if store
                    .find_user_by_email(pid, &who.email)
                    .await?
                    .is_some_and(|u| u.id != c.user.id)
                {
                    return Err(ErrorType::UserAlreadyExists.into());
                }
            }
            c.user.clone()
        }
        None => match find_owner(env, provider, who).await? {
            Some(u) => u,
            None => {
                if who.email.is_empty() {
                    return Err(ErrorType::UserUnauthorized.into());
                }
                let u = new_oauth2_user(env, who)?;
                created = Some(u.clone());
                u
            }
        },
    };
    // Step 7.
    if !user.status {
        return Err(ErrorType::UserBlocked.into());
    }
    let now = env.now();
    let existing = store
        .find_identity_by_provider(pid, provider, &who.id)
        .await?;
    if existing.is_none()
        && !who.email.is_empty()
        && store
            .identity_email_taken(pid, &who.email, Some(&user.id))
            .await?
    {
        return Err(Error::from(ErrorType::GeneralBadRequest).with_message(EMAIL_HELD_BY_IDENTITY));
    }
    let adopt_email = user.email.is_none() && !who.email.is_empty() && created.is_none();
    if adopt_email
        && store
            .find_user_by_email(pid, &who.email)
            .await?
            .is_some_and(|u| u.id != user.id)
    {
        return Err(ErrorType::UserAlreadyExists.into());
    }

    let mut tx = env.begin().await?;
    let mut fresh = match &created {
        Some(u) => {
            check_user_limit(env, Some(&mut tx)).await?;
            tx.insert_user(pid, u)
                .await
                .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
            if !tx.target_identifier_taken(pid, &who.email).await? {
                tx.insert_target(pid, &messaging_target(&u.id, "email", &who.email, now))
                    .await
                    .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
            }
            tx.insert_audit(pid, &env.audit(u, "user.create", format!("user/{}", u.id)))
                .await?;
            u.clone()
        }
        None => tx
            .lock_user(pid, &user.id)
            .await?
            .ok_or(ErrorType::UserNotFound)?,
    };
    if !fresh.status {
        return Err(ErrorType::UserBlocked.into());
    }
    let mut changed = false;
    if adopt_email && fresh.email.is_none() {
        set_email(&mut fresh, &who.email)?;
        fresh.email_verification = who.verified;
        changed = true;
    }
    if fresh.name.as_deref().unwrap_or("").is_empty() && !who.name.is_empty() {
        fresh.name = Some(who.name.clone());
        changed = true;
    }
    if changed && created.is_none() {
        fresh.updated_at = now;
        tx.update_user(pid, &fresh)
            .await
            .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    }
    // Step 8: one identity per provider user, holding the latest tokens.
    let expiry = tokens_in.expiry(now);
    match existing {
        Some(i) if i.user_id != fresh.id => return Err(ErrorType::UserAlreadyExists.into()),
        Some(mut i) => {
            i.provider_email = who.email.clone();
            i.provider_access_token = secrets::seal(env, &fresh.id, &tokens_in.access);
            // GitHub, and Google without a new consent, send no refresh token again.
            if !tokens_in.refresh.is_empty() {
                i.provider_refresh_token = secrets::seal(env, &fresh.id, &tokens_in.refresh);
            }
            i.provider_access_token_expiry = expiry;
            i.provider_id_token = secrets::seal(env, &fresh.id, &tokens_in.id_token);
            i.updated_at = now;
            tx.update_identity(pid, &i).await?;
        }
        None => {
            let i = IdentityRow {
                id: unique_id(),
                user_id: fresh.id.clone(),
                created_at: now,
                updated_at: now,
                provider: provider.to_owned(),
                provider_uid: who.id.clone(),
                provider_email: who.email.clone(),
                provider_access_token: secrets::seal(env, &fresh.id, &tokens_in.access),
                provider_access_token_expiry: expiry,
                provider_refresh_token: secrets::seal(env, &fresh.id, &tokens_in.refresh),
                provider_id_token: secrets::seal(env, &fresh.id, &tokens_in.id_token),
            };
            tx.insert_identity(pid, &i)
                .await
                .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
        }
    }
    match flow {
        Flow::Token => {
            // Step 9: lives as long as a session would; the wrapper on the URL, 60 s.
            let secret = tokens::long_secret(32);
            let token = tokens::new_token(
                env,
                &fresh.id,
                TokenKind::OAuth2,
                &secret,
                env.project.settings.auth.duration,
            );
            tx.insert_token(pid, &token).await?;
            env.commit(tx).await?;
            Ok((
                fresh,
                SignedIn::Token {
                    token_id: token.id,
                    secret,
                },
            ))
        }
        Flow::Session => {
            // Step 10; the `oauth2` factor is Appwrite's: the provider stands in for a
            // second factor.
            let mut new = sessions::build(env, &fresh.id, provider, &who.id, &["email", "oauth2"]);
            new.session.provider_access_token = secrets::seal(env, &fresh.id, &tokens_in.access);
            new.session.provider_refresh_token = secrets::seal(env, &fresh.id, &tokens_in.refresh);
            new.session.provider_access_token_expiry = expiry;
            if let Some(c) = &caller
                && let Some(old) = c.session_id
            {
                // The caller's push targets follow them to the new session.
                tx.repoint_push_targets(pid, &fresh.id, old, &new.session.id, now)
                    .await?;
                tx.delete_session(pid, &fresh.id, old).await?;
            }
            let first = tx.count_sessions(pid, &fresh.id).await? == 0;
            tx.insert_session(pid, &new.session).await?;
            tx.evict_sessions(pid, &fresh.id, env.project.settings.auth.max_sessions)
                .await?;
            alerts::session_alert(env, &mut tx, &fresh, &new.session, first).await?;
            env.commit_audited(tx, &fresh, "session.create", format!("user/{}", fresh.id))
                .await?;
            Ok((fresh, SignedIn::Session(Box::new(new))))
        }
    }
}

/// Longest provider user id and name kept (Appwrite's name limit is 128).
const MAX_ID_CHARS: usize = 256;
const MAX_NAME_CHARS: usize = 128;

/// What the provider said, bounded and in our forms: an email as stored (trimmed, lower
/// case) or none when it is not a valid address, a name of at most 128 characters, and no id
/// when it is longer than any provider's.
fn normalised(who: &ProviderUser) -> ProviderUser {
    let email = crate::domain::validate::email(&who.email).unwrap_or_default();
    ProviderUser {
        id: if who.id.chars().count() > MAX_ID_CHARS {
            String::new()
        } else {
            who.id.clone()
        },
        verified: who.verified && !email.is_empty(),
        email,
        name: who.name.trim().chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// Step 6 for a caller who is not signed in: the owner of this provider identity, else the
/// user with this email — only when both the provider and the account say it is verified.
/// Appwrite also links an address only the provider verified, and first looks for a session
/// of the provider user: the first lets an attacker who registered the victim's address with
/// a password keep it after the victim signs in with a provider; the second keeps signing a
/// provider account into a user after that user deleted the identity.
async fn find_owner(env: &Env<'_>, provider: &str, who: &ProviderUser) -> Result<Option<UserRow>> {
    let pid = env.pid();
    let store = env.store;
    if let Some(i) = store
        .find_identity_by_provider(pid, provider, &who.id)
        .await?
    {
        return Ok(store.find_user(pid, &i.user_id).await?);
    }
    if who.email.is_empty() {
        return Ok(None);
    }
    match store.find_user_by_email(pid, &who.email).await? {
        Some(u) if who.verified && u.email_verification => Ok(Some(u)),
        Some(_) => Err(Error::from(ErrorType::GeneralBadRequest).with_message(EMAIL_NOT_VERIFIED)),
        None => Ok(None),
    }
}

/// A new user for a provider identity: no password, the provider's name, and its email
/// verified only when the provider says so (Appwrite main; 1.9.6 always set it).
fn new_oauth2_user(env: &Env<'_>, who: &ProviderUser) -> Result<UserRow> {
    let mut u = new_user(unique_id(), env.now());
    set_email(&mut u, &who.email)?;
    u.email_verification = who.verified;
    u.name = (!who.name.is_empty()).then(|| who.name.clone());
    crate::domain::email_policy::check(env, &u)?;
    Ok(u)
}

/// `PATCH /v1/account/sessions/:id` of an OAuth2 session (spec §5.4): the provider's new
/// tokens, and the session extended by the project's duration.
pub async fn refresh_session(
    env: &Env<'_>,
    user: &UserRow,
    mut session: SessionRow,
    fresh_tokens: &ProviderTokens,
) -> Result<SessionRow> {
    let now = env.now();
    session.provider_access_token = secrets::seal(env, &user.id, &fresh_tokens.access);
    session.provider_refresh_token = secrets::seal(env, &user.id, &fresh_tokens.refresh);
    session.provider_access_token_expiry = fresh_tokens.expiry(now);
    session.expire = now.saturating_add(seconds_to_ms(env.project.settings.auth.duration));
    session.updated_at = now;
    let mut tx = env.begin().await?;
    if !tx
        .update_session_provider_tokens(env.pid(), &session, now)
        .await?
    {
        return Err(ErrorType::UserSessionNotFound.into());
    }
    env.commit_audited(tx, user, "session.update", format!("user/{}", user.id))
        .await?;
    Ok(session)
}

/// A session and an identity with their provider tokens opened, for showing to their user.
pub fn revealed_session(sealer: &crate::seal::Sealer, project: &str, s: &SessionRow) -> SessionRow {
    let mut s = s.clone();
    s.provider_access_token = secrets::open(sealer, project, &s.user_id, &s.provider_access_token);
    s.provider_refresh_token =
        secrets::open(sealer, project, &s.user_id, &s.provider_refresh_token);
    s
}

/// See [`revealed_session`].
pub fn revealed_identity(
    sealer: &crate::seal::Sealer,
    project: &str,
    i: &IdentityRow,
) -> IdentityRow {
    let mut i = i.clone();
    i.provider_access_token = secrets::open(sealer, project, &i.user_id, &i.provider_access_token);
    i.provider_refresh_token =
        secrets::open(sealer, project, &i.user_id, &i.provider_refresh_token);
    i.provider_id_token = secrets::open(sealer, project, &i.user_id, &i.provider_id_token);
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_names_are_appwrites_list_and_extra_oidc_providers() {
        assert!(is_accepted("github") && is_accepted("paypalSandbox") && is_accepted("oidc"));
        assert!(is_accepted("oidc-corp") && is_accepted("oidc-a-1"));
        assert!(!is_accepted("GitHub"), "names are case-sensitive");
        assert!(!is_accepted("oidc-") && !is_accepted("oidc-Corp") && !is_accepted("myspace"));
    }
}
