//! Session transport (spec §3.2–§3.4): the two `a_session_<project>` cookies, the
//! `X-Fallback-Cookies` header for clients without third-party cookies, and domain checks.

use std::net::IpAddr;

use crate::domain::time::http_date;

/// The cookie name of a project's session (lower-cased, as Appwrite's framework does).
pub fn cookie_name(project: &str) -> String {
    format!("a_session_{}", project.to_lowercase())
}

/// Cookie pairs of all `Cookie` headers, tolerating attribute-looking pairs and bare flags.
pub fn parse_cookie_headers<'a>(values: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for header in values {
        for part in header.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                let v = percent_decode(v.trim().trim_matches('"'));
                out.push((k.trim().to_owned(), v));
            }
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Host without port, lower-cased (`[::1]:80` → `[::1]`).
pub fn hostname(host: &str) -> String {
    let h = host.trim().to_lowercase();
    if h.starts_with('[') {
        return h.split(']').next().map(|s| format!("{s}]")).unwrap_or(h);
    }
    h.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map(|(name, _)| name.to_owned())
        .unwrap_or(h)
}

fn is_ip(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
}

/// The cookie `Domain`: none for localhost and IPs, else `.<hostname>`.
fn cookie_domain(host: &str) -> Option<String> {
    let h = hostname(host);
    (!h.is_empty() && h != "localhost" && !is_ip(&h)).then(|| format!(".{h}"))
}

/// The `Set-Cookie` values that store `encoded` until `expire_ms`.
pub fn session_cookies(
    project: &str,
    encoded: &str,
    expire_ms: i64,
    host: &str,
    https: bool,
) -> Vec<String> {
    let name = cookie_name(project);
    let mut attrs = format!("; expires={}; path=/", http_date(expire_ms));
    if let Some(d) = cookie_domain(host) {
        attrs.push_str(&format!("; domain={d}"));
    }
    if https {
        attrs.push_str("; secure");
    }
    attrs.push_str("; httponly");
    let value = percent_encode(encoded);
    vec![
        format!("{name}_legacy={value}{attrs}"),
        format!("{name}={value}{attrs}; samesite=None"),
    ]
}

/// The `Set-Cookie` values that remove both session cookies.
pub fn expired_cookies(project: &str, host: &str, https: bool) -> Vec<String> {
    let name = cookie_name(project);
    let mut attrs = "; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/".to_string();
    if let Some(d) = cookie_domain(host) {
        attrs.push_str(&format!("; domain={d}"));
    }
    if https {
        attrs.push_str("; secure");
    }
    attrs.push_str("; httponly");
    vec![
        format!("{name}_legacy=deleted{attrs}"),
        format!("{name}=deleted{attrs}; samesite=None"),
    ]
}

/// What the `Set-Cookie` values of a reply do to the project's session cookie: `None` when
/// they leave it alone, `Some(None)` when they remove it, `Some(Some(encoded))` when they
/// set a new session.
pub fn session_set_by(project: &str, set_cookies: &[String]) -> Option<Option<String>> {
    let name = cookie_name(project);
    let value = set_cookies.iter().find_map(|c| {
        let pair = c.split(';').next()?;
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| percent_decode(v.trim()))
    })?;
    let removed = value.is_empty() || value == "deleted";
    Some((!removed).then_some(value))
}

/// The cookie that ties an OAuth2 sign-in to the browser that started it.
pub fn oauth2_cookie_name(project: &str) -> String {
    format!("a_oauth2_{}", project.to_lowercase())
}

/// `Set-Cookie` for the OAuth2 binder: only for the account routes, gone after `max_age_s`,
/// `SameSite=Lax` so the provider's top-level redirect back still carries it.
pub fn oauth2_cookie(
    project: &str,
    value: &str,
    max_age_s: i64,
    path: &str,
    https: bool,
) -> String {
    let mut c = format!(
        "{}={}; Max-Age={max_age_s}; path={path}; httponly; samesite=Lax",
        oauth2_cookie_name(project),
        percent_encode(value)
    );
    if https {
        c.push_str("; secure");
    }
    c
}

/// The registrable domain approximated as the last two labels; `None` for localhost and IPs.
fn registrable(host: &str) -> Option<String> {
    let h = hostname(host);
    if h.is_empty() || is_ip(&h) || !h.contains('.') {
        return None;
    }
    let labels: Vec<&str> = h.rsplitn(3, '.').take(2).collect();
    Some(format!("{}.{}", labels[1], labels[0]))
}

/// Whether the page that sent the request (Origin, else Referer) shares the API's registrable
/// domain, so browser cookies will work; if not, the session also goes in `X-Fallback-Cookies`.
pub fn domain_verified(origin_or_referer: Option<&str>, host: &str) -> bool {
    let page_host = origin_or_referer
        .and_then(|o| url::Url::parse(o).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    match (
        page_host.as_deref().and_then(registrable),
        registrable(host),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The `X-Fallback-Cookies` value carrying a session.
pub fn fallback_value(project: &str, encoded: &str) -> String {
    serde_json::json!({ cookie_name(project): encoded }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replys_cookies_tell_whether_the_session_was_set_or_removed() {
        let set = session_cookies("P1", "ab+c/=", 0, "localhost", false);
        assert_eq!(session_set_by("p1", &set), Some(Some("ab+c/=".to_owned())));
        let gone = expired_cookies("p1", "api.example.com", true);
        assert_eq!(session_set_by("p1", &gone), Some(None));
        assert_eq!(session_set_by("p2", &set), None, "another project's cookie");
        assert_eq!(session_set_by("p1", &[]), None);
    }

    #[test]
    fn cookies_have_appwrite_attributes_and_no_domain_on_localhost() {
        let c = session_cookies("test", "ab=", 0, "localhost:8080", false);
        assert!(c[0].starts_with("a_session_test_legacy=ab%3D; expires=Thu, 01 Jan 1970"));
        assert!(
            !c[0].contains("domain") && !c[0].contains("samesite") && c[0].ends_with("httponly")
        );
        assert!(c[1].starts_with("a_session_test=ab%3D;") && c[1].ends_with("samesite=None"));
        let c = session_cookies("test", "x", 0, "api.example.com", true);
        assert!(c[1].contains("domain=.api.example.com") && c[1].contains("secure"));
        assert!(
            expired_cookies("test", "127.0.0.1", false)[1].starts_with("a_session_test=deleted")
        );
    }

    #[test]
    fn cookie_parser_tolerates_attributes_and_decodes_values() {
        let pairs = parse_cookie_headers(
            ["a_session_p=ab%3D; expires=Thu, 01 Jan; path=/; httponly; samesite=None"].into_iter(),
        );
        assert_eq!(pairs[0], ("a_session_p".into(), "ab=".into()));
    }

    #[test]
    fn same_site_pages_are_verified_and_node_clients_are_not() {
        assert!(domain_verified(
            Some("https://app.example.com"),
            "api.example.com"
        ));
        assert!(!domain_verified(
            Some("https://other.io"),
            "api.example.com"
        ));
        assert!(!domain_verified(None, "api.example.com"));
        assert!(!domain_verified(
            Some("http://localhost:3000"),
            "localhost:8080"
        ));
        assert_eq!(hostname("[::1]:80"), "[::1]");
    }
}
