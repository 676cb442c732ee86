//! The route table: method, path, SDK method, scope and the pipeline groups of each route
//! (spec §4). Older path aliases share their primary's handler.

use std::future::Future;
use std::pin::Pin;

use axum::http::Method;

use crate::error::Result;
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::reply::Reply;
use crate::http::{account, health, identities, jwts, logs, sessions, targets};

/// A handler: takes the gated context and the parsed params.
pub type Handler = fn(Ctx, Params) -> Pin<Box<dyn Future<Output = Result<Reply>> + Send>>;

/// A project auth-method switch that can disable a route (spec §2.11).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AuthMethod {
    EmailPassword,
    Anonymous,
    Jwt,
}

/// One row of the table.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    /// The SDK method name, e.g. `account.createEmailPasswordSession`.
    pub sdk: &'static str,
    /// The scope the caller must hold.
    pub scope: &'static str,
    pub auth_method: Option<AuthMethod>,
    /// Group `session`: refused with `user_session_already_exists` when logged in.
    pub session_group: bool,
    /// Group `mfa`: allowed while a session still lacks factors.
    pub mfa_group: bool,
    /// Whether the route works without a project (health).
    pub projectless: bool,
    pub handler: Handler,
}

macro_rules! h {
    ($f:path) => {
        |ctx, params| Box::pin($f(ctx, params))
    };
}

const fn route(
    method: Method,
    path: &'static str,
    sdk: &'static str,
    scope: &'static str,
    handler: Handler,
) -> Route {
    Route {
        method,
        path,
        sdk,
        scope,
        auth_method: None,
        session_group: false,
        mfa_group: false,
        projectless: false,
        handler,
    }
}

/// Every route, literal paths before parameterised ones so that they win.
pub fn table() -> Vec<Route> {
    use AuthMethod::*;
    let get = || Method::GET;
    let post = || Method::POST;
    let patch = || Method::PATCH;
    let put = || Method::PUT;
    let delete = || Method::DELETE;
    let email_session = |path| Route {
        auth_method: Some(EmailPassword),
        session_group: true,
        ..route(
            post(),
            path,
            "account.createEmailPasswordSession",
            "sessions.write",
            h!(sessions::create_email_password_session),
        )
    };
    let jwt = |path| Route {
        auth_method: Some(Jwt),
        ..route(
            post(),
            path,
            "account.createJWT",
            "account",
            h!(jwts::create_jwt),
        )
    };
    vec![
        Route {
            projectless: true,
            ..route(
                get(),
                "/v1/health/version",
                "health.getVersion",
                "public",
                h!(health::get_version),
            )
        },
        Route {
            auth_method: Some(EmailPassword),
            ..route(
                post(),
                "/v1/account",
                "account.create",
                "sessions.write",
                h!(account::create),
            )
        },
        route(
            get(),
            "/v1/account",
            "account.get",
            "account",
            h!(account::get),
        ),
        route(
            delete(),
            "/v1/account",
            "account.delete",
            "account",
            h!(account::delete),
        ),
        route(
            get(),
            "/v1/account/sessions",
            "account.listSessions",
            "account",
            h!(sessions::list_sessions),
        ),
        route(
            delete(),
            "/v1/account/sessions",
            "account.deleteSessions",
            "account",
            h!(sessions::delete_sessions),
        ),
        email_session("/v1/account/sessions/email"),
        email_session("/v1/account/sessions"),
        Route {
            auth_method: Some(Anonymous),
            session_group: true,
            ..route(
                post(),
                "/v1/account/sessions/anonymous",
                "account.createAnonymousSession",
                "sessions.write",
                h!(sessions::create_anonymous_session),
            )
        },
        route(
            get(),
            "/v1/account/sessions/:sessionId",
            "account.getSession",
            "account",
            h!(sessions::get_session),
        ),
        route(
            patch(),
            "/v1/account/sessions/:sessionId",
            "account.updateSession",
            "account",
            h!(sessions::update_session),
        ),
        Route {
            mfa_group: true,
            ..route(
                delete(),
                "/v1/account/sessions/:sessionId",
                "account.deleteSession",
                "account",
                h!(sessions::delete_session),
            )
        },
        jwt("/v1/account/jwts"),
        jwt("/v1/account/jwt"),
        route(
            get(),
            "/v1/account/prefs",
            "account.getPrefs",
            "account",
            h!(account::get_prefs),
        ),
        route(
            patch(),
            "/v1/account/prefs",
            "account.updatePrefs",
            "account",
            h!(account::update_prefs),
        ),
        route(
            patch(),
            "/v1/account/name",
            "account.updateName",
            "account",
            h!(account::update_name),
        ),
        route(
            patch(),
            "/v1/account/password",
            "account.updatePassword",
            "account",
            h!(account::update_password),
        ),
        route(
            patch(),
            "/v1/account/email",
            "account.updateEmail",
            "account",
            h!(account::update_email),
        ),
        route(
            patch(),
            "/v1/account/phone",
            "account.updatePhone",
            "account",
            h!(account::update_phone),
        ),
        route(
            patch(),
            "/v1/account/status",
            "account.updateStatus",
            "account",
            h!(account::update_status),
        ),
        route(
            post(),
            "/v1/account/targets/push",
            "account.createPushTarget",
            "targets.write",
            h!(targets::create_push_target),
        ),
        route(
            put(),
            "/v1/account/targets/:targetId/push",
            "account.updatePushTarget",
            "targets.write",
            h!(targets::update_push_target),
        ),
        route(
            delete(),
            "/v1/account/targets/:targetId/push",
            "account.deletePushTarget",
            "targets.write",
            h!(targets::delete_push_target),
        ),
        route(
            get(),
            "/v1/account/identities",
            "account.listIdentities",
            "account",
            h!(identities::list_identities),
        ),
        route(
            delete(),
            "/v1/account/identities/:identityId",
            "account.deleteIdentity",
            "account",
            h!(identities::delete_identity),
        ),
        route(
            get(),
            "/v1/account/logs",
            "account.listLogs",
            "account",
            h!(logs::list_logs),
        ),
    ]
}

