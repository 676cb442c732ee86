//! The request pipeline before parameters are read (spec §2, Appwrite's order): project →
//! origin → caller (key, session, JWT) → scope → blocked → MFA → auth-method switch → `session`
//! group. Because the handler runs afterwards, a bad param never hides one of these errors.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::domain::accounts::{ClientInfo, Env};
use crate::domain::ids::sha256_hex;
use crate::domain::project::Project;
use crate::domain::sessions::decode_session;
use crate::domain::time::now_ms;
use crate::error::{Error, ErrorType, Result};
use crate::http::cookies::{cookie_name, parse_cookie_headers};
use crate::http::cors::origin_allowed;
use crate::http::reply::{Format, parse_format};
use crate::http::routes::{AuthMethod, Route};
use crate::state::AppState;
use crate::store::{SessionRow, UserRow};

/// Scopes of a guest and of a signed-in user (appwrite 1.9.6 app/config/roles.php, account part).
const GUEST_SCOPES: &[&str] = &["public", "sessions.write"];
const USER_SCOPES: &[&str] = &[
    "public",
    "sessions.write",
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
    Key,
}

/// Facts about the HTTP request the handlers need.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub host: String,
    pub https: bool,
    pub origin: Option<String>,
    pub referer: Option<String>,
    pub format: Option<Format>,
}

/// What a handler gets from the gate.
pub struct Ctx {
    pub state: Arc<AppState>,
    pub project: Arc<Project>,
    pub caller: Caller,
    pub client: ClientInfo,
    pub request: RequestInfo,
    pub path_params: Vec<(&'static str, String)>,
}

impl Ctx {
    /// The dependencies of a domain rule.
    pub fn env(&self) -> Env<'_> {
        Env {
            store: &*self.state.store,
            hasher: &self.state.hasher,
            project: &self.project,
            client: &self.client,
        }
    }

