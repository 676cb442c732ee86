//! The request pipeline before params are read (spec §2, Appwrite's hook order), in two parts
//! so that one GraphQL request can authenticate once and authorize per field:
//! [`authenticate`] (key, session or JWT → [`Caller`]) and [`authorize`] (scope → blocked →
//! MFA → auth-method switch → `session` group → [`Ctx`]). The dispatcher checks the origin
//! and the project before either; because the handler runs afterwards, a bad param never
//! hides one of these errors.

use std::sync::Arc;

use serde_json::Value;

use crate::domain::jwt_keys::{self, JwtSigner};
use crate::domain::project::{ApiKey, Project};
use crate::domain::{ClientInfo, Env};
use crate::error::{Error, ErrorType, Result};
use crate::http::extract::RawParams;
use crate::http::route::{Group, Route};
use crate::secret::{Secret, sha256_hex};
use crate::state::AppState;
use crate::store::{SessionRow, UserRow};

/// Scopes of a guest and of a signed-in user (appwrite 1.9.6 app/config/roles.php, account
/// part); `global` lets everyone reach the wildcard route's 404.
const GUEST_SCOPES: &[&str] = &["global", "public", "sessions.write", "graphql"];
const USER_SCOPES: &[&str] = &[
    "global",
    "public",
    "sessions.write",
    "graphql",
    "account",
    "targets.read",
    "targets.write",
];
/// Scopes every valid API key has on top of its own.
const KEY_EXTRA_SCOPES: &[&str] = &["global", "health.read", "graphql"];
/// `accessedAt` is refreshed at most this often (Appwrite `APP_USER_ACCESS`).
const ACCESS_REFRESH_MS: i64 = 24 * 3600 * 1000;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Guest,
    /// A user by session (`session` is the current one) or by JWT (`session` is `None`).
    User {
        user: Box<UserRow>,
        session: Option<Box<SessionRow>>,
    },
    /// A project API key: sees secrets, skips switches, has no account.
    Key(ApiKey),
}

mod facts;

pub(crate) use facts::trusted;
pub use facts::{Carried, RequestFacts, carried_session, check_origin};

async fn session_user(
    state: &AppState,
    project: &str,
    carried: Option<(String, Secret)>,
) -> Result<Option<(UserRow, SessionRow)>> {
    let Some((user_id, secret)) = carried else {
        return Ok(None);
    };
    let Some(session) = state
        .store
        .find_session_by_secret_hash(project, &sha256_hex(secret.expose()))
        .await?
    else {
        return Ok(None);
    };
    if session.user_id != user_id || session.expire < state.clock.now_ms() {
        return Ok(None);
    }
    Ok(state
        .store
        .find_user(project, &user_id)
        .await?
        .map(|u| (u, session)))
}

async fn jwt_user(state: &AppState, project: &Project, token: &Secret) -> Result<Option<UserRow>> {
    let alg = project.settings.jwt.algorithm;
    let project = project.id.as_str();
    let failed = |m: &str| {
        Error::from(ErrorType::UserJwtInvalid).with_message(format!("Failed to verify JWT. {m}"))
    };
    let now = state.clock.now_ms();
    // A JWT naming a key was signed with one of the project's key pairs; any other is HS256.
    let verified = match jwt_keys::header_kid(token.expose()) {
        Some(kid) => {
            state
                .jwt_keys
                .verify(&*state.store, project, alg, &kid, token.expose(), now)
                .await?
        }
        None => crate::domain::jwt::verify(
            state.instance_key.expose().as_bytes(),
            token.expose(),
            now / 1000,
        ),
    };
    let claims = verified.map_err(|m| failed(&m))?;
    if claims.project_id.is_empty() {
        return Err(failed("The token names no project."));
    }
    if claims.project_id != project {
        return Err(failed("The token was issued for another project."));
    }
    let Some(user) = state.store.find_user(project, &claims.user_id).await? else {
        return Ok(None);
    };
    // A session-less JWT (`users.createJWT` for a user with no session) stands for its
    // user until it expires, as in Appwrite.
    if claims.session_id.is_empty() {
        return Ok(Some(user));
    }
    let live = state
        .store
        .find_session(project, &user.id, &claims.session_id)
        .await?
        .is_some_and(|s| s.expire >= now);
    Ok(live.then_some(user))
}

/// A key made with `latchkey keys create` for this project, found by its secret's hash.
async fn stored_key(state: &AppState, project: &str, secret: &Secret) -> Result<Option<ApiKey>> {
    let Some(row) = state
        .store
        .find_key_by_secret_hash(&sha256_hex(secret.expose()))
        .await?
        .filter(|k| k.project_id == project)
    else {
        return Ok(None);
    };
    Ok(Some(ApiKey {
        id: row.id,
        scopes: serde_json::from_str(&row.scopes).unwrap_or_default(),
        expire: row.expire,
    }))
}

