//! The relying party of a project's passkeys: its id (Appwrite 2.5's `passkey` policy, or
//! `localhost` for a project with a localhost web platform) and the web origins that may run
//! ceremonies for it (the project's web platforms on that id or under it).

use serde::{Deserialize, Serialize};
use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::domain::project::ProjectSettings;

/// `[projects.auth] passkey`: Appwrite 2.5's `passkey` policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PasskeyPolicy {
    /// The domain passkeys are bound to (`example.com`); empty: `localhost` when the project
    /// has a localhost web platform, else passkeys are not configured.
    pub rp_id: String,
}

/// Platform types whose hostnames are web origins.
const WEB_PLATFORMS: &[&str] = &["web", "flutter-web"];

/// A project's relying party: its id and the verifier of its ceremonies. Built once with the
/// project (at start and on reload), not per request.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub id: String,
    pub webauthn: Webauthn,
}

/// The relying party id of the project, if passkeys are configured.
pub fn rp_id(project: &ProjectSettings) -> Option<String> {
    let set = project.auth.passkey.rp_id.trim();
    if !set.is_empty() {
        return Some(set.to_ascii_lowercase());
    }
    web_hosts(project)
        .any(|h| h == "localhost")
        .then(|| "localhost".to_owned())
}

fn web_hosts(project: &ProjectSettings) -> impl Iterator<Item = String> + '_ {
    project
        .platforms
        .iter()
        .filter(|p| WEB_PLATFORMS.contains(&p.kind.as_str()))
        .filter_map(|p| p.hostname.as_deref())
        .map(str::to_ascii_lowercase)
}

/// The origins ceremonies for `rp_id` may come from: `https://` on each web platform that is
/// the id or a subdomain of it (`http://` too on localhost, which browsers treat as secure),
/// any port.
pub fn origins(project: &ProjectSettings, rp_id: &str) -> Vec<Url> {
    let mut out: Vec<Url> = vec![];
    for host in web_hosts(project) {
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            continue;
        }
        let schemes: &[&str] = if host == "localhost" {
            &["http", "https"]
        } else {
            &["https"]
        };
        for scheme in schemes {
            if let Ok(u) = Url::parse(&format!("{scheme}://{host}"))
                && !out.contains(&u)
            {
                out.push(u);
            }
        }
    }
    out
}

/// The relying party of the project, or `None` when passkeys are not configured (no relying
/// party id, or no web platform on it).
pub fn build(project: &ProjectSettings) -> Option<RelyingParty> {
    let rp = rp_id(project)?;
    let origins = origins(project, &rp);
    let first = origins.first()?;
    let mut b = WebauthnBuilder::new(&rp, first)
        .ok()?
        .rp_name(&project.name)
        .allow_any_port(true);
    for o in &origins[1..] {
        b = b.append_allowed_origin(o);
    }
    Some(RelyingParty {
        webauthn: b.build().ok()?,
        id: rp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::PlatformSettings;

    fn project(rp: &str, hosts: &[&str]) -> ProjectSettings {
        let mut s = ProjectSettings::default_project();
        s.platforms = hosts
            .iter()
            .map(|h| PlatformSettings {
                kind: "web".into(),
                name: None,
                hostname: Some((*h).into()),
                key: None,
            })
            .collect();
        s.auth.passkey.rp_id = rp.into();
        s
    }

    #[test]
    fn the_rp_is_the_policys_or_localhost_and_origins_are_platforms_on_it() {
        let p = project(
            "example.com",
            &["app.example.com", "example.com", "evil.com", "localhost"],
        );
        assert_eq!(rp_id(&p).as_deref(), Some("example.com"));
        let o: Vec<String> = origins(&p, "example.com")
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        assert_eq!(o, ["https://app.example.com", "https://example.com"]);
        assert_eq!(build(&p).map(|r| r.id).as_deref(), Some("example.com"));

        let dev = project("", &["localhost"]);
        assert_eq!(rp_id(&dev).as_deref(), Some("localhost"));
        assert_eq!(origins(&dev, "localhost").len(), 2, "http and https");

        assert!(rp_id(&project("", &["app.example.com"])).is_none());
        assert!(build(&project("example.org", &["app.example.com"])).is_none());
    }
}
