//! Talking to OAuth2 providers (spec §7): the adapters (`spec.rs`), the calls they make
//! (`client.rs`), Apple's signed client secret (`apple.rs`) and ID-token checks against a
//! provider's published keys (`id_token.rs`). The sign-in rules that use the results are in
//! `domain::oauth2`.

pub mod apple;
pub mod client;
pub mod id_token;
pub mod spec;

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::domain::oauth2::{PROVIDER_NAMES, is_accepted};
use crate::domain::project::{OAuth2Settings, ProjectSettings};
use crate::error::{Error, ErrorType, Result};
use crate::oauth2::client::Configured;
use crate::oauth2::spec::Spec;

/// How long a fetched discovery document or key set is used before it is fetched again.
pub const CACHE_MS: i64 = 3600 * 1000;
/// A provider that answers slower than this failed.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The endpoints of one configured provider.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub emails: Option<String>,
}

/// Why a call to a provider failed.
#[derive(Debug)]
pub enum ProviderError {
    /// The provider refused, with its error code (`invalid_grant`, `http_401`, …).
    Failure(String),
    /// The provider could not be reached.
    Unreachable(String),
    /// The configuration cannot work (an OpenID provider without endpoints).
    Misconfigured(String),
}

impl ProviderError {
    /// The Appwrite error: a provider's refusal is `user_oauth2_provider_failure` with
    /// Appwrite main's message.
    pub fn into_error(self, label: &str) -> Error {
        match self {
            ProviderError::Failure(code) => Error::from(ErrorType::UserOauth2ProviderFailure)
                .with_message(format!(
                    "{label} couldn't complete sign-in ({code}). Please try again."
                )),
            ProviderError::Unreachable(why) => {
                tracing::warn!(provider = label, error = %why, "OAuth2 provider unreachable");
                Error::from(ErrorType::UserOauth2ProviderFailure).with_message(format!(
                    "{label} couldn't complete sign-in (unreachable). Please try again."
                ))
            }
            ProviderError::Misconfigured(why) => {
                Error::internal(anyhow::anyhow!("OAuth2 provider {label}: {why}"))
            }
        }
    }
}

/// The HTTP client and caches shared by every provider call.
pub struct Providers {
    pub http: reqwest::Client,
    discovery: Mutex<HashMap<String, (i64, Value)>>,
    pub keys: id_token::KeyCache,
}

impl Providers {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // GitHub's API refuses requests without one.
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Providers {
            http,
            discovery: Mutex::new(HashMap::new()),
            keys: id_token::KeyCache::default(),
        })
    }

    /// An OpenID discovery document, cached for [`CACHE_MS`].
    async fn discovery(&self, url: &str, now: i64) -> Result<Value, ProviderError> {
        if let Some((at, doc)) = self.discovery.lock().ok().and_then(|m| m.get(url).cloned())
            && now - at < CACHE_MS
        {
            return Ok(doc);
        }
        let doc = client::send_json(self.http.get(url)).await?;
        if let Ok(mut m) = self.discovery.lock() {
            m.insert(url.to_owned(), (now, doc.clone()));
        }
        Ok(doc)
    }

    /// The provider `name` of a project, ready to call: 412 when it is not configured, not
    /// enabled or lacks its client id or secret (spec §7.2); 500 for an OpenID provider with
    /// no way to find its endpoints.
    pub async fn configure<'a>(
        &self,
        project: &'a ProjectSettings,
        name: &'a str,
        now: i64,
    ) -> Result<Configured<'a>> {
        let disabled = || {
            Error::from(ErrorType::ProjectProviderDisabled).with_message(
                "This provider is disabled. Please enable the provider from your Appwrite console to continue.",
            )
        };
        let settings = project
            .oauth2
            .get(name)
            .filter(|s| s.enabled)
            .ok_or_else(disabled)?;
        let spec = spec::find(name).ok_or(ErrorType::ProjectProviderUnsupported)?;
        let client_id = settings
            .app_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(disabled)?;
        let secret = settings
            .secret
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(disabled)?;
        let label = label_of(spec, name);
        let endpoints = self
            .endpoints(spec, settings, now)
            .await
            .map_err(|e| e.into_error(&label))?;
        let client_secret = if spec.name == "apple" {
            apple::client_secret(settings, client_id, &secret, now)
                .map_err(|e| ProviderError::Misconfigured(e.to_string()).into_error(&label))?
        } else {
            secret
        };
        Ok(Configured {
            spec,
            name,
            client_id,
            client_secret,
            endpoints,
            extra_scopes: &settings.scopes,
        })
    }

    async fn endpoints(
        &self,
        spec: &Spec,
        s: &OAuth2Settings,
        now: i64,
    ) -> Result<Endpoints, ProviderError> {
        let base = s
            .base_url
            .as_deref()
            .map(|b| b.trim_end_matches('/'))
            .unwrap_or(if spec.name == "gitlab" {
                "https://gitlab.com"
            } else {
                ""
            });
        let tenant = s.tenant.as_deref().unwrap_or("common");
        let fill = |template: &str| template.replace("{base}", base).replace("{tenant}", tenant);
        let discovered = match (&s.well_known_endpoint, spec.name) {
            (Some(url), _) => Some(self.discovery(url, now).await?),
            _ => None,
        };
        let pick = |over: &Option<String>, key: &str, template: &str| -> String {
            over.clone()
                .or_else(|| {
                    discovered
                        .as_ref()
                        .and_then(|d| d.get(key))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| {
                    if template.contains("{base}") && base.is_empty() {
                        String::new()
                    } else {
                        fill(template)
                    }
                })
        };
        let e = Endpoints {
            authorize: pick(
                &s.authorization_endpoint,
                "authorization_endpoint",
                spec.authorize,
            ),
            token: pick(&s.token_endpoint, "token_endpoint", spec.token),
            userinfo: pick(&s.userinfo_endpoint, "userinfo_endpoint", spec.userinfo),
            emails: s.emails_endpoint.clone().or(spec.emails.map(fill)),
        };
        let needs_userinfo = matches!(spec.source, spec::UserSource::Get | spec::UserSource::Post);
        if e.authorize.is_empty() || e.token.is_empty() || (needs_userinfo && e.userinfo.is_empty())
        {
            return Err(ProviderError::Misconfigured(
                "no endpoints: set wellKnownEndpoint, baseUrl or the endpoints".into(),
            ));
        }
        Ok(e)
    }
}

