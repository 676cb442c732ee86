//! The request pipeline before params are read (spec §2, Appwrite's hook order), in two parts
//! so that one GraphQL request can authenticate once and authorize per field:
//! [`authenticate`] (key, session or JWT → [`Caller`]) and [`authorize`] (scope → blocked →
//! MFA → auth-method switch → `session` group → [`Ctx`]). The dispatcher checks the origin
//! and the project before either; because the handler runs afterwards, a bad param never
//! hides one of these errors.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use ipnet::IpNet;
use serde_json::Value;

use crate::domain::project::{ApiKey, Project};
use crate::domain::sessions::decode_session;
use crate::domain::{ClientInfo, Env};
use crate::error::{Error, ErrorType, Result};
use crate::http::cookies::{cookie_name, oauth2_cookie_name, parse_cookie_headers};
use crate::http::cors::origin_allowed;
use crate::http::extract::{RawParams, RawRequest};
use crate::http::reply::{Format, parse_format};
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

/// Facts about the HTTP request, read once.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub host: String,
    /// Whether the client reached us over https (from `X-Forwarded-Proto` of a trusted proxy).
    pub https: bool,
    pub origin: Option<String>,
    pub referer: Option<String>,
    pub format: Option<Format>,
    /// `X-Appwrite-Locale`, cut to 16 characters.
    pub locale: Option<String>,
    /// The client address: the peer, or behind trusted proxies the address they saw.
    pub ip: String,
    pub user_agent: Option<String>,
    pub forwarded_user_agent: Option<String>,
    pub key: Option<Secret>,
    pub jwt: Option<Secret>,
    /// The project's OAuth2 binder cookies (`a_oauth2_<project>`) the request carries, read
    /// with its session cookies ([`carried_session`]).
    pub oauth2_binders: Vec<Secret>,
    /// The request as it came, for the routes that read it themselves (GraphQL).
    pub raw: Arc<RawRequest>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn trusted(proxies: &[IpNet], ip: &IpAddr) -> bool {
    proxies.iter().any(|n| n.contains(ip))
}

