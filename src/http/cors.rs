//! Origin checks and CORS headers (spec §2.7).

use axum::response::Response;

use crate::domain::project::Project;
use crate::http::cookies::hostname;
use crate::http::reply::set_header;

const ALLOW_HEADERS: &str = "Accept, Origin, Cookie, Set-Cookie, Content-Type, Content-Range, X-Appwrite-Project, X-Appwrite-Key, X-Appwrite-Dev-Key, X-Appwrite-Locale, X-Appwrite-Mode, X-Appwrite-JWT, X-Appwrite-Organization, X-Appwrite-Response-Format, X-Appwrite-Timeout, X-Appwrite-ID, X-Appwrite-Timestamp, X-Appwrite-Session, X-Appwrite-Platform, X-Appwrite-Impersonate-User-Id, X-Appwrite-Impersonate-User-Email, X-Appwrite-Impersonate-User-Phone, X-SDK-Version, X-SDK-Name, X-SDK-Language, X-SDK-Platform, X-SDK-GraphQL, X-SDK-Profile, Range, Cache-Control, Expires, Pragma, X-Fallback-Cookies, X-Requested-With, X-Forwarded-For, X-Forwarded-User-Agent";

pub const WEB_SCHEMES: &[&str] = &[
    "http",
    "https",
    "chrome-extension",
    "moz-extension",
    "safari-web-extension",
    "ms-browser-extension",
    "tauri",
];

fn host_allowed(host: &str, project: Option<&Project>) -> bool {
    let mut allowed: Vec<String> = vec!["localhost".into()];
    if let Some(p) = project {
        for pl in &p.settings.platforms {
            if let Some(h) = pl.hostname.as_deref().or(pl.key.as_deref()) {
                allowed.push(h.to_lowercase());
            }
        }
    }
    let localhost_aliases = host == "127.0.0.1" || host == "[::1]";
    allowed.iter().any(|a| {
        if let Some(suffix) = a.strip_prefix("*.") {
            host.ends_with(&format!(".{suffix}"))
        } else {
            a == host || (a == "localhost" && localhost_aliases)
        }
    })
}

/// Whether a URL (an `Origin`, or later a redirect parameter) is a registered client.
pub fn origin_allowed(origin: &str, project: Option<&Project>) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let scheme = url.scheme();
    if WEB_SCHEMES.contains(&scheme) {
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => format!("[{a}]"),
            Some(h) => h.to_string().to_lowercase(),
            None => return false,
        };
        return host_allowed(&hostname(&host), project);
    }
    let project_scheme = project.map(|p| format!("appwrite-callback-{}", p.id));
    scheme == "exp"
        || project_scheme.as_deref() == Some(scheme)
        || project.is_some_and(|p| {
            p.settings
                .platforms
                .iter()
                .any(|pl| pl.kind == "scheme" && pl.key.as_deref() == Some(scheme))
        })
}

/// Adds CORS headers; `Access-Control-Allow-Origin` only echoes an allowed origin.
pub fn add_headers(
    resp: &mut Response,
    origin: Option<&str>,
    allow_any: bool,
    project: Option<&Project>,
) {
    set_header(
        resp,
        "access-control-allow-methods",
        "GET, POST, PUT, PATCH, DELETE",
    );
    set_header(resp, "access-control-allow-headers", ALLOW_HEADERS);
    set_header(
        resp,
        "access-control-expose-headers",
        "X-Appwrite-Session, X-Fallback-Cookies",
    );
    set_header(resp, "access-control-allow-credentials", "true");
    set_header(resp, "access-control-max-age", "86400");
    if let Some(o) = origin
        && (allow_any || origin_allowed(o, project))
    {
        set_header(resp, "access-control-allow-origin", &o.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::{PlatformSettings, ProjectSettings};

    fn project() -> Project {
        let mut s = ProjectSettings::default_project();
        s.platforms.push(PlatformSettings {
            kind: "web".into(),
            name: None,
            hostname: Some("*.example.com".into()),
            key: None,
        });
        Project::new(s)
    }

    #[test]
    fn platforms_wildcards_and_localhost_aliases_decide_origins() {
        let p = project();
        assert!(origin_allowed("http://localhost:3000", Some(&p)));
        assert!(origin_allowed("http://127.0.0.1:3000", Some(&p)));
        assert!(origin_allowed("https://app.example.com", Some(&p)));
        assert!(!origin_allowed("https://example.com", Some(&p)));
        assert!(!origin_allowed("http://127.0.0.2", Some(&p)));
        assert!(!origin_allowed("https://evil.io", Some(&p)));
        assert!(origin_allowed("appwrite-callback-default://x", Some(&p)));
        assert!(!origin_allowed("localhost/verification", Some(&p)));
    }
}