/// Resolves the caller (spec §2.3–§2.4): an API key, else a session, else a JWT, else a guest.
/// An invalid or expired session is a guest, not an error; a bad key or JWT is an error.
pub async fn authenticate(
    state: &AppState,
    project: &Project,
    facts: &RequestFacts,
    carried: Carried,
) -> Result<Caller> {
    if let Some(secret) = &facts.key {
        let key = match project.find_key(secret.expose()) {
            Some(key) => key.clone(),
            None => stored_key(state, &project.id, secret)
                .await?
                .ok_or(ErrorType::UserUnauthorized)?,
        };
        if key.expire.is_some_and(|e| e < state.clock.now_ms()) {
            return Err(ErrorType::ProjectKeyExpired.into());
        }
        return Ok(Caller::Key(key));
    }
    let by_session = session_user(state, &project.id, carried.session).await?;
    let user = match (by_session, &facts.jwt) {
        (Some(_), Some(_)) => return Err(ErrorType::UserJwtAndCookieSet.into()),
        (Some((user, session)), None) => Some((user, Some(Box::new(session)))),
        (None, Some(token)) => jwt_user(state, project, token).await?.map(|u| (u, None)),
        (None, None) => None,
    };
    Ok(match user {
        Some((user, session)) => Caller::User {
            user: Box::new(user),
            session,
        },
        None => Caller::Guest,
    })
}

/// What a handler gets from the gate.
pub struct Ctx {
    pub state: Arc<AppState>,
    pub project: Arc<Project>,
    pub caller: Caller,
    pub client: ClientInfo,
    pub request: RequestFacts,
}

impl Ctx {
    /// The dependencies of a domain rule.
    pub fn env(&self) -> Env<'_> {
        Env {
            store: &*self.state.store,
            postbox: &self.state.outbox,
            queued: Default::default(),
            hasher: &self.state.hasher,
            sealer: &self.state.sealer,
            project: &self.project,
            client: &self.client,
            clock: &*self.state.clock,
            breaches: &self.state.breaches,
        }
    }

    /// What signs this project's account JWTs.
    pub fn jwt_signer(&self) -> JwtSigner<'_> {
        JwtSigner {
            instance_key: self.state.instance_key.expose().as_bytes(),
            ring: &self.state.jwt_keys,
            issuer: self.state.public_url.as_deref(),
        }
    }

    /// The signed-in user; the gate guarantees one on `account`-scoped routes.
    pub fn user(&self) -> Result<&UserRow> {
        match &self.caller {
            Caller::User { user, .. } => Ok(user),
            _ => Err(ErrorType::UserUnauthorized.into()),
        }
    }

    /// The signed-in user, moved out of the context (for a reply that carries it).
    pub fn into_user(self) -> Result<UserRow> {
        match self.caller {
            Caller::User { user, .. } => Ok(*user),
            _ => Err(ErrorType::UserUnauthorized.into()),
        }
    }

    /// The session the request's cookie or header carries (none for JWT and key callers).
    pub fn current_session(&self) -> Option<&SessionRow> {
        match &self.caller {
            Caller::User { session, .. } => session.as_deref(),
            _ => None,
        }
    }

    /// Whether secrets may be revealed (API key callers only).
    pub fn is_key(&self) -> bool {
        matches!(self.caller, Caller::Key(_))
    }

    /// Whether the client speaks the pre-1.5 query syntax.
    pub fn legacy_queries(&self) -> bool {
        self.request.format.is_some_and(|f| f < (1, 5, 0))
    }
}

/// Renders the route's keys for this request and checks them (spec §2.8). API-key callers
/// and instances with limits off are counted for the headers only, never refused.
async fn rate_limit(
    state: &AppState,
    route: &Route,
    limit: crate::http::route::RateLimit,
    project: &Project,
    caller: &Caller,
    request: &RequestFacts,
    raw: &RawParams,
) -> Result<crate::abuse::Verdict> {
    let url = format!(
        "{}{}",
        crate::http::cookies::hostname(&request.host),
        route.path
    );
    let user_id = match caller {
        Caller::User { user, .. } => user.id.as_str(),
        _ => "",
    };
    // Rendered in a block, so nothing borrowed (not `Sync`) lives across the await.
    let keys: Vec<String> = {
        let param = |name: &str| -> Option<String> {
            match raw.get(name)? {
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            }
        };
        let inputs = crate::abuse::KeyInputs {
            url: &url,
            ip: &request.ip,
            user_id,
            method: route.verb.as_str(),
            project_id: &project.id,
            user_agent: request.user_agent.as_deref().unwrap_or_default(),
            param: &param,
        };
        limit
            .keys
            .iter()
            .map(|k| crate::abuse::render(k, &inputs))
            .collect()
    };
    let enforce = state.rate_limits && !matches!(caller, Caller::Key(_));
    crate::abuse::check(
        &*state.limiter,
        &project.id,
        &keys,
        u64::from(limit.limit),
        u64::from(limit.period),
        state.clock.now_ms().div_euclid(1000),
        enforce,
    )
    .await
    .map_err(Error::internal)
}