/// The client address. Proxies append the address they saw to `X-Forwarded-For`, so the list
/// is walked from the right: the first entry that is not a trusted proxy is the client (a
/// client's own entries on the left are never believed).
fn client_ip(proxies: &[IpNet], headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`.
    let peer = peer.to_canonical();
    if !trusted(proxies, &peer) {
        return peer;
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(list) = value.to_str() else {
            return client;
        };
        for entry in list.rsplit(',') {
            match forwarded_address(entry) {
                Some(ip) if trusted(proxies, &ip) => client = ip,
                Some(ip) => return ip,
                // A malformed entry ends what can be believed.
                None => return client,
            }
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (`1.2.3.4:5678`,
/// `[::1]:80`) as some load balancers write it.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

impl RequestFacts {
    /// Reads the facts of a request that came from `peer`.
    pub fn read(headers: &HeaderMap, peer: SocketAddr, proxies: &[IpNet]) -> Self {
        let from_proxy = trusted(proxies, &peer.ip().to_canonical());
        // Over several hops the first entry is the scheme the client used.
        let proto = header(headers, "x-forwarded-proto")
            .and_then(|p| p.split(',').next())
            .map(str::trim);
        RequestFacts {
            host: header(headers, "host").unwrap_or_default().to_owned(),
            https: from_proxy && proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
            origin: header(headers, "origin").map(str::to_owned),
            referer: header(headers, "referer").map(str::to_owned),
            format: header(headers, "x-appwrite-response-format").and_then(parse_format),
            locale: header(headers, "x-appwrite-locale").map(|l| l.chars().take(16).collect()),
            ip: client_ip(proxies, headers, peer.ip()).to_string(),
            user_agent: header(headers, "user-agent").map(str::to_owned),
            forwarded_user_agent: header(headers, "x-forwarded-user-agent").map(str::to_owned),
            key: header(headers, "x-appwrite-key").map(Secret::new),
            jwt: header(headers, "x-appwrite-jwt").map(Secret::new),
            oauth2_binders: vec![],
            raw: Arc::default(),
        }
    }
}

/// The encoded session a request carries: cookie, then `_legacy` cookie, then
/// `X-Appwrite-Session`, then `X-Fallback-Cookies` (spec §2.3).
#[derive(Clone, Default)]
pub struct Carried {
    pub session: Option<(String, Secret)>,
    /// Whether `X-Fallback-Cookies` had to be consulted: the `X-Debug-Fallback` value.
    pub via_fallback: bool,
    /// The project's OAuth2 binder cookies (any number: a stale one may come first).
    pub oauth2_binders: Vec<Secret>,
}

/// Finds the session a request carries for `project`.
pub fn carried_session(project: &str, headers: &HeaderMap) -> Carried {
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
    let binder = oauth2_cookie_name(project);
    let oauth2_binders = cookies
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(&binder))
        .map(|(_, v)| Secret::new(v.as_str()))
        .collect();
    if let Some(found) = from_cookie(&name)
        .or_else(|| from_cookie(&legacy))
        .or_else(|| header(headers, "x-appwrite-session").and_then(decode_session))
    {
        return Carried {
            session: Some(found),
            via_fallback: false,
            oauth2_binders,
        };
    }
    let session = header(headers, "x-fallback-cookies").and_then(|raw| {
        let v: serde_json::Value = serde_json::from_str(raw).ok()?;
        decode_session(v.get(&name)?.as_str()?)
    });
    Carried {
        session,
        via_fallback: true,
        oauth2_binders,
    }
}

/// The origin check (hook c): a request with an `Origin` and no API key must come from a
/// registered platform. It runs before the project check, so an unknown project only allows
/// the instance's own hosts.
pub fn check_origin(route: &Route, facts: &RequestFacts, project: Option<&Project>) -> Result<()> {
    let Some(origin) = &facts.origin else {
        return Ok(());
    };
    if facts.key.is_some() || route.projectless || origin_allowed(origin, project) {
        return Ok(());
    }
    let parsed = url::Url::parse(origin).ok();
    let web_host = parsed
        .as_ref()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .and_then(|u| u.host_str());
    match web_host {
        // appwrite 1.9.6 Network\Validator\Origin::getDescription
        Some(host) => Err(
            Error::from(ErrorType::GeneralUnknownOrigin).with_message(format!(
                "Invalid Origin. Register your new client ({host}) as a new Web platform on your project console dashboard"
            )),
        ),
        // Other schemes get Appwrite's own (different) wording; the catalogue text stands in.
        None => Err(ErrorType::GeneralUnknownOrigin.into()),
    }
}

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

async fn jwt_user(state: &AppState, project: &str, token: &Secret) -> Result<Option<UserRow>> {
    let failed = |m: &str| {
        Error::from(ErrorType::UserJwtInvalid).with_message(format!("Failed to verify JWT. {m}"))
    };
    let now = state.clock.now_ms();
    let claims = crate::domain::jwt::verify(
        state.instance_key.expose().as_bytes(),
        token.expose(),
        now / 1000,
    )
    .map_err(|m| failed(&m))?;
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
        (None, Some(token)) => jwt_user(state, &project.id, token)
            .await?
            .map(|u| (u, None)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_client_ip_is_the_rightmost_untrusted_forwarded_address() {
        let proxies: Vec<IpNet> = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let ip = |h: &HeaderMap, p: IpAddr| client_ip(&proxies, h, p).to_string();
        // A client behind an appending proxy cannot pick its own address.
        assert_eq!(ip(&xff(&["6.6.6.6, 8.8.8.8"]), peer), "8.8.8.8");
        assert_eq!(ip(&xff(&["8.8.8.8, 10.0.0.2"]), peer), "8.8.8.8");
        assert_eq!(ip(&xff(&["6.6.6.6", "8.8.8.8, 10.0.0.2"]), peer), "8.8.8.8");
        // Only trusted hops: the leftmost of them.
        assert_eq!(ip(&xff(&["10.0.0.3, 10.0.0.2"]), peer), "10.0.0.3");
        assert_eq!(ip(&xff(&["garbage, 10.0.0.2"]), peer), "10.0.0.2");
        assert_eq!(ip(&HeaderMap::new(), peer), "127.0.0.1");
        // An untrusted peer's header is never read.
        assert_eq!(
            ip(&xff(&["8.8.8.8"]), "9.9.9.9".parse().unwrap()),
            "9.9.9.9"
        );
        // Dual-stack peers and entries with ports.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(ip(&xff(&["8.8.8.8"]), mapped), "8.8.8.8");
        assert_eq!(
            ip(&xff(&["8.8.8.8:4711, [::ffff:10.0.0.2]:80"]), peer),
            "8.8.8.8"
        );
    }

    #[test]
    fn forwarded_proto_counts_only_from_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        let from = |h: &HeaderMap, ip: &str| {
            RequestFacts::read(h, format!("{ip}:1").parse().unwrap(), &proxies)
        };
        assert!(from(&h, "127.0.0.1").https);
        assert!(!from(&h, "8.8.8.8").https);
        h.insert("x-forwarded-proto", "https, http".parse().unwrap());
        assert!(
            from(&h, "127.0.0.1").https,
            "the client's scheme is the first entry"
        );
    }
}
