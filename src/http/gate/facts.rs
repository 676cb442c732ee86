//! What a request says about itself, read once: client address and scheme (forwarded
//! headers only from trusted proxies), origin, format, credentials, and the session it
//! carries; and the origin check that runs before the project is known.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::domain::project::Project;
use crate::domain::sessions::decode_session;
use crate::error::{Error, ErrorType, Result};
use crate::http::cookies::{cookie_name, oauth2_cookie_name, parse_cookie_headers};
use crate::http::cors::origin_allowed;
use crate::http::extract::RawRequest;
use crate::http::reply::{Format, parse_format};
use crate::http::route::Route;
use crate::secret::Secret;

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

pub(crate) fn trusted(proxies: &[IpNet], ip: &IpAddr) -> bool {
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