/// Finds the route for `method` and `path`, with its path parameters.
pub fn find<'a>(
    table: &'a [Route],
    method: &Method,
    path: &str,
) -> Option<(&'a Route, Vec<(&'static str, String)>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    'routes: for r in table.iter().filter(|r| r.method == *method) {
        let pattern: Vec<&'static str> = r.path.split('/').collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let mut params = vec![];
        for (p, s) in pattern.iter().zip(&segments) {
            if let Some(name) = p.strip_prefix(':') {
                if s.is_empty() {
                    continue 'routes;
                }
                let decoded = url::form_urlencoded::parse(format!("v={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                params.push((name, decoded));
            } else if p != s {
                continue 'routes;
            }
        }
        return Some((r, params));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_paths_win_and_parameters_are_captured() {
        let t = table();
        let (r, _) = find(&t, &Method::POST, "/v1/account/sessions/anonymous").unwrap();
        assert_eq!(r.sdk, "account.createAnonymousSession");
        let (r, p) = find(&t, &Method::GET, "/v1/account/sessions/current").unwrap();
        assert_eq!(r.sdk, "account.getSession");
        assert_eq!(p, vec![("sessionId", "current".to_string())]);
        let (r, _) = find(&t, &Method::POST, "/v1/account/sessions").unwrap();
        assert_eq!(r.sdk, "account.createEmailPasswordSession");
        assert!(find(&t, &Method::PUT, "/v1/account").is_none());
        assert!(find(&t, &Method::GET, "/v1/nothing").is_none());
    }

    #[test]
    fn every_route_has_a_known_scope_and_unique_method_path() {
        let t = table();
        let mut seen = std::collections::HashSet::new();
        for r in &t {
            assert!(["public", "sessions.write", "account", "targets.write"].contains(&r.scope));
            assert!(
                seen.insert((r.method.clone(), r.path)),
                "{} {}",
                r.method,
                r.path
            );
        }
    }
}