/// The per-route checks on a resolved caller, in Appwrite's order: scope, blocked, MFA
/// factors (and the daily `accessedAt` refresh), rate limit, auth-method switch, `session`
/// group, `mfaProtected` group.
pub async fn authorize(
    state: Arc<AppState>,
    route: &Route,
    project: Arc<Project>,
    caller: Caller,
    request: RequestFacts,
    raw: &RawParams,
    verdict: &mut Option<crate::abuse::Verdict>,
) -> Result<Ctx> {
    let (role, has_scope) = match &caller {
        Caller::Guest => ("guests", GUEST_SCOPES.contains(&route.scope)),
        Caller::User { .. } => ("users", USER_SCOPES.contains(&route.scope)),
        Caller::Key(key) => (
            "applications",
            KEY_EXTRA_SCOPES.contains(&route.scope) || key.scopes.iter().any(|s| s == route.scope),
        ),
    };
    if !has_scope || (route.keys_only && !matches!(caller, Caller::Key(_))) {
        let who = match &caller {
            Caller::User { user, .. } => user.email.clone().filter(|e| !e.is_empty()),
            _ => None,
        }
        .unwrap_or_else(|| "User".into());
        return Err(
            Error::from(ErrorType::GeneralUnauthorizedScope).with_message(format!(
                "{who} (role: {role}) missing scopes ([\"{}\"])",
                route.scope
            )),
        );
    }

    if let Caller::User { user, session } = &caller {
        if !user.status {
            return Err(ErrorType::UserBlocked.into());
        }
        if let Some(s) = session {
            let factors = crate::domain::mfa::session_factors(s).len();
            // Every session has its first factor; a second is needed only with MFA on.
            if !route.in_group(Group::Mfa)
                && (factors < 1
                    || crate::domain::mfa::needs_more_factors(
                        &*state.store,
                        &project.id,
                        user,
                        factors,
                    )
                    .await?)
            {
                return Err(ErrorType::UserMoreFactorsRequired.into());
            }
        }
        let now = state.clock.now_ms();
        if now.saturating_sub(user.accessed_at) > ACCESS_REFRESH_MS {
            state.store.touch_user(&project.id, &user.id, now).await?;
        }
    }

    let is_key = matches!(caller, Caller::Key(_));
    if let Some(limit) = route.limit {
        let v = rate_limit(&state, route, limit, &project, &caller, &request, raw).await?;
        let exceeded = v.exceeded;
        *verdict = Some(v);
        if exceeded {
            crate::http::metrics::rate_limited(route.sdk);
            return Err(ErrorType::GeneralRateLimitExceeded.into());
        }
    }
    if let (Some(m), false) = (route.auth, is_key) {
        let (enabled, message) = project.settings.auth.methods.check(m);
        if !enabled {
            return Err(Error::from(ErrorType::UserAuthMethodUnsupported).with_message(message));
        }
    }

    if route.in_group(Group::Session) && matches!(caller, Caller::User { .. }) {
        return Err(ErrorType::UserSessionAlreadyExists.into());
    }
    if route.in_group(Group::MfaProtected) {
        let session = match &caller {
            Caller::User { session, .. } => session.as_deref(),
            _ => None,
        };
        crate::domain::mfa::require_recent_challenge(session, state.clock.now_ms())?;
    }

    // With a key, `X-Forwarded-User-Agent` is the end user's agent (SSR); otherwise ignored.
    let user_agent = match (&request.forwarded_user_agent, is_key) {
        (Some(forwarded), true) => forwarded.as_str(),
        _ => request.user_agent.as_deref().unwrap_or("UNKNOWN"),
    };
    let client = ClientInfo::new(
        request.ip.clone(),
        user_agent,
        if is_key { "keyProject" } else { "user" },
    )
    .with_locale(request.locale.as_deref());
    Ok(Ctx {
        state,
        project,
        caller,
        client,
        request,
    })
}
