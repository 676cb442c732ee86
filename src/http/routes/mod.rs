//! The route table: one declaration per route (Account API in `account.rs`, Users API in
//! `users.rs`, GraphQL in `graphql.rs`, health and probes in `health.rs`, passkeys in `passkeys.rs`, JWKS in `jwks.rs`), and the matcher built from it. Aliases are older
//! paths of the same route.
//! Matching is by `matchit` (as axum does), so a literal segment always wins over a parameter
//! and declaration order cannot shadow a route.

mod account;
mod graphql;
mod health;
mod jwks;
mod passkeys;
mod users;

use std::sync::LazyLock;

use crate::error::{ErrorType, Result};
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::reply::Reply;
use crate::http::route::{Route, Verb, Verb::*, h};

/// Every route: health's, the Account API's, the Users API's, then GraphQL's.
pub fn routes() -> impl Iterator<Item = &'static Route> {
    health::HEALTH_ROUTES
        .iter()
        .chain(account::ACCOUNT_ROUTES.iter())
        .chain(users::USERS.iter())
        .chain(graphql::GRAPHQL_ROUTES.iter())
        .chain(passkeys::PASSKEY_ROUTES.iter())
        .chain(jwks::JWKS_ROUTES.iter())
}

async fn route_not_found(_: Ctx, _: Args) -> Result<Reply> {
    Err(ErrorType::GeneralRouteNotFound.into())
}

/// What an unmatched request runs: like Appwrite's wildcard route it passes the whole
/// pipeline (scope `global`, which every caller has) and then answers 404.
pub static WILDCARD: Route = Route::new(Get, "", "", h!(route_not_found)).scope("global");