/// The provider's name in messages; `oidc-<name>` providers go by their own name.
pub fn label_of(spec: &Spec, name: &str) -> String {
    if name != spec.name {
        name.to_owned()
    } else {
        spec.label.to_owned()
    }
}

/// Checks every project's `[projects.oauth2.*]` tables at start: a name Appwrite does not
/// know, or one latchkey has no adapter for, stops the server; an OpenID provider that can
/// never find its endpoints is a warning (it answers 500 when used, as Appwrite does).
pub fn check_config(projects: &[ProjectSettings]) -> anyhow::Result<Vec<String>> {
    let mut warnings = Vec::new();
    for p in projects {
        for (name, s) in &p.oauth2 {
            if !is_accepted(name) {
                anyhow::bail!(
                    "project {}: [projects.oauth2.{name}] is not an OAuth2 provider; use one of {} or oidc-<name>",
                    p.id,
                    PROVIDER_NAMES.join(", ")
                );
            }
            let Some(spec) = spec::find(name) else {
                anyhow::bail!(
                    "project {}: latchkey has no adapter for the OAuth2 provider `{name}`; remove [projects.oauth2.{name}] or configure it as an OpenID provider [projects.oauth2.oidc-{name}]",
                    p.id
                );
            };
            let explicit = s.authorization_endpoint.is_some() && s.token_endpoint.is_some();
            if spec.name == "oidc" && s.well_known_endpoint.is_none() && !explicit {
                warnings.push(format!(
                    "project {}: OpenID provider `{name}` has neither wellKnownEndpoint nor authorizationEndpoint and tokenEndpoint; sign-in with it will fail",
                    p.id
                ));
            }
            if spec.needs_base && s.base_url.is_none() && !explicit {
                warnings.push(format!(
                    "project {}: OAuth2 provider `{name}` needs baseUrl (its domain); sign-in with it will fail",
                    p.id
                ));
            }
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_with(name: &str, s: OAuth2Settings) -> ProjectSettings {
        let mut p = ProjectSettings::default_project();
        p.oauth2.insert(name.into(), s);
        p
    }

    #[test]
    fn the_config_check_stops_unknown_providers_and_warns_on_endpointless_oidc() {
        let err = check_config(&[project_with("myspace", OAuth2Settings::default())]).unwrap_err();
        assert!(err.to_string().contains("myspace"), "{err}");
        let err = check_config(&[project_with("amazon", OAuth2Settings::default())]).unwrap_err();
        assert!(
            err.to_string()
                .contains("no adapter for the OAuth2 provider `amazon`"),
            "{err}"
        );
        let w = check_config(&[project_with("oidc-corp", OAuth2Settings::default())]).unwrap();
        assert!(w[0].contains("oidc-corp"), "{w:?}");
        let ok = OAuth2Settings {
            well_known_endpoint: Some("http://127.0.0.1/.well-known/openid-configuration".into()),
            ..OAuth2Settings::default()
        };
        assert!(
            check_config(&[project_with("oidc", ok)])
                .unwrap()
                .is_empty()
        );
        assert!(
            check_config(&[project_with("github", OAuth2Settings::default())])
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn endpoints_fill_base_and_tenant_and_take_overrides() {
        let p = Providers::new().unwrap();
        let s = OAuth2Settings {
            base_url: Some("https://git.example.com/".into()),
            ..OAuth2Settings::default()
        };
        let e = p
            .endpoints(spec::find("gitlab").unwrap(), &s, 0)
            .await
            .unwrap();
        assert_eq!(e.token, "https://git.example.com/oauth/token");
        let e = p
            .endpoints(spec::find("gitlab").unwrap(), &OAuth2Settings::default(), 0)
            .await
            .unwrap();
        assert_eq!(e.userinfo, "https://gitlab.com/api/v4/user");
        let s = OAuth2Settings {
            tenant: Some("contoso".into()),
            token_endpoint: Some("http://127.0.0.1:9/token".into()),
            ..OAuth2Settings::default()
        };
        let e = p
            .endpoints(spec::find("microsoft").unwrap(), &s, 0)
            .await
            .unwrap();
        assert_eq!(
            e.authorize,
            "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize"
        );
        assert_eq!(e.token, "http://127.0.0.1:9/token");
        assert!(matches!(
            p.endpoints(spec::find("okta").unwrap(), &OAuth2Settings::default(), 0)
                .await,
            Err(ProviderError::Misconfigured(_))
        ));
    }
}