    /// The signed-in user; the gate guarantees one on `account`-scoped routes.
    pub fn user(&self) -> Result<&UserRow> {
        match &self.caller {
            Caller::User { user, .. } => Ok(user),
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
        matches!(self.caller, Caller::Key)
    }

    /// A path parameter by name.
    pub fn path(&self, name: &str) -> &str {
        self.path_params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The client address: the leftmost `X-Forwarded-For` entry when the peer is a trusted proxy.
fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    let peer_ip = peer.ip();
    if state.trusted_proxies.iter().any(|n| n.contains(&peer_ip))
        && let Some(first) = header(headers, "x-forwarded-for").and_then(|v| v.split(',').next())
        && let Ok(ip) = first.trim().parse::<IpAddr>()
    {
        return ip.to_string();
    }
    peer_ip.to_string()
}

/// The request facts shared by every route.
pub fn request_info(headers: &HeaderMap) -> RequestInfo {
    RequestInfo {
        host: header(headers, "host").unwrap_or_default().to_owned(),
        https: header(headers, "x-forwarded-proto")
            .is_some_and(|p| p.eq_ignore_ascii_case("https")),
        origin: header(headers, "origin").map(str::to_owned),
        referer: header(headers, "referer").map(str::to_owned),
        format: header(headers, "x-appwrite-response-format").and_then(parse_format),
    }
}

/// The encoded session a request carries: cookie, then `_legacy` cookie, then
/// `X-Appwrite-Session`, then `X-Fallback-Cookies` (spec §2.3).
fn carried_session(project: &str, headers: &HeaderMap) -> Option<(String, String)> {
    let name = cookie_name(project);
    let legacy = format!("{name}_legacy");
    let cookies = parse_cookie_headers(
        headers
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let from_cookie = |n: &str| {
        cookies
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .and_then(|(_, v)| decode_session(v))
    };
    from_cookie(&name)
        .or_else(|| from_cookie(&legacy))
        .or_else(|| header(headers, "x-appwrite-session").and_then(decode_session))
        .or_else(|| {
            let raw = header(headers, "x-fallback-cookies")?;
            let v: serde_json::Value = serde_json::from_str(raw).ok()?;
            decode_session(v.get(&name)?.as_str()?)
        })
}

async fn session_user(
    state: &AppState,
    project: &str,
    headers: &HeaderMap,
) -> Result<Option<(UserRow, SessionRow)>> {
    let Some((user_id, secret)) = carried_session(project, headers) else {
        return Ok(None);
    };
    let Some(session) = state
        .store
        .find_session_by_secret_hash(project, &sha256_hex(&secret))
        .await?
    else {
        return Ok(None);
    };
    if session.user_id != user_id || session.expire < now_ms() {
        return Ok(None);
    }
    Ok(state
        .store
        .find_user(project, &user_id)
        .await?
        .map(|u| (u, session)))
}

async fn jwt_user(state: &AppState, project: &str, token: &str) -> Result<Option<UserRow>> {
    let claims = crate::domain::jwt::verify(&state.instance_key, token)
        .map_err(|m| Error::from(ErrorType::UserJwtInvalid).with_message(m))?;
    let Some(user) = state.store.find_user(project, &claims.user_id).await? else {
        return Ok(None);
    };
    if !claims.session_id.is_empty() {
        let live = state
            .store
            .find_session(project, &user.id, &claims.session_id)
            .await?
            .is_some_and(|s| s.expire >= now_ms());
        if !live {
            return Ok(None);
        }
    }
    Ok(Some(user))
}

fn method_enabled(project: &Project, m: AuthMethod) -> (bool, &'static str) {
    let methods = &project.settings.auth.methods;
    match m {
        AuthMethod::EmailPassword => (
            methods.email_password,
            "Email / Password authentication is disabled for this project",
        ),
        AuthMethod::Anonymous => (
            methods.anonymous,
            "Anonymous authentication is disabled for this project",
        ),
        AuthMethod::Jwt => (
            methods.jwt,
            "JWT authentication is disabled for this project",
        ),
    }
}

/// Runs the checks after project resolution and returns the context for the handler.
pub async fn run(
    state: Arc<AppState>,
    route: &Route,
    project: Arc<Project>,
    parts: &Parts,
    request: RequestInfo,
    peer: SocketAddr,
    path_params: Vec<(&'static str, String)>,
) -> Result<Ctx> {
    let headers = &parts.headers;
    let key_header = header(headers, "x-appwrite-key");

    if let Some(origin) = &request.origin
        && key_header.is_none()
        && !route.projectless
        && !origin_allowed(origin, Some(&project))
    {
        return Err(ErrorType::GeneralUnknownOrigin.into());
    }

    let mut caller = Caller::Guest;
    let mut key_scopes: &[String] = &[];
    if let Some(secret) = key_header {
        let key = project
            .find_key(secret)
            .ok_or(ErrorType::UserUnauthorized)?;
        if key.expire.is_some_and(|e| e < now_ms()) {
            return Err(ErrorType::ProjectKeyExpired.into());
        }
        key_scopes = &key.scopes;
        caller = Caller::Key;
    } else if !route.projectless {
        let by_session = session_user(&state, &project.id, headers).await?;
        let jwt = header(headers, "x-appwrite-jwt");
        let user = match (by_session, jwt) {
            (Some(_), Some(_)) => return Err(ErrorType::UserJwtAndCookieSet.into()),
            (Some((user, session)), None) => Some((user, Some(Box::new(session)))),
            (None, Some(token)) => jwt_user(&state, &project.id, token)
                .await?
                .map(|u| (u, None)),
            (None, None) => None,
        };
        if let Some((user, session)) = user {
            caller = Caller::User {
                user: Box::new(user),
                session,
            };
        }
    }

    let (role, has_scope) = match &caller {
        Caller::Guest => ("guests", GUEST_SCOPES.contains(&route.scope)),
        Caller::User { .. } => ("users", USER_SCOPES.contains(&route.scope)),
        Caller::Key => (
            "applications",
            KEY_EXTRA_SCOPES.contains(&route.scope) || key_scopes.iter().any(|s| s == route.scope),
        ),
    };
    if !has_scope {
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
            let factors: Vec<String> = serde_json::from_str(&s.factors).unwrap_or_default();
            let more_factors = user.email_verification || user.phone_verification;
            let minimum = if user.mfa && more_factors { 2 } else { 1 };
            if !route.mfa_group && factors.len() < minimum {
                return Err(ErrorType::UserMoreFactorsRequired.into());
            }
        }
        let now = now_ms();
        if now - user.accessed_at > ACCESS_REFRESH_MS {
            state.store.touch_user(&project.id, &user.id, now).await?;
        }
    }

    if let (Some(m), false) = (route.auth_method, matches!(caller, Caller::Key)) {
        let (enabled, message) = method_enabled(&project, m);
        if !enabled {
            return Err(Error::from(ErrorType::UserAuthMethodUnsupported).with_message(message));
        }
    }

    if route.session_group && matches!(caller, Caller::User { .. }) {
        return Err(ErrorType::UserSessionAlreadyExists.into());
    }

    let mut user_agent = header(headers, "user-agent")
        .unwrap_or("UNKNOWN")
        .to_owned();
    if matches!(caller, Caller::Key)
        && let Some(forwarded) = header(headers, "x-forwarded-user-agent")
    {
        user_agent = forwarded.to_owned();
    }
    let client = ClientInfo {
        ip: client_ip(&state, headers, peer),
        user_agent,
        user_type: if matches!(caller, Caller::Key) {
            "keyProject"
        } else {
            "user"
        },
    };
    Ok(Ctx {
        state,
        project,
        caller,
        client,
        request,
        path_params,
    })
}