/// A matched route and its decoded path parameters.
pub struct Matched {
    pub route: &'static Route,
    pub path_params: Vec<(&'static str, String)>,
}

struct Table {
    by_verb: Vec<(Verb, matchit::Router<&'static Route>)>,
}

/// `/v1/account/sessions/:sessionId` → `/v1/account/sessions/{sessionId}`.
fn matchit_path(path: &str) -> String {
    path.split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn build() -> Result<Table, String> {
    let mut by_verb: Vec<(Verb, matchit::Router<&'static Route>)> = vec![];
    for route in routes() {
        let at = match by_verb.iter().position(|(v, _)| *v == route.verb) {
            Some(i) => i,
            None => {
                by_verb.push((route.verb, matchit::Router::new()));
                by_verb.len() - 1
            }
        };
        for path in std::iter::once(&route.path).chain(route.aliases) {
            by_verb[at]
                .1
                .insert(matchit_path(path), route)
                .map_err(|e| format!("{:?} {path}: {e}", route.verb))?;
        }
    }
    Ok(Table { by_verb })
}

static TABLE: LazyLock<Table> =
    LazyLock::new(|| build().unwrap_or_else(|e| panic!("route table: {e}")));

/// Builds the matcher now (a conflict in the table stops the server at start).
pub fn warm_up() {
    LazyLock::force(&TABLE);
    // The GraphQL schema takes milliseconds to build: off the start-up path, but before the
    // first GraphQL request has to wait for it.
    std::thread::spawn(|| LazyLock::force(&crate::http::graphql::schema::SCHEMA));
}

/// Finds the route for a request. Empty segments (a trailing or doubled `/`) are ignored, as
/// Appwrite's router does, except on DELETE: there `DELETE /v1/account/sessions/` would end
/// every session where the client meant one with an empty id, so it matches nothing.
pub fn find(method: &http::Method, path: &str) -> Option<Matched> {
    let verb = Verb::of(method)?;
    let has_empty = path.len() > 1 && path.split('/').skip(1).any(str::is_empty);
    if has_empty && verb == Verb::Delete {
        return None;
    }
    let collapsed;
    let path = if has_empty {
        collapsed = format!(
            "/{}",
            path.split('/')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        );
        collapsed.as_str()
    } else {
        path
    };
    let (_, router) = TABLE.by_verb.iter().find(|(v, _)| *v == verb)?;
    let m = router.at(path).ok()?;
    let route: &'static Route = m.value;
    let path_params = m
        .params
        .iter()
        .filter_map(|(k, v)| {
            let name = route.params.iter().find(|p| p.name == k)?.name;
            let decoded = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            Some((name, decoded))
        })
        .collect();
    Some(Matched { route, path_params })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::reply::Model;
    use crate::http::route::{KEY_PLACEHOLDERS, Source};
    use http::Method;

    fn sdk(method: Method, path: &str) -> Option<&'static str> {
        find(&method, path).map(|m| m.route.sdk)
    }

    #[test]
    fn the_table_builds_and_literal_paths_win_over_parameters() {
        build().unwrap();
        assert_eq!(
            sdk(Method::POST, "/v1/account/sessions/anonymous"),
            Some("account.createAnonymousSession")
        );
        let m = find(&Method::GET, "/v1/account/sessions/current").unwrap();
        assert_eq!(m.route.sdk, "account.getSession");
        assert_eq!(m.path_params, vec![("sessionId", "current".to_string())]);
        assert_eq!(
            sdk(Method::POST, "/v1/account/sessions"),
            Some("account.createEmailPasswordSession")
        );
        assert_eq!(sdk(Method::HEAD, "/v1/account"), Some("account.get"));
        assert_eq!(sdk(Method::PUT, "/v1/account"), None);
        assert_eq!(sdk(Method::GET, "/v1/nothing"), None);
    }

    #[test]
    fn empty_segments_collapse_except_that_they_never_reach_a_delete() {
        assert_eq!(sdk(Method::GET, "/v1/account/"), Some("account.get"));
        assert_eq!(
            sdk(Method::GET, "/v1/account//sessions/"),
            Some("account.listSessions")
        );
        assert_eq!(sdk(Method::DELETE, "/v1/account/sessions/"), None);
        assert_eq!(sdk(Method::DELETE, "/v1/account/"), None);
        assert_eq!(sdk(Method::DELETE, "/v1/account/sessions//"), None);
        assert_eq!(
            sdk(Method::DELETE, "/v1/account/sessions/abc"),
            Some("account.deleteSession")
        );
        let m = find(&Method::GET, "/v1/account/sessions/a%2Fb").unwrap();
        assert_eq!(m.path_params[0].1, "a/b");
    }

    #[test]
    fn every_declaration_is_consistent() {
        let scopes = [
            "public",
            "global",
            "sessions.write",
            "account",
            "targets.read",
            "targets.write",
            "users.read",
            "users.write",
            "graphql",
            "health.read",
        ];
        let mut sdks = std::collections::HashSet::new();
        for r in routes() {
            assert!(scopes.contains(&r.scope), "{}: scope {}", r.sdk, r.scope);
            assert!(sdks.insert(r.sdk), "{} declared twice", r.sdk);
            assert_eq!(
                r.path.starts_with("/v1/users") || r.scope == "health.read",
                r.keys_only,
                "{}: the Users API and health, and only they, are for keys",
                r.sdk
            );
            assert_eq!(
                r.status == 204 || r.status == 301,
                r.model == Model::None,
                "{}: 204 and 301 go with no model",
                r.sdk
            );
            // Every `:name` of the path is a declared path param and vice versa.
            let segments: Vec<&str> = r
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix(':'))
                .collect();
            let declared: Vec<&str> = r
                .params
                .iter()
                .filter(|p| p.source == Source::Path)
                .map(|p| p.name)
                .collect();
            assert_eq!(segments, declared, "{}", r.sdk);
            if let Some(limit) = r.limit {
                assert!(limit.limit > 0 && limit.period > 0, "{}", r.sdk);
                for key in limit.keys {
                    for part in key.split(',') {
                        let (_, value) = part.split_once(':').expect("name:value");
                        let ok = KEY_PLACEHOLDERS.contains(&value)
                            || value
                                .strip_prefix("{param-")
                                .and_then(|v| v.strip_suffix('}'))
                                .is_some_and(|name| r.params.iter().any(|p| p.name == name));
                        assert!(ok, "{}: unknown placeholder {value}", r.sdk);
                    }
                }
            }
        }
    }
}
